"""SIGTERM on `serve`: hub clients get a SignalR Close "Server is shutting down." (reconnect
allowed) before their socket closes, a request in flight still gets its answer, and the
process exits within the drain deadline."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from server.core import msgpack as codec
from tests.helpers import lazer_multipart, sign_in, signup
from tests.hub_client import Closed, HubClient, RealSocket
from tests.serve_process import ServeProcess, child_env

pytestmark = pytest.mark.slow


async def test_sigterm_tells_hub_clients_and_drains(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path, child_env(tmp_path / "data", SHUTDOWN_TIMEOUT_SECONDS="10"))
    try:
        server.wait_ready()
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
            player = await sign_in(client, await signup(client))
            ws_url = server.url.replace("http://", "ws://") + "/signalr/spectator"
            hub = HubClient(await RealSocket.connect(ws_url, player.headers))
            await hub.handshake()

            body, headers = lazer_multipart(
                {"user[username]": "drainee", "user[user_email]": "d@example.com"}
            )
            sent = asyncio.Event()

            async def slow_body() -> AsyncIterator[bytes]:
                yield body[:10]
                sent.set()
                await asyncio.sleep(0.5)
                yield body[10:]

            in_flight = asyncio.create_task(
                client.post("/users", content=slow_body(), headers=headers)
            )
            await sent.wait()
            await asyncio.sleep(0.1)
            started = time.monotonic()
            server.process.send_signal(signal.SIGTERM)

            close = (await hub.next(timeout=5)).envelope
            assert close.message_type is codec.MessageType.CLOSE
            assert close.error == "Server is shutting down." and close.allow_reconnect
            with pytest.raises(Closed):
                await hub.next(timeout=5)

            response = await in_flight  # answered, not cut off
            assert response.status_code == 422  # no password: the form error
        assert server.process.wait(timeout=15) in (0, -signal.SIGTERM)
        assert time.monotonic() - started < 12
    finally:
        server.stop()
    assert "SIGTERM: closing 1 hub connection(s)" in server.log
