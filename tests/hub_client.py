"""A minimal SignalR MessagePack client for tests, over an in-process ASGI socket or a real one.

It is written from lazer-protocol.md §6, not from the server's code: messages are built
byte by byte here (only the argument values go through the codec's lazer encoder), and the
server's replies are read with the codec's envelope parser.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import MutableMapping
from typing import Any, Protocol

import msgspec
from starlette.applications import Starlette

from server.core import msgpack as codec

HANDSHAKE = b'{"protocol":"messagepack","version":1}\x1e'
TIMEOUT = 5.0


class Closed(Exception):
    """The server closed the socket."""

    def __init__(self, code: int | None) -> None:
        super().__init__(code)
        self.code = code


class Wire(Protocol):
    async def send(self, data: bytes | str) -> None: ...

    async def recv(self) -> bytes | str: ...

    async def close(self) -> None: ...


class AsgiSocket:
    """A WebSocket to the app, driven in-process through ASGI (no network)."""

    def __init__(
        self,
        app: Starlette,
        path: str,
        headers: dict[str, str] | None = None,
        query: str = "",
    ) -> None:
        self._app = app
        self._incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._outgoing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.close_code: int | None = None
        self.accepted = False
        self._scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
            "client": ("203.0.113.7", 50000),
            "server": ("testserver", 80),
            "subprotocols": [],
            "state": dict(app.state.lifespan_state),
        }
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> bool:
        """Connect; True when the server accepted the upgrade."""
        self._task = asyncio.create_task(self._run())
        await self._incoming.put({"type": "websocket.connect"})
        event = await asyncio.wait_for(self._outgoing.get(), TIMEOUT)
        if event["type"] == "websocket.accept":
            self.accepted = True
            return True
        self.close_code = event.get("code")
        return False

    async def _run(self) -> None:
        async def send(event: MutableMapping[str, Any]) -> None:
            await self._outgoing.put(dict(event))

        try:
            await self._app(self._scope, self._incoming.get, send)
        finally:
            await self._outgoing.put({"type": "websocket.close", "code": self.close_code or 1006})

    async def send(self, data: bytes | str) -> None:
        key = "text" if isinstance(data, str) else "bytes"
        await self._incoming.put({"type": "websocket.receive", key: data})

    async def recv(self) -> bytes | str:
        event = await self._outgoing.get()
        if event["type"] == "websocket.close":
            self.close_code = event.get("code")
            await self._outgoing.put(event)  # stays closed
            raise Closed(self.close_code)
        if event.get("bytes") is not None:
            return bytes(event["bytes"])
        return str(event["text"])

    async def close(self) -> None:
        """Drop the connection from the client side (no Close message)."""
        await self._incoming.put({"type": "websocket.disconnect", "code": 1000})
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, TIMEOUT)

    @property
    def server_done(self) -> bool:
        """Whether the app's handler has returned."""
        return self._task is not None and self._task.done()


class RealSocket:
    """A WebSocket over the network (websockets library)."""

    def __init__(self, connection: Any) -> None:
        self._ws = connection

    @classmethod
    async def connect(cls, url: str, headers: dict[str, str]) -> RealSocket:
        from websockets.asyncio.client import connect

        return cls(await connect(url, additional_headers=headers, open_timeout=TIMEOUT))

    async def send(self, data: bytes | str) -> None:
        await self._ws.send(data)

    async def recv(self) -> bytes | str:
        from websockets.exceptions import ConnectionClosed

        try:
            data: bytes | str = await self._ws.recv()
            return data
        except ConnectionClosed as exc:
            raise Closed(exc.rcvd.code if exc.rcvd else None) from exc

    async def close(self) -> None:
        await self._ws.close()

    def abort(self) -> None:
        """Cut the TCP connection without a WebSocket close (a player's network dying)."""
        self._ws.transport.abort()


def invocation(
    target: str, args: bytes, invocation_id: str | None = None, stream_ids: bool = True
) -> bytes:
    """Framed `[1, {}, id, target, args, []]` around an encoded arguments array."""
    parts = [
        b"\x96" if stream_ids else b"\x95",
        b"\x01\x80",
        msgspec.msgpack.encode(invocation_id),
        msgspec.msgpack.encode(target),
        args,
    ]
    if stream_ids:
        parts.append(b"\x90")
    return codec.frame(b"".join(parts))


