"""Account history, roles, restriction and silence flags, and previous usernames."""

from __future__ import annotations

from datetime import datetime

import msgspec

from server.db import Database
from server.repositories.scores import BOARD_COARSE, BOARD_FINE
from server.repositories.users import username_safe


class HistoryEntry(msgspec.Struct, frozen=True):
    """One recorded moderation action."""

    id: int
    user_id: int
    actor_id: int | None
    action: str
    reason: str
    period_seconds: int | None
    created_at: datetime


class ModerationRepository:
    """SQL for moderation: every write here is one statement inside the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        *,
        user_id: int,
        actor_id: int | None,
        action: str,
        reason: str,
        period_seconds: int | None,
        now: datetime,
    ) -> int:
        """Add an account-history entry; returns its id."""
        return await self._db.execute(
            "insert_account_history",
            user_id=user_id,
            actor_id=actor_id,
            action=action,
            reason=reason,
            period_seconds=period_seconds,
            now=now,
        )

    async def history(self, user_id: int) -> list[HistoryEntry]:
        """A user's account history, newest first."""
        rows = await self._db.all("fetch_account_history", user_id=user_id)
        return [msgspec.convert(row, HistoryEntry, strict=False) for row in rows]

    async def set_restricted(self, user_id: int, restricted: bool) -> None:
        """Restrict or unrestrict; the player's bests leave or rejoin their boards' block
        counts first (only when the flag really changes)."""
        await self._db.execute(
            "move_user_board_counts",
            user_id=user_id,
            was_restricted=int(not restricted),
            delta=-1 if restricted else 1,
            coarse=BOARD_COARSE,
            fine=BOARD_FINE,
        )
        await self._db.execute(
            "update_user_restricted", user_id=user_id, restricted=int(restricted)
        )

    async def set_silence_end(self, user_id: int, ends_at: datetime | None) -> None:
        """Set or clear when a silence ends."""
        await self._db.execute("update_user_silence_end", user_id=user_id, ends_at=ends_at)

    async def end_silences(self, user_id: int, now: datetime) -> None:
        """End the user's running chat silences."""
        await self._db.execute("end_user_silences", user_id=user_id, now=now)

    async def set_roles(
        self, user_id: int, *, is_admin: bool, is_moderator: bool, is_bot: bool
    ) -> None:
        """Set an account's roles."""
        await self._db.execute(
            "update_user_roles",
            user_id=user_id,
            is_admin=int(is_admin),
            is_moderator=int(is_moderator),
            is_bot=int(is_bot),
        )

    async def rename(self, user_id: int, old: str, new: str, now: datetime) -> None:
        """Rename and remember the old name."""
        await self._db.execute(
            "update_username", user_id=user_id, username=new, username_safe=username_safe(new)
        )
        await self._db.execute(
            "insert_username_history",
            user_id=user_id,
            username_last=old,
            username_last_safe=username_safe(old),
            username=new,
            now=now,
        )

    async def boards(self, user_id: int) -> list[tuple[int, str]]:
        """Every (beatmap, ruleset) board the user has a best on."""
        rows = await self._db.all("fetch_user_boards", user_id=user_id)
        return [(int(row["beatmap_id"]), str(row["ruleset"])) for row in rows]
