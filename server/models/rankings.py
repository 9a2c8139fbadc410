"""Wire shapes of rankings/{mode}/{type}: user rows (UserStatistics with the user) and
country rows (osu-web CountryStatisticsTransformer)."""

from __future__ import annotations

import msgspec

from server.models.users import Country, UserCompact, UserStatistics


class UserRanking(UserStatistics, frozen=True, kw_only=True):
    """One row of a performance or score ranking."""

    user: UserCompact


class CountryRanking(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the country ranking; `performance` is an integer, as osu-web rounds it."""

    code: str
    active_users: int
    play_count: int
    ranked_score: int
    performance: int
    country: Country


class RankingCursor(msgspec.Struct, frozen=True):
    page: int


class Rankings(msgspec.Struct, frozen=True):
    """A ranking page; `cursor` is null on the last page."""

    cursor: RankingCursor | None
    ranking: list[UserRanking] | list[CountryRanking]
    total: int
