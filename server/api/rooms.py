"""Room endpoints: list, show, create and close rooms, join and leave them, the room
leaderboard and realtime room events (osu-web Multiplayer\\RoomsController)."""

from __future__ import annotations

from typing import Any, NoReturn

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from server.api import params
from server.api.params import path_id, require_session, require_user
from server.http import ApiError, JSONResponse, fail, read_fields, services
from server.services.rooms import (
    EVENTS_LIMIT_DEFAULT,
    EVENTS_LIMIT_MAX,
    ITEM_NOT_FOUND,
    LEADERBOARD_LIMIT_DEFAULT,
    LEADERBOARD_LIMIT_MAX,
    ROOM_NOT_FOUND,
    Refused,
)

# Far past any real board; keeps the page's offset a small number.
_MAX_PAGE = 100_000
# The PUT body is a SoloScoreInfo, as on the solo route.
_MAX_SUBMISSION_BYTES = 64 * 1024


def _refuse(refused: Refused) -> NoReturn:
    raise ApiError(refused.status, {"error": refused.error})


async def _self_user(request: Request) -> Any:
    """The signed-in user, who must be the `{user}` of the path (osu-web: 403 otherwise)."""
    _, account = await require_user(request)
    if params.ascii_id(str(request.path_params.get("user", ""))) != account.id:
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
    room_id = path_id(request, "room", ROOM_NOT_FOUND)
    found = services(request)
    viewer = await params.viewer(request, session)
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
    refused = await services(request).rooms.close(path_id(request, "room", ROOM_NOT_FOUND), account)
    if refused is not None:
        _refuse(refused)
    return Response(status_code=204)


async def join_room(request: Request) -> Response:
    """PUT rooms/{room}/users/{user}: join (password checked); answers the room."""
    account = await _self_user(request)
    room_id = path_id(request, "room", ROOM_NOT_FOUND)
    password = request.query_params.get("password")
    outcome = await services(request).rooms.join(room_id, account, password)
    if isinstance(outcome, Refused):
        _refuse(outcome)
    return JSONResponse(outcome)


async def part_room(request: Request) -> Response:
    """DELETE rooms/{room}/users/{user}: leave the room's channel."""
    account = await _self_user(request)
    refused = await services(request).rooms.part(path_id(request, "room", ROOM_NOT_FOUND), account)
    if refused is not None:
        _refuse(refused)
    return Response(status_code=204)


async def room_leaderboard(request: Request) -> Response:
    """GET rooms/{room}/leaderboard: `{leaderboard, user_score}`."""
    session = await require_session(request, "public")
    room_id = path_id(request, "room", ROOM_NOT_FOUND)
    query = request.query_params
    limit = params.limit(query.get("limit"), LEADERBOARD_LIMIT_DEFAULT, LEADERBOARD_LIMIT_MAX)
    page = min(params.page(query.get("page")), _MAX_PAGE)
    board = await services(request).rooms.leaderboard(room_id, limit, page, session.user_id)
    if board is None:
        fail(404, ROOM_NOT_FOUND)
    return JSONResponse(board)


async def room_events(request: Request) -> Response:
    """GET rooms/{room}/events: a realtime room's events, by `after` / `before` and `limit`."""
    await require_session(request, "public")
    room_id = path_id(request, "room", ROOM_NOT_FOUND)
    query = request.query_params
    limit = params.limit(query.get("limit"), EVENTS_LIMIT_DEFAULT, EVENTS_LIMIT_MAX)
    outcome = await services(request).rooms.events(
        room_id,
        params.lenient_int(query.get("after")),
        params.lenient_int(query.get("before")),
        limit,
    )
    if isinstance(outcome, Refused):
        _refuse(outcome)
    return JSONResponse(outcome)


async def create_playlist_token(request: Request) -> Response:
    """POST rooms/{room}/playlist/{item}/scores: a token for one play of the item."""
    _, account = await require_user(request)
    room_id = path_id(request, "room", ROOM_NOT_FOUND)
    item_id = path_id(request, "item", ITEM_NOT_FOUND)
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
    room_id = path_id(request, "room", ROOM_NOT_FOUND)
    item_id = path_id(request, "item", ITEM_NOT_FOUND)
    token_id = path_id(request, "token", "Specified ScoreToken couldn't be found.")
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
    room_id = path_id(request, "room", ROOM_NOT_FOUND)
    item_id = path_id(request, "item", ITEM_NOT_FOUND)
    outcome = await services(request).playlist_scores.index(
        room_id, item_id, dict(request.query_params), session.user_id
    )
    if isinstance(outcome, Refused):
        _refuse(outcome)
    return JSONResponse(outcome)


async def playlist_score(request: Request) -> Response:
    """GET rooms/{room}/playlist/{item}/scores/{score}: one score with its neighbours."""
    await require_user(request)
    room_id = path_id(request, "room", "Invalid room id")
    item_id = path_id(request, "item", "Invalid playlist id")
    score_id = path_id(request, "score", "Specified Multiplayer\\ScoreLink couldn't be found.")
    outcome = await services(request).playlist_scores.show(room_id, item_id, score_id)
    if isinstance(outcome, Refused):
        _refuse(outcome)
    return JSONResponse(outcome)


async def playlist_user_score(request: Request) -> Response:
    """GET rooms/{room}/playlist/{item}/scores/users/{user}: a user's best with neighbours."""
    await require_user(request)
    room_id = path_id(request, "room", "Invalid room id")
    item_id = path_id(request, "item", "Invalid playlist id")
    user_id = path_id(
        request, "user", "Specified Multiplayer\\PlaylistItemUserHighScore couldn't be found."
    )
    outcome = await services(request).playlist_scores.show_user(room_id, item_id, user_id)
    if isinstance(outcome, Refused):
        _refuse(outcome)
    return JSONResponse(outcome)
