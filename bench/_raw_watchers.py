"""Spectator watchers that read faster than any server sends, for bench_hubs.py.

    python bench/_raw_watchers.py URL PLAYER_ID BUNDLES TOKEN [TOKEN ...]

Run as its own process (so the watchers never share a CPU-bound event loop with the bench's
player), one connection per token: the WebSocket upgrade and the SignalR handshake by hand,
then StartWatchingUser(PLAYER_ID), then "ready" on stdout. From then on each connection only
counts `UserSentFrames` in the raw byte stream (server frames are unmasked, so the invocation
name appears as sent; nothing is parsed or decoded), and "done" is printed once every
connection has counted BUNDLES of them. Only the standard library.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
import urllib.parse

_HANDSHAKE = b'{"protocol":"messagepack","version":1}\x1e'
_MARK = b"\xaeUserSentFrames"
_COMPLETION = b"\x03\x80\xa11"  # Completion of invocation "1" (no headers)
_CHUNK = 1 << 18


def _client_frame(payload: bytes) -> bytes:
    """A masked binary WebSocket frame (the zero mask leaves the payload as it is)."""
    head = bytes([0x82])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


def _start_watching(player_id: int) -> bytes:
    """Invocation "1" of StartWatchingUser(player_id), length-prefixed (SignalR msgpack)."""
    body = b"\x96\x01\x80\xa11\xb1StartWatchingUser\x91\xce" + player_id.to_bytes(4, "big")
    body += b"\x90"
    assert len(body) < 128
    return bytes([len(body)]) + body


async def _watch(
    url: str, token: str, player_id: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    parts = urllib.parse.urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port, limit=_CHUNK)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /signalr/spectator HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit(f"upgrade refused: {head[:60]!r}")
    writer.write(_client_frame(_HANDSHAKE))
    writer.write(_client_frame(_start_watching(player_id)))
    seen = b""
    while _COMPLETION not in seen:
        data = await reader.read(_CHUNK)
        if not data:
            raise SystemExit("closed before StartWatchingUser completed")
        seen += data
    return reader, writer, seen.rpartition(_COMPLETION)[2]


async def _count(reader: asyncio.StreamReader, leftover: bytes, bundles: int) -> None:
    got = leftover.count(_MARK)
    tail = leftover
    keep = len(_MARK) - 1
    while got < bundles:
        data = await reader.read(_CHUNK)
        if not data:
            raise SystemExit(f"closed after {got} of {bundles} bundles")
        # A mark split across two reads is found in tail + data; the tail alone is too short
        # to hold one, so none is counted twice.
        window = tail + data
        got += window.count(_MARK)
        tail = window[-keep:]


async def main() -> int:
    url, player, bundles, *tokens = sys.argv[1:]
    opened = [await _watch(url, token, int(player)) for token in tokens]
    print("ready", flush=True)
    await asyncio.gather(*(_count(r, left, int(bundles)) for r, _, left in opened))
    print("done", flush=True)
    for _, writer, _ in opened:
        writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
