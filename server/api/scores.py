"""Score endpoints: solo tokens and submission, beatmap leaderboards, score pages, a user's
score lists and pins."""

from __future__ import annotations

import functools

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from server.api import params
from server.api.params import int_param, path_id, require_session, require_user
from server.http import JSONResponse, fail, read_fields, services
from server.models.rulesets import known_rulesets
from server.models.scores import ScoreFormat, ScoreToken, UserBeatmapScores
from server.services import scoring
from server.services.score_reads import LEADERBOARD_DEFAULT, LEADERBOARD_MAX, BoardQuery
from server.services.scores import SubmitRejected, Submitted, TokenRejected

_NOT_FOUND = "Not found"
# The PUT body is a SoloScoreInfo: a few hundred bytes; pauses can add a little.
_MAX_SUBMISSION_BYTES = 64 * 1024
_USER_SCORE_TYPES = ("best", "recent", "firsts", "pinned")


def _score_format(request: Request) -> ScoreFormat:
    """The score format osu-web's `api_version()` picks: the `x-api-version` header as a
    number, 0 when it is missing or not a number (so the legacy format). Read from the raw
    headers: Starlette's Headers.get costs more than the rest of a cached leaderboard."""
    for name, value in request.scope["headers"]:
        if name == b"x-api-version":
            return _format_of(value)
    return ScoreFormat.LEGACY


@functools.lru_cache(maxsize=64)
def _format_of(raw: bytes) -> ScoreFormat:
    version = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 0
    return ScoreFormat.for_api_version(version)


async def create_solo_token(request: Request) -> Response:
    """POST beatmaps/{beatmap}/solo/scores: a score token (`{"id": token}`)."""
    _, account = await require_user(request)
    beatmap_id = path_id(request, "beatmap")
    fields = await read_fields(request)
    ruleset_id = int_param(fields.get("ruleset_id"), "ruleset_id", minimum=0)
    outcome = await services(request).scores.create_token(
        account.id,
        beatmap_id,
        fields.get("beatmap_hash", ""),
        ruleset_id,
        fields.get("version_hash", ""),
    )
    if outcome is TokenRejected.NOT_FOUND:
        fail(404, "Specified beatmap difficulty couldn't be found.")
    if outcome is TokenRejected.DISABLED:
        fail(403, outcome.value)
    if isinstance(outcome, TokenRejected):
        fail(422, outcome.value)
    return JSONResponse(ScoreToken(outcome))


async def submit_solo_score(request: Request) -> Response:
    """PUT beatmaps/{beatmap}/solo/scores/{token}: store the play once; MultiplayerScore."""
    _, account = await require_user(request)
    beatmap_id = path_id(request, "beatmap")
    token_id = path_id(request, "token")
    body = await request.body()
    if len(body) > _MAX_SUBMISSION_BYTES:
        fail(413, "score data too large")
    svc = services(request).scores
    outcome = await svc.submit(account, beatmap_id, token_id, body)
    if outcome is SubmitRejected.NOT_FOUND:
        fail(404, _NOT_FOUND)
    if isinstance(outcome, (SubmitRejected, scoring.Rejected)):
        fail(422, outcome.value)
    assert isinstance(outcome, Submitted)
    if outcome.shown is None:  # committed above: only a concurrent delete could do this
        fail(404, _NOT_FOUND)
    return JSONResponse(outcome.shown)


def _mode(request: Request, value: str | None, status: int = 422) -> str | None:
    """A given ruleset name (None: the beatmap's or user's own). osu-web answers an unknown
    one with 422 on leaderboards ("invalid mode specified") and 404 on score lists."""
    return params.ruleset(request, value, status, "invalid mode specified")


# (ruleset or None, scope, mods, limit)
_BoardFilters = tuple[str | None, str, tuple[str, ...], int]


def _board_filters(raw_query: bytes, relax_enabled: bool) -> _BoardFilters:
    """(ruleset, scope, mods, limit) of a leaderboard query string. Memoised by the exact
    bytes: lazer asks the same few short queries on every song-select move, and a repeat
    costs no parsing (a bad query raises, and raising is never memoised)."""
    if len(raw_query) > 256:  # keeps the memo small
        return _parse_board_filters(raw_query, relax_enabled)
    return _memo_board_filters(raw_query, relax_enabled)


def _parse_board_filters(raw_query: bytes, relax_enabled: bool) -> _BoardFilters:
    query = QueryParams(raw_query)
    scope = query.get("type") or query.get("scope") or "global"
    if scope not in ("global", "country", "friend", "team"):
        fail(422, "invalid scope")
    ruleset = query.get("mode") or query.get("ruleset") or None
    if ruleset is not None and ruleset not in known_rulesets(relax_enabled):
        fail(422, "invalid mode specified")
    mods = tuple(m.upper() for m in query.getlist("mods[]") + query.getlist("mods") if m)
    limit = params.limit(query.get("limit"), LEADERBOARD_DEFAULT, LEADERBOARD_MAX)
    return ruleset, scope, mods, limit


_memo_board_filters = functools.lru_cache(maxsize=1024)(_parse_board_filters)


