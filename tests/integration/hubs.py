"""Shared steps for hub tests: connect a signed-in user to a hub in-process."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from starlette.applications import Starlette

from tests.helpers import SignedIn
from tests.hub_client import AsgiSocket, HubClient
from tests.score_play import stored_map, token_for


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


async def play_token(client: httpx.AsyncClient, services: Any, user: SignedIn) -> int:
    """A fresh score token of `user` (on a newly stored map): BeginPlaySession records a
    play only under a token the user was issued and has not used (S-RT-7)."""
    return await token_for(client, user, await stored_map(services))
