"""GET scores (the recent-scores firehose) and GET scores/{ruleset}/{score} (a score by its
stable-era id)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import int_param, require_session
from server.http import JSONResponse, fail, services
from server.models.rulesets import RULESET_IDS
from server.models.score_feed import FeedCursor
from server.services.score_feed import FeedRejected, decode_cursor


async def scores(request: Request) -> Response:
    """Ranked passes after `cursor_string` (or the newest 1000), oldest first."""
    await require_session(request, "public")
    query = request.query_params
    ruleset_id = None
    if query.get("ruleset"):
        ruleset_id = RULESET_IDS.get(query["ruleset"])
        if ruleset_id is None:
            fail(422, "invalid ruleset parameter")
    cursor = decode_cursor(query.get("cursor_string"))
    if cursor is None:  # osu-web also reads the cursor as `cursor[id]`
        after = int_param(query.get("cursor[id]"), "cursor[id]", minimum=0)
        cursor = FeedCursor(after) if after is not None else None
    outcome = await services(request).score_feed.page(ruleset_id, cursor)
    if isinstance(outcome, FeedRejected):
        fail(422, outcome.value)
    return JSONResponse(outcome)


async def legacy_score(request: Request) -> Response:
    """osu-web finds these by `legacy_score_id`; every score here was set on lazer and has
    none, so a known ruleset answers 404 like any missing score."""
    await require_session(request, "public")
    if request.path_params["ruleset"] not in RULESET_IDS:
        fail(404, "unknown ruleset name")
    int_param(request.path_params["score"], "score", minimum=1)
    fail(404, "No query results for model [App\\Models\\Solo\\Score].")
