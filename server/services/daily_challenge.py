"""The daily challenge: a queue of one playlist item per UTC day, the room the scheduled job
opens for it at 00:00 UTC (osu-web DailyChallengeCreateNext), the active room the metadata hub
announces (osu-server-spectator DailyChallengeUpdater) and each player's streaks and
placements, computed from the day's item bests once the day is over (osu-web
DailyChallengeUserStats::calculate)."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

import msgspec

from server.models.rooms import RoomMod
from server.models.users import DailyChallengeUserStats
from server.redis_store import REDIS_DOWN
from server.repositories.daily_challenge import (
    ChallengeStats,
    DailyChallengeRepository,
    NewChallenge,
    QueuedChallenge,
)
from server.repositories.users import UserRepository
from server.services.rooms import Refused, RoomService, invariant, mods_of, naive

log = logging.getLogger(__name__)

CATEGORY: Final = "daily_challenge"
# osu-web opens the room as bancho_bot_user_id; ours is made on first use, with no password
# (nobody can sign in as it).
SYSTEM_USERNAME: Final = "BanchoBot"
_SYSTEM_EMAIL: Final = "banchobot@localhost.invalid"
LOCK_KEY: Final = "daily-challenge:job-lock"
_LOCK_SECONDS: Final = 300
# KEYS: lock. ARGV: token. Deletes the lock only if this run still holds it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class DailyRun(msgspec.Struct, frozen=True):
    """What one run of the job did: the days whose stats it computed, the room it opened."""

    locked: bool
    settled: list[date]
    opened: int | None


def room_name(day: date) -> str:
    """osu-web's name: "Daily Challenge: " and Carbon's toFormattedDateString ("Dec 4, 2026")."""
    return f"Daily Challenge: {day:%b} {day.day}, {day.year}"


def day_start(day: date) -> datetime:
    """00:00 UTC of `day`, naive as stored."""
    return datetime.combine(day, time())


def week_start(moment: datetime) -> datetime:
    """The Monday 00:00 of `moment`'s week (Carbon startOfWeek(MONDAY))."""
    return datetime.combine(moment.date() - timedelta(days=moment.weekday()), time())


def apply_day(
    stats: ChallengeStats, start: datetime, total_score: int | None, top10: int, top50: int
) -> None:
    """One day of osu-web DailyChallengeUserStats::calculate for one user: `total_score` is
    their best on the day's item (None: they did not play it). As in osu-web, the weekly
    streak grows only when the previous week was played or on a first play ever (the first
    week back after a gap does not count), and a day without a play reaches only the users
    the day selects (`lapsing_stats` and the day's players)."""
    current_week = week_start(start)
    previous_week = current_week - timedelta(weeks=1)
    if total_score is None:
        stats.daily_streak_current = 0
        if stats.last_weekly_streak is not None and stats.last_weekly_streak < previous_week:
            stats.weekly_streak_current = 0
        return
    stats.playcount += 1
    stats.daily_streak_current += 1
    if (stats.last_weekly_streak or previous_week) == previous_week:
        stats.weekly_streak_current += 1
    stats.last_update = start
    stats.last_weekly_streak = current_week
    stats.daily_streak_best = max(stats.daily_streak_best, stats.daily_streak_current)
    stats.weekly_streak_best = max(stats.weekly_streak_best, stats.weekly_streak_current)
    if total_score >= top10:
        stats.top_10p_placements += 1
    elif total_score >= top50:
        stats.top_50p_placements += 1


def _acronym_mods(acronyms: list[str]) -> list[dict[str, Any]]:
    return [{"acronym": a} for a in dict.fromkeys(a.strip().upper() for a in acronyms) if a]


