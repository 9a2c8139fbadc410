"""The notification WebSocket that `GET notifications` advertises (lazer-protocol.md §4.9).

lazer connects with its bearer token in the Authorization header, sends `chat.start` (and
retries it every 5 s until the send succeeds), and from then on expects `chat.*` events;
other events (`new`, `logout`) are delivered regardless. Events for a user are published
to a Redis channel, so any instance can reach a socket held by another. Frames are text
only: a binary frame makes lazer throw and reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from server.api.params import bearer_token
from server.services.socket_relay import SocketInbox

log = logging.getLogger(__name__)

_MAX_CLIENT_MESSAGE = 4096


async def notification_socket(websocket: WebSocket) -> None:
    """Authenticate, then relay this user's events until either side goes away.

    The process's one Redis subscription (server/services/socket_relay.py) feeds this
    socket's inbox. When that subscription breaks, the socket is closed with 1011: lazer
    reconnects, sends chat.start again and refetches what it missed over REST (chat/updates,
    then each channel's messages since the last id it holds), so a message is neither lost
    nor shown twice."""
    services = websocket.state.services
    token = bearer_token(websocket.headers, websocket.query_params)
    session = await services.tokens.authenticate(token) if token else None
    if session is None or session.user_id is None or not session.allows("chat.read"):
        await websocket.close(code=1008)  # before accept: the handshake is refused with 403
        return
    relay = services.socket_relay
    inbox = relay.attach(session.user_id)
    if inbox is None:
        log.info("notification socket refused: its Redis subscription is down")
        await websocket.close(code=1011)
        return
    try:
        await websocket.accept()
        chat_started = asyncio.Event()
        sender = asyncio.create_task(_forward(websocket, inbox, chat_started))
        reader = asyncio.create_task(_read(websocket, chat_started))
        try:
            done, _ = await asyncio.wait({sender, reader}, return_when=asyncio.FIRST_COMPLETED)
            if sender in done and not sender.cancelled() and (code := sender.result()):
                with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                    await websocket.close(code=code)
        finally:
            sender.cancel()
            reader.cancel()
    finally:
        relay.detach(inbox)


async def _read(websocket: WebSocket, chat_started: asyncio.Event) -> None:
    """The client's side: chat.start and chat.end; ends when the client goes away."""
    try:
        while True:
            text = await websocket.receive_text()
            if len(text) > _MAX_CLIENT_MESSAGE:
                await websocket.close(code=1009)
                return
            try:
                event = msgspec.json.decode(text).get("event")
            except (msgspec.DecodeError, AttributeError, RecursionError):
                continue  # lazer only ever sends chat.start / chat.end; ignore anything else
            if event == "chat.start":
                chat_started.set()
            elif event == "chat.end":
                chat_started.clear()
    except (WebSocketDisconnect, RuntimeError, KeyError):
        return


async def _forward(
    websocket: WebSocket, inbox: SocketInbox, chat_started: asyncio.Event
) -> int | None:
    """This user's events to the client (chat.* only after chat.start). Returns the close
    code when the server ends the socket: 1011 when the relay asked to close (its
    subscription broke, or the client fell too far behind), 1000 after `logout`; None when
    the client went away."""
    while True:
        payload = await inbox.queue.get()
        if payload is None:
            return 1011
        event = msgspec.json.decode(payload).get("event", "")
        if event.startswith("chat.") and not chat_started.is_set():
            continue
        try:
            await websocket.send_text(payload.decode())
        except (WebSocketDisconnect, RuntimeError):
            return None  # the client went away; the reader ends the connection
        if event == "logout":
            # The account's sessions were reset (restriction, password change): lazer logs
            # out on this event; the token is revoked, so the socket has nothing left to do.
            return 1000
