"""The notification WebSocket that `GET notifications` advertises (lazer-protocol.md §4.9).

lazer connects with its bearer token in the Authorization header, sends `chat.start` (and
retries it every 5 s until the send succeeds), and from then on expects `chat.*` events;
other events (`new`, `logout`) are delivered regardless. Events for a user are published
to a Redis channel, so any instance can reach a socket held by another. Frames are text
only: a binary frame makes lazer throw and reconnect.
"""

from __future__ import annotations

import asyncio
import logging

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from server.services.notifications import user_channel

log = logging.getLogger(__name__)

_MAX_CLIENT_MESSAGE = 4096


def _token(websocket: WebSocket) -> str:
    scheme, _, value = websocket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return websocket.query_params.get("access_token", "")


async def notification_socket(websocket: WebSocket) -> None:
    """Authenticate, then relay this user's events until either side goes away."""
    services = websocket.state.services
    token = _token(websocket)
    session = await services.tokens.authenticate(token) if token else None
    if session is None or session.user_id is None or not session.allows("chat.read"):
        await websocket.close(code=1008)  # before accept: the handshake is refused with 403
        return
    await websocket.accept()
    chat_started = asyncio.Event()
    pubsub = services.redis.pubsub()
    await pubsub.subscribe(user_channel(services.redis, session.user_id))
    relay = asyncio.create_task(_relay(websocket, pubsub, chat_started))
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
        pass
    finally:
        relay.cancel()
        await asyncio.gather(relay, return_exceptions=True)
        await pubsub.unsubscribe()
        await pubsub.aclose()


async def _relay(websocket: WebSocket, pubsub: object, chat_started: asyncio.Event) -> None:
    async for message in pubsub.listen():  # type: ignore[attr-defined]
        if message.get("type") != "message":
            continue
        payload: bytes = message["data"]
        event = msgspec.json.decode(payload).get("event", "")
        if event.startswith("chat.") and not chat_started.is_set():
            continue
        await websocket.send_text(payload.decode())