async def beatmap_scores(request: Request) -> Response:
    """GET beatmaps/{beatmap}/scores: the leaderboard (APIScoresCollection)."""
    # osu-web's BeatmapsController needs only `public`: a client-credentials token reads the
    # global board (no `user_score`); the viewer-relative scopes need a user (422 there, as
    # osu-web's supporter check refuses a guest).
    session = await require_session(request, "public")
    account = await params.viewer(request, session)
    found_services = services(request)
    raw_query: bytes = request.scope["query_string"]
    ruleset, scope, mods, limit = _board_filters(
        raw_query, found_services.settings.enable_relax_rulesets
    )
    if scope != "global" and account is None:
        fail(422, "You must be an osu!supporter to use this feature.")
    board = BoardQuery(
        beatmap_id=path_id(request, "beatmap"),
        ruleset=ruleset,
        scope=scope,
        mods=mods,
        limit=limit,
        form=_score_format(request),
        raw_query=raw_query,
    )
    found = await found_services.score_reads.beatmap_scores(board, account)
    if found is None:
        fail(404, "Specified beatmap difficulty couldn't be found.")
    return JSONResponse(found)


async def _user_on_beatmap(
    request: Request, mode_keys: tuple[str, ...], mode_status: int
) -> tuple[int, str | None, int]:
    """(beatmap id, ruleset or None, user id) of a `beatmaps/{beatmap}/scores/users/{user}`
    route; the ruleset is the first of `mode_keys` given, an unknown one `mode_status`
    (osu-web: 422 for one score, 404 for all)."""
    await require_session(request, "public")
    beatmap_id = path_id(request, "beatmap")
    user_id = path_id(request, "user")
    given = next((v for k in mode_keys if (v := request.query_params.get(k))), None)
    return beatmap_id, _mode(request, given, mode_status), user_id


async def beatmap_user_score(request: Request) -> Response:
    """GET beatmaps/{beatmap}/scores/users/{user}: a user's best with its position."""
    beatmap_id, mode, user_id = await _user_on_beatmap(request, ("mode",), 422)
    reads = services(request).score_reads
    found = await reads.user_best(beatmap_id, mode, user_id, _score_format(request))
    if found is None:
        fail(404, "Score not found")
    return JSONResponse(found)


async def beatmap_user_scores(request: Request) -> Response:
    """GET beatmaps/{beatmap}/scores/users/{user}/all: every ranked score of a user there."""
    beatmap_id, mode, user_id = await _user_on_beatmap(request, ("ruleset", "mode"), 404)
    reads = services(request).score_reads
    found = await reads.user_scores_on_beatmap(beatmap_id, mode, user_id, _score_format(request))
    if found is None:
        fail(404, _NOT_FOUND)
    return JSONResponse(UserBeatmapScores(found))


async def show_score(request: Request) -> Response:
    """GET scores/{score}: one score with beatmap, set, user and its global rank."""
    session = await require_session(request, "public")
    score_id = path_id(request, "score")
    reads = services(request).score_reads
    shaped = await reads.show(score_id, session.user_id, _score_format(request))
    if shaped is None:
        fail(404, _NOT_FOUND)
    return JSONResponse(shaped)


async def user_scores(request: Request) -> Response:
    """GET users/{user}/scores/{type}: best, recent, firsts or pinned, paged by offset."""
    session = await require_session(request, "public")
    kind = request.path_params["type"]
    if kind not in _USER_SCORE_TYPES:
        fail(404, _NOT_FOUND)
    account = await params.user_from_path(request, key="id")  # osu-web: by id only
    query = request.query_params
    scores = await services(request).score_reads.user_scores(
        account.id,
        kind,
        _mode(request, query.get("mode"), 404) or account.playmode,
        params.limit(query.get("limit"), 100 if kind == "best" else 50, 100),
        params.offset(query.get("offset"), 1000),
        query.get("include_fails") in ("1", "true"),
        session.user_id,
        _score_format(request),
    )
    return JSONResponse(scores)


async def pin_score(request: Request) -> Response:
    """PUT score-pins/{score}: pin one of the caller's scores."""
    _, account = await require_user(request)
    if not await services(request).scores.pin(account.id, path_id(request, "score")):
        fail(404, _NOT_FOUND)
    return Response(status_code=204)


async def unpin_score(request: Request) -> Response:
    """DELETE score-pins/{score}: unpin (unpinning a score that is not pinned is fine)."""
    _, account = await require_user(request)
    await services(request).scores.unpin(account.id, path_id(request, "score"))
    return Response(status_code=204)


async def reorder_pin(request: Request) -> Response:
    """POST score-pins/{score}/reorder: move a pin next to another (osu-web's `order1_score_id`
    is the pin it goes after, `order3_score_id` the one it goes before)."""
    _, account = await require_user(request)
    score_id = path_id(request, "score")
    fields = await read_fields(request)
    after = int_param(fields.get("order1_score_id"), "order1_score_id", minimum=1)
    before = int_param(fields.get("order3_score_id"), "order3_score_id", minimum=1)
    if after is None and before is None:
        fail(422, "order1_score_id or order3_score_id is required")
    if not await services(request).scores.reorder_pin(account.id, score_id, after, before):
        fail(404, _NOT_FOUND)
    return Response(status_code=204)
