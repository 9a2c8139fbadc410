"""Shared steps for chat tests: channels by name, posting, and a notification socket
driven in-process that has sent chat.start."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from starlette.applications import Starlette

from tests.helpers import SignedIn
from tests.hub_client import AsgiSocket, Closed


async def channel_id(services: Any, name: str) -> int:
    """The id of a channel by name."""
    rows = await services.db.fetch_raw("SELECT id FROM chat_channels WHERE name = :n", n=name)
    return int(rows[0]["id"])


async def join(client: httpx.AsyncClient, user: SignedIn, channel: int) -> httpx.Response:
    """PUT chat/channels/{id}/users/{me}."""
    return await client.put(
        f"/api/v2/chat/channels/{channel}/users/{user.id}", headers=user.headers
    )


async def post(
    client: httpx.AsyncClient, user: SignedIn, channel: int, text: str, **extra: str
) -> httpx.Response:
    """POST chat/channels/{id}/messages as lazer's form fields."""
    return await client.post(
        f"/api/v2/chat/channels/{channel}/messages",
        data={"message": text, "is_action": "false", **extra},
        headers=user.headers,
    )


class ChatSocket:
    """A notification socket of one user, chat started, collecting events."""

    def __init__(self, app: Starlette, user: SignedIn) -> None:
        self.app = app
        self.user = user
        self.socket = AsgiSocket(
            app, "/notifications", {"Authorization": f"Bearer {user.access_token}"}
        )
        self.events: list[dict[str, Any]] = []

    async def open(self) -> ChatSocket:
        """Connect and send chat.start; returns once chat events are being relayed."""
        assert await self.socket.open()
        await self.socket.send('{"event":"chat.start"}')
        notifications = self.app.state.lifespan_state["services"].notifications
        deadline = time.monotonic() + 10
        # A chat.* probe is relayed only after chat.start took effect.
        while True:
            await notifications.push_many([self.user.id], "chat.probe", None)
            try:
                event = await self.next(0.2)
            except TimeoutError:
                assert time.monotonic() < deadline, "chat.start never took effect"
                continue
            if event["event"] == "chat.probe":
                break
        await self.drain(0.1)
        self.events.clear()
        return self

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next event (probes included)."""
        raw = await asyncio.wait_for(self.socket.recv(), timeout)
        event: dict[str, Any] = json.loads(raw)
        self.events.append(event)
        return event

    async def drain(self, quiet: float = 0.3) -> list[dict[str, Any]]:
        """Every event until the socket is quiet for `quiet` seconds (probes dropped)."""
        while True:
            try:
                await self.next(quiet)
            except (TimeoutError, Closed):
                return [e for e in self.events if e["event"] != "chat.probe"]

    async def wait_for(self, event: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next event of a kind (earlier others are kept in `events`)."""
        deadline = time.monotonic() + timeout
        while True:
            found = await self.next(max(deadline - time.monotonic(), 0.01))
            if found["event"] == event:
                return found

    async def wait_for_message(self, content: str, timeout: float = 5.0) -> dict[str, Any]:
        """The chat.message.new event carrying a message with this content."""
        deadline = time.monotonic() + timeout
        while True:
            event = await self.wait_for("chat.message.new", max(deadline - time.monotonic(), 0.01))
            if any(m["content"] == content for m in event["data"]["messages"]):
                return event

    def message_ids(self) -> list[int]:
        """Ids of every chat.message.new message heard so far, in order."""
        return [
            m["message_id"]
            for e in self.events
            if e["event"] == "chat.message.new"
            for m in e["data"]["messages"]
        ]

    async def close(self) -> None:
        """Drop the connection."""
        await self.socket.close()
