"""Wire shapes of chat (lazer's Channel and Message, osu-web's chat transformers)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from server.models.users import UserCompact


class ChannelUserAttributes(msgspec.Struct, frozen=True):
    can_message: bool
    can_message_error: str | None
    last_read_id: int | None


class Channel(msgspec.Struct, frozen=True, kw_only=True):
    """A chat channel; `users` is always a list, never null (lazer iterates it)."""

    channel_id: int
    description: str
    icon: str | None = None
    message_length_limit: int = 450
    moderated: bool = False
    name: str
    type: str
    uuid: str | None = None
    last_message_id: int | None = None
    last_read_id: int | None = None
    current_user_attributes: ChannelUserAttributes | None = None
    users: list[int] = msgspec.field(default_factory=list)


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """A chat message: `sender_id` precedes `sender` (lazer's setter order, §4.11)."""

    channel_id: int
    content: str
    is_action: bool
    message_id: int
    sender_id: int
    timestamp: datetime
    type: str
    uuid: str | None = None
    sender: UserCompact


class Silence(msgspec.Struct, frozen=True):
    id: int
    user_id: int


class ChatUpdates(msgspec.Struct, frozen=True):
    """chat/updates: joined channels, new messages, silences."""

    presence: list[Channel]
    messages: list[Message]
    silences: list[Silence]


class ChatAck(msgspec.Struct, frozen=True):
    silences: list[Silence]


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    created_at: datetime
    object_type: str
    object_id: str
    source_user_id: int | None
    is_read: bool
    details: dict[str, object]


class NotificationBundle(msgspec.Struct, frozen=True, kw_only=True):
    """GET notifications: the newest notifications and the socket to hear new ones on."""

    has_more: bool
    notifications: list[Notification]
    unread_count: int
    notification_endpoint: str
