"""Room endpoints: list, show, create and close rooms, join and leave them, the room
leaderboard and realtime room events (osu-web Multiplayer\\RoomsController)."""

from __future__ import annotations

from typing import Any, NoReturn

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from server.http import (
    ApiError,
    JSONResponse,
    fail,
    read_fields,
    require_session,
    require_user,
    services,
)
from server.services.rooms import (
    EVENTS_LIMIT_DEFAULT,
    EVENTS_LIMIT_MAX,
    ITEM_NOT_FOUND,
    LEADERBOARD_LIMIT_DEFAULT,
    LEADERBOARD_LIMIT_MAX,
    ROOM_NOT_FOUND,
    Refused,
)

_MAX_ID = 2**63 - 1
# Far past any real board; keeps the page's offset a small number.
_MAX_PAGE = 100_000
# The PUT body is a SoloScoreInfo, as on the solo route.
_MAX_SUBMISSION_BYTES = 64 * 1024


def _refuse(refused: Refused) -> NoReturn:
    raise ApiError(refused.status, {"error": refused.error})


def _room_id(request: Request) -> int:
    raw = str(request.path_params.get("room", ""))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not 0 < int(raw) <= _MAX_ID:
        fail(404, ROOM_NOT_FOUND)
    return int(raw)


def _optional_int(value: str | None) -> int | None:
    """osu-web get_int on a query parameter: a malformed value counts as absent."""
    if value is None:
        return None
    text = value.strip()
    if not text.lstrip("-").isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if abs(number) <= _MAX_ID else None


def _clamp(value: int | None, default: int, maximum: int) -> int:
    return max(1, min(value if value is not None else default, maximum))


async def _self_user(request: Request) -> Any:
    """The signed-in user, who must be the `{user}` of the path (osu-web: 403 otherwise)."""
    _, account = await require_user(request)
    raw = str(request.path_params.get("user", ""))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) != account.id:
        raise ApiError(403, {"error": None})
    return account


