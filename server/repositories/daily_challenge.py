"""The daily challenge queue and users' daily challenge stats."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import msgspec

from server.db import Database


class QueuedChallenge(msgspec.Struct, frozen=True, kw_only=True):
    """One day's challenge: its playlist item and, once opened, its room."""

    id: int
    challenge_date: date
    beatmap_id: int
    ruleset_id: int
    required_mods: str
    allowed_mods: str
    room_id: int | None
    stats_done: bool


class NewChallenge(msgspec.Struct, frozen=True, kw_only=True):
    """A challenge to queue."""

    challenge_date: date
    beatmap_id: int
    ruleset_id: int
    required_mods: str
    allowed_mods: str


class HighScore(msgspec.Struct, frozen=True):
    """A user's best total on an item."""

    user_id: int
    total_score: int


class ChallengeStats(msgspec.Struct, kw_only=True):
    """osu-web DailyChallengeUserStats (mutable: the day's computation updates it)."""

    user_id: int
    daily_streak_best: int = 0
    daily_streak_current: int = 0
    last_update: datetime | None = None
    last_weekly_streak: datetime | None = None
    playcount: int = 0
    top_10p_placements: int = 0
    top_50p_placements: int = 0
    weekly_streak_best: int = 0
    weekly_streak_current: int = 0


class DailyChallengeRepository:
    """SQL for the daily challenge."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, challenge: NewChallenge, now: datetime) -> int:
        """Queue a challenge; returns its id (raises on a day already taken)."""
        fields = msgspec.structs.asdict(challenge)
        fields["challenge_date"] = challenge.challenge_date.isoformat()
        return await self._db.execute("insert_daily_challenge", **fields, now=now)

    async def on(self, day: date) -> QueuedChallenge | None:
        """The challenge queued for `day`."""
        row = await self._db.one("fetch_daily_challenge", challenge_date=day.isoformat())
        return None if row is None else _queued(row)

    async def from_day(self, day: date) -> list[QueuedChallenge]:
        """The challenges of `day` and after, in date order."""
        rows = await self._db.all("fetch_daily_challenges_from", from_date=day.isoformat())
        return [_queued(row) for row in rows]

    async def set_room(self, challenge_id: int, room_id: int) -> bool:
        """Record the room opened for a challenge; False if one was recorded already."""
        return (
            await self._db.rowcount("set_daily_challenge_room", id=challenge_id, room_id=room_id)
            > 0
        )

    async def claim_stats(self, challenge_id: int) -> bool:
        """Mark a day's stats computed; False if they were already."""
        return await self._db.rowcount("set_daily_challenge_stats_done", id=challenge_id) > 0

    async def active_rooms(self, now: datetime) -> list[int]:
        """Open daily challenge rooms, oldest first."""
        rows = await self._db.all("fetch_active_daily_challenge_rooms", now=now)
        return [int(row["id"]) for row in rows]

    async def high_scores(self, item_id: int) -> list[HighScore]:
        """Each user's positive best on an item, highest first."""
        rows = await self._db.all("fetch_item_high_scores", playlist_item_id=item_id)
        return [HighScore(int(r["user_id"]), int(r["total_score"])) for r in rows]

    async def stats(self, user_id: int) -> ChallengeStats | None:
        """One user's stats."""
        row = await self._db.one("fetch_daily_challenge_user_stats", user_id=user_id)
        return None if row is None else _stats(row)

    async def lapsing_stats(
        self, since_week: datetime, day_start: datetime
    ) -> list[ChallengeStats]:
        """Stats whose streaks the day may end (see the named query)."""
        rows = await self._db.all(
            "fetch_lapsing_daily_challenge_user_stats", since_week=since_week, day_start=day_start
        )
        return [_stats(row) for row in rows]

    async def save_stats(self, stats: ChallengeStats) -> None:
        """Store a user's stats (created at zero first if new)."""
        await self._db.execute("ensure_daily_challenge_user_stats", user_id=stats.user_id)
        await self._db.execute("save_daily_challenge_user_stats", **msgspec.structs.asdict(stats))


def _queued(row: dict[str, object]) -> QueuedChallenge:
    return msgspec.convert(row, QueuedChallenge, strict=False)


def _stats(row: dict[str, Any]) -> ChallengeStats:
    # Naive UTC, as stored and as the day's computation compares them.
    found = {
        k: v.astimezone(UTC).replace(tzinfo=None)
        if isinstance(v, datetime) and v.tzinfo is not None
        else v
        for k, v in row.items()
    }
    return msgspec.convert(found, ChallengeStats, strict=False)
