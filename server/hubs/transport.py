"""The SignalR transport every hub shares: negotiate, handshake, framing, keep-alive, dispatch.

lazer-protocol.md §6 is the wire contract. Per connection, one reader task splits the byte
stream (Rust core), and dispatches invocations one at a time, as ASP.NET Core does; one
writer task drains a bounded queue and sends a Ping after `hub_keepalive_seconds` of
silence, because the client drops a connection that is silent for 30 s. A client silent
for `hub_client_timeout_seconds`, a frame that does not parse, an over-size message or a
flood closes that connection only (reliability.md §2.7, §2.8).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any

import msgspec
from starlette.websockets import WebSocket, WebSocketState

from server import metrics
from server.api.params import bearer_token
from server.core import CoreError, TooLarge
from server.core import msgpack as codec
from server.hub_bus import HubBus
from server.hubs.connection import TAKEOVER, HubConnection
from server.hubs.protocol import (
    BadArguments,
    Hub,
    HubFailure,
    RawHandler,
    Returned,
    bind_arguments,
    binding_text,
    failure_text,
    unexpected_text,
    unknown_method_text,
)
from server.repositories.users import UserRepository
from server.services.tokens import TokenService
from server.settings import Settings

log = logging.getLogger(__name__)

RECORD_SEPARATOR = b"\x1e"
_HANDSHAKE_OK = b"{}" + RECORD_SEPARATOR
_MAX_HANDSHAKE = 1024
_PING = codec.encode_ping()
_DRAIN_SECONDS = 1.0
_BATCH_BYTES = 64 * 1024
# A negotiated connection token is good for this long: clients connect right after
# negotiating, and negotiate again before every reconnect.
CONNECTION_TOKEN_SECONDS = 300


def user_channel(hub: str, user_id: int) -> str:
    """The bus channel reaching every connection of one user on one hub."""
    return f"{hub}:user:{user_id}"


def group_channel(hub: str, group: str) -> str:
    """The bus channel of a hub group."""
    return f"{hub}:group:{group}"


def connection_token(key: bytes, hub: str, user_id: int, now: float) -> str:
    """A negotiate `connectionToken`: expiry and nonce, signed for one hub and user."""
    body = f"{int(now) + CONNECTION_TOKEN_SECONDS}.{secrets.token_urlsafe(12)}"
    return f"{body}.{_connection_mac(key, hub, user_id, body)}"


def connection_token_valid(key: bytes, token: str, hub: str, user_id: int, now: float) -> bool:
    """Whether `token` was issued by `connection_token` for this hub and user, unexpired."""
    body, _, mac = token.rpartition(".")
    expires, _, _ = body.partition(".")
    if not (expires.isascii() and expires.isdigit()) or int(expires) < now:
        return False
    return hmac.compare_digest(mac, _connection_mac(key, hub, user_id, body))


def _connection_mac(key: bytes, hub: str, user_id: int, body: str) -> str:
    digest = hmac.new(key, f"{hub}:{user_id}:{body}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


class _Shortcut:
    """A raw method reached without parsing the envelope first (see `_dispatch_raw`)."""

    __slots__ = ("prefix", "raw", "target")

    def __init__(self, target: str, raw: RawHandler) -> None:
        self.target = target
        self.raw = raw
        # How a non-blocking invocation of it begins, as lazer sends frame data:
        # `[1, {}, nil, target, ...` (no headers, no invocation id).
        self.prefix = b"\x96\x01\x80\xc0" + codec.encode("string", target)


def _nonblocking_raw(hub: Hub) -> tuple[_Shortcut, ...]:
    """A shortcut for each of the hub's raw methods."""
    return tuple(
        _Shortcut(target, method.raw)
        for target, method in hub.methods.items()
        if method.raw is not None
    )


def _shortcut(shortcuts: tuple[_Shortcut, ...], message: bytes) -> _Shortcut | None:
    for shortcut in shortcuts:
        if message.startswith(shortcut.prefix):
            return shortcut
    return None


