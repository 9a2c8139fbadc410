"""Wire shapes of scores: osu-web's ScoreTransformer in both of its formats.

`x-api-version` picks the format as osu-web's `api_version()` does: an API request below
20220705, or with no (or no numeric) header, gets the legacy format (`score`,
`statistics.count_300…`, `mods` as acronyms, `mode`, `created_at`); lazer and every client at
or above it get SoloScoreInfo. Keys follow osu-web's order; in SoloScore `beatmap` precedes
`beatmapset` (lazer's setter throws otherwise: lazer-protocol.md §4.5). Includes a route
does not ask for are left out (UNSET).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Final

import msgspec
from msgspec import UNSET, UnsetType

from server.models.beatmaps import Beatmap, Beatmapset
from server.models.users import UserCompact

# osu-web ScoreTransformer: `api_version() < 20220705` is the legacy format.
SOLO_SCORE_API_VERSION: Final = 20220705


class ScoreFormat(Enum):
    """Which of osu-web's two score formats a request reads."""

    LEGACY = "legacy"
    SOLO = "solo"

    @classmethod
    def for_api_version(cls, version: int) -> ScoreFormat:
        """The format osu-web answers an API request of this `x-api-version` with."""
        return cls.SOLO if version >= SOLO_SCORE_API_VERSION else cls.LEGACY


class Pin(msgspec.Struct, frozen=True):
    is_pinned: bool
    score_id: int


class CurrentUserAttributes(msgspec.Struct, frozen=True):
    """osu-web's default include on every score: the viewer's pin of it, if any."""

    pin: Pin | None


class ScoreWeight(msgspec.Struct, frozen=True):
    """The weight a profile's best play counts with."""

    percentage: float
    pp: float


class SoloScore(msgspec.Struct, frozen=True, kw_only=True):
    """SoloScoreInfo (x-api-version >= 20220705)."""

    classic_total_score: int
    preserve: bool = True
    processed: bool = True
    ranked: bool
    maximum_statistics: dict[str, int]
    mods: list[dict[str, object]]
    statistics: dict[str, int]
    total_score_without_mods: int
    beatmap_id: int
    best_id: int | None = None
    id: int
    rank: str
    type: str = "solo_score"
    user_id: int
    accuracy: float
    build_id: int | None
    ended_at: datetime
    has_replay: bool
    is_perfect_combo: bool
    legacy_perfect: bool
    legacy_score_id: int | None = None
    legacy_total_score: int = 0
    max_combo: int
    passed: bool
    pp: float | None
    ruleset_id: int
    started_at: datetime | None
    total_score: int
    replay: bool  # osu-web still sends has_replay's old name
    current_user_attributes: CurrentUserAttributes
    beatmap: Beatmap | UnsetType = UNSET
    beatmapset: Beatmapset | UnsetType = UNSET
    rank_country: int | UnsetType | None = UNSET
    rank_global: int | UnsetType | None = UNSET
    user: UserCompact | UnsetType = UNSET
    weight: ScoreWeight | UnsetType = UNSET
    # The position a submission answers with (MultiplayerScore.position).
    position: int | UnsetType | None = UNSET


class LegacyStatistics(msgspec.Struct, frozen=True):
    count_100: int
    count_300: int
    count_50: int
    count_geki: int
    count_katu: int
    count_miss: int


class LegacyScore(msgspec.Struct, frozen=True, kw_only=True):
    """osu-web's legacy score format (no x-api-version, or one below 20220705)."""

    accuracy: float
    best_id: int | None
    created_at: datetime
    id: int
    max_combo: int
    mode: str
    mode_int: int
    mods: list[str]
    passed: bool
    perfect: bool
    pp: float | None
    rank: str
    replay: bool
    score: int
    statistics: LegacyStatistics
    type: str = "solo_score"
    user_id: int
    current_user_attributes: CurrentUserAttributes
    beatmap: Beatmap | UnsetType = UNSET
    beatmapset: Beatmapset | UnsetType = UNSET
    rank_country: int | UnsetType | None = UNSET
    rank_global: int | UnsetType | None = UNSET
    user: UserCompact | UnsetType = UNSET
    weight: ScoreWeight | UnsetType = UNSET


Score = SoloScore | LegacyScore


class BeatmapUserScore(msgspec.Struct, frozen=True):
    """A user's best on a beatmap with its position (beatmaps/{b}/scores/users/{u}, and
    `user_score` of a leaderboard)."""

    position: int | None
    score: Score


class BeatmapScores(msgspec.Struct, frozen=True):
    """A leaderboard (APIScoresCollection). A cached global page travels as raw JSON."""

    scores: list[Score] | msgspec.Raw
    user_score: BeatmapUserScore | msgspec.Raw | None
    score_count: int


class UserBeatmapScores(msgspec.Struct, frozen=True):
    """beatmaps/{b}/scores/users/{u}/all: every score of a user on a beatmap."""

    scores: list[Score]


class ScoreToken(msgspec.Struct, frozen=True):
    """POST beatmaps/{b}/solo/scores: the token a play submits with."""

    id: int
