"""Chat channels, memberships, messages, silences and reports."""

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
    moderated: bool
    last_message_id: int | None
    last_read_id: int | None = None


class MembershipRow(msgspec.Struct, frozen=True):
    """A user's place in a channel."""

    channel_id: int
    user_id: int
    last_read_id: int | None
    hidden: bool


class MessageRow(msgspec.Struct, frozen=True):
    """A stored chat message; `visible_to` set means only that user sees it."""

    id: int
    channel_id: int
    sender_id: int
    content: str
    is_action: bool
    created_at: datetime
    visible_to: int | None = None


class SilenceRow(msgspec.Struct, frozen=True):
    """A silence, as chat/ack reports it."""

    id: int
    user_id: int


class ReportRow(msgspec.Struct, frozen=True):
    """A stored report."""

    id: int
    reporter_id: int
    user_id: int
    reportable_type: str
    reportable_id: int
    reason: str
    comments: str
    created_at: datetime


def _channel(row: dict[str, object] | None) -> ChannelRow | None:
    return None if row is None else msgspec.convert(row, ChannelRow, strict=False)


class ChatRepository:
    """SQL for chat."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def public_channels(self) -> list[ChannelRow]:
        """Channels anyone may join."""
        rows = await self._db.all("fetch_public_channels")
        return [msgspec.convert(row, ChannelRow, strict=False) for row in rows]

    async def channels_of_type(self, channel_type: str) -> list[ChannelRow]:
        """Every channel of one type."""
        rows = await self._db.all("fetch_channels_by_type", type=channel_type)
        return [msgspec.convert(row, ChannelRow, strict=False) for row in rows]

    async def channel(self, channel_id: int) -> ChannelRow | None:
        """One channel by id."""
        return _channel(await self._db.one("fetch_channel_by_id", channel_id=channel_id))

    async def channel_by_name(self, name: str) -> ChannelRow | None:
        """One channel by its unique name."""
        return _channel(await self._db.one("fetch_channel_by_name", name=name))

    async def add_channel(
        self, *, name: str, description: str, channel_type: str, moderated: bool, now: datetime
    ) -> int:
        """Create a channel; returns its id."""
        return await self._db.execute(
            "insert_channel",
            name=name,
            description=description,
            type=channel_type,
            moderated=int(moderated),
            now=now,
        )

    async def update_channel(
        self, channel_id: int, *, name: str, description: str, moderated: bool
    ) -> None:
        """Change a channel's name, description and moderation."""
        await self._db.execute(
            "update_channel",
            channel_id=channel_id,
            name=name,
            description=description,
            moderated=int(moderated),
        )

    async def joined_channels(self, user_id: int, limit: int) -> list[ChannelRow]:
        """Channels a user is in and has not hidden."""
        rows = await self._db.all("fetch_joined_channels", user_id=user_id, limit=limit)
        return [msgspec.convert(row, ChannelRow, strict=False) for row in rows]

    async def membership(self, channel_id: int, user_id: int) -> MembershipRow | None:
        """A user's membership of a channel, hidden or not."""
        row = await self._db.one("fetch_membership", channel_id=channel_id, user_id=user_id)
        return None if row is None else msgspec.convert(row, MembershipRow, strict=False)

    async def member_ids(self, channel_id: int) -> list[int]:
        """Every member of a channel."""
        rows = await self._db.all("fetch_member_ids", channel_id=channel_id)
        return [int(row["user_id"]) for row in rows]

    async def hidden_member_ids(self, channel_id: int) -> list[int]:
        """Members who hid a channel."""
        rows = await self._db.all("fetch_hidden_member_ids", channel_id=channel_id)
        return [int(row["user_id"]) for row in rows]

    async def join(self, channel_id: int, user_id: int, now: datetime) -> None:
        """Put a user in a channel."""
        await self._db.execute("join_channel", channel_id=channel_id, user_id=user_id, now=now)

    async def set_hidden(self, channel_id: int, user_id: int, hidden: bool) -> None:
        """Hide a channel from a member, or show it again."""
        await self._db.execute(
            "set_membership_hidden", channel_id=channel_id, user_id=user_id, hidden=int(hidden)
        )

    async def unhide(self, channel_id: int) -> None:
        """Show a channel again to everyone who hid it."""
        await self._db.execute("unhide_channel", channel_id=channel_id)

    async def leave(self, channel_id: int, user_id: int) -> None:
        """Take a user out of a channel."""
        await self._db.execute("leave_channel", channel_id=channel_id, user_id=user_id)

    async def mark_read(self, channel_id: int, user_id: int, message_id: int) -> None:
        """Move a member's read marker forward."""
        await self._db.execute(
            "mark_read", channel_id=channel_id, user_id=user_id, message_id=message_id
        )

    async def add_message(
        self,
        *,
        channel_id: int,
        sender_id: int,
        content: str,
        is_action: bool,
        now: datetime,
        visible_to: int | None = None,
    ) -> int:
        """Store a message; returns its id (the caller records it as the channel's last)."""
        return await self._db.execute(
            "insert_message",
            channel_id=channel_id,
            sender_id=sender_id,
            content=content,
            is_action=int(is_action),
            now=now,
            visible_to=visible_to,
        )

    async def set_last_message(self, channel_id: int, message_id: int) -> None:
        """Record a channel's newest message."""
        await self._db.execute(
            "set_channel_last_message", channel_id=channel_id, message_id=message_id
        )

    async def message(self, message_id: int) -> MessageRow | None:
        """One message."""
        row = await self._db.one("fetch_message", message_id=message_id)
        return None if row is None else msgspec.convert(row, MessageRow, strict=False)

    async def messages_after(
        self, channel_id: int, viewer_id: int, since: int, after: datetime, limit: int
    ) -> list[MessageRow]:
        """Messages after id `since`, oldest first."""
        rows = await self._db.all(
            "fetch_messages_after",
            channel_id=channel_id,
            viewer_id=viewer_id,
            since=since,
            after=after,
            limit=limit,
        )
        return [msgspec.convert(row, MessageRow, strict=False) for row in rows]

    async def messages_before(
        self, channel_id: int, viewer_id: int, until: int, after: datetime, limit: int
    ) -> list[MessageRow]:
        """The newest messages before id `until`, newest first."""
        rows = await self._db.all(
            "fetch_messages_before",
            channel_id=channel_id,
            viewer_id=viewer_id,
            until=until,
            after=after,
            limit=limit,
        )
        return [msgspec.convert(row, MessageRow, strict=False) for row in rows]

    async def silences_since(self, since: int, limit: int) -> list[SilenceRow]:
        """Silences issued after an id."""
        rows = await self._db.all("fetch_silences_since", since=since, limit=limit)
        return [msgspec.convert(row, SilenceRow, strict=False) for row in rows]

    async def message_time_at_or_before(self, message_id: int) -> datetime | None:
        """When the newest message up to an id was sent."""
        value = await self._db.value("fetch_message_time_at_or_before", message_id=message_id)
        return value if isinstance(value, datetime) or value is None else None

    async def silences_after_time(self, after: datetime, limit: int) -> list[SilenceRow]:
        """Silences issued after a time."""
        rows = await self._db.all("fetch_silences_after_time", after=after, limit=limit)
        return [msgspec.convert(row, SilenceRow, strict=False) for row in rows]

    async def active_silences(self, user_id: int, now: datetime) -> int:
        """How many of a user's silences have not ended."""
        return int(await self._db.value("count_active_silences", user_id=user_id, now=now))

    async def add_silence(
        self, *, user_id: int, reason: str, now: datetime, ends_at: datetime
    ) -> int:
        """Record a silence; returns its id."""
        return await self._db.execute(
            "insert_silence", user_id=user_id, reason=reason, now=now, ends_at=ends_at
        )

    async def add_report(
        self,
        *,
        reporter_id: int,
        user_id: int,
        reportable_type: str,
        reportable_id: int,
        reason: str,
        comments: str,
        now: datetime,
    ) -> int:
        """Store a report; returns its id."""
        return await self._db.execute(
            "insert_report",
            reporter_id=reporter_id,
            user_id=user_id,
            reportable_type=reportable_type,
            reportable_id=reportable_id,
            reason=reason,
            comments=comments,
            now=now,
        )

    async def reports(self, limit: int) -> list[ReportRow]:
        """The newest reports."""
        rows = await self._db.all("fetch_reports", limit=limit)
        return [msgspec.convert(row, ReportRow, strict=False) for row in rows]
