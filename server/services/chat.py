"""Chat: channels, memberships, messages and private messages, with osu-web's rules
(`app/Libraries/Chat.php`, `app/Models/Chat/Channel.php`, the `checkChat*` rules of
`OsuAuthorize`), and the `chat.*` events of the notification socket.

Every message is stored before it is announced; its id is above every earlier message's in
any channel (one auto-increment sequence), so lazer can merge by id. Events go to each
recipient's Redis channel (`NotificationService.push_many`), which every instance's sockets
of that user listen on: each socket hears each event once, wherever it is connected.

Public API for other areas (rooms, multiplayer, moderation); each call commits and then
sends the socket events itself:

- `await chat.create_room_channel(room_id, room_name) -> int`: the room's `MULTIPLAYER`
  channel `#lazermp_{room_id}` (created once; the same id on later calls).
- `await chat.add_member(channel_id, user_id) -> bool`: a server-side join (a user joins
  the room). Sends `chat.channel.join` to that user; False when already a member.
- `await chat.remove_member(channel_id, user_id) -> bool`: a server-side part. Sends
  `chat.channel.part`; False when not a member.
- `await chat.send(sender, channel_id, content, is_action=False, uuid=None)`: post as a
  user, with every rule a REST post has (returns the Message or a `ChatRefused`).
- `await chat.post_system(channel_id, content)`: post as the bot user, without the sender
  checks (room notices).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import msgspec

from server.db import Database, DuplicateKey
from server.models.chat import (
    Channel,
    ChannelDetail,
    ChannelUserAttributes,
    ChannelWithMessages,
    ChatAck,
    ChatUpdates,
    Message,
    NewConversation,
    NewMessages,
    Silence,
)
from server.models.users import UserCompact
from server.presenters.users import avatar_url
from server.redis_store import REDIS_DOWN
from server.repositories.chat import ChannelRow, ChatRepository, MessageRow
from server.repositories.relations import RelationRepository
from server.repositories.users import UserAccount, UserRepository
from server.services.chat_bot import ChatBot
from server.services.notifications import NotificationService
from server.services.profiles import ProfileService

log = logging.getLogger(__name__)

_MAX_SILENCES = 100
_PAGE_LIMIT = 50
# Announcements have their own limit in osu-web (the column's length).
_ANNOUNCE_LENGTH_LIMIT = 1024
_HIDEABLE = frozenset({"PM", "ANNOUNCE"})
_EPOCH = datetime(1970, 1, 2)
# osu-web's Message::isUserCommand: `!` followed by something other than a space or `!`.
_USER_COMMAND = re.compile(r"^![^ !]")

# osu-web's texts (resources/lang/en/authorization.php `chat.*`, api.php `error.chat.*`).
REFUSAL_TEXTS: dict[str, str] = {
    "blocked": "Cannot message a user that is blocking you or that you have blocked.",
    "friends_only": "User is blocking messages from people not on their friends list.",
    "moderated": "This channel is currently moderated.",
    "no_access": "You do not have access to that channel.",
    "no_announce": "You do not have permission to post announcement.",
    "no_channel": "You do not have access to that channel.",
    "receive_friends_only": (
        "The user may not be able to reply because you are only accepting messages from "
        "people on your friends list."
    ),
    "restricted": "You cannot send messages while silenced, restricted or banned.",
    "silenced": "You cannot send messages while silenced, restricted or banned.",
    "play_more": "How about playing some osu! instead?",
    "unauthorized": "Access denied.",
}
EMPTY_MESSAGE = "Cannot send blank message."
TOO_LONG = "The message you are trying to send is too long."
TOO_FAST = "You are sending messages too quickly, please wait a bit before trying again."
TARGET_NOT_FOUND = "target user not found"


class ChatRefused(msgspec.Struct, frozen=True):
    """Why a chat action was refused, with osu-web's status and text."""

    status: int
    message: str


def _refused(key: str) -> ChatRefused:
    return ChatRefused(403, REFUSAL_TEXTS[key])


class ChatLimits(msgspec.Struct, frozen=True, kw_only=True):
    """The configurable limits (osu-web's config/osu.php `chat`)."""

    message_length: int = 450
    public_limit: int = 1
    public_window: int = 1
    private_limit: int = 1
    private_window: int = 1
    public_backlog_hours: int = 24
    channel_limit: int = 10_000
    min_plays: int = 0


