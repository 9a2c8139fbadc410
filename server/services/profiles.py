"""Profiles: APIUser / APIMe / UserCompact assembled from accounts, statistics and relations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from redis.exceptions import RedisError

from server.models.rulesets import RULESETS
from server.models.users import (
    Country,
    Cover,
    DailyChallengeUserStats,
    GradeCounts,
    Kudosu,
    Level,
    Me,
    RankCountry,
    StatisticsRulesets,
    User,
    UserCompact,
    UserPage,
    UserStatistics,
)
from server.near_cache import NearCache
from server.repositories.users import StatisticsRow, UserAccount, UserRepository
from server.services.countries import country_name

# osu-web's limits for non-supporters and supporters; everyone is a supporter here by default.
_MAX_FRIENDS = 500
_MAX_BLOCKS = 100
_PROFILE_ORDER = [
    "me",
    "recent_activity",
    "top_ranks",
    "medals",
    "historical",
    "beatmaps",
    "kudosu",
]
_ONLINE_PREFIX = "online:user:"
# The near-cache region of rendered profiles, keyed by user id: whatever changes what a
# user's profile shows (their scores, pins, favourites, followers) invalidates it there.
PROFILE_REGION = "profile"
_json = msgspec.json.Encoder()

# (account, ruleset, statistics) -> extra fields of the full user shape.
ChallengeStatsSource = Callable[[int], Awaitable[DailyChallengeUserStats]]
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
        extras: ProfileExtras | None = None,
        near: NearCache | None = None,
        cache_seconds: int = 0,
        challenge_stats: ChallengeStatsSource | None = None,
    ) -> None:
        self._users = users
        # The daily challenge's streaks and placements (zeros without it); set by the wiring
        # once the daily challenge service exists.
        self.challenge_stats = challenge_stats
        self._redis = redis
        # Fields other areas add to the full user (scores: rank history, score counts).
        self._extras = extras
        self._near = near
        # Global rank and online state change without an invalidation: the lifetime bounds
        # how late they show. The user's own changes invalidate at once.
        self._rendered = (
            near.region(PROFILE_REGION, cache_seconds) if near and cache_seconds > 0 else None
        )

    async def forget(self, user_id: int) -> None:
        """Drop a user's rendered profiles on every instance (after a committed change)."""
        if self._near is not None:
            await self._near.invalidate(PROFILE_REGION, [user_id])

    async def user_json(self, account: UserAccount, ruleset: str | None = None) -> msgspec.Raw:
        """GET users/{id}/{mode} as JSON, rendered once and reused from the near cache."""
        return await self._rendered_json(
            account, ("user", ruleset), lambda: self.user(account, ruleset)
        )

    async def me_json(self, account: UserAccount, ruleset: str | None = None) -> msgspec.Raw:
        """GET /me[/{mode}] as JSON, rendered once and reused from the near cache."""
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
        except (RedisError, OSError):  # presence is Redis-only: shown offline while it is down
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

    def _cover(self, account: UserAccount) -> Cover:
        return Cover(custom_url=account.cover_url, url=account.cover_url, id=None)

    def _avatar(self, account: UserAccount) -> str:
        # lazer only loads images from *.ppy.sh (TrustedDomainOnlineStore), so the default
        # avatar is the official CDN's URL for this id, as osu-web's own fallback.
        return account.avatar_url or f"https://a.ppy.sh/{account.id}"

    def _compact_fields(
        self, account: UserAccount, online: bool, statistics: UserStatistics | None
    ) -> dict[str, Any]:
        """The UserCompact part, shared by every user shape."""
        return {
            "avatar_url": self._avatar(account),
            "country_code": account.country_code,
            "id": account.id,
            "is_active": True,
            "is_bot": account.is_bot,
            "is_online": online,
            "is_supporter": account.is_supporter,
            "last_visit": account.last_visit_at,
            "pm_friends_only": account.pm_friends_only,
            "profile_colour": account.profile_colour,
            "username": account.username,
            "country": Country(account.country_code, country_name(account.country_code)),
            "cover": self._cover(account),
            "support_level": 1 if account.is_supporter else 0,
            "statistics": statistics,
        }

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
                UserCompact(**self._compact_fields(account, account.id in online, statistics))
            )
        return result

    async def compact_plain(self, accounts: list[UserAccount]) -> list[UserCompact]:
        """UserCompact with country and cover but no statistics (osu-web's `host.country`,
        `recent_participants` and leaderboard users): no statistics queries per user."""
        online = await self._online([a.id for a in accounts])
        return [
            UserCompact(**self._compact_fields(account, account.id in online, None))
            for account in accounts
        ]

    async def _full_fields(
        self, account: UserAccount, ruleset: str, rows: dict[str, StatisticsRow]
    ) -> dict[str, Any]:
        online = account.id in await self._online([account.id])
        statistics = await self._statistics(account, rows.get(ruleset), ruleset)
        counts = await self._users.profile_counts(account.id)
        return {
            **self._compact_fields(account, online, statistics),
            "cover_url": account.cover_url or "",
            "discord": account.discord,
            "has_supported": account.is_supporter,
            "interests": account.interests,
            "join_date": account.created_at,
            "location": account.location,
            "max_blocks": _MAX_BLOCKS,
            "max_friends": _MAX_FRIENDS,
            "occupation": account.occupation,
            "playmode": account.playmode,
            # osu-web sends null when no play style is set; ossapi cannot parse [].
            "playstyle": None,
            "profile_order": list(_PROFILE_ORDER),
            "title": account.title,
            "twitter": account.twitter,
            "website": account.website,
            "kudosu": Kudosu(available=0, total=0),
            "daily_challenge_user_stats": (
                await self.challenge_stats(account.id)
                if self.challenge_stats is not None
                else DailyChallengeUserStats(user_id=account.id)
            ),
            "favourite_beatmapset_count": counts.favourites,
            "follower_count": counts.followers,
            "page": UserPage(html="", raw=""),
        }

    async def _with_extras(
        self, account: UserAccount, ruleset: str, fields: dict[str, Any]
    ) -> dict[str, Any]:
        if self._extras is not None:
            fields.update(await self._extras(account, ruleset, fields["statistics"]))
        return fields

    async def user(self, account: UserAccount, ruleset: str | None = None) -> User:
        """The full user for GET users/{id}/{mode}."""
        rows = await self._users.statistics(account.id)
        mode = ruleset or account.playmode
        fields = await self._full_fields(account, mode, rows)
        return User(**await self._with_extras(account, mode, fields))

    async def me(self, account: UserAccount, ruleset: str | None = None) -> Me:
        """APIMe: the full user, statistics for every ruleset, and owner-only fields."""
        rows = await self._users.statistics(account.id)
        fields = await self._full_fields(account, ruleset or account.playmode, rows)
        fields = await self._with_extras(account, ruleset or account.playmode, fields)
        per_ruleset = {
            name: await self._statistics(account, rows.get(name), name) for name in RULESETS
        }
        return Me(
            **fields,
            is_restricted=account.is_restricted,
            statistics_rulesets=StatisticsRulesets(**per_ruleset),
        )
