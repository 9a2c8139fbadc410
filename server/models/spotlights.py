"""Spotlights and the rankings built on them (osu-web SpotlightsController,
RankingController::spotlight and ::kudosu)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from server.models.beatmaps import Beatmapset
from server.models.users import Kudosu, UserCompact


class Spotlight(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """osu-web's SpotlightTransformer (participant_count only on a chart)."""

    end_date: datetime
    id: int
    mode_specific: bool
    name: str
    start_date: datetime
    type: str
    participant_count: int | UnsetType = UNSET


class SpotlightsEnvelope(msgspec.Struct, frozen=True):
    """GET spotlights."""

    spotlights: list[Spotlight]


class ChartRanking(msgspec.Struct, frozen=True):
    """GET rankings/{mode}/charts: a spotlight's sets, its players' ranking, the spotlight."""

    beatmapsets: list[Beatmapset]
    ranking: list[dict[str, Any]]
    spotlight: Spotlight


class KudosuRankingUser(UserCompact, frozen=True, kw_only=True):
    """UserCompact with its kudosu, as rankings/kudosu includes it."""

    kudosu: Kudosu


class KudosuRanking(msgspec.Struct, frozen=True):
    """GET rankings/kudosu."""

    ranking: list[KudosuRankingUser]