class SendLimiter:
    """osu-web's sliding window per user and kind (`message_throttle:{user}:{PM|PUBLIC}`):
    a sorted set of send times; a send is refused when the window already holds `limit`.
    Refused attempts count too, as in osu-web. Fails open while Redis is down: chat then
    cannot deliver anything live either, and the rule is not a security boundary."""

    def __init__(self, redis: Any, limits: ChatLimits) -> None:
        self._redis = redis
        self._limits = {
            "PM": (limits.private_limit, limits.private_window),
            "PUBLIC": (limits.public_limit, limits.public_window),
        }

    async def allow(self, key: str, kind: Literal["PM", "PUBLIC"]) -> bool:
        """Count one send and say whether it is within the window's limit."""
        limit, window = self._limits[kind]
        redis_key = f"message_throttle:{key}:{kind}"
        now = time.time()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(redis_key, 0, now - window)
                pipe.zcard(redis_key)
                pipe.zadd(redis_key, {secrets.token_hex(8): now})
                pipe.expire(redis_key, window)
                _, sent, _, _ = await pipe.execute()
        except REDIS_DOWN as exc:
            log.warning("chat send limiter unavailable (%s); allowing", exc)
            return True
        return int(sent) < limit


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def pm_channel_name(user_a: int, user_b: int) -> str:
    """osu-web's PM channel name: `#pm_{low}-{high}`."""
    low, high = sorted((user_a, user_b))
    return f"#pm_{low}-{high}"


def pm_user_ids(channel: ChannelRow) -> list[int]:
    """The two users of a PM channel, from its name."""
    _, _, pair = channel.name.partition("#pm_")
    return [int(part) for part in pair.split("-") if part.isdigit()]


def normalise_content(content: str, channel_type: str) -> str:
    """osu-web's receiveMessage: trimmed, CR and LF become spaces (not in announcements)."""
    if channel_type == "ANNOUNCE":
        return content
    return content.strip().replace("\r", " ").replace("\n", " ")


def is_user_command(content: str) -> bool:
    """Whether a message is a `!command`, seen only by its sender (and answered by the bot)."""
    return _USER_COMMAND.match(content) is not None


class _Sender(msgspec.Struct, frozen=True):
    """What the sender-side checks need, gathered once per request."""

    account: UserAccount
    restricted: bool
    silenced: bool
    played_enough: bool

    @property
    def moderator(self) -> bool:
        return self.account.is_admin


