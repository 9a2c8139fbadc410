"""Chat as lazer reads it at login: channels, updates since a message id, and acks."""

from __future__ import annotations

from server.models.chat import (
    Channel,
    ChannelUserAttributes,
    ChatAck,
    ChatUpdates,
    Message,
    Silence,
)
from server.repositories.chat import ChannelRow, ChatRepository
from server.repositories.users import UserAccount, UserRepository
from server.services.profiles import ProfileService

_MAX_MESSAGES = 50
_MAX_SILENCES = 100


def _channel(row: ChannelRow, member: bool) -> Channel:
    return Channel(
        channel_id=row.id,
        description=row.description,
        name=row.name,
        type=row.type,
        last_message_id=row.last_message_id,
        last_read_id=row.last_read_id if member else None,
        moderated=row.type == "ANNOUNCE",
        current_user_attributes=ChannelUserAttributes(
            can_message=row.type != "ANNOUNCE",
            can_message_error=None if row.type != "ANNOUNCE" else "This channel is read-only.",
            last_read_id=row.last_read_id,
        )
        if member
        else None,
    )


class ChatService:
    """Read chat state for a user."""

    def __init__(
        self, chat: ChatRepository, users: UserRepository, profiles: ProfileService
    ) -> None:
        self._chat = chat
        self._users = users
        self._profiles = profiles

    async def public_channels(self) -> list[Channel]:
        """chat/channels: channels anyone may join."""
        return [_channel(row, member=False) for row in await self._chat.public_channels()]

    async def _silences(self, since: int | None) -> list[Silence]:
        if since is None:
            return []
        return [
            Silence(s.id, s.user_id) for s in await self._chat.silences_since(since, _MAX_SILENCES)
        ]

    async def updates(
        self, user: UserAccount, since: int, history_since: int | None
    ) -> ChatUpdates:
        """chat/updates: the user's channels, messages after `since`, silences."""
        channels = [_channel(row, member=True) for row in await self._chat.joined_channels(user.id)]
        rows = await self._chat.messages_since(user.id, since, _MAX_MESSAGES)
        senders = await self._users.by_ids([r.sender_id for r in rows])
        compact = {u.id: u for u in await self._profiles.compact_many(senders)}
        messages = [
            Message(
                channel_id=r.channel_id,
                content=r.content,
                is_action=r.is_action,
                message_id=r.id,
                sender_id=r.sender_id,
                timestamp=r.created_at,
                type="action" if r.is_action else "plain",
                sender=compact[r.sender_id],
            )
            for r in rows
            if r.sender_id in compact
        ]
        return ChatUpdates(channels, messages, await self._silences(history_since))

    async def ack(self, user: UserAccount, history_since: int | None) -> ChatAck:
        """chat/ack: lazer's 60-second heartbeat; marks the user online, returns silences."""
        await self._profiles.mark_online(user.id)
        return ChatAck(await self._silences(history_since))
