"""Score presenters: a stored score as osu-web's ScoreTransformer shows it, in the format the
request's `x-api-version` picks (server.models.scores)."""

from __future__ import annotations

from typing import Final

import msgspec
from msgspec import UNSET, UnsetType

from server.models.beatmaps import Beatmap, Beatmapset
from server.models.rulesets import RULESETS
from server.models.scores import (
    CurrentUserAttributes,
    LegacyScore,
    LegacyStatistics,
    Pin,
    Score,
    ScoreFormat,
    ScoreWeight,
    SoloScore,
)
from server.models.users import UserCompact
from server.repositories.scores import ScoreRecord

# Mods that have a bit in osu!stable's mod bitset: the legacy format's `mods` comes from
# that bitset (osu-web makeLegacyEntry -> enabled_mods), so lazer-only mods drop out.
_LEGACY_MODS: Final = frozenset(
    [
        "NF",
        "EZ",
        "TD",
        "HD",
        "HR",
        "SD",
        "DT",
        "RX",
        "HT",
        "NC",
        "FL",
        "AT",
        "SO",
        "AP",
        "PF",
        "4K",
        "5K",
        "6K",
        "7K",
        "8K",
        "FI",
        "RD",
        "CN",
        "TP",
        "9K",
        "KC",
        "1K",
        "3K",
        "2K",
        "SV2",
        "MR",
    ]
)
_MAX_SCORE: Final = 1_000_000
_BASIC_RESULTS: Final = frozenset({"miss", "meh", "ok", "good", "great", "perfect"})


def classic_total_score(ruleset_id: int, total_score: int, maximum: dict[str, int]) -> int:
    """The classic-scoring display total of a standardised score (lazer
    ScoreInfoExtensions.GetDisplayScore, which osu-web's getClassicTotalScore follows)."""
    objects = sum(n for r, n in maximum.items() if r in _BASIC_RESULTS)
    if ruleset_id == 0:
        return round((objects * objects * 32.57 + 100_000) * total_score / _MAX_SCORE)
    if ruleset_id == 1:
        return round((objects * 1109 + 100_000) * total_score / _MAX_SCORE)
    if ruleset_id == 2:
        return round((total_score / _MAX_SCORE * objects) ** 2 * 21.62 + total_score / 10)
    return total_score


def _legacy_statistics(ruleset_id: int, statistics: dict[str, int]) -> LegacyStatistics:
    """count_300… as osu-web's makeLegacyEntry maps lazer judgements, per ruleset."""
    get = statistics.get
    if ruleset_id == 2:
        return LegacyStatistics(
            count_100=get("large_tick_hit", 0),
            count_300=get("great", 0),
            count_50=get("small_tick_hit", 0),
            count_geki=0,
            count_katu=get("small_tick_miss", 0),
            count_miss=get("miss", 0),
        )
    if ruleset_id == 3:
        return LegacyStatistics(
            count_100=get("ok", 0),
            count_300=get("great", 0),
            count_50=get("meh", 0),
            count_geki=get("perfect", 0),
            count_katu=get("good", 0),
            count_miss=get("miss", 0),
        )
    return LegacyStatistics(
        count_100=get("ok", 0),
        count_300=get("great", 0),
        count_50=get("meh", 0) if ruleset_id == 0 else 0,
        count_geki=0,
        count_katu=0,
        count_miss=get("miss", 0),
    )


def _included_beatmap(record: ScoreRecord, beatmap: Beatmap) -> Beatmap:
    """The `beatmap` include without its set (that is the `beatmapset` include); a convert
    shows the score's ruleset, as osu-web's includeBeatmap does."""
    if beatmap.mode_int != record.ruleset_id:
        return msgspec.structs.replace(
            beatmap,
            beatmapset=UNSET,
            convert=True,
            mode=RULESETS[record.ruleset_id],
            mode_int=record.ruleset_id,
        )
    return msgspec.structs.replace(beatmap, beatmapset=UNSET)


def score(
    record: ScoreRecord,
    form: ScoreFormat,
    *,
    pinned: bool = False,
    user: UserCompact | UnsetType = UNSET,
    beatmap: Beatmap | None = None,
    weight: ScoreWeight | UnsetType = UNSET,
) -> Score:
    """One score in the requested format, with the includes given (`beatmap` brings the
    `beatmapset` include with it)."""
    statistics: dict[str, int] = msgspec.json.decode(record.statistics)
    perfect = (
        record.passed and statistics.get("miss", 0) + statistics.get("large_tick_miss", 0) == 0
    )
    attributes = CurrentUserAttributes(pin=Pin(True, record.id) if pinned else None)
    included_map: Beatmap | UnsetType = UNSET
    included_set: Beatmapset | UnsetType = UNSET
    if beatmap is not None:
        included_map = _included_beatmap(record, beatmap)
        included_set = beatmap.beatmapset
    if form is ScoreFormat.LEGACY:
        acronyms = [m["acronym"] for m in msgspec.json.decode(record.mods)]
        return LegacyScore(
            accuracy=record.accuracy,
            best_id=None,
            created_at=record.ended_at,
            id=record.id,
            max_combo=record.max_combo,
            mode=RULESETS[record.ruleset_id],
            mode_int=record.ruleset_id,
            mods=[a for a in acronyms if a in _LEGACY_MODS],
            passed=record.passed,
            perfect=perfect,
            # osu-web takes pp from the legacy entry it builds; we show the score's own.
            pp=record.pp,
            rank=record.grade if record.passed else "F",
            replay=record.has_replay,
            score=record.total_score,
            statistics=_legacy_statistics(record.ruleset_id, statistics),
            user_id=record.user_id,
            current_user_attributes=attributes,
            beatmap=included_map,
            beatmapset=included_set,
            user=user,
            weight=weight,
        )
    maximum: dict[str, int] = msgspec.json.decode(record.maximum_statistics)
    return SoloScore(
        classic_total_score=classic_total_score(record.ruleset_id, record.total_score, maximum),
        ranked=record.ranked,
        maximum_statistics=maximum,
        mods=msgspec.json.decode(record.mods),
        statistics=statistics,
        total_score_without_mods=record.total_score_without_mods,
        beatmap_id=record.beatmap_id,
        id=record.id,
        rank=record.grade,
        user_id=record.user_id,
        accuracy=record.accuracy,
        build_id=record.build_id,
        ended_at=record.ended_at,
        has_replay=record.has_replay,
        is_perfect_combo=perfect,
        legacy_perfect=perfect,
        max_combo=record.max_combo,
        passed=record.passed,
        pp=record.pp,
        ruleset_id=record.ruleset_id,
        started_at=record.started_at,
        total_score=record.total_score,
        replay=record.has_replay,
        current_user_attributes=attributes,
        beatmap=included_map,
        beatmapset=included_set,
        user=user,
        weight=weight,
    )