async def _body(request: Request) -> dict[str, Any]:
    """POST rooms' parameters: lazer sends the Room as JSON (nested playlist); form bodies
    give flat fields only."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return dict(await read_fields(request))
    try:
        data = msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        fail(400, "request body is not valid JSON")
    if not isinstance(data, dict):
        fail(400, "request body must be a JSON object")
    return data


async def list_rooms(request: Request) -> Response:
    """GET rooms: rooms by mode, status, category and type group, with their current item."""
    session = await require_session(request, "public")
    query = dict(request.query_params)
    rooms = await services(request).rooms.search(query, session.user_id)
    return JSONResponse(rooms)


async def show_room(request: Request) -> Response:
    """GET rooms/{room}: the room with its playlist, host and participants."""
    session = await require_session(request, "public")
    room_id = _room_id(request)
    found = services(request)
    viewer = await found.users.cached_by_id(session.user_id) if session.user_id else None
    room = await found.rooms.show(room_id, viewer)
    if room is None:
        fail(404, ROOM_NOT_FOUND)
    return JSONResponse(room)


async def create_room(request: Request) -> Response:
    """POST rooms: create a playlist (lazer's CreateRoomRequest)."""
    _, account = await require_user(request)
    outcome = await services(request).rooms.create(account, await _body(request))
    if isinstance(outcome, Refused):
        _refuse(outcome)
    return JSONResponse(outcome)


async def close_room(request: Request) -> Response:
    """DELETE rooms/{room}: the host ends a playlist within the grace period."""
    _, account = await require_user(request)
    refused = await services(request).rooms.close(_room_id(request), account)
    if refused is not None:
        _refuse(refused)
    return Response(status_code=204)


async def join_room(request: Request) -> Response:
    """PUT rooms/{room}/users/{user}: join (password checked); answers the room."""
    account = await _self_user(request)
    room_id = _room_id(request)
    password = request.query_params.get("password")
    outcome = await services(request).rooms.join(room_id, account, password)
    if isinstance(outcome, Refused):
        _refuse(outcome)
    return JSONResponse(outcome)


async def part_room(request: Request) -> Response:
    """DELETE rooms/{room}/users/{user}: leave the room's channel."""
    account = await _self_user(request)
    refused = await services(request).rooms.part(_room_id(request), account)
    if refused is not None:
        _refuse(refused)
    return Response(status_code=204)


async def room_leaderboard(request: Request) -> Response:
    """GET rooms/{room}/leaderboard: `{leaderboard, user_score}`."""
    session = await require_session(request, "public")
    room_id = _room_id(request)
    query = request.query_params
    limit = _clamp(
        _optional_int(query.get("limit")), LEADERBOARD_LIMIT_DEFAULT, LEADERBOARD_LIMIT_MAX
    )
    page = max(1, min(_optional_int(query.get("page")) or 1, _MAX_PAGE))
    board = await services(request).rooms.leaderboard(room_id, limit, page, session.user_id)
    if board is None:
        fail(404, ROOM_NOT_FOUND)
    return JSONResponse(board)


async def room_events(request: Request) -> Response:
    """GET rooms/{room}/events: a realtime room's events, by `after` / `before` and `limit`."""
    await require_session(request, "public")
    room_id = _room_id(request)
    query = request.query_params
    limit = _clamp(_optional_int(query.get("limit")), EVENTS_LIMIT_DEFAULT, EVENTS_LIMIT_MAX)
    outcome = await services(request).rooms.events(
        room_id, _optional_int(query.get("after")), _optional_int(query.get("before")), limit
    )
    if isinstance(outcome, Refused):
        _refuse(outcome)
    return JSONResponse(outcome)


def _path_int(request: Request, name: str, error: str) -> int:
    raw = str(request.path_params.get(name, ""))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not 0 < int(raw) <= _MAX_ID:
        fail(404, error)
    return int(raw)


async def create_playlist_token(request: Request) -> Response:
    """POST rooms/{room}/playlist/{item}/scores: a token for one play of the item."""
    _, account = await require_user(request)
    room_id = _room_id(request)
    item_id = _path_int(request, "item", ITEM_NOT_FOUND)
    fields = await read_fields(request)
    outcome = await services(request).playlist_scores.create_token(
        room_id, item_id, account, fields
    )
    if isinstance(outcome, Refused):
        _refuse(outcome)
    return JSONResponse({"id": outcome})


async def submit_playlist_score(request: Request) -> Response:
    """PUT rooms/{room}/playlist/{item}/scores/{token}: store the play once; a
    MultiplayerScore with `position` and `scores_around`."""
    _, account = await require_user(request)
    room_id = _room_id(request)
    item_id = _path_int(request, "item", ITEM_NOT_FOUND)
    token_id = _path_int(request, "token", "Specified ScoreToken couldn't be found.")
    body = await request.body()
    if len(body) > _MAX_SUBMISSION_BYTES:
        fail(413, "score data too large")
    outcome = await services(request).playlist_scores.submit(
        room_id, item_id, token_id, account, body
    )
    if isinstance(outcome, Refused):
        _refuse(outcome)
    return JSONResponse(outcome)


async def playlist_scores(request: Request) -> Response:
    """GET rooms/{room}/playlist/{item}/scores: the item's board, paged by cursor."""
    session = await require_session(request, "public")
    room_id = _room_id(request)
    item_id = _path_int(request, "item", ITEM_NOT_FOUND)
    outcome = await services(request).playlist_scores.index(
        room_id, item_id, dict(request.query_params), session.user_id
    )
    if isinstance(outcome, Refused):
        _refuse(outcome)
    return JSONResponse(outcome)


async def playlist_score(request: Request) -> Response:
    """GET rooms/{room}/playlist/{item}/scores/{score}: one score with its neighbours."""
    await require_user(request)
    room_id = _path_int(request, "room", "Invalid room id")
    item_id = _path_int(request, "item", "Invalid playlist id")
    score_id = _path_int(request, "score", "Specified Multiplayer\\ScoreLink couldn't be found.")
    outcome = await services(request).playlist_scores.show(room_id, item_id, score_id)
    if isinstance(outcome, Refused):
        _refuse(outcome)
    return JSONResponse(outcome)


async def playlist_user_score(request: Request) -> Response:
    """GET rooms/{room}/playlist/{item}/scores/users/{user}: a user's best with neighbours."""
    await require_user(request)
    room_id = _path_int(request, "room", "Invalid room id")
    item_id = _path_int(request, "item", "Invalid playlist id")
    user_id = _path_int(
        request, "user", "Specified Multiplayer\\PlaylistItemUserHighScore couldn't be found."
    )
    outcome = await services(request).playlist_scores.show_user(room_id, item_id, user_id)
    if isinstance(outcome, Refused):
        _refuse(outcome)
    return JSONResponse(outcome)
