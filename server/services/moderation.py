"""Moderation: restrict, silence, note, rename and roles, each recorded in the account
history, with their live effect on every instance.

Every action commits first, then reaches running servers through Redis: the near-cache
invalidation channel (accounts, tokens, rendered boards and profiles), the notification
socket channel (`logout`) and the hub bus (`DisconnectRequested`, renames). A CLI process
that shares the servers' Redis reaches them the same way; on the embedded default (an
in-process Redis stand-in) nothing leaves the process, and `Applied.live` says so.

Restriction follows osu-web: the account stays (it may still sign in and see itself as
restricted), every session ends at once (User::resetSessions), and its scores leave every
board, ranking and profile until it is lifted; then its bests and statistics are rebuilt and
the boards it is on rebuild from SQL.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from enum import Enum

import msgspec

from server.db import Database
from server.hub_bus import HubBus
from server.hubs.connection import DISCONNECT, RENAME
from server.hubs.transport import user_channel
from server.near_cache import NearCache
from server.redis_store import REDIS_DOWN
from server.repositories.chat import ChatRepository
from server.repositories.moderation import HistoryEntry, ModerationRepository
from server.repositories.users import UserAccount, UserRepository
from server.services.accounts import username_errors
from server.services.activity import EventLog
from server.services.leaderboards import Leaderboards
from server.services.notifications import NotificationService
from server.services.profile_cache import ProfileCache
from server.services.rankings import RankingService
from server.services.tokens import TokenService

log = logging.getLogger(__name__)

ROLES = ("admin", "moderator", "bot")
# The longest silence osu-web hands out is far shorter; this only bounds typing errors.
MAX_SILENCE_SECONDS = 10 * 365 * 86_400
_MAX_REASON = 255


class Refused(Enum):
    """Why a moderation action did nothing."""

    ALREADY = "The user is already in that state."
    NOT_SILENCED = "The user is not silenced."
    BAD_DURATION = f"The duration must be between 1 and {MAX_SILENCE_SECONDS} seconds."


class RenameRejected(msgspec.Struct, frozen=True):
    """The new name breaks osu-web's username rules or is taken."""

    errors: list[str]


class Applied(msgspec.Struct, frozen=True):
    """A committed action: the account as it is now, and whether running servers were told
    (False: no shared Redis, or it failed; they see the change when their caches expire)."""

    user: UserAccount
    live: bool


