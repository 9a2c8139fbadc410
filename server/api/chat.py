"""chat/*, reports: channels, memberships, messages, PMs and reports (osu-web's
Chat\\ChannelsController, Chat\\Channels\\MessagesController, Chat\\ChatController,
ReportsController). Scopes as osu-web asks them: index, show, mark-as-read, messages and
ack `chat.read`; join, part and channel creation `chat.write_manage`; posting `chat.write`."""

from __future__ import annotations

from typing import Any, NoReturn

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import bool_param, int_param, path_id, require_user
from server.http import JSONResponse, fail, read_field_lists, read_fields, services
from server.repositories.users import UserAccount
from server.services.chat import ChatRefused

_INCLUDES = frozenset({"presence", "silences", "messages"})


def _refuse(refused: ChatRefused) -> NoReturn:
    fail(refused.status, refused.message)


def _answer(outcome: Any) -> Response:
    if isinstance(outcome, ChatRefused):
        _refuse(outcome)
    return JSONResponse(outcome)


async def list_channels(request: Request) -> Response:
    """GET chat/channels: the public channels."""
    await require_user(request, "chat.read")
    return JSONResponse(await services(request).chat.public_channels())


async def show_channel(request: Request) -> Response:
    """GET chat/channels/{channel}: `{channel, users}` for a member."""
    _, user = await require_user(request, "chat.read")
    return _answer(await services(request).chat.show(user, path_id(request, "channel")))


async def create_channel(request: Request) -> Response:
    """POST chat/channels (type=PM, target_id): the PM channel, possibly unsaved."""
    _, user = await require_user(request, "chat.write_manage")
    fields = await read_fields(request)
    if fields.get("type") == "ANNOUNCE":
        return await _create_announcement(request, user)
    if fields.get("type") != "PM":
        fail(422, "unknown or missing type parameter")
    target_id = int_param(fields.get("target_id"), "target_id")
    if target_id is None:
        fail(422, "missing target_id parameter")
    return _answer(await services(request).chat.start_pm(user, target_id))


async def _create_announcement(request: Request, user: UserAccount) -> Response:
    """POST chat/channels type=ANNOUNCE: channel[name], channel[description],
    target_ids[], message (osu-web's Chat::createAnnouncement)."""
    lists = await read_field_lists(request)
    target_ids = [
        int_param(raw, "target_ids", minimum=1) or 0
        for raw in lists.get("target_ids[]", []) + lists.get("target_ids", [])
    ]
    if not target_ids:
        fail(422, "missing target_ids parameter")
    name = (lists.get("channel[name]") or [""])[0].strip()
    if not name:
        fail(422, "missing channel parameter")
    outcome = await services(request).chat.create_announcement(
        user,
        name=name,
        description=(lists.get("channel[description]") or [""])[0],
        target_ids=target_ids,
        content=(lists.get("message") or [""])[0],
        uuid=(lists.get("uuid") or [""])[0] or None,
    )
    return _answer(outcome)


async def join_channel(request: Request) -> Response:
    """PUT chat/channels/{channel}/users/{user}: join a public channel (self only)."""
    _, user = await require_user(request, "chat.write_manage")
    channel_id, user_id = path_id(request, "channel"), path_id(request, "user")
    return _answer(await services(request).chat.join(user, channel_id, user_id))


async def part_channel(request: Request) -> Response:
    """DELETE chat/channels/{channel}/users/{user}: leave (self only); 204."""
    _, user = await require_user(request, "chat.write_manage")
    channel_id, user_id = path_id(request, "channel"), path_id(request, "user")
    refused = await services(request).chat.part(user, channel_id, user_id)
    if refused is not None:
        _refuse(refused)
    return Response(status_code=204)


async def list_messages(request: Request) -> Response:
    """GET chat/channels/{channel}/messages?limit=&since=&until=."""
    _, user = await require_user(request, "chat.read")
    query = request.query_params
    outcome = await services(request).chat.messages(
        user,
        path_id(request, "channel"),
        limit=int_param(query.get("limit"), "limit"),
        since=int_param(query.get("since"), "since", minimum=0),
        until=int_param(query.get("until"), "until", minimum=0),
    )
    return _answer(outcome)


async def post_message(request: Request) -> Response:
    """POST chat/channels/{channel}/messages (message, is_action, uuid): the Message."""
    _, user = await require_user(request, "chat.write")
    channel_id = path_id(request, "channel")
    fields = await read_fields(request)
    outcome = await services(request).chat.send(
        user,
        channel_id,
        fields.get("message", ""),
        bool_param(fields.get("is_action")),
        fields.get("uuid") or None,
    )
    return _answer(outcome)


async def new_conversation(request: Request) -> Response:
    """POST chat/new (target_id, message, is_action, uuid): `{channel, message,
    new_channel_id}`."""
    _, user = await require_user(request, "chat.write")
    fields = await read_fields(request)
    target_id = int_param(fields.get("target_id"), "target_id")
    if target_id is None:
        fail(422, "target user not found")
    outcome = await services(request).chat.new_conversation(
        user,
        target_id,
        fields.get("message", ""),
        bool_param(fields.get("is_action")),
        fields.get("uuid") or None,
    )
    return _answer(outcome)


async def mark_as_read(request: Request) -> Response:
    """PUT chat/channels/{channel}/mark-as-read/{message}: 204."""
    _, user = await require_user(request, "chat.read")
    channel_id, message_id = path_id(request, "channel"), path_id(request, "message")
    refused = await services(request).chat.mark_as_read(user, channel_id, message_id)
    if refused is not None:
        _refuse(refused)
    return Response(status_code=204)


async def updates(request: Request) -> Response:
    """GET chat/updates?since=&history_since=&includes[]=: `since` is required (422)."""
    _, user = await require_user(request, "chat.read")
    query = request.query_params
    since = int_param(query.get("since"), "since", minimum=0)
    if since is None:
        fail(422, "since is required")
    history_since = int_param(query.get("history_since"), "history_since", minimum=0)
    asked = query.getlist("includes[]") + query.getlist("includes")
    includes = set(asked) & _INCLUDES if asked else set(_INCLUDES)
    outcome = await services(request).chat.updates(
        user, since=since, history_since=history_since, includes=includes
    )
    return JSONResponse(outcome)


async def presence(request: Request) -> Response:
    """GET chat/presence: the user's channels."""
    _, user = await require_user(request, "chat.read")
    return JSONResponse(await services(request).chat.presence(user))


async def ack(request: Request) -> Response:
    """POST chat/ack: heartbeat; returns silences after `history_since`."""
    _, user = await require_user(request, "chat.read")
    fields = await read_fields(request)
    history_since = int_param(fields.get("history_since"), "history_since", minimum=0)
    since = int_param(fields.get("since"), "since", minimum=0)
    outcome = await services(request).chat.ack(user, since=since, history_since=history_since)
    return JSONResponse(outcome)


async def report(request: Request) -> Response:
    """POST reports (reportable_type user|message, reportable_id, reason, comments): 204."""
    _, user = await require_user(request, "identify")
    fields = await read_fields(request)
    reportable_id = int_param(fields.get("reportable_id"), "reportable_id", minimum=1)
    if reportable_id is None:
        fail(404, "Not found")
    refused = await services(request).chat.report(
        user,
        fields.get("reportable_type", ""),
        reportable_id,
        fields.get("reason", ""),
        fields.get("comments", ""),
    )
    if refused is not None:
        _refuse(refused)
    return Response(status_code=204)
