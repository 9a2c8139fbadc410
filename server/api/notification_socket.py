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
from typing import Any

import msgspec
from redis.exceptions import RedisError
from starlette.websockets import WebSocket, WebSocketDisconnect

from server.services.notifications import user_channel

log = logging.getLogger(__name__)

_MAX_CLIENT_MESSAGE = 4096
_POLL_SECONDS = 0.25


def _token(websocket: WebSocket) -> str:
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return websocket.query_params.get("access_token", "")


async def notification_socket(websocket: WebSocket) -> None:
    """Authenticate, then relay this user's events until either side goes away.

    When the Redis subscription breaks (Redis restarted, or unreachable), the socket is
    closed with 1011: lazer reconnects, sends chat.start again and refetches what it missed
    over REST (chat/updates, then each channel's messages since the last id it holds), so a
    message is neither lost nor shown twice."""
    services = websocket.state.services
    token = _token(websocket)
    session = await services.tokens.authenticate(token) if token else None
    if session is None or session.user_id is None or not session.allows("chat.read"):
        await websocket.close(code=1008)  # before accept: the handshake is refused with 403
        return
    pubsub = services.redis.pubsub()
    try:
        await pubsub.subscribe(user_channel(services.redis, session.user_id))
    except (RedisError, OSError) as exc:
        log.warning("notification socket refused: Redis unavailable (%s)", exc)
        await pubsub.aclose()
        await websocket.close(code=1011)
        return
    await websocket.accept()
    chat_started = asyncio.Event()
    stop = asyncio.Event()
    relay = asyncio.create_task(_relay(websocket, pubsub, chat_started, stop))
    reader = asyncio.create_task(_read(websocket, chat_started))
    try:
        done, _ = await asyncio.wait({relay, reader}, return_when=asyncio.FIRST_COMPLETED)
        if relay in done and relay.exception() is not None:
            log.info("notification socket closed: Redis subscription lost (%s)", relay.exception())
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(code=1011)
    finally:
        # Shielded: the server may cancel this handler (shutdown, a test client's exit), and
        # the Redis subscription must be closed all the same.
        await asyncio.shield(asyncio.ensure_future(_close(relay, reader, pubsub, stop)))


async def _close(
    relay: asyncio.Task[None], reader: asyncio.Task[None], pubsub: Any, stop: asyncio.Event
) -> None:
    # Cancelling the relay inside redis-py's read can be swallowed by the client's own
    # timeout handling (as server/hubs/bus.py found); then it stops at its next poll.
    stop.set()
    relay.cancel()
    reader.cancel()
    await asyncio.wait({relay, reader}, timeout=2 * _POLL_SECONDS + 1)
    # Closing the connection ends its subscription on the Redis side: no UNSUBSCRIBE
    # round trip needed.
    await pubsub.aclose()


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
            except (msgspec.DecodeError, AttributeError):
                continue  # lazer only ever sends chat.start / chat.end; ignore anything else
            if event == "chat.start":
                chat_started.set()
            elif event == "chat.end":
                chat_started.clear()
    except (WebSocketDisconnect, RuntimeError, KeyError):
        return


async def _relay(
    websocket: WebSocket, pubsub: Any, chat_started: asyncio.Event, stop: asyncio.Event
) -> None:
    """Redis's side: this user's events; raises when the subscription breaks."""
    while not stop.is_set():
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=_POLL_SECONDS)
        if message is None or message.get("type") != "message":
            continue
        payload: bytes = message["data"]
        event = msgspec.json.decode(payload).get("event", "")
        if event.startswith("chat.") and not chat_started.is_set():
            continue
        try:
            await websocket.send_text(payload.decode())
        except (WebSocketDisconnect, RuntimeError):
            return  # the client went away; the reader ends the connection