class DailyChallengeService:
    """Queue, opening, the active room and users' stats."""

    def __init__(
        self,
        db: Any,
        repo: DailyChallengeRepository,
        rooms: RoomService,
        users: UserRepository,
        redis: Any,
    ) -> None:
        self._db = db
        self._redis = redis
        self._release = redis.register_script(_RELEASE)
        self.repo = repo
        self._rooms = rooms
        self._users = users

    async def add(
        self,
        day: date,
        beatmap_id: int,
        ruleset_id: int,
        required: list[str],
        allowed: list[str] | None = None,
    ) -> QueuedChallenge | Refused:
        """Queue `day`'s challenge: the item is checked as POST rooms checks a playlist item."""
        if await self.repo.on(day) is not None:
            return invariant(f"a daily challenge is already queued for {day.isoformat()}")
        required_mods = _acronym_mods(required)
        allowed_mods = _acronym_mods(allowed or [])
        item = {
            "beatmap_id": beatmap_id,
            "ruleset_id": ruleset_id,
            "required_mods": required_mods,
            "allowed_mods": allowed_mods,
        }
        refused = await self._rooms.check_item(item)
        if refused is not None:
            return refused
        await self.repo.add(
            NewChallenge(
                challenge_date=day,
                beatmap_id=beatmap_id,
                ruleset_id=ruleset_id,
                required_mods=_mods_text(required_mods),
                allowed_mods=_mods_text(allowed_mods),
            ),
            naive(datetime.now(UTC)),
        )
        queued = await self.repo.on(day)
        assert queued is not None
        return queued

    async def upcoming(self, today: date) -> list[QueuedChallenge]:
        """Today's challenge and the queued ones after it."""
        return await self.repo.from_day(today)

    async def current_room(self, now: datetime) -> int | None:
        """The open daily challenge room (the oldest, if several are)."""
        rooms = await self.repo.active_rooms(naive(now))
        if len(rooms) > 1:
            log.warning("more than one daily challenge room is open (%s); using the first", rooms)
        return rooms[0] if rooms else None

    async def run(self, now: datetime) -> DailyRun:
        """The scheduled job's work under a Redis lock, so that of several instances one does
        it: the stats of the days that ended, then today's room. `locked` is False when
        another instance held the lock (or Redis was down) and nothing was done."""
        token = secrets.token_hex(16)
        try:
            if not await self._redis.set(LOCK_KEY, token, nx=True, ex=_LOCK_SECONDS):
                return DailyRun(False, [], None)
        except REDIS_DOWN as exc:
            log.warning("daily challenge job: Redis unavailable (%s)", exc)
            return DailyRun(False, [], None)
        try:
            settled = await self.settle_due(now)
            opened = await self.open_due(now)
        finally:
            try:
                await self._release(keys=[LOCK_KEY], args=[token])
            except REDIS_DOWN as exc:  # the lock expires by itself
                log.warning("daily challenge job: could not release its lock (%s)", exc)
        return DailyRun(True, settled, opened)

    async def open_due(self, now: datetime) -> int | None:
        """Open today's room if it is queued and not open yet (callers hold the job's lock);
        returns the room opened."""
        day = now.astimezone(UTC).date()
        challenge = await self.repo.on(day)
        if challenge is None:
            log.info("daily challenge: nothing queued for %s", day.isoformat())
            return None
        if challenge.room_id is not None:
            return None
        if (existing := await self.current_room(now)) is not None:
            log.error("daily challenge: room %s is still open; not opening another", existing)
            return None
        start = day_start(day).replace(tzinfo=UTC)
        opened = await self._rooms.open_playlist(
            await self._system_user(),
            room_name(day),
            CATEGORY,
            start,
            start + timedelta(days=1),
            {
                "beatmap_id": challenge.beatmap_id,
                "ruleset_id": challenge.ruleset_id,
                "required_mods": _mods_plain(challenge.required_mods),
                "allowed_mods": _mods_plain(challenge.allowed_mods),
            },
        )
        if isinstance(opened, Refused):
            log.error("daily challenge for %s not opened: %s", day.isoformat(), opened.error)
            return None
        await self.repo.set_room(challenge.id, opened)
        log.info("daily challenge: opened room %s for %s", opened, day.isoformat())
        return opened

    async def settle_due(self, now: datetime) -> list[date]:
        """Compute the user stats of every ended day not computed yet (the last week's);
        returns the days computed."""
        today = now.astimezone(UTC).date()
        done: list[date] = []
        for challenge in await self.repo.from_day(today - timedelta(days=7)):
            if challenge.challenge_date >= today or challenge.stats_done:
                continue
            if challenge.room_id is None:
                continue
            async with self._db.transaction():
                if await self.repo.claim_stats(challenge.id):
                    await self._settle(challenge)
                    done.append(challenge.challenge_date)
        return done

    async def _settle(self, challenge: QueuedChallenge) -> None:
        """osu-web DailyChallengeUserStats::calculate for the challenge's day."""
        assert challenge.room_id is not None
        items = await self._rooms.repo.playlist(challenge.room_id)
        if not items:
            return
        start = day_start(challenge.challenge_date)
        previous_week = week_start(start) - timedelta(weeks=1)
        highs = await self.repo.high_scores(items[0].id)
        best = {h.user_id: h.total_score for h in highs}
        top10 = top50 = 0
        if highs:
            top50 = highs[int(len(highs) * 0.5)].total_score
            top10 = highs[int(len(highs) * 0.1)].total_score
        affected = {
            s.user_id: s
            for s in await self.repo.lapsing_stats(previous_week - timedelta(days=1), start)
        }
        for user_id in best:
            if user_id not in affected:
                affected[user_id] = await self.repo.stats(user_id) or ChallengeStats(
                    user_id=user_id
                )
        for user_id, stats in affected.items():
            apply_day(stats, start, best.get(user_id), top10, top50)
            await self.repo.save_stats(stats)

    async def user_stats(self, user_id: int) -> DailyChallengeUserStats:
        """The profile's `daily_challenge_user_stats` (zeros for a user who never played)."""
        stats = await self.repo.stats(user_id)
        if stats is None:
            return DailyChallengeUserStats(user_id=user_id)
        return DailyChallengeUserStats(
            daily_streak_best=stats.daily_streak_best,
            daily_streak_current=stats.daily_streak_current,
            last_update=_utc(stats.last_update),
            last_weekly_streak=_utc(stats.last_weekly_streak),
            playcount=stats.playcount,
            top_10p_placements=stats.top_10p_placements,
            top_50p_placements=stats.top_50p_placements,
            user_id=user_id,
            weekly_streak_best=stats.weekly_streak_best,
            weekly_streak_current=stats.weekly_streak_current,
        )

    async def _system_user(self) -> int:
        account = await self._users.by_username(SYSTEM_USERNAME)
        if account is not None:
            return account.id
        created = await self._users.insert(
            username=SYSTEM_USERNAME,
            email=_SYSTEM_EMAIL,
            password_hash="",
            country_code="XX",
            now=naive(datetime.now(UTC)),
        )
        if created is None:  # another instance (or the chat bot) made it meanwhile
            account = await self._users.by_username(SYSTEM_USERNAME)
            assert account is not None
            return account.id
        return created


def _mods_text(mods: list[dict[str, Any]]) -> str:
    return msgspec.json.encode([RoomMod(m["acronym"], {}) for m in mods]).decode()


def _mods_plain(text: str) -> list[dict[str, Any]]:
    return [{"acronym": m.acronym, "settings": m.settings} for m in mods_of(text)]


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)
