"""Profiles: APIUser / APIMe / UserCompact assembled from accounts, statistics and relations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

import msgspec

from server.models.rulesets import RULESETS
from server.models.users import (
    DailyChallengeUserStats,
    GradeCounts,
    Level,
    Me,
    RankCountry,
    User,
    UserCompact,
    UserStatistics,
)
from server.presenters.users import full_user, user_compact
from server.presenters.users import me as present_me
from server.redis_store import REDIS_DOWN
from server.repositories.users import StatisticsRow, UserAccount, UserRepository
from server.services.profile_cache import ProfileCache

_ONLINE_PREFIX = "online:user:"
_json = msgspec.json.Encoder()

# user id -> the daily challenge's user stats.
ChallengeStatsSource = Callable[[int], Awaitable[DailyChallengeUserStats]]
# (account, ruleset, statistics) -> extra fields of the full user shape.
ProfileExtras = Callable[[UserAccount, str, UserStatistics], Awaitable[dict[str, Any]]]


def required_score_for_level(level: int) -> float:
    """Total score needed to reach `level` (osu!'s level curve; linear past 100)."""
    if level <= 100:
        if level <= 1:
            return 0.0
        return 5000 / 3 * (4 * level**3 - 3 * level**2 - level) + 1.25 * 1.8 ** (level - 60)
    return 26_931_190_827 + 99_999_999_999 * (level - 100)


def level_for_score(total_score: int) -> Level:
    """The level and percent progress towards the next one for a total score."""
    level = 1
    if total_score >= required_score_for_level(101):
        level = 100 + int((total_score - 26_931_190_827) // 99_999_999_999)
    else:
        while level < 100 and required_score_for_level(level + 1) <= total_score:
            level += 1
    low, high = required_score_for_level(level), required_score_for_level(level + 1)
    progress = int((total_score - low) / (high - low) * 100) if high > low else 0
    return Level(current=level, progress=max(0, min(progress, 99)))


def statistics_shape(
    row: StatisticsRow,
    *,
    global_rank: int | None,
    country_rank: int | None,
    global_rank_percent: float | None,
    is_ranked: bool,
) -> UserStatistics:
    """UserStatistics from a stored row and its ranks (profiles and ranking rows alike)."""
    return UserStatistics(
        level=level_for_score(row.total_score),
        global_rank=global_rank,
        global_rank_percent=global_rank_percent,
        pp=row.pp,
        ranked_score=row.ranked_score,
        hit_accuracy=row.hit_accuracy,
        accuracy=row.hit_accuracy / 100,
        count_100=row.count_100,
        count_300=row.count_300,
        count_50=row.count_50,
        count_miss=row.count_miss,
        play_count=row.play_count,
        play_time=row.play_time,
        total_score=row.total_score,
        total_hits=row.total_hits,
        maximum_combo=row.maximum_combo,
        replays_watched_by_others=row.replays_watched,
        is_ranked=is_ranked,
        grade_counts=GradeCounts(
            ss=row.count_ss, ssh=row.count_ssh, s=row.count_s, sh=row.count_sh, a=row.count_a
        ),
        country_rank=country_rank,
        rank=RankCountry(country=country_rank),
    )


class ProfileService:
    """Build the user shapes the API returns."""

    def __init__(
        self,
        users: UserRepository,
        redis: Any,
        cache: ProfileCache,
        extras: ProfileExtras | None = None,
        challenge_stats: ChallengeStatsSource | None = None,
    ) -> None:
        self._users = users
        # The daily challenge's streaks and placements (zeros without it); set by the wiring
        # once the daily challenge service exists.
        self.challenge_stats = challenge_stats
        self._redis = redis
        # Fields other areas add to the full user (scores: rank history, score counts).
        self._extras = extras
        self.cache = cache
        self._rendered = cache.region

    async def account(self, user_id: int) -> UserAccount | None:
        """An account by id, through the near cache (reads that only show it)."""
        return await self._users.cached_by_id(user_id)

    async def account_named(self, username: str) -> UserAccount | None:
        """An account by username (case and space/underscore insensitive), or by a name it had
        before a rename (osu-web's `lookupWithHistory`)."""
        return await self._users.by_username_with_history(username)

    async def accounts(self, user_ids: list[int]) -> list[UserAccount]:
        """The accounts of these ids that exist, by id."""
        return await self._users.by_ids(user_ids)

    async def forget(self, user_id: int) -> None:
        """Drop a user's rendered profiles on every instance (after a committed change)."""
        await self.cache.forget(user_id)

    async def user_json(self, account: UserAccount, ruleset: str | None = None) -> msgspec.Raw:
        """GET users/{id}/{mode} as JSON, rendered once and reused from the near cache."""
        return await self._rendered_json(
            account, ("user", ruleset), lambda: self.user(account, ruleset)
        )

    async def user_json_by_id(self, user_id: int, ruleset: str | None = None) -> msgspec.Raw | None:
        """`user_json` of the user with this id, None when there is no such user or they are
        restricted. A rendered answer is used as it is, without reading the account again:
        it exists only for a user who was shown, and every change to the account a profile
        depends on (a restriction first of all: ModerationService) forgets it."""
        if self._rendered is not None:
            found: msgspec.Raw | None = self._rendered.get(user_id, ("user", ruleset))
            if found is not None:
                return found
        account = await self.account(user_id)
        if account is None or account.is_restricted:
            return None
        return await self.user_json(account, ruleset)

    async def me_json_by_id(self, user_id: int, ruleset: str | None = None) -> msgspec.Raw | None:
        """`me_json` of a verified sign-in by user id, None when the account is gone. A
        rendered answer is used as it is, as in `user_json_by_id` (accounts are never
        deleted, and every change /me shows forgets it)."""
        if self._rendered is not None:
            found: msgspec.Raw | None = self._rendered.get(user_id, ("me", ruleset))
            if found is not None:
                return found
        account = await self.account(user_id)
        if account is None:
            return None
        return await self.me_json(account, ruleset)

    async def me_json(
        self,
        account: UserAccount,
        ruleset: str | None = None,
        verification_method: Literal["totp", "mail"] | None = None,
    ) -> msgspec.Raw:
        """GET /me[/{mode}] as JSON, rendered once and reused from the near cache (a sign-in
        awaiting verification gets its own, uncached, naming the method)."""
        if verification_method is not None:
            me = await self.me(account, ruleset)
            return msgspec.Raw(
                _json.encode(
                    msgspec.structs.replace(me, session_verification_method=verification_method)
                )
            )
        return await self._rendered_json(
            account, ("me", ruleset), lambda: self.me(account, ruleset)
        )

    async def _rendered_json(
        self,
        account: UserAccount,
        field: tuple[str, str | None],
        build: Callable[[], Awaitable[Any]],
    ) -> msgspec.Raw:
        async def render() -> msgspec.Raw:
            return msgspec.Raw(_json.encode(await build()))

        if self._rendered is None:
            return await render()
        rendered = await self._rendered.through(account.id, render, field)
        assert rendered is not None  # render never answers None
        return rendered

    async def mark_online(self, user_id: int, seconds: int = 180) -> None:
        """Note the user as online for a while (chat/ack is lazer's heartbeat)."""
        was = await self._redis.set(f"{_ONLINE_PREFIX}{user_id}", b"1", ex=seconds, get=True)
        if was is None:  # came online: profiles show is_online
            await self.forget(user_id)

    async def mark_offline(self, user_id: int) -> None:
        """Forget the user's online mark (left the metadata hub, or appears offline)."""
        if await self._redis.delete(f"{_ONLINE_PREFIX}{user_id}"):
            await self.forget(user_id)

    async def _online(self, user_ids: list[int]) -> set[int]:
        if not user_ids:
            return set()
        try:
            values = await self._redis.mget([f"{_ONLINE_PREFIX}{uid}" for uid in user_ids])
        except REDIS_DOWN:  # presence is Redis-only: shown offline while it is down
            return set()
        return {uid for uid, value in zip(user_ids, values, strict=True) if value is not None}

    async def _statistics(
        self, account: UserAccount, row: StatisticsRow | None, ruleset: str
    ) -> UserStatistics:
        row = row or StatisticsRow(user_id=account.id, ruleset=ruleset)
        ranked = row.pp > 0 and not account.is_restricted
        global_rank = country_rank = None
        percent = None
        if ranked:
            global_rank = await self._users.global_rank(ruleset, row.pp, account.id)
            country_rank = await self._users.country_rank(
                ruleset, row.pp, account.id, account.country_code
            )
            total = await self._users.ranked_user_count(ruleset)
            percent = global_rank / total if total else None
        return statistics_shape(
            row,
            global_rank=global_rank,
            country_rank=country_rank,
            global_rank_percent=percent,
            is_ranked=ranked,
        )

    async def compact_many(
        self, accounts: list[UserAccount], ruleset: str | None = None
    ) -> list[UserCompact]:
        """UserCompact for lists (lookups, relations), with statistics for one ruleset."""
        online = await self._online([a.id for a in accounts])
        result: list[UserCompact] = []
        for account in accounts:
            mode = ruleset or account.playmode
            rows = await self._users.statistics(account.id)
            statistics = await self._statistics(account, rows.get(mode), mode)
            result.append(
                user_compact(
                    account, online=account.id in online, statistics=statistics, listing=True
                )
            )
        return result

    async def compact_plain(self, accounts: list[UserAccount]) -> list[UserCompact]:
        """UserCompact with country and cover but no statistics (osu-web's `host.country`,
        `recent_participants` and leaderboard users): no statistics queries per user."""
        online = await self._online([a.id for a in accounts])
        return [user_compact(account, online=account.id in online) for account in accounts]

    async def user(self, account: UserAccount, ruleset: str | None = None) -> User:
        """The full user for GET users/{id}/{mode}."""
        return await self._full(account, ruleset or account.playmode, None)

    async def me(self, account: UserAccount, ruleset: str | None = None) -> Me:
        """APIMe: the full user, statistics for every ruleset, and owner-only fields."""
        rows = await self._users.statistics(account.id)
        user = await self._full(account, ruleset or account.playmode, rows)
        per_ruleset = {
            name: await self._statistics(account, rows.get(name), name) for name in RULESETS
        }
        return present_me(user, account, per_ruleset)

    async def _full(
        self, account: UserAccount, ruleset: str, rows: dict[str, StatisticsRow] | None
    ) -> User:
        rows = rows if rows is not None else await self._users.statistics(account.id)
        statistics = await self._statistics(account, rows.get(ruleset), ruleset)
        extras = (
            await self._extras(account, ruleset, statistics) if self._extras is not None else {}
        )
        return full_user(
            account,
            online=account.id in await self._online([account.id]),
            statistics=statistics,
            counts=await self._users.profile_counts(account.id),
            previous_usernames=await self._users.previous_usernames(account.id),
            challenge_stats=(
                await self.challenge_stats(account.id)
                if self.challenge_stats is not None
                else DailyChallengeUserStats(user_id=account.id)
            ),
            extras=extras,
        )