class ChatService:
    """Channels, memberships and messages; the REST handlers' one call each."""

    def __init__(
        self,
        db: Database,
        chat: ChatRepository,
        users: UserRepository,
        relations: RelationRepository,
        profiles: ProfileService,
        notifications: NotificationService,
        limiter: SendLimiter,
        limits: ChatLimits,
        bot: ChatBot | None = None,
    ) -> None:
        self._db = db
        self._chat = chat
        self._users = users
        self._relations = relations
        self._profiles = profiles
        self._notifications = notifications
        self._limiter = limiter
        self._limits = limits
        self._bot = bot

    # --- the bot's account ---------------------------------------------------------------

    async def ensure_bot_account(self) -> None:
        """Create the bot's account under its configured id, once; a different account
        holding that id turns the bot off (with a warning) rather than speak as someone."""
        if self._bot is None:
            return
        account = await self._users.by_id(self._bot.user_id)
        if account is None:
            try:
                await self._users.insert_system_user(
                    user_id=self._bot.user_id, username=self._bot.username, now=_now()
                )
            except DuplicateKey as exc:  # another instance won the race, or a name clash
                log.info("bot account not created (%s)", type(exc).__name__)
            account = await self._users.by_id(self._bot.user_id)
        if account is None or not account.is_bot:
            log.warning(
                "CHAT_BOT_USER_ID %d belongs to a regular account; the chat bot is off",
                self._bot.user_id,
            )
            self._bot = None

    # --- checks (osu-web's OsuAuthorize checkChat*) -------------------------------------

    async def _sender(self, account: UserAccount) -> _Sender:
        now = _now()
        silenced = (
            account.silence_end_at is not None and account.silence_end_at.replace(tzinfo=None) > now
        ) or await self._chat.active_silences(account.id, now) > 0
        played = (
            account.is_bot
            or self._limits.min_plays <= 0
            or await self._users.play_count(account.id) >= self._limits.min_plays
        )
        return _Sender(account, account.is_restricted, silenced, played)

    def _clean_record(self, sender: _Sender) -> str | None:
        if sender.restricted:
            return "restricted"
        if sender.silenced:
            return "silenced"
        return None

    async def _pm_start_refusal(self, sender: _Sender, target: UserAccount) -> str | None:
        """checkChatPmStart."""
        if (refusal := self._clean_record(sender)) is not None:
            return refusal
        if not sender.played_enough:
            return "play_more"
        mine = await self._relations.kind_of(sender.account.id, target.id)
        if sender.account.pm_friends_only and mine != "friend":
            return "receive_friends_only"
        if sender.moderator or sender.account.is_bot:
            return None
        theirs = await self._relations.kind_of(target.id, sender.account.id)
        if "block" in (mine, theirs):
            return "blocked"
        if target.pm_friends_only and theirs != "friend":
            return "friends_only"
        return None

    async def _can_message_refusal(
        self, sender: _Sender, channel: ChannelRow, pm_target: UserAccount | None
    ) -> str | None:
        """checkChatChannelCanMessage."""
        if channel.type == "ANNOUNCE":
            if self._clean_record(sender) is None and sender.moderator:
                return None
            return self._clean_record(sender) or "no_announce"
        if (refusal := self._clean_record(sender)) is not None:
            return refusal
        if not sender.played_enough:
            return "play_more"
        if channel.type == "PM":
            if pm_target is None:
                return "no_channel"
            if (refusal := await self._pm_start_refusal(sender, pm_target)) is not None:
                return refusal
        if sender.moderator:
            return None
        if channel.moderated:
            return "moderated"
        return None

    async def _pm_target(self, channel: ChannelRow, viewer_id: int) -> UserAccount | None:
        others = [uid for uid in pm_user_ids(channel) if uid != viewer_id]
        return await self._users.by_id(others[0]) if others else None

    # --- shapes ----------------------------------------------------------------------------

    async def _present(
        self,
        channel: ChannelRow,
        viewer: _Sender,
        *,
        last_read_id: int | None,
        pm_target: UserAccount | None = None,
    ) -> Channel:
        """ChannelTransformer::forUser with LISTING_INCLUDES."""
        refusal = await self._can_message_refusal(viewer, channel, pm_target)
        is_pm = channel.type == "PM"
        return Channel(
            channel_id=channel.id,
            description=channel.description,
            icon=avatar_url(pm_target) if pm_target is not None else None,
            message_length_limit=self._length_limit(channel.type),
            moderated=channel.moderated,
            name=pm_target.username if pm_target is not None else channel.name,
            type=channel.type,
            current_user_attributes=ChannelUserAttributes(
                can_list_users=channel.type == "ANNOUNCE" and viewer.moderator,
                can_message=refusal is None,
                can_message_error=None if refusal is None else REFUSAL_TEXTS[refusal],
                last_read_id=last_read_id,
            ),
            last_message_id=channel.last_message_id,
            last_read_id=last_read_id,
            users=pm_user_ids(channel) if is_pm else [],
        )

    async def _present_for(self, channel: ChannelRow, account: UserAccount) -> Channel:
        membership = await self._chat.membership(channel.id, account.id)
        pm_target = await self._pm_target(channel, account.id) if channel.type == "PM" else None
        return await self._present(
            channel,
            await self._sender(account),
            last_read_id=membership.last_read_id if membership else None,
            pm_target=pm_target,
        )

    def _length_limit(self, channel_type: str) -> int:
        if channel_type == "ANNOUNCE":
            return _ANNOUNCE_LENGTH_LIMIT
        return self._limits.message_length

    async def _messages(
        self, rows: list[MessageRow], channel_type: str, uuid: str | None = None
    ) -> tuple[list[Message], list[UserCompact]]:
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
                type="action"
                if r.is_action
                else ("markdown" if channel_type == "ANNOUNCE" else "plain"),
                uuid=uuid,
                sender=compact[r.sender_id],
            )
            for r in rows
            if r.sender_id in compact
        ]
        return messages, list(compact.values())

    # --- reads -----------------------------------------------------------------------------

    async def public_channels(self) -> list[Channel]:
        """chat/channels: channels anyone may join (osu-web's index: no per-user parts)."""
        return [
            Channel(
                channel_id=row.id,
                description=row.description,
                message_length_limit=self._length_limit(row.type),
                moderated=row.moderated,
                name=row.name,
                type=row.type,
                last_message_id=row.last_message_id,
            )
            for row in await self._chat.public_channels()
        ]

    async def presence(self, account: UserAccount) -> list[Channel]:
        """chat/presence (and chat/updates' `presence`): the user's visible channels."""
        viewer = await self._sender(account)
        result: list[Channel] = []
        for row in await self._chat.joined_channels(account.id, self._limits.channel_limit):
            pm_target = None
            if row.type == "PM":
                pm_target = await self._pm_target(row, account.id)
                # Channel::isVisibleFor: gone, or blocked by the viewer (unless a bot/admin).
                if pm_target is None or (
                    await self._relations.kind_of(account.id, pm_target.id) == "block"
                    and not (pm_target.is_bot or pm_target.is_admin)
                ):
                    continue
            result.append(
                await self._present(row, viewer, last_read_id=row.last_read_id, pm_target=pm_target)
            )
        return result

    async def _silences(self, history_since: int | None, since: int | None) -> list[Silence]:
        """osu-web's getSilences: after the silence id `history_since`, or else those issued
        after the message `since` was sent (none when there is no such message)."""
        if history_since is not None:
            rows = await self._chat.silences_since(history_since, _MAX_SILENCES)
        else:
            sent = await self._chat.message_time_at_or_before(since or 0)
            if sent is None:
                return []
            rows = await self._chat.silences_after_time(sent.replace(tzinfo=None), _MAX_SILENCES)
        return [Silence(s.id, s.user_id) for s in rows]

    async def updates(
        self,
        account: UserAccount,
        *,
        since: int,
        history_since: int | None,
        includes: set[str],
    ) -> ChatUpdates:
        """chat/updates: presence, silences and (always empty, as osu-web keeps it for old
        clients) messages; only the parts in `includes`."""
        silences = None
        if "silences" in includes:
            silences = await self._silences(history_since, since)
        return ChatUpdates(
            presence=await self.presence(account) if "presence" in includes else None,
            silences=silences,
            messages=[] if "messages" in includes else None,
        )

    async def ack(
        self, account: UserAccount, *, since: int | None, history_since: int | None
    ) -> ChatAck:
        """chat/ack: lazer's 60-second heartbeat; marks the user online, returns silences."""
        await self._profiles.mark_online(account.id)
        return ChatAck(await self._silences(history_since, since))

    async def show(self, account: UserAccount, channel_id: int) -> ChannelDetail | ChatRefused:
        """GET chat/channels/{id}: members only; `users` are a PM's two users."""
        channel = await self._chat.channel(channel_id)
        if channel is None or await self._chat.membership(channel_id, account.id) is None:
            return ChatRefused(404, "Not found")
        users: list[UserCompact] = []
        if channel.type == "PM":
            users = await self._profiles.compact_many(
                await self._users.by_ids(pm_user_ids(channel))
            )
        return ChannelDetail(await self._present_for(channel, account), users)

    async def messages(
        self,
        account: UserAccount,
        channel_id: int,
        *,
        limit: int | None,
        since: int | None,
        until: int | None,
    ) -> list[Message] | ChatRefused:
        """GET chat/channels/{id}/messages: with `since`, ascending after it; otherwise the
        newest up to `until`. Members only; a restricted PM partner hides the PM."""
        channel = await self._chat.channel(channel_id)
        if channel is None or await self._chat.membership(channel_id, account.id) is None:
            return ChatRefused(404, "Not found")
        if channel.type == "PM":
            target = await self._pm_target(channel, account.id)
            if target is not None and target.is_restricted:
                return ChatRefused(404, "Not found")
        page = min(max(limit if limit is not None else _PAGE_LIMIT, 1), _PAGE_LIMIT)
        # osu-web shows public channels' messages of the last day only (filterBacklogs).
        after = (
            _now() - timedelta(hours=self._limits.public_backlog_hours)
            if channel.type == "PUBLIC"
            else _EPOCH
        )
        if since is not None:
            rows = await self._chat.messages_after(channel_id, account.id, since, after, page)
        else:
            before = until if until is not None else 2**63 - 1
            rows = await self._chat.messages_before(channel_id, account.id, before, after, page)
            rows.reverse()
        messages, _ = await self._messages(rows, channel.type)
        return messages

    # --- memberships -----------------------------------------------------------------------

    async def _join_event(self, channel: ChannelRow, account: UserAccount, action: str) -> None:
        data = await self._present_for(channel, account)
        await self._notifications.push_many([account.id], f"chat.channel.{action}", data)

    async def _add(self, channel: ChannelRow, account: UserAccount) -> bool:
        """Channel::addUser: join, or show a hidden channel again; the event after commit."""
        membership = await self._chat.membership(channel.id, account.id)
        if membership is not None and not membership.hidden:
            return False
        if membership is not None:
            await self._chat.set_hidden(channel.id, account.id, False)
        else:
            await self._chat.join(channel.id, account.id, _now())
        await self._join_event(channel, account, "join")
        return True

    async def _remove(self, channel: ChannelRow, account: UserAccount) -> bool:
        """Channel::removeUser: PMs and announcements are hidden, others left."""
        membership = await self._chat.membership(channel.id, account.id)
        if membership is None or (membership.hidden and channel.type in _HIDEABLE):
            return False
        if channel.type in _HIDEABLE:
            await self._chat.set_hidden(channel.id, account.id, True)
        else:
            await self._chat.leave(channel.id, account.id)
        await self._join_event(channel, account, "part")
        return True

    async def add_member(self, channel_id: int, user_id: int) -> bool:
        """Server-side join (a room join); sends `chat.channel.join`. False when the user
        was already in, or the channel or user does not exist."""
        channel = await self._chat.channel(channel_id)
        account = await self._users.by_id(user_id)
        if channel is None or account is None:
            return False
        return await self._add(channel, account)

    async def remove_member(self, channel_id: int, user_id: int) -> bool:
        """Server-side part (a room leave); sends `chat.channel.part`."""
        channel = await self._chat.channel(channel_id)
        account = await self._users.by_id(user_id)
        if channel is None or account is None:
            return False
        return await self._remove(channel, account)

    async def create_room_channel(self, room_id: int, room_name: str) -> int:
        """A multiplayer room's channel, `#lazermp_{room_id}` (osu-web's createMultiplayer)."""
        name = f"#lazermp_{room_id}"
        existing = await self._chat.channel_by_name(name)
        if existing is not None:
            return existing.id
        return await self._chat.add_channel(
            name=name,
            description=room_name[:255],
            channel_type="MULTIPLAYER",
            moderated=False,
            now=_now(),
        )

    async def join(
        self, account: UserAccount, channel_id: int, user_id: int
    ) -> Channel | ChatRefused:
        """PUT chat/channels/{id}/users/{user}: self only; only PUBLIC channels this way
        (a room's channel is joined through the room: checkChatChannelJoin)."""
        channel = await self._chat.channel(channel_id)
        if channel is None:
            return ChatRefused(404, "Not found")
        if channel.type != "PUBLIC":
            sender = await self._sender(account)
            return _refused(self._clean_record(sender) or "no_access")
        if user_id != account.id:
            return _refused("unauthorized")
        await self._add(channel, account)
        return await self._present_for(channel, account)

    async def part(self, account: UserAccount, channel_id: int, user_id: int) -> ChatRefused | None:
        """DELETE chat/channels/{id}/users/{user}: self only; not PRIVATE or TEAM channels."""
        channel = await self._chat.channel(channel_id)
        if channel is None:
            return ChatRefused(404, "Not found")
        if channel.type in ("PRIVATE", "TEAM") or user_id != account.id:
            return _refused("unauthorized")
        await self._remove(channel, account)
        return None

    async def mark_as_read(
        self, account: UserAccount, channel_id: int, message_id: int
    ) -> ChatRefused | None:
        """PUT chat/channels/{id}/mark-as-read/{message}: the marker never moves back."""
        if await self._chat.membership(channel_id, account.id) is None:
            return ChatRefused(404, "Not found")
        await self._chat.mark_read(channel_id, account.id, message_id)
        return None

    # --- private messages ------------------------------------------------------------------

    async def _target(self, target_id: int) -> UserAccount | None:
        """A PM target; restricted users do not exist to others."""
        target = await self._users.by_id(target_id)
        return None if target is None or target.is_restricted else target

    async def start_pm(
        self, account: UserAccount, target_id: int
    ) -> ChannelWithMessages | ChatRefused:
        """POST chat/channels type=PM: the existing PM (the sender shown it again) with its
        recent messages, or an unsaved one (`channel_id` null) until the first message."""
        target = await self._target(target_id)
        if target is None:
            return ChatRefused(404, TARGET_NOT_FOUND)
        sender = await self._sender(account)
        if (refusal := await self._pm_start_refusal(sender, target)) is not None:
            return _refused(refusal)
        channel = await self._chat.channel_by_name(pm_channel_name(account.id, target.id))
        if channel is None:
            return ChannelWithMessages(
                channel_id=None,
                description="",
                icon=avatar_url(target),
                message_length_limit=self._limits.message_length,
                name=target.username,
                type="PM",
                users=sorted({account.id, target.id}),
            )
        await self._add(channel, account)
        shown = await self._present_for(channel, account)
        rows = await self._chat.messages_before(channel.id, account.id, 2**63 - 1, _EPOCH, 50)
        rows.reverse()
        recent, _ = await self._messages(rows, channel.type)
        return ChannelWithMessages(**msgspec.structs.asdict(shown), recent_messages=recent)

    async def new_conversation(
        self,
        account: UserAccount,
        target_id: int,
        content: str,
        is_action: bool,
        uuid: str | None,
    ) -> NewConversation | ChatRefused:
        """POST chat/new: a PM to a user, creating the channel (both users join) if needed."""
        target = await self._users.by_id(target_id)
        if target is None:
            return ChatRefused(422, TARGET_NOT_FOUND)
        if target.is_restricted:
            return ChatRefused(404, TARGET_NOT_FOUND)
        if target.id == account.id:
            return ChatRefused(422, "can't send message to same user")
        sender = await self._sender(account)
        if (refusal := await self._pm_start_refusal(sender, target)) is not None:
            return _refused(refusal)
        # Checked before the channel is made, so a refused first message leaves nothing.
        if (bad := self._content_refusal(content, "PM")) is not None:
            return bad
        channel = await self._pm_channel(account, target)
        message = await self._send(sender, channel, content, is_action, uuid)
        if isinstance(message, ChatRefused):
            return message
        channel = await self._chat.channel(channel.id) or channel
        return NewConversation(await self._present_for(channel, account), message, channel.id)

    async def _pm_channel(self, account: UserAccount, target: UserAccount) -> ChannelRow:
        name = pm_channel_name(account.id, target.id)
        channel = await self._chat.channel_by_name(name)
        if channel is not None:
            return channel
        try:
            async with self._db.transaction():
                channel_id = await self._chat.add_channel(
                    name=name, description="", channel_type="PM", moderated=False, now=_now()
                )
                await self._chat.join(channel_id, account.id, _now())
                await self._chat.join(channel_id, target.id, _now())
        except DuplicateKey:  # the unique name: the other user opened it first
            channel = await self._chat.channel_by_name(name)
            if channel is None:
                raise
            return channel
        channel = await self._chat.channel(channel_id)
        assert channel is not None
        for user in (account, target):
            await self._join_event(channel, user, "join")
        return channel

    async def create_announcement(
        self,
        account: UserAccount,
        *,
        name: str,
        description: str,
        target_ids: list[int],
        content: str,
        uuid: str | None,
    ) -> ChannelWithMessages | ChatRefused:
        """POST chat/channels type=ANNOUNCE: a moderated channel of the sender and the
        targets (each gets `chat.channel.join`) with its first message. Needs the announce
        privilege (moderators here: `users.is_admin`)."""
        sender = await self._sender(account)
        if (refusal := self._clean_record(sender)) is not None:
            return _refused(refusal)
        if not sender.moderator:
            return _refused("no_announce")
        targets = [u for u in await self._users.by_ids(target_ids) if u.id != account.id]
        if not targets:
            return ChatRefused(422, "Nobody to broadcast to!")
        if (bad := self._content_refusal(content, "ANNOUNCE")) is not None:
            return bad
        name = name[:50]
        # Our channel names are unique (osu-web's announcements may share one).
        if await self._chat.channel_by_name(name) is not None:
            return ChatRefused(422, f"a channel named {name} exists")
        async with self._db.transaction():
            channel_id = await self._chat.add_channel(
                name=name,
                description=description.strip()[:255],
                channel_type="ANNOUNCE",
                moderated=True,
                now=_now(),
            )
            for user in (account, *targets):
                await self._chat.join(channel_id, user.id, _now())
        channel = await self._chat.channel(channel_id)
        assert channel is not None
        for user in (account, *targets):
            await self._join_event(channel, user, "join")
        message = await self._send(sender, channel, content, False, uuid)
        if isinstance(message, ChatRefused):
            return message
        channel = await self._chat.channel(channel_id) or channel
        shown = await self._present_for(channel, account)
        return ChannelWithMessages(**msgspec.structs.asdict(shown), recent_messages=[message])

    # --- sending ---------------------------------------------------------------------------

    def _content_refusal(self, content: str, channel_type: str) -> ChatRefused | None:
        text = normalise_content(content, channel_type)
        if not text:
            return ChatRefused(422, EMPTY_MESSAGE)
        if len(text) > self._length_limit(channel_type):
            return ChatRefused(422, TOO_LONG)
        return None

    async def send(
        self,
        account: UserAccount,
        channel_id: int,
        content: str,
        is_action: bool = False,
        uuid: str | None = None,
    ) -> Message | ChatRefused:
        """POST chat/channels/{id}/messages: store, announce, and let the bot answer."""
        channel = await self._chat.channel(channel_id)
        if channel is None:
            return ChatRefused(404, "Not found")
        return await self._send(await self._sender(account), channel, content, is_action, uuid)

    async def _send(
        self,
        sender: _Sender,
        channel: ChannelRow,
        content: str,
        is_action: bool,
        uuid: str | None,
    ) -> Message | ChatRefused:
        """Chat::sendMessage with the sender checks (checkChatChannelSend)."""
        pm_target = None
        if channel.type == "PM":
            pm_target = await self._pm_target(channel, sender.account.id)
            if pm_target is not None and pm_target.is_restricted:
                return ChatRefused(404, TARGET_NOT_FOUND)
        if (refusal := self._clean_record(sender)) is not None:
            return _refused(refusal)
        if not sender.played_enough:
            return _refused("play_more")
        if await self._chat.membership(channel.id, sender.account.id) is None:
            return _refused("no_access")
        if (refusal := await self._can_message_refusal(sender, channel, pm_target)) is not None:
            return _refused(refusal)
        if (bad := self._content_refusal(content, channel.type)) is not None:
            return bad
        kind: Literal["PM", "PUBLIC"] = "PM" if channel.type == "PM" else "PUBLIC"
        if not await self._limiter.allow(str(sender.account.id), kind):
            return ChatRefused(429, TOO_FAST)
        text = normalise_content(content, channel.type)
        visible_to = sender.account.id if is_user_command(text) else None
        message = await self._store(sender.account, channel, text, is_action, uuid, visible_to)
        if self._bot is not None and visible_to is not None:
            await self._bot_answer(sender.account, channel, text, pm_target)
        return message

    async def _store(
        self,
        sender: UserAccount,
        channel: ChannelRow,
        text: str,
        is_action: bool,
        uuid: str | None,
        visible_to: int | None,
    ) -> Message:
        """Store a message (last_message_id and the sender's read marker move with it, a
        hidden PM shows again), then announce it to the channel's members."""
        async with self._db.transaction():
            message_id = await self._chat.add_message(
                channel_id=channel.id,
                sender_id=sender.id,
                content=text,
                is_action=is_action,
                now=_now(),
                visible_to=visible_to,
            )
            await self._chat.set_last_message(channel.id, message_id)
            await self._chat.mark_read(channel.id, sender.id, message_id)
            if channel.type in _HIDEABLE:
                await self._chat.unhide(channel.id)
        row = await self._chat.message(message_id)
        assert row is not None
        messages, users = await self._messages([row], channel.type, uuid=uuid)
        recipients = (
            [visible_to] if visible_to is not None else await self._chat.member_ids(channel.id)
        )
        await self._notifications.push_many(
            recipients, "chat.message.new", NewMessages(messages, users)
        )
        return messages[0]

    async def _bot_answer(
        self, sender: UserAccount, channel: ChannelRow, text: str, pm_target: UserAccount | None
    ) -> None:
        """The bot answers commands in public channels (only the sender sees the answer, as
        only the sender sees the command) and in PMs with the bot."""
        bot = self._bot
        assert bot is not None
        if sender.id == bot.user_id:
            return  # never answers itself
        in_pm_with_bot = pm_target is not None and pm_target.id == bot.user_id
        if channel.type != "PUBLIC" and not in_pm_with_bot:
            return
        reply = await bot.answer(sender, text)
        if reply is None:
            return
        account = await self._users.by_id(bot.user_id)
        if account is None:
            return
        kind: Literal["PM", "PUBLIC"] = "PM" if in_pm_with_bot else "PUBLIC"
        # The bot's answers follow the send limits too, counted per user it answers.
        if not await self._limiter.allow(f"{bot.user_id}:{sender.id}", kind):
            return
        reply = reply[: self._length_limit(channel.type)]
        await self._store(
            account, channel, reply, False, None, None if in_pm_with_bot else sender.id
        )

    async def post_system(self, channel_id: int, content: str) -> Message | None:
        """Post as the bot user without sender checks (room notices); None without a bot."""
        bot = self._bot
        channel = await self._chat.channel(channel_id)
        if bot is None or channel is None:
            return None
        account = await self._users.by_id(bot.user_id)
        text = normalise_content(content, channel.type)[: self._length_limit(channel.type)]
        if account is None or not text:
            return None
        return await self._store(account, channel, text, False, None, None)

    # --- operators (the CLI) -----------------------------------------------------------------

    async def public_channel_rows(self) -> list[ChannelRow]:
        """Every public channel, as stored."""
        return await self._chat.public_channels()

    async def add_public_channel(
        self, name: str, description: str, moderated: bool
    ) -> ChannelRow | ChatRefused:
        """Create a public channel (`#name`, at most 50 characters, unique)."""
        if (bad := _channel_name_refusal(name)) is not None:
            return bad
        if await self._chat.channel_by_name(name) is not None:
            return ChatRefused(422, f"a channel named {name} exists")
        channel_id = await self._chat.add_channel(
            name=name,
            description=description.strip()[:255],
            channel_type="PUBLIC",
            moderated=moderated,
            now=_now(),
        )
        channel = await self._chat.channel(channel_id)
        assert channel is not None
        return channel

    async def edit_public_channel(
        self,
        name: str,
        *,
        new_name: str | None,
        description: str | None,
        moderated: bool | None,
    ) -> ChannelRow | ChatRefused:
        """Rename, redescribe or (un)moderate a public channel."""
        channel = await self._chat.channel_by_name(name)
        if channel is None or channel.type != "PUBLIC":
            return ChatRefused(404, f"no public channel named {name}")
        if new_name is not None and new_name != name:
            if (bad := _channel_name_refusal(new_name)) is not None:
                return bad
            if await self._chat.channel_by_name(new_name) is not None:
                return ChatRefused(422, f"a channel named {new_name} exists")
        await self._chat.update_channel(
            channel.id,
            name=new_name or channel.name,
            description=channel.description if description is None else description.strip()[:255],
            moderated=channel.moderated if moderated is None else moderated,
        )
        changed = await self._chat.channel(channel.id)
        assert changed is not None
        return changed

    # --- reports -----------------------------------------------------------------------------

    async def report(
        self,
        account: UserAccount,
        reportable_type: str,
        reportable_id: int,
        reason: str,
        comments: str,
    ) -> ChatRefused | None:
        """POST reports for users and chat messages (osu-web's UserReport rules)."""
        sender = await self._sender(account)
        if (refusal := self._clean_record(sender)) is not None:
            return ChatRefused(403, _REPORT_REFUSALS[refusal])
        if reportable_type == "message":
            message = await self._chat.message(reportable_id)
            if message is None:
                return ChatRefused(404, "Not found")
            channel = await self._chat.channel(message.channel_id)
            if (
                channel is not None
                and channel.type in _HIDEABLE
                and await self._chat.membership(channel.id, account.id) is None
            ):
                return ChatRefused(422, "You're not in this channel.")
            user_id = message.sender_id
            allowed = _POST_REASONS
        elif reportable_type == "user":
            target = await self._users.by_id(reportable_id)
            if target is None:
                return ChatRefused(404, "Not found")
            user_id = target.id
            allowed = _USER_REASONS
        else:
            return ChatRefused(404, "Not found")
        if user_id == account.id:
            return ChatRefused(422, "You can't report yourself!")
        if reason not in allowed:
            return ChatRefused(422, f"{reason} is not valid for this report type.")
        comments = comments.strip()
        if not comments and (reportable_type != "message" or reason == "Other"):
            return ChatRefused(422, "Comments is required.")
        if len(comments) > 2000:
            return ChatRefused(422, "Comments is too long.")
        await self._chat.add_report(
            reporter_id=account.id,
            user_id=user_id,
            reportable_type=reportable_type,
            reportable_id=reportable_id,
            reason=reason,
            comments=comments,
            now=_now(),
        )
        return None


def _channel_name_refusal(name: str) -> ChatRefused | None:
    # osu-web limits names to 50 characters; `#pm_` and `#lazermp_` belong to PMs and rooms.
    if not re.fullmatch(r"#[^\s#,]{1,49}", name) or name.startswith(("#pm_", "#lazermp_")):
        return ChatRefused(422, f"{name!r}: a channel name is # and 1 to 49 other characters")
    return None


_REPORT_REFUSALS = {
    "restricted": "Can't do that while restricted.",
    "silenced": "Can't do that while silenced.",
}
_POST_REASONS = frozenset({"Insults", "Spam", "UnwantedContent", "Nonsense", "Other"})
_USER_REASONS = frozenset(
    {"Cheating", "MultipleAccounts", "InappropriateChat", "UnwantedContent", "Other"}
)
