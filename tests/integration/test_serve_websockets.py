"""`serve`'s WebSocket settings: no permessage-deflate, even for a client that offers it (its
zlib state was about half of an idle hub connection's memory; lazer never offers it)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.helpers import sign_in, signup
from tests.hub_client import HubClient, RealSocket
from tests.serve_process import ServeProcess, child_env

pytestmark = pytest.mark.slow


async def test_hub_sockets_are_not_compressed_when_the_client_offers_it(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path, child_env(tmp_path / "data"))
    try:
        server.wait_ready()
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
            player = await sign_in(client, await signup(client))
        url = server.url.replace("http://", "ws://") + "/signalr/spectator"
        async with connect(url, additional_headers=player.headers, compression="deflate") as ws:
            assert "permessage-deflate" in ws.request.headers["Sec-WebSocket-Extensions"]
            assert "Sec-WebSocket-Extensions" not in ws.response.headers
            hub = HubClient(RealSocket(ws))
            await hub.handshake()  # the hub still works on the uncompressed socket
    finally:
        server.stop()
