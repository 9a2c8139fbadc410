"""Score endpoints: solo tokens and submission, beatmap leaderboards, score pages, a user's
score lists and pins."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.http import (
    JSONResponse,
    fail,
    int_param,
    read_fields,
    require_session,
    require_user,
    services,
)
from server.models.rulesets import RULESETS, known_rulesets
from server.repositories.users import UserAccount
from server.services import scoring
from server.services.scores import (
    LEADERBOARD_DEFAULT,
    LEADERBOARD_MAX,
    SubmitRejected,
    Submitted,
    TokenRejected,
    score_shape,
)

_MAX_ID = 2**63 - 1
_NOT_FOUND = "Not found"
# The PUT body is a SoloScoreInfo: a few hundred bytes; pauses can add a little.
_MAX_SUBMISSION_BYTES = 64 * 1024
_USER_SCORE_TYPES = ("best", "recent", "firsts", "pinned")


def _path_id(request: Request, name: str) -> int:
    raw = str(request.path_params.get(name, ""))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not 0 < int(raw) <= _MAX_ID:
        fail(404, _NOT_FOUND)
    return int(raw)


async def create_solo_token(request: Request) -> Response:
    """POST beatmaps/{beatmap}/solo/scores: a score token (`{"id": token}`)."""
    _, account = await require_user(request)
    beatmap_id = _path_id(request, "beatmap")
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
    return JSONResponse({"id": outcome})


async def submit_solo_score(request: Request) -> Response:
    """PUT beatmaps/{beatmap}/solo/scores/{token}: store the play once; MultiplayerScore."""
    _, account = await require_user(request)
    beatmap_id = _path_id(request, "beatmap")
    token_id = _path_id(request, "token")
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
    record = await svc.score(outcome.score_id)
    if record is None:  # committed above: only a concurrent delete could do this
        fail(404, _NOT_FOUND)
    shaped = score_shape(record, account)
    try:
        shaped["position"] = await svc.position(record)
    except Exception:
        shaped["position"] = None
    return JSONResponse(shaped)


def _mode(request: Request, value: str | None, default: str) -> str:
    mode = value or default
    if mode not in known_rulesets(services(request).settings.enable_relax_rulesets):
        fail(422, "invalid mode")
    return mode


def _limit(value: str | None, default: int, maximum: int) -> int:
    limit = int_param(value, "limit")
    if limit is None:
        return default
    return max(1, min(limit, maximum))


async def beatmap_scores(request: Request) -> Response:
    """GET beatmaps/{beatmap}/scores: the leaderboard (APIScoresCollection)."""
    _, account = await require_user(request, "public")
    beatmap_id = _path_id(request, "beatmap")
    found = services(request)
    svc = found.scores
    beatmap = await found.beatmaps.repo.cached_beatmap(beatmap_id)
    if beatmap is None:
        fail(404, "Specified beatmap difficulty couldn't be found.")
    raw_query: bytes = request.scope["query_string"]
    if (kept := svc.board_response(beatmap, raw_query, account.id)) is not None:
        return JSONResponse(kept)
    stamp = svc.board_response_stamp()
    query = request.query_params
    mode = _mode(request, query.get("mode") or query.get("ruleset"), RULESETS[beatmap.mode])
    scope = query.get("type") or query.get("scope") or "global"
    if scope not in ("global", "country", "friend", "team"):
        fail(422, "invalid scope")
    mods = [m.upper() for m in query.getlist("mods[]") + query.getlist("mods") if m]
    limit = _limit(query.get("limit"), LEADERBOARD_DEFAULT, LEADERBOARD_MAX)
    board = await svc.leaderboard(beatmap, mode, scope, mods, limit, account)
    if scope == "global" and not mods:
        svc.keep_board_response(beatmap, raw_query, account.id, board, stamp)
    return JSONResponse(board)


async def _user_on_beatmap(request: Request, mode_keys: tuple[str, ...]) -> tuple[int, str, int]:
    """(beatmap id, ruleset, user id) of a `beatmaps/{beatmap}/scores/users/{user}` route;
    404 for an unknown beatmap. The ruleset is the first of `mode_keys` given, else the
    beatmap's own."""
    await require_session(request, "public")
    beatmap_id = _path_id(request, "beatmap")
    user_id = _path_id(request, "user")
    beatmap = await services(request).beatmaps.repo.beatmap(beatmap_id)
    if beatmap is None:
        fail(404, _NOT_FOUND)
    given = next((v for k in mode_keys if (v := request.query_params.get(k))), None)
    return beatmap_id, _mode(request, given, RULESETS[beatmap.mode]), user_id