def arguments(types: list[str], values: list[Any]) -> bytes:
    """An encoded arguments array of lazer-typed values."""
    if not types:
        return b"\x90"
    if len(types) == 1:
        return b"\x91" + codec.encode(types[0], values[0])
    return codec.encode(",".join(types), values)


class Received(msgspec.Struct):
    envelope: codec.HubEnvelope
    raw: bytes


class HubClient:
    """Handshake, invoke, and read server messages by target or invocation id."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self._splitter = codec.FrameSplitter(1 << 20)
        self._backlog: deque[Received] = deque()
        self._next_id = 0
        self.pings = 0

    async def handshake(self, text: bool = False) -> None:
        await self.wire.send(HANDSHAKE.decode() if text else HANDSHAKE)
        reply = await asyncio.wait_for(self.wire.recv(), TIMEOUT)
        reply = reply.encode() if isinstance(reply, str) else reply
        assert reply == b"{}\x1e", reply

    async def invoke(
        self, target: str, types: list[str], values: list[Any], *, blocking: bool = True
    ) -> str | None:
        """Send an invocation; its id (None for a non-blocking one)."""
        ident = None
        if blocking:
            self._next_id += 1
            ident = str(self._next_id)
        await self.wire.send(invocation(target, arguments(types, values), ident))
        return ident

    async def call(self, target: str, types: list[str], values: list[Any]) -> codec.HubEnvelope:
        """Invoke and wait for its Completion."""
        ident = await self.invoke(target, types, values)
        assert ident is not None
        return await self.completion(ident)

    async def _read_one(self, timeout: float) -> Received:
        if self._backlog:  # the rest of a WebSocket message that carried several
            return self._backlog.popleft()
        while True:
            data = await asyncio.wait_for(self.wire.recv(), timeout)
            data = data.encode() if isinstance(data, str) else data
            for message in self._splitter.feed(data):
                received = Received(codec.parse_envelope(message), message)
                if received.envelope.message_type is codec.MessageType.PING:
                    self.pings += 1
                    continue
                self._backlog.append(received)
            if self._backlog:
                return self._backlog.popleft()

    async def next(self, timeout: float = TIMEOUT) -> Received:
        """The next non-ping message."""
        if self._backlog:
            return self._backlog.popleft()
        return await self._read_one(timeout)

    async def wait_for(self, predicate: Any, timeout: float = TIMEOUT) -> Received:
        """The first message matching `predicate`; others stay queued, in order."""
        for item in list(self._backlog):
            if predicate(item):
                self._backlog.remove(item)
                return item
        kept: list[Received] = list(self._backlog)
        self._backlog.clear()
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while True:
                item = await self._read_one(max(deadline - loop.time(), 0.001))
                if predicate(item):
                    return item
                kept.append(item)
        finally:
            self._backlog.extendleft(reversed(kept))

    async def completion(self, ident: str, timeout: float = TIMEOUT) -> codec.HubEnvelope:
        item = await self.wait_for(
            lambda r: (
                r.envelope.message_type is codec.MessageType.COMPLETION
                and r.envelope.invocation_id == ident
            ),
            timeout,
        )
        return item.envelope

    async def call_to(self, target: str, timeout: float = TIMEOUT) -> Received:
        """The next server-to-client invocation of `target`."""
        return await self.wait_for(
            lambda r: (
                r.envelope.message_type is codec.MessageType.INVOCATION
                and r.envelope.target == target
            ),
            timeout,
        )

    async def args_of(self, target: str, types: str, timeout: float = TIMEOUT) -> Any:
        """Decoded arguments of the next call to `target` (the value itself for one type)."""
        item = await self.call_to(target, timeout)
        payload = item.envelope.payload
        assert payload is not None
        if "," not in types:
            assert payload[0] == 0x91, payload
            return codec.decode(types, payload[1:])
        return codec.decode(types, payload)

    async def close_message(self, timeout: float = TIMEOUT) -> codec.HubEnvelope:
        item = await self.wait_for(
            lambda r: r.envelope.message_type is codec.MessageType.CLOSE, timeout
        )
        return item.envelope

    async def no_message(self, within: float = 0.3) -> None:
        """Assert nothing but pings arrives for a while."""
        with contextlib.suppress(TimeoutError):
            item = await self.next(within)
            raise AssertionError(f"unexpected message {item.envelope}")
