"""One client's connection to one hub: its identity, bounded send queue and channels."""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import Callable
from typing import Any

from server.core import msgpack as codec
from server.hub_bus import BusMessage, HubBus

# Control words carried on a user's channel (see HubTransport._take_over).
TAKEOVER = "takeover:"
# The account was restricted or its sessions reset: the client is told to log out.
DISCONNECT = "disconnect"
# The account was renamed: what hubs show of it from now on.
RENAME = "rename:"

_DISCONNECT_REQUESTED = codec.encode_invocation("DisconnectRequested", b"\x90")


class CloseRequest:
    """How a connection is to end: the Close message's reason and the WebSocket code."""

    __slots__ = ("allow_reconnect", "code", "reason", "send_close")

    def __init__(
        self, reason: str | None, code: int, allow_reconnect: bool, send_close: bool
    ) -> None:
        self.reason = reason
        self.code = code
        self.allow_reconnect = allow_reconnect
        self.send_close = send_close


class HubConnection:
    """A hub connection as hubs see it: who, which client instance, send, join, leave."""

    def __init__(
        self,
        hub_name: str,
        user_id: int,
        username: str,
        restricted: bool,
        client_session: str,
        bus: HubBus,
        send_queue: int,
    ) -> None:
        self.id = secrets.token_urlsafe(12)
        self.hub_name = hub_name
        self.user_id = user_id
        self.username = username
        self.restricted = restricted
        self.client_session = client_session
        # Per-connection hub state, like SignalR's Context.Items.
        self.items: dict[str, Any] = {}
        self.superseded = False
        self.close_request: CloseRequest | None = None
        # The send queue: a deque and one waiter future of the writer, not an asyncio.Queue
        # (a watcher gets a message per frame bundle; this is the per-watcher hot path).
        self._outgoing: deque[bytes] = deque()
        self._send_queue = send_queue
        self._writer_waiting: asyncio.Future[None] | None = None
        self.finished = asyncio.Event()
        self._wake = asyncio.Event()
        self._bus = bus
        self._channels: set[str] = set()
        # The hub's handler of control words other than takeover (e.g. group membership
        # decided by another instance).
        self.on_control: Callable[[str], None] | None = None

    def send(self, frame: bytes) -> None:
        """Queue a framed message; a client too slow to take its messages is dropped."""
        if self.close_request is not None:
            return
        if len(self._outgoing) >= self._send_queue:
            # S-RT-9: bounded send queue. A watcher that cannot keep up is cut, not buffered.
            self.close("Send queue overflow.", 1008)
            return
        self._outgoing.append(frame)
        self._wake_writer()

    def _wake_writer(self) -> None:
        waiting = self._writer_waiting
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    async def next_batch(self, max_bytes: int, idle_seconds: float) -> list[bytes] | None:
        """For the writer: the queued messages up to about `max_bytes` (at least one),
        waiting for one up to `idle_seconds` (then [], time for a keep-alive); None once the
        connection is closing."""
        if not self._outgoing and self.close_request is None:
            self._writer_waiting = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(idle_seconds):
                    await self._writer_waiting
            except TimeoutError:
                return []
            finally:
                self._writer_waiting = None
        if self.close_request is not None:
            return None
        pending = self._outgoing
        batch = [pending.popleft()]
        size = len(batch[0])
        while pending and size < max_bytes:
            frame = pending.popleft()
            batch.append(frame)
            size += len(frame)
        return batch

    def take_all(self) -> list[bytes]:
        """Everything still queued (the writer's last flush before the close)."""
        frames = list(self._outgoing)
        self._outgoing.clear()
        return frames

    def deliver(self, message: BusMessage) -> None:
        """Take a message from the bus (a frame, or a control word for this user)."""
        if message.control is None:
            self.send(message.frame)
        elif message.control.startswith(TAKEOVER):
            self._taken_over(message.control.removeprefix(TAKEOVER))
        elif message.control == DISCONNECT:
            # As osu-server-spectator ends a connection it must not keep: lazer logs out on
            # DisconnectRequested, so it does not reconnect with a revoked token.
            self.superseded = True
            self.send(_DISCONNECT_REQUESTED)
            self.close("Your session has ended.", 1000, allow_reconnect=False)
        elif message.control.startswith(RENAME):
            self.username = message.control.removeprefix(RENAME)
        elif self.on_control is not None:
            self.on_control(message.control)

    def _taken_over(self, new_session: str) -> None:
        # S-RT-3: a new client instance logs this one out; a reconnect of the same instance
        # just replaces the connection.
        self.superseded = True
        if new_session != self.client_session:
            self.send(_DISCONNECT_REQUESTED)
            self.close("Another client instance connected.", 1000, allow_reconnect=False)
        else:
            self.close(None, 1000, send_close=False)

    def join(self, channel: str) -> None:
        """Receive messages published to `channel`."""
        if channel not in self._channels:
            self._channels.add(channel)
            self._bus.join(channel, self)

    def leave(self, channel: str) -> None:
        """Stop receiving `channel`."""
        if channel in self._channels:
            self._channels.discard(channel)
            self._bus.leave(channel, self)

    def leave_all(self) -> None:
        """Leave every channel (the connection is gone)."""
        for channel in list(self._channels):
            self.leave(channel)

    def close(
        self,
        reason: str | None,
        code: int = 1000,
        *,
        allow_reconnect: bool = True,
        send_close: bool = True,
    ) -> None:
        """End the connection: a Close message with `reason`, then the WebSocket close."""
        if self.close_request is None:
            self.close_request = CloseRequest(reason, code, allow_reconnect, send_close)
            self._wake.set()
            self._wake_writer()

    async def wait_closing(self) -> None:
        """Return once `close` has been called."""
        await self._wake.wait()
