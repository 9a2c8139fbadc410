"""Shared steps for hub tests: connect a signed-in user to a hub in-process."""

from __future__ import annotations

import secrets

from starlette.applications import Starlette

from tests.helpers import SignedIn
from tests.hub_client import AsgiSocket, HubClient


def lazer_headers(user: SignedIn, session_id: str | None = None) -> dict[str, str]:
    """The headers lazer's HubClientConnector sends (§6.1)."""
    return {
        "Authorization": f"Bearer {user.access_token}",
        "X-Osu-Version-Hash": "0" * 32,
        "X-Client-Session-ID": session_id or secrets.token_hex(8),
        "User-Agent": "osu!",
    }


async def connect(
    app: Starlette, hub: str, user: SignedIn, session_id: str | None = None
) -> HubClient:
    """An in-process connection to `hub`, handshake done."""
    socket = AsgiSocket(app, f"/signalr/{hub}", lazer_headers(user, session_id))
    assert await socket.open()
    client = HubClient(socket)
    await client.handshake()
    return client