async def beatmap_user_score(request: Request) -> Response:
    """GET beatmaps/{beatmap}/scores/users/{user}: a user's best with its position."""
    beatmap_id, mode, user_id = await _user_on_beatmap(request, ("mode",))
    found = await services(request).scores.user_best(beatmap_id, mode, user_id)
    if found is None:
        fail(404, "Score not found")
    return JSONResponse(found)


async def beatmap_user_scores(request: Request) -> Response:
    """GET beatmaps/{beatmap}/scores/users/{user}/all: every ranked score of a user there."""
    beatmap_id, mode, user_id = await _user_on_beatmap(request, ("mode", "ruleset"))
    scores = await services(request).scores.user_scores_on_beatmap(beatmap_id, mode, user_id)
    return JSONResponse({"scores": scores})


async def show_score(request: Request) -> Response:
    """GET scores/{score}: one score with beatmap, set, user and its global rank."""
    session = await require_session(request, "public")
    score_id = _path_id(request, "score")
    shaped = await services(request).scores.show(score_id, session.user_id)
    if shaped is None:
        fail(404, _NOT_FOUND)
    return JSONResponse(shaped)


async def _user(request: Request) -> UserAccount:
    raw = str(request.path_params.get("user", ""))
    users = services(request).users
    numeric = raw.isascii() and raw.isdigit() and len(raw) <= 10
    account = await users.by_id(int(raw)) if numeric else None
    if account is None:
        account = await users.by_username(raw.removeprefix("@"))
    if account is None or account.is_restricted:
        fail(404, "User not found")
    return account


async def user_scores(request: Request) -> Response:
    """GET users/{user}/scores/{type}: best, recent, firsts or pinned, paged by offset."""
    session = await require_session(request, "public")
    kind = request.path_params["type"]
    if kind not in _USER_SCORE_TYPES:
        fail(404, _NOT_FOUND)
    account = await _user(request)
    query = request.query_params
    mode = _mode(request, query.get("mode"), account.playmode)
    limit = _limit(query.get("limit"), 100 if kind == "best" else 50, 100)
    offset = int_param(query.get("offset"), "offset", minimum=0) or 0
    include_fails = query.get("include_fails") in ("1", "true")
    scores = await services(request).scores.user_scores(
        account.id, kind, mode, limit, min(offset, 1000), include_fails, session.user_id
    )
    return JSONResponse(scores)


async def pin_score(request: Request) -> Response:
    """PUT score-pins/{score}: pin one of the caller's scores."""
    _, account = await require_user(request)
    if not await services(request).scores.pin(account.id, _path_id(request, "score")):
        fail(404, _NOT_FOUND)
    return Response(status_code=204)


async def unpin_score(request: Request) -> Response:
    """DELETE score-pins/{score}: unpin (unpinning a score that is not pinned is fine)."""
    _, account = await require_user(request)
    await services(request).scores.unpin(account.id, _path_id(request, "score"))
    return Response(status_code=204)


async def reorder_pin(request: Request) -> Response:
    """POST score-pins/{score}/reorder: move a pin next to another (osu-web's `order1_score_id`
    is the pin it goes after, `order3_score_id` the one it goes before)."""
    _, account = await require_user(request)
    score_id = _path_id(request, "score")
    fields = await read_fields(request)
    after = int_param(fields.get("order1_score_id"), "order1_score_id", minimum=1)
    before = int_param(fields.get("order3_score_id"), "order3_score_id", minimum=1)
    if after is None and before is None:
        fail(422, "order1_score_id or order3_score_id is required")
    if not await services(request).scores.reorder_pin(account.id, score_id, after, before):
        fail(404, _NOT_FOUND)
    return Response(status_code=204)