def is_silenced(account: UserAccount, now: datetime | None = None) -> bool:
    """Whether the account may not send chat messages now (chat sends and PMs check this)."""
    ends = account.silence_end_at
    if ends is None:
        return False
    # Stored naive in UTC; read back aware on some drivers.
    return ends.replace(tzinfo=UTC) > (now or datetime.now(UTC))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class ModerationService:
    """The moderation actions and their live effect."""

    def __init__(
        self,
        db: Database,
        users: UserRepository,
        repo: ModerationRepository,
        chat: ChatRepository,
        tokens: TokenService,
        notifications: NotificationService,
        bus: HubBus,
        hub_names: list[str],
        leaderboards: Leaderboards,
        rankings: RankingService,
        near: NearCache,
        profiles: ProfileCache,
        events: EventLog,
        rebuild_user: Callable[[int], Awaitable[None]],
        *,
        shared_redis: bool,
    ) -> None:
        self._db = db
        self._users = users
        self._repo = repo
        self._chat = chat
        self._tokens = tokens
        self._notifications = notifications
        self._bus = bus
        self._hub_names = hub_names
        self._leaderboards = leaderboards
        self._rankings = rankings
        self._near = near
        self._profiles = profiles
        self._events = events
        self._rebuild_user = rebuild_user
        # Whether other processes can hear this one (a real Redis); the in-process stand-in
        # of the embedded default reaches only this process.
        self._shared = shared_redis

    async def history(self, user_id: int) -> list[HistoryEntry]:
        """The account history, newest first."""
        return await self._repo.history(user_id)

    async def restrict(
        self, user: UserAccount, actor_id: int | None, reason: str
    ) -> Applied | Refused:
        """Restrict: sessions end everywhere, scores leave every board and ranking."""
        if user.is_restricted:
            return Refused.ALREADY
        async with self._db.transaction():
            await self._repo.set_restricted(user.id, True)
            await self._record(user.id, actor_id, "restriction", reason, None)
        live = await self._after_change(user.id)
        live = await self.end_sessions(user.id) and live
        live = await self._refresh_boards(user.id) and live
        return await self._applied(user.id, live)

    async def unrestrict(
        self, user: UserAccount, actor_id: int | None, reason: str
    ) -> Applied | Refused:
        """Lift a restriction: bests and statistics are rebuilt, the boards rebuild."""
        if not user.is_restricted:
            return Refused.ALREADY
        async with self._db.transaction():
            await self._repo.set_restricted(user.id, False)
            await self._record(user.id, actor_id, "unrestriction", reason, None)
        live = await self._after_change(user.id)
        await self._rebuild_user(user.id)
        live = await self._refresh_boards(user.id) and live
        return await self._applied(user.id, live)

    async def silence(
        self, user: UserAccount, actor_id: int | None, reason: str, seconds: int
    ) -> Applied | Refused:
        """Silence for `seconds`: a chat_silences row (chat/updates and chat/ack carry it)
        and silence_end_at (chat sends are refused until then)."""
        if not 0 < seconds <= MAX_SILENCE_SECONDS:
            return Refused.BAD_DURATION
        now = _now()
        ends_at = now + timedelta(seconds=seconds)
        async with self._db.transaction():
            await self._chat.add_silence(
                user_id=user.id, reason=reason[:_MAX_REASON], now=now, ends_at=ends_at
            )
            await self._repo.set_silence_end(user.id, ends_at)
            await self._record(user.id, actor_id, "silence", reason, seconds)
        return await self._applied(user.id, await self._after_change(user.id))

    async def unsilence(
        self, user: UserAccount, actor_id: int | None, reason: str
    ) -> Applied | Refused:
        """End a running silence now."""
        if not is_silenced(user):
            return Refused.NOT_SILENCED
        now = _now()
        async with self._db.transaction():
            await self._repo.end_silences(user.id, now)
            await self._repo.set_silence_end(user.id, None)
            await self._record(user.id, actor_id, "unsilence", reason, None)
        return await self._applied(user.id, await self._after_change(user.id))

    async def note(self, user: UserAccount, actor_id: int | None, reason: str) -> Applied:
        """Record a note (no effect on the account)."""
        async with self._db.transaction():
            await self._record(user.id, actor_id, "note", reason, None)
        return Applied(user, True)

    async def rename(
        self, user: UserAccount, actor_id: int | None, new_name: str
    ) -> Applied | RenameRejected:
        """Rename: the old name is kept in previous_usernames and still resolves as `@old`;
        live hub connections show the new name, boards and profiles are re-rendered."""
        errors = username_errors(new_name)
        if errors:
            return RenameRejected(errors)
        holder = await self._users.by_username(new_name)
        if holder is not None and holder.id != user.id:
            return RenameRejected(["Username is already in use!"])
        if new_name == user.username:
            return RenameRejected(["That is the current username."])
        async with self._db.transaction():
            await self._repo.rename(user.id, user.username, new_name, _now())
            await self._record(user.id, actor_id, "rename", f"{user.username} -> {new_name}", None)
            # Shown on the profile's recent activity (osu-web's usernameChange event).
            await self._events.username_changed(user.id, user.username, new_name)
        live = await self._after_change(user.id)
        live = await self._signal_hubs(user.id, RENAME + new_name) and live
        live = await self._refresh_boards(user.id) and live
        return await self._applied(user.id, live)

    async def set_role(
        self, user: UserAccount, actor_id: int | None, role: str, held: bool
    ) -> Applied | Refused:
        """Grant or take away a role (admin, moderator, bot)."""
        roles = {"admin": user.is_admin, "moderator": user.is_moderator, "bot": user.is_bot}
        if roles[role] == held:
            return Refused.ALREADY
        roles[role] = held
        async with self._db.transaction():
            await self._repo.set_roles(
                user.id,
                is_admin=roles["admin"],
                is_moderator=roles["moderator"],
                is_bot=roles["bot"],
            )
            await self._record(user.id, actor_id, "role", f"{'+' if held else '-'}{role}", None)
        return await self._applied(user.id, await self._after_change(user.id))

    async def end_sessions(self, user_id: int) -> bool:
        """osu-web User::resetSessions: revoke every token (and clear every instance's token
        caches), tell the notification socket `logout` and the hubs `DisconnectRequested`.
        True when running servers were reached."""
        await self._tokens.revoke_user(user_id)
        live = self._shared
        try:
            await self._notifications.push(user_id, "logout", {"user_id": user_id})
        except REDIS_DOWN as exc:
            log.warning("logout push for user %s failed: %s", user_id, exc)
            live = False
        return await self._signal_hubs(user_id, DISCONNECT) and live

    async def _record(
        self,
        user_id: int,
        actor_id: int | None,
        action: str,
        reason: str,
        period_seconds: int | None,
    ) -> None:
        await self._repo.record(
            user_id=user_id,
            actor_id=actor_id,
            action=action,
            reason=reason[:_MAX_REASON],
            period_seconds=period_seconds,
            now=_now(),
        )
        log.info("moderation: %s on user %s by %s (%s)", action, user_id, actor_id, reason)

    async def _applied(self, user_id: int, live: bool) -> Applied:
        account = await self._users.by_id(user_id)
        assert account is not None  # accounts are never deleted
        return Applied(account, live)

    async def _after_change(self, user_id: int) -> bool:
        """Drop the account and its rendered profiles from every instance's near cache."""
        await self._users.forget(user_id)
        await self._profiles.forget(user_id)
        return self._shared

    async def _signal_hubs(self, user_id: int, control: str) -> bool:
        live = self._shared
        for hub in self._hub_names:
            try:
                await self._bus.signal(user_channel(hub, user_id), control)
            except REDIS_DOWN as exc:
                log.warning("hub %s signal for user %s failed: %s", hub, user_id, exc)
                live = False
        return live

    async def _refresh_boards(self, user_id: int) -> bool:
        """The user's entries appear on (or leave) boards, rankings and other players'
        profiles (ranks, firsts): the boards they are on rebuild from SQL, ranking pages and
        rendered profiles are dropped everywhere."""
        # One invalidation message for all the boards, however many bests the player has.
        async with self._near.batched():
            for beatmap_id, ruleset in await self._repo.boards(user_id):
                await self._leaderboards.invalidate(beatmap_id, ruleset)
        await self._rankings.forget_pages()
        await self._profiles.forget_everyone()
        return self._shared


def parse_duration(text: str) -> int | None:
    """`90`, `90s`, `15m`, `12h`, `7d`, `2w` as seconds; None when malformed."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
    text = text.strip().lower()
    if not text:
        return None
    unit = units.get(text[-1])
    number = text[:-1] if unit else text
    if not number.isdigit() or len(number) > 12:
        return None
    return int(number) * (unit or 1)
