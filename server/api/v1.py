"""osu! API v1: GET /api/get_{beatmaps,user,scores,user_best,user_recent,replay,match}.

The key comes in `k` (never logged: the access log redacts it, S-TOK-9). A missing or
unknown key is 401 `{"error": "Please provide a valid API key."}`, the text v1 clients
match; a malformed parameter is a 400 in the same shape. `limit` and `event_days` are
clamped into v1's bounds as v1 does."""

from __future__ import annotations

import re
from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from server.http import JSONResponse, fail, services
from server.services.legacy_api import BeatmapsQuery, ReplayRefused, UserRef, parse_mods

_INVALID_KEY = "Please provide a valid API key."
_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")
# Status codes of get_replay's refusals.
_REPLAY_STATUS = {
    ReplayRefused.NOT_AVAILABLE: 404,
    ReplayRefused.RETRIEVAL_FAILED: 404,
    ReplayRefused.TOO_FAST: 429,
}


async def _key_owner(request: Request) -> int:
    """The id of the user whose key came in `k`; 401 otherwise."""
    svc = services(request)
    user_id = await svc.api_keys.user_for(request.query_params.get("k", ""))
    account = await svc.users.cached_by_id(user_id) if user_id is not None else None
    if account is None or account.is_restricted:
        fail(401, _INVALID_KEY)
    return account.id


def _int(request: Request, name: str, minimum: int = 0, maximum: int = 2**31 - 1) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if raw == "":
        return None
    if not raw.isdigit() or int(raw) < minimum or int(raw) > maximum:
        fail(400, f"{name} must be an integer from {minimum} to {maximum}")
    return int(raw)


def _limit(request: Request, default: int, maximum: int) -> int:
    raw = request.query_params.get("limit", "").strip()
    if raw == "":
        return default
    if not raw.lstrip("-").isdigit():
        fail(400, "limit must be an integer")
    return max(1, min(int(raw), maximum))


def _mode(request: Request) -> int:
    mode = _int(request, "m", 0, 3)
    return 0 if mode is None else mode


def _user(request: Request, required: bool) -> UserRef | None:
    raw = request.query_params.get("u", "").strip()
    if not raw:
        if required:
            fail(400, "u is required")
        return None
    kind = request.query_params.get("type", "").strip().lower()
    return UserRef(raw, kind if kind in ("id", "string") else None)


def _mods(request: Request) -> int | None:
    raw = request.query_params.get("mods", "").strip()
    if raw == "":
        return None
    mods = parse_mods(raw)
    if mods is None:
        fail(400, "mods must be a bitmask or mod acronyms")
    return mods


def _since(request: Request) -> datetime | None:
    raw = request.query_params.get("since", "").strip()
    if raw == "":
        return None
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(raw, layout)
        except ValueError:
            continue
    fail(400, "since must be a date (YYYY-MM-DD HH:MM:SS, UTC)")


async def get_beatmaps(request: Request) -> Response:
    """get_beatmaps: difficulties by id, set, checksum, mapper or ranked date."""
    await _key_owner(request)
    checksum = request.query_params.get("h", "").strip() or None
    if checksum is not None and not _MD5.match(checksum):
        fail(400, "h must be an MD5 checksum")
    query = BeatmapsQuery(
        since=_since(request),
        beatmapset_id=_int(request, "s"),
        beatmap_id=_int(request, "b"),
        user=_user(request, required=False),
        mode=_int(request, "m", 0, 3),
        converts=request.query_params.get("a", "0").strip() == "1",
        checksum=None if checksum is None else checksum.lower(),
        limit=_limit(request, 500, 500),
        mods=_mods(request) or 0,
    )
    return JSONResponse(await services(request).legacy_api.beatmaps(query))


async def get_user(request: Request) -> Response:
    """get_user: a list of zero or one user."""
    await _key_owner(request)
    ref = _user(request, required=True)
    assert ref is not None
    days = _int(request, "event_days")
    event_days = 1 if days is None else max(1, min(days, 31))
    api = services(request).legacy_api
    return JSONResponse(await api.user(ref, _mode(request), event_days))


async def get_scores(request: Request) -> Response:
    """get_scores: a beatmap's leaderboard, optionally one user's entry or one mod set."""
    await _key_owner(request)
    beatmap_id = _int(request, "b", 1)
    if beatmap_id is None:
        fail(400, "b is required")
    api = services(request).legacy_api
    scores = await api.scores(
        beatmap_id,
        _user(request, required=False),
        _mode(request),
        _mods(request),
        _limit(request, 50, 100),
    )
    return JSONResponse(scores)


async def get_user_best(request: Request) -> Response:
    """get_user_best: a user's top plays."""
    await _key_owner(request)
    ref = _user(request, required=True)
    assert ref is not None
    api = services(request).legacy_api
    return JSONResponse(await api.user_best(ref, _mode(request), _limit(request, 10, 100)))


async def get_user_recent(request: Request) -> Response:
    """get_user_recent: a user's plays of the last 24 hours."""
    await _key_owner(request)
    ref = _user(request, required=True)
    assert ref is not None
    api = services(request).legacy_api
    return JSONResponse(await api.user_recent(ref, _mode(request), _limit(request, 10, 50)))


async def get_replay(request: Request) -> Response:
    """get_replay: a score's replay frames, by `s` or by `b` and `u`."""
    owner = await _key_owner(request)
    score_id = _int(request, "s", 1)
    beatmap_id = _int(request, "b", 1)
    user = _user(request, required=False)
    if score_id is None and (beatmap_id is None or user is None):
        fail(400, "s, or b and u, are required")
    outcome = await services(request).legacy_api.replay(
        owner, score_id, beatmap_id, user, _mode(request), _mods(request)
    )
    if isinstance(outcome, ReplayRefused):
        fail(_REPLAY_STATUS[outcome], outcome.value)
    return JSONResponse(outcome)


async def get_match(request: Request) -> Response:
    """get_match: a multiplayer match and its games."""
    await _key_owner(request)
    match_id = _int(request, "mp", 1)
    if match_id is None:
        fail(400, "mp is required")
    return JSONResponse(await services(request).legacy_api.match(match_id))
