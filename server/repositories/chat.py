"""Chat channels, memberships, messages and silences."""

from __future__ import annotations

from datetime import datetime

import msgspec

from server.db import Database


class ChannelRow(msgspec.Struct, frozen=True):
    """A channel with its newest message id and, for a member, the read marker."""

    id: int
    name: str
    description: str
    type: str
    last_message_id: int | None
    last_read_id: int | None = None


class MessageRow(msgspec.Struct, frozen=True):
    """A stored chat message."""

    id: int
    channel_id: int
    sender_id: int
    content: str
    is_action: bool
    created_at: datetime


class SilenceRow(msgspec.Struct, frozen=True):
    """A silence, as chat/ack reports it."""

    id: int
    user_id: int


class ChatRepository:
    """SQL for chat."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def public_channels(self) -> list[ChannelRow]:
        """Channels anyone may join."""
        rows = await self._db.all("fetch_public_channels")
        return [msgspec.convert(row, ChannelRow, strict=False) for row in rows]

    async def joined_channels(self, user_id: int) -> list[ChannelRow]:
        """Channels a user is in."""
        rows = await self._db.all("fetch_joined_channels", user_id=user_id)
        return [msgspec.convert(row, ChannelRow, strict=False) for row in rows]

    async def messages_since(self, user_id: int, since: int, limit: int) -> list[MessageRow]:
        """Messages after `since` in a user's channels."""
        rows = await self._db.all("fetch_messages_since", user_id=user_id, since=since, limit=limit)
        return [msgspec.convert(row, MessageRow, strict=False) for row in rows]

    async def silences_since(self, since: int, limit: int) -> list[SilenceRow]:
        """Silences issued after an id."""
        rows = await self._db.all("fetch_silences_since", since=since, limit=limit)
        return [msgspec.convert(row, SilenceRow, strict=False) for row in rows]

    async def join(self, channel_id: int, user_id: int, now: datetime) -> None:
        """Put a user in a channel."""
        await self._db.execute("join_channel", channel_id=channel_id, user_id=user_id, now=now)

    async def add_message(
        self, *, channel_id: int, sender_id: int, content: str, is_action: bool, now: datetime
    ) -> int:
        """Store a message; returns its id."""
        return await self._db.execute(
            "insert_message",
            channel_id=channel_id,
            sender_id=sender_id,
            content=content,
            is_action=int(is_action),
            now=now,
        )

    async def add_silence(
        self, *, user_id: int, reason: str, now: datetime, ends_at: datetime
    ) -> int:
        """Record a silence; returns its id."""
        return await self._db.execute(
            "insert_silence", user_id=user_id, reason=reason, now=now, ends_at=ends_at
        )