class Negotiation(msgspec.Struct, frozen=True, omit_defaults=True):
    """The negotiate reply: WebSockets only, Binary (MessagePack) transfer format."""

    connectionId: str
    negotiateVersion: int
    availableTransports: list[dict[str, Any]]
    connectionToken: str | None = None


class _Handshake(msgspec.Struct):
    protocol: str
    version: int = 1


class _RateLimit:
    """Token bucket on incoming messages (reliability.md §2.8: invocation flood)."""

    __slots__ = ("_burst", "_last", "_rate", "_tokens")

    def __init__(self, rate: float, burst: float) -> None:
        self._rate, self._burst, self._tokens = rate, burst, burst
        self._last = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class HubTransport:
    """Serves every registered hub; holds this instance's connections."""

    def __init__(
        self,
        settings: Settings,
        tokens: TokenService,
        users: UserRepository,
        bus: HubBus,
        hubs: list[Hub],
    ) -> None:
        self._settings = settings
        self._tokens = tokens
        self._users = users
        self.bus = bus
        self._hubs = {hub.name: hub for hub in hubs}
        self.connections: dict[str, HubConnection] = {}
        # Signed connection tokens need no shared state, so a client may negotiate with one
        # instance and connect to another; the key is derived, never the secret itself.
        self._token_key = hmac.new(
            settings.secret_key.encode(), b"signalr-connection-token", hashlib.sha256
        ).digest()

    @property
    def hub_names(self) -> list[str]:
        """The hubs served here (moderation signals a user on each)."""
        return list(self._hubs)

    def has_hub(self, name: str) -> bool:
        """Whether `name` is a hub served here."""
        return name in self._hubs

    async def authenticate(
        self, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> int | None:
        """The user id of a bearer with the all-access scope (S-RT-1), else None."""
        token = bearer_token(headers, query)
        session = await self._tokens.authenticate(token) if token else None
        if (
            session is None
            or session.user_id is None
            or not session.allows("*")
            or not session.verified
        ):
            return None
        return session.user_id

    def negotiate(self, requested_version: int, hub: str, user_id: int) -> Negotiation:
        """The negotiate reply; `negotiateVersion` is always present (signalrcore needs it).

        The WebSocket then comes with `?id=`: the `connectionToken` from version 1 on, the
        `connectionId` before it. Either is signed for this hub and user.
        """
        version = 1 if requested_version >= 1 else 0
        token = connection_token(self._token_key, hub, user_id, time.time())
        return Negotiation(
            connectionId=secrets.token_urlsafe(16) if version else token,
            negotiateVersion=version,
            availableTransports=[{"transport": "WebSockets", "transferFormats": ["Binary"]}],
            connectionToken=token if version else None,
        )

    async def stop(self) -> None:
        """Close every connection with the text the client reconnects on."""
        for connection in list(self.connections.values()):
            connection.close("Server is shutting down.", 1001)
        deadline = time.monotonic() + 5
        while self.connections and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    async def serve(self, websocket: WebSocket, hub_name: str) -> None:
        """Run one hub connection from the upgrade to the close."""
        hub = self._hubs.get(hub_name)
        user_id = await self.authenticate(websocket.headers, websocket.query_params)
        account = await self._users.by_id(user_id) if user_id is not None else None
        # A negotiated client sends the token it was given; one that skipped negotiation
        # (lazer can, and so can other clients) sends none and needs none.
        negotiated = websocket.query_params.get("id")
        if (
            hub is None
            or account is None
            or (
                negotiated is not None
                and not connection_token_valid(
                    self._token_key, negotiated, hub.name, account.id, time.time()
                )
            )
        ):
            await websocket.close(code=1008)  # before accept: the upgrade is refused (403)
            return
        await websocket.accept()
        leftover = await self._handshake(websocket)
        if leftover is None:
            return
        connection = HubConnection(
            hub.name,
            account.id,
            account.username,
            account.is_restricted,
            # S-RT-3: the client instance, as lazer sends it; a client without one counts
            # as a new instance every time.
            websocket.headers.get("x-client-session-id") or secrets.token_hex(8),
            self.bus,
            self._settings.hub_send_queue,
        )
        self.connections[connection.id] = connection
        metrics.hub_connection(hub.name, 1)
        writer = asyncio.create_task(self._write(websocket, connection))
        reader: asyncio.Task[None] | None = None
        try:
            self._take_over(connection)
            await hub.on_connected(connection)
            reader = asyncio.create_task(self._read(websocket, connection, hub, leftover))
            await connection.wait_closing()
        except Exception:
            log.exception("hub %s: connection setup failed", hub.name)
            connection.close(None, 1011)
        finally:
            if reader is not None:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
            try:
                await hub.on_disconnected(connection)
            except Exception:
                log.exception("hub %s: disconnect cleanup failed", hub.name)
            connection.leave_all()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer, _DRAIN_SECONDS + 1)
            writer.cancel()
            self.connections.pop(connection.id, None)
            metrics.hub_connection(hub.name, -1)

    def _take_over(self, connection: HubConnection) -> None:
        channel = user_channel(connection.hub_name, connection.user_id)
        self.bus.publish(channel, control=TAKEOVER + connection.client_session, skip=connection.id)
        connection.join(channel)

    async def _handshake(self, websocket: WebSocket) -> bytes | None:
        """Read `{"protocol":"messagepack","version":1}` + 0x1E; the bytes after it, or None."""
        buffer = b""
        try:
            async with asyncio.timeout(self._settings.hub_handshake_timeout_seconds):
                while RECORD_SEPARATOR not in buffer:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        return None
                    buffer += message.get("bytes") or (message.get("text") or "").encode()
                    if len(buffer) > _MAX_HANDSHAKE:
                        break
        except TimeoutError:
            await self._refuse(websocket, "Handshake was canceled.")
            return None
        head, separator, rest = buffer.partition(RECORD_SEPARATOR)
        try:
            request = msgspec.json.decode(head, type=_Handshake) if separator else None
        except (msgspec.DecodeError, RecursionError):
            request = None
        if request is None:
            await self._refuse(websocket, "Handshake request is invalid.")
            return None
        if request.protocol != "messagepack" or request.version != 1:
            # S-RT-2: MessagePack only.
            await self._refuse(
                websocket,
                f"The protocol '{request.protocol}' is not supported.",
            )
            return None
        await websocket.send_bytes(_HANDSHAKE_OK)
        return rest

    async def _refuse(self, websocket: WebSocket, error: str) -> None:
        with contextlib.suppress(Exception):
            await websocket.send_bytes(msgspec.json.encode({"error": error}) + RECORD_SEPARATOR)
            await websocket.close(code=1002)

    async def _read(
        self, websocket: WebSocket, connection: HubConnection, hub: Hub, leftover: bytes
    ) -> None:
        settings = self._settings
        splitter = codec.FrameSplitter(settings.hub_max_message_bytes)
        shortcuts = _nonblocking_raw(hub)
        limit = _RateLimit(settings.hub_messages_per_second, settings.hub_message_burst)
        data = leftover
        try:
            while True:
                for message in splitter.feed(data) if data else ():
                    if not limit.take():
                        connection.close("Too many messages.", 1008)
                        return
                    metrics.hub_message(hub.name)
                    shortcut = _shortcut(shortcuts, message)
                    if shortcut is not None and not connection.superseded:
                        await self._dispatch_raw(hub, connection, shortcut, message)
                        continue
                    if not await self._dispatch(connection, hub, message):
                        return
                try:
                    async with asyncio.timeout(settings.hub_client_timeout_seconds):
                        received = await websocket.receive()
                except TimeoutError:
                    # reliability.md §2.8: idle or half-open sockets are dropped.
                    connection.close(
                        "Server timeout elapsed without receiving a message from the client.",
                        1000,
                    )
                    return
                if received["type"] == "websocket.disconnect":
                    connection.close(None, 1000, send_close=False)
                    return
                data = received.get("bytes") or (received.get("text") or "").encode()
        except TooLarge:
            connection.close("Message too large.", 1009)
        except CoreError:
            connection.close("Connection closed with an error. InvalidDataException.", 1002)
        except Exception:
            log.exception("hub %s: reader failed", hub.name)
            connection.close(None, 1011)

    async def _dispatch(self, connection: HubConnection, hub: Hub, message: bytes) -> bool:
        """Handle one hub message; False when the connection is to end."""
        envelope = codec.parse_envelope(message)  # CoreError: unparseable, closes (1002)
        kind = envelope.message_type
        if kind is codec.MessageType.CLOSE:
            connection.close(None, 1000, send_close=False)
            return False
        if kind is not codec.MessageType.INVOCATION:
            return True  # Ping, Completion, StreamItem, CancelInvocation: nothing to do
        target = envelope.target or ""
        method = hub.methods.get(target)
        result: HubFailure | Returned | str | None
        if connection.superseded:
            result = HubFailure("This connection has been replaced by a newer one.")
        elif method is None:
            result = unknown_method_text(target)
        else:
            try:
                if method.raw is not None:
                    result = await method.raw(connection, message)
                else:
                    assert method.handler is not None
                    args = bind_arguments(method, envelope.payload)
                    result = await method.handler(connection, args)
            except BadArguments as exc:
                result = binding_text(target, str(exc))
            except Exception:
                log.exception("hub %s: %s failed", hub.name, target)
                result = unexpected_text(target)
        ident = envelope.invocation_id
        if ident is None:
            return True  # never answer a non-blocking invocation (lazer-protocol.md §6.2)
        if result is None:
            connection.send(codec.encode_completion_void(ident))
        elif isinstance(result, Returned):
            connection.send(codec.encode_completion_result(ident, result.value))
        elif isinstance(result, HubFailure):
            connection.send(codec.encode_completion_error(ident, failure_text(target, result)))
        else:
            connection.send(codec.encode_completion_error(ident, result))
        return True

    async def _dispatch_raw(
        self, hub: Hub, connection: HubConnection, shortcut: _Shortcut, message: bytes
    ) -> None:
        """A non-blocking invocation of a raw method (the spectator's frame relay): the
        method reads the envelope itself, so it is not parsed twice, and nothing is answered.

        Only a refusal needs the envelope: a message that does not parse closes the
        connection (CoreError, 1002) as `_dispatch` would have before calling the method. A
        method that succeeds has parsed it (the relay parses the same envelope).
        """
        try:
            result = await shortcut.raw(connection, message)
        except Exception:
            log.exception("hub %s: %s failed", hub.name, shortcut.target)
            result = HubFailure("")
        if result is not None:
            codec.parse_envelope(message)  # CoreError: unparseable, closes (1002)

    async def _write(self, websocket: WebSocket, connection: HubConnection) -> None:
        settings = self._settings
        try:
            while connection.close_request is None:
                # Several messages may share one WebSocket message: clients read the stream
                # by its length prefixes (§6.1). Batching what queued up while the last send
                # was in flight keeps a busy watcher from costing one send per bundle.
                frames = connection.take_frames(_BATCH_BYTES)
                if not frames:
                    try:
                        async with asyncio.timeout(settings.hub_keepalive_seconds):
                            await connection.wait_for_frames()
                        continue
                    except TimeoutError:
                        frames = [_PING]
                async with asyncio.timeout(settings.hub_client_timeout_seconds):
                    await websocket.send_bytes(frames[0] if len(frames) == 1 else b"".join(frames))
            await self._finish(websocket, connection)
        except Exception:
            # The socket is gone (or too slow to take a message in time).
            connection.close(None, 1011, send_close=False)

    async def _finish(self, websocket: WebSocket, connection: HubConnection) -> None:
        request = connection.close_request
        assert request is not None
        if websocket.client_state is not WebSocketState.CONNECTED:
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(_DRAIN_SECONDS):
                while frames := connection.take_frames(_BATCH_BYTES):
                    await websocket.send_bytes(b"".join(frames))
                if request.send_close:
                    await websocket.send_bytes(
                        codec.encode_close(request.reason, request.allow_reconnect)
                    )
        with contextlib.suppress(Exception):
            await websocket.close(code=request.code)
