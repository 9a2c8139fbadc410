"""Spotlights (GET spotlights), the chart ranking of one (GET rankings/{mode}/charts) and
the kudosu ranking (GET rankings/kudosu).

A spotlight's ranking is computed from the scores set on its beatmapsets between its dates
(each player's best per beatmap, summed), where osu-web keeps separate chart score tables.
Kudosu ranks only users who received some (osu-web lists every user, most with 0)."""

from __future__ import annotations

import enum
from datetime import UTC
from typing import Any, Final

import msgspec

from server.models.rulesets import RULESETS
from server.models.spotlights import (
    ChartRanking,
    KudosuRanking,
    KudosuRankingUser,
    Spotlight,
    SpotlightsEnvelope,
)
from server.models.users import Kudosu
from server.presenters.users import user_compact
from server.repositories.spotlights import SpotlightRecord, SpotlightRepository
from server.repositories.users import StatisticsRow, UserRepository
from server.services.beatmaps import BeatmapService
from server.services.profiles import ProfileService, statistics_shape

# osu-web's RankingController::PAGE_SIZE and the kudosu ranking's 1000-result window.
KUDOSU_PAGE_SIZE: Final = 50
KUDOSU_MAX_RESULTS: Final = 1000


class ChartRejected(enum.Enum):
    """osu-web's 404s for charts."""

    NO_SPOTLIGHT = "Not found"
    UNKNOWN_SPOTLIGHT = "No query results for model [App\\Models\\Spotlight]."
    RULESET_UNAVAILABLE = "ruleset isn't available for the specified spotlight"


def _shape(record: SpotlightRecord, participants: int | None = None) -> Spotlight:
    return Spotlight(
        end_date=record.end_date.replace(tzinfo=UTC),
        id=record.id,
        mode_specific=record.mode_specific,
        name=record.name,
        start_date=record.start_date.replace(tzinfo=UTC),
        type=record.type,
        participant_count=msgspec.UNSET if participants is None else participants,
    )


class SpotlightService:
    """Spotlights and the kudosu ranking."""

    def __init__(
        self,
        repo: SpotlightRepository,
        users: UserRepository,
        beatmaps: BeatmapService,
        profiles: ProfileService,
    ) -> None:
        self.repo = repo
        self._users = users
        self._beatmaps = beatmaps
        self._profiles = profiles

    async def spotlights(self) -> SpotlightsEnvelope:
        """Every spotlight, newest first."""
        return SpotlightsEnvelope([_shape(r) for r in await self.repo.spotlights()])

    async def chart(
        self, ruleset: str, spotlight_id: int | None, viewer_id: int | None
    ) -> ChartRanking | ChartRejected:
        """A spotlight's ranking in one ruleset (the newest spotlight without an id)."""
        spotlights = await self.repo.spotlights()
        if spotlight_id is None:
            if not spotlights:
                return ChartRejected.NO_SPOTLIGHT
            spotlight = spotlights[0]
        else:
            found = [s for s in spotlights if s.id == spotlight_id]
            if not found:
                return ChartRejected.UNKNOWN_SPOTLIGHT
            spotlight = found[0]
        ruleset_id = RULESETS.index(ruleset)
        set_ids = await self.repo.set_ids(spotlight.id, ruleset_id)
        if not set_ids:
            return ChartRejected.RULESET_UNAVAILABLE
        standings = await self.repo.standings(spotlight, ruleset_id)
        accounts = {a.id: a for a in await self._users.by_ids([s.user_id for s in standings])}
        ranking: list[dict[str, Any]] = []
        for position, standing in enumerate(standings, start=1):
            account = accounts.get(standing.user_id)
            if account is None:
                continue
            row = StatisticsRow(
                user_id=account.id,
                ruleset=ruleset,
                ranked_score=standing.total,
                total_score=standing.total,
                play_count=standing.beatmaps,
            )
            entry = msgspec.to_builtins(
                statistics_shape(
                    row,
                    global_rank=position,
                    country_rank=None,
                    global_rank_percent=None,
                    is_ranked=True,
                )
            )
            entry["user"] = msgspec.to_builtins(user_compact(account))
            ranking.append(entry)
        return ChartRanking(
            beatmapsets=await self._beatmaps.sets_with_beatmaps(set_ids, viewer_id),
            ranking=ranking,
            spotlight=_shape(spotlight, len(standings)),
        )

    async def kudosu(self, page: int) -> KudosuRanking:
        """Users by kudosu received, 50 a page within the first 1000."""
        page = max(1, min(page, KUDOSU_MAX_RESULTS // KUDOSU_PAGE_SIZE))
        totals = await self.repo.kudosu_ranking(KUDOSU_PAGE_SIZE, (page - 1) * KUDOSU_PAGE_SIZE)
        found = {a.id: a for a in await self._users.by_ids([u for u, _ in totals])}
        accounts = [found[u] for u, _ in totals if u in found]
        compact = await self._profiles.compact_many(accounts)
        kudosu = dict(totals)
        return KudosuRanking(
            [
                KudosuRankingUser(
                    **msgspec.structs.asdict(user),
                    kudosu=Kudosu(available=kudosu[user.id], total=kudosu[user.id]),
                )
                for user in compact
            ]
        )
