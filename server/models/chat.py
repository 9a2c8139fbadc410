"""Wire shapes of chat (lazer's Channel and Message, osu-web's chat transformers)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from server.models.users import UserCompact


class ChannelUserAttributes(msgspec.Struct, frozen=True, kw_only=True):
    """What the viewing user may do in a channel (osu-web's current_user_attributes)."""

    can_list_users: bool = False
    can_message: bool
    can_message_error: str | None
    last_read_id: int | None


class Channel(msgspec.Struct, frozen=True, kw_only=True):
    """A chat channel as one user sees it; `users` is always a list, never null (lazer
    iterates it). `channel_id` is null only for a PM that has no message yet."""

    channel_id: int | None
    description: str
    icon: str | None = None
    message_length_limit: int = 450
    moderated: bool = False
    name: str
    type: str
    uuid: str | None = None
    current_user_attributes: ChannelUserAttributes | None = None
    last_message_id: int | None = None
    last_read_id: int | None = None
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


class ChannelWithMessages(Channel, frozen=True, kw_only=True):
    """POST chat/channels: the channel (lazer's APIChatChannel) with its recent messages."""

    recent_messages: list[Message] = msgspec.field(default_factory=list)


class ChannelDetail(msgspec.Struct, frozen=True):
    """GET chat/channels/{id}: the channel and, for a PM, both users."""

    channel: Channel
    users: list[UserCompact]


class NewConversation(msgspec.Struct, frozen=True):
    """POST chat/new: the PM channel, the first message and the channel's id."""

    channel: Channel
    message: Message
    new_channel_id: int


class NewMessages(msgspec.Struct, frozen=True):
    """The `chat.message.new` socket event: each sender appears once in `users`."""

    messages: list[Message]
    users: list[UserCompact]


class Silence(msgspec.Struct, frozen=True):
    id: int
    user_id: int


class ChatUpdates(msgspec.Struct, frozen=True, omit_defaults=True):
    """chat/updates: only the parts asked for through `includes[]` (all by default)."""

    presence: list[Channel] | None = None
    silences: list[Silence] | None = None
    messages: list[Message] | None = None


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


class NotificationIdentity(msgspec.Struct, frozen=True, omit_defaults=True):
    """What POST notifications/mark-read names: a notification by id, or the notifications
    about an object (osu-web's BatchIdentities)."""

    id: int | None = None
    category: str | None = None
    object_type: str | None = None
    object_id: int | None = None


class NotificationsRead(msgspec.Struct, frozen=True):
    """The socket's `read` event (osu-web's NotificationReadEvent)."""

    notifications: list[NotificationIdentity]
    read_count: int
    timestamp: datetime


class NotificationBundle(msgspec.Struct, frozen=True, kw_only=True):
    """GET notifications: the newest notifications and the socket to hear new ones on."""

    has_more: bool
    notifications: list[Notification]
    unread_count: int
    notification_endpoint: str
