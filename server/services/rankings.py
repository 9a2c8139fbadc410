"""Rankings (performance, score, country) and the daily rank history behind `rank_history`."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

import msgspec

from server.db import DatabaseError
from server.models.rankings import CountryRanking, RankingCursor, Rankings, UserRanking
from server.models.users import Country, RankHistory, UserStatistics
from server.presenters.users import user_compact
from server.redis_store import REDIS_DOWN, best_effort
from server.repositories.scores import ScoreRepository
from server.repositories.users import StatisticsRow, UserAccount, UserRepository
from server.services.countries import country_name
from server.services.profiles import statistics_shape

log = logging.getLogger(__name__)
# A snapshot run fails on an outage of either store; it then leaves no marker.
_SNAPSHOT_FAILURES: Final[tuple[type[BaseException], ...]] = (*REDIS_DOWN, DatabaseError)

# osu-web: 50 per page, at most 200 pages (the top 10,000).
PAGE_SIZE: Final = 50
MAX_PAGES: Final = 200
HISTORY_DAYS: Final = 90
_MAX_BEST: Final = 200
_SNAPSHOT_KEY = "rank-history:snapshot:"
_SNAPSHOT_LOCK_SECONDS = 600
# KEYS: lock. ARGV: token. Deletes the lock only if the caller still holds it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_PAGE_KEY = "rankings:page:"
_PAGE_SECONDS = 30


class RankingService:
    """Ranking pages and rank history."""

    def __init__(
        self,
        repo: ScoreRepository,
        users: UserRepository,
        redis: Any,
        *,
        snapshot_on_activity: bool = True,
    ) -> None:
        self._repo = repo
        self._users = users
        self._redis = redis
        self._release = redis.register_script(_RELEASE)
        # Without the scheduled job (RANK_HISTORY_SNAPSHOT off), profile views take the day's
        # snapshot instead, so the history still fills.
        self._snapshot_on_activity = snapshot_on_activity

    async def users(self, ruleset: str, kind: str, page: int, country: str | None) -> msgspec.Raw:
        """`{"ranking": [UserStatistics + user], "cursor", "total"}` for one page, cached in
        Redis for RANKINGS_CACHE_SECONDS (osu-web's rankings are not live either)."""
        page = max(1, min(page, MAX_PAGES))
        key = f"{_PAGE_KEY}{ruleset}:{kind}:{country or ''}:{page}"
        cached = None
        with best_effort(log, "rankings cache read failed"):
            cached = await self._redis.get(key)
        if cached is not None:
            return msgspec.Raw(cached)
        body = msgspec.json.encode(await self._users_page(ruleset, kind, page, country))
        with best_effort(log, "rankings cache write failed"):
            await self._redis.set(key, body, ex=_PAGE_SECONDS)
        return msgspec.Raw(body)

    async def forget_pages(self) -> None:
        """Drop every cached ranking page (a restriction moved players in or out of them);
        best effort, the pages expire within RANKINGS_CACHE_SECONDS anyway."""
        try:
            keys = [key async for key in self._redis.scan_iter(match=_PAGE_KEY + "*")]
            if keys:
                await self._redis.delete(*keys)
        except REDIS_DOWN:
            log.warning("rankings cache could not be cleared", exc_info=True)

    async def _users_page(
        self, ruleset: str, kind: str, page: int, country: str | None
    ) -> Rankings:
        offset = (page - 1) * PAGE_SIZE
        ids = await self._repo.ranking_user_ids(kind, ruleset, country, PAGE_SIZE, offset)
        accounts = {a.id: a for a in await self._users.by_ids(ids)}
        ranking: list[UserRanking] = []
        for position, user_id in enumerate(ids, start=offset + 1):
            account = accounts.get(user_id)
            if account is None:
                continue
            row = (await self._users.statistics(user_id)).get(ruleset) or StatisticsRow(
                user_id=user_id, ruleset=ruleset
            )
            global_rank: int | None
            if kind == "performance" and country is None:
                global_rank = position  # the page is the pp order itself
            else:
                global_rank = (
                    await self._users.global_rank(ruleset, row.pp, row.user_id)
                    if row.pp > 0
                    else None
                )
            country_rank = position if kind == "performance" and country is not None else None
            statistics = statistics_shape(
                row,
                global_rank=global_rank,
                country_rank=country_rank,
                global_rank_percent=None,
                is_ranked=row.pp > 0,
            )
            ranking.append(
                UserRanking(**msgspec.structs.asdict(statistics), user=user_compact(account))
            )
        total = await self._repo.ranking_count(ruleset)
        more = len(ids) == PAGE_SIZE and page < MAX_PAGES
        return Rankings(
            cursor=RankingCursor(page + 1) if more else None,
            ranking=ranking,
            total=min(total, PAGE_SIZE * MAX_PAGES),
        )

    async def countries(self, ruleset: str, page: int) -> Rankings:
        """Country rankings by total pp."""
        page = max(1, min(page, MAX_PAGES))
        rows = await self._repo.country_rankings(ruleset, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        ranking = [
            CountryRanking(
                code=row["code"],
                active_users=int(row["active_users"]),
                play_count=int(row["play_count"] or 0),
                ranked_score=int(row["ranked_score"] or 0),
                # osu-web's CountryStatisticsTransformer rounds the sum to an integer.
                performance=round(float(row["performance"] or 0)),
                country=Country(row["code"], country_name(row["code"])),
            )
            for row in rows
        ]
        more = len(rows) == PAGE_SIZE and page < MAX_PAGES
        return Rankings(
            cursor=RankingCursor(page + 1) if more else None,
            ranking=ranking,
            total=len(ranking),
        )

    async def snapshot(self, ruleset: str, day: date) -> None:
        """Record every ranked user's global rank for a day (idempotent)."""
        await self._repo.snapshot_ranks(ruleset, day)

    async def snapshot_once_today(self, ruleset: str) -> bool:
        """Take today's snapshot of a ruleset unless some instance already has; True when this
        call took it. A Redis lock (token-checked release) lets one instance work at a time and
        a marker set after success makes the rest skip the day; a run that failed leaves no
        marker, so the next one tries again. Never raises."""
        today = datetime.now(UTC).date()
        done = f"{_SNAPSHOT_KEY}{ruleset}:{today}"
        lock = f"{done}:lock"
        token = secrets.token_hex(16)
        with best_effort(log, "rank history snapshot: no lock") as locking:
            if await self._redis.exists(done):
                return False
            if not await self._redis.set(lock, token, nx=True, ex=_SNAPSHOT_LOCK_SECONDS):
                return False
        if locking.failed:
            return False
        try:
            if await self._redis.exists(done):  # finished by another instance meanwhile
                return False
            await self.snapshot(ruleset, today)
            await self._redis.set(done, b"1", ex=2 * 86_400)
            return True
        except _SNAPSHOT_FAILURES:  # no marker: the next run tries again
            log.warning("rank history snapshot failed for %s", ruleset, exc_info=True)
            return False
        finally:
            with best_effort(log, "rank history snapshot: lock not released (it expires)"):
                await self._release(keys=[lock], args=[token])

    async def history(
        self, account: UserAccount, ruleset: str, current_rank: int | None
    ) -> RankHistory:
        """The last 90 days of global rank, oldest first (0 where none was recorded); today
        is the live rank."""
        today = datetime.now(UTC).date()
        start = today - timedelta(days=HISTORY_DAYS - 1)
        recorded = dict(await self._repo.rank_history(account.id, ruleset, start))
        data = []
        for offset in range(HISTORY_DAYS):
            day = start + timedelta(days=offset)
            data.append(int(recorded.get(day, 0)))
        if current_rank is not None:
            data[-1] = current_rank
        return RankHistory(mode=ruleset, data=data)

    async def profile_extras(
        self, account: UserAccount, ruleset: str, statistics: UserStatistics
    ) -> dict[str, Any]:
        """What the full user gains from scores: rank history and score counts."""
        if self._snapshot_on_activity:
            await self.snapshot_once_today(ruleset)
        history = await self.history(account, ruleset, statistics.global_rank)
        since = (datetime.now(UTC) - timedelta(hours=24)).replace(tzinfo=None)
        counts = await self._repo.user_score_counts(account.id, ruleset, since)
        return {
            "rank_history": history,
            "rankHistory": history,
            # osu-web lists at most 200 top plays (UserScoreable::beatmapBestScoreIds).
            "scores_best_count": min(counts.best, _MAX_BEST),
            "scores_first_count": counts.firsts,
            "scores_pinned_count": counts.pinned,
            "scores_recent_count": counts.recent,
        }
