"""GET users/{user}/beatmapsets/{type}, users/{user}/recent_activity, users/{user}/kudosu
and users/{user}/beatmaps-passed (the lazer profile tabs and bot routes beyond scores)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.api import params
from server.api.params import int_param, require_session
from server.http import JSONResponse, fail, services
from server.services.profile_pages import SET_KINDS, PassedRejected

# osu-web's UsersController: limit 1-100 (default 5); offsets stop at 100 results in all
# but the set lists, which page on without end.
_MAX_RESULTS = 100


def _page(request: Request, capped: bool) -> tuple[int, int]:
    limit = int_param(request.query_params.get("limit"), "limit")
    limit = 5 if limit is None else max(1, min(limit, 100))
    offset = int_param(request.query_params.get("offset"), "offset", minimum=0) or 0
    if capped:
        limit = max(0, min(limit, _MAX_RESULTS - offset))
    return limit, min(offset, 10**6)


async def user_beatmapsets(request: Request) -> Response:
    """favourite, graveyard, guest, loved, nominated, pending, ranked or most_played."""
    session = await require_session(request, "public")
    kind = SET_KINDS.get(request.path_params["type"])
    if kind is None:
        fail(404, "Not found")
    account = await params.user_from_path(request)
    limit, offset = _page(request, capped=False)
    pages = services(request).profile_pages
    return JSONResponse(await pages.beatmapsets(account.id, kind, limit, offset, session.user_id))


async def recent_activity(request: Request) -> Response:
    """The user's events, newest first."""
    await require_session(request, "public")
    account = await params.user_from_path(request)
    limit, offset = _page(request, capped=True)
    pages = services(request).profile_pages
    return JSONResponse(await pages.recent_activity(account.id, limit, offset))


async def kudosu(request: Request) -> Response:
    """Kudosu the user received, newest first."""
    await require_session(request, "public")
    account = await params.user_from_path(request)
    limit, offset = _page(request, capped=True)
    return JSONResponse(await services(request).profile_pages.kudosu(account.id, limit, offset))


def _flag(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    return raw.lower() in ("1", "true", "on", "yes")


async def beatmaps_passed(request: Request) -> Response:
    """Which beatmaps of up to 50 sets (`beatmapset_ids[]`) the user passed."""
    await require_session(request, "public")
    account = await params.user_from_path(request)
    query = request.query_params
    raw_ids = query.getlist("beatmapset_ids[]") or query.getlist("beatmapset_ids")
    set_ids = [i for i in (int_param(v, "beatmapset_ids", minimum=1) for v in raw_ids) if i]
    ruleset_id = int_param(query.get("ruleset_id"), "ruleset_id", minimum=0)
    if ruleset_id is not None and ruleset_id > 3:
        fail(422, "invalid ruleset_id")
    outcome = await services(request).profile_pages.beatmaps_passed(
        account.id,
        set_ids,
        ruleset_id=ruleset_id,
        exclude_converts=_flag(request, "exclude_converts", False),
        no_diff_reduction=_flag(request, "no_diff_reduction", True),
    )
    if isinstance(outcome, PassedRejected):
        fail(422, outcome.value)
    return JSONResponse(outcome)
