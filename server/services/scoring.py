"""Score rules that need no I/O: accuracy, rank, mod multipliers, validation of a submitted
SoloScoreInfo, play-count validity and the weighted user pp.

The numbers follow lazer (osu.Game/Rulesets/Scoring/ScoreProcessor.cs and each ruleset's
ScoreProcessor and ScoreMultiplierCalculator) and osu-queue-score-statistics; where we
simplify, a comment says how.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

import msgspec

from server.services import mods as lazer_mods

if TYPE_CHECKING:
    from server.core.pp import DifficultyAttributes

# HitResult names as lazer's score JSON spells them (lazer-protocol.md §4.5); an unknown
# key makes lazer's reader throw, so nothing else is accepted or stored.
HIT_RESULTS: Final = (
    "none",
    "miss",
    "meh",
    "ok",
    "good",
    "great",
    "perfect",
    "small_tick_miss",
    "small_tick_hit",
    "large_tick_miss",
    "large_tick_hit",
    "small_bonus",
    "large_bonus",
    "ignore_miss",
    "ignore_hit",
    "combo_break",
    "slider_tail_hit",
    "legacy_combo_increase",
)
RANKS: Final = ("XH", "X", "SH", "S", "A", "B", "C", "D", "F")
# Results that are judged hits/misses of scorable objects and count toward accuracy.
_ACCURACY_RESULTS: Final = frozenset(
    {
        "miss",
        "meh",
        "ok",
        "good",
        "great",
        "perfect",
        "small_tick_miss",
        "small_tick_hit",
        "large_tick_miss",
        "large_tick_hit",
        "slider_tail_hit",
    }
)
_BONUS_RESULTS: Final = frozenset({"small_bonus", "large_bonus"})
# Judgements of whole objects (not ticks, tails or bonus).
BASIC_RESULTS: Final = ("miss", "meh", "ok", "good", "great", "perfect")
# lazer's HitResult.IsScorable: miss..large_bonus, plus combo breaks, slider tails and the
# legacy combo increase; not none or the ignore results.
SCORABLE_RESULTS: Final = frozenset(
    set(HIT_RESULTS[HIT_RESULTS.index("miss") : HIT_RESULTS.index("large_bonus") + 1])
    | {"combo_break", "slider_tail_hit", "legacy_combo_increase"}
)
# Results that are hits (total_hits in user statistics; the client's "any hit" check).
HIT_KINDS: Final = frozenset({"meh", "ok", "good", "great", "perfect"})
MAX_SCORE: Final = 2**31 - 1
# Standardised scoring tops out at 1,000,000 before bonus; bonus adds the base score of
# each bonus result (ScoreProcessor: bonus portion), scaled like the rest.
_STANDARDISED_MAX: Final = 1_000_000


def base_score(ruleset_id: int, result: str) -> int:
    """ScoreProcessor.GetBaseScoreForResult for this ruleset."""
    if ruleset_id == 1 and result == "ok":
        return 150
    if ruleset_id == 2:
        if result in ("great", "large_tick_hit", "small_tick_hit"):
            return 300  # catch weighs every object alike in accuracy
        if result == "large_bonus":
            return 200
    if ruleset_id == 3 and result == "perfect":
        return 305
    return {
        "small_tick_hit": 10,
        "large_tick_hit": 30,
        "slider_tail_hit": 150,
        "meh": 50,
        "ok": 100,
        "good": 200,
        "great": 300,
        "perfect": 300,
        "small_bonus": 10,
        "large_bonus": 50,
    }.get(result, 0)


def accuracy(ruleset_id: int, statistics: Mapping[str, int], maximum: Mapping[str, int]) -> float:
    """Accuracy (0..1): judged base score over the maximum base score of accuracy results."""
    maximum_base = sum(
        base_score(ruleset_id, r) * n for r, n in maximum.items() if r in _ACCURACY_RESULTS
    )
    if maximum_base == 0:
        return 1.0
    judged = sum(
        base_score(ruleset_id, r) * n for r, n in statistics.items() if r in _ACCURACY_RESULTS
    )
    return max(0.0, min(1.0, judged / maximum_base))


def rank_for(
    ruleset_id: int, acc: float, statistics: Mapping[str, int], mods: Iterable[str], passed: bool
) -> str:
    """The grade lazer gives: cut-offs per ruleset, miss caps, HD/FL silver, F on a fail."""
    if not passed:
        return "F"
    # Catch has stricter cut-offs (CatchScoreProcessor).
    cutoffs = (0.98, 0.94, 0.9, 0.85) if ruleset_id == 2 else (0.95, 0.9, 0.8, 0.7)
    if acc == 1.0:
        rank = "X"
    elif acc >= cutoffs[0]:
        rank = "S"
    elif acc >= cutoffs[1]:
        rank = "A"
    elif acc >= cutoffs[2]:
        rank = "B"
    elif acc >= cutoffs[3]:
        rank = "C"
    else:
        rank = "D"
    if ruleset_id in (0, 1) and rank in ("S", "X") and statistics.get("miss", 0) > 0:
        rank = "A"
    if (
        ruleset_id == 3
        and rank == "S"
        and not any(statistics.get(r, 0) for r in ("good", "ok", "meh", "miss"))
    ):
        rank = "X"
    acronyms = set(mods)
    if acronyms & {"HD", "FL", "FI"}:
        rank = {"X": "XH", "S": "SH"}.get(rank, rank)
    return rank


class Rejected(Enum):
    """Why a submission is refused (each maps to a 422 with this text)."""

    BAD_BODY = "invalid score data"
    BAD_RANK = "invalid rank"
    BAD_ACCURACY = "accuracy must be between 0 and 1"
    BAD_TOTAL = "total_score must be between 1 and 2147483647"
    BAD_TOTAL_WITHOUT_MODS = "total_score_without_mods must be between 0 and 2147483647"
    NO_STATISTICS = "statistics must not be empty"
    UNKNOWN_RESULT = "unknown hit result in statistics"
    NEGATIVE = "statistics must not be negative"
    OVER_MAXIMUM = "statistics exceed maximum_statistics"
    MAXIMUM_MISMATCH = "maximum_statistics do not match the beatmap"
    COMBO = "max_combo exceeds the beatmap's max combo"
    MODS = "invalid mods"
    MODS_INCOMPATIBLE = "incompatible mods"
    RULESET = "ruleset_id does not match the score token"
    TOTAL_TOO_HIGH = "total_score_without_mods exceeds the maximum for this play"


class ModInput(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One APIMod as lazer sends it."""

    acronym: str
    settings: dict[str, Any] = {}


class SubmittedScore(msgspec.Struct, frozen=True, kw_only=True):
    """SoloScoreInfo.ForSubmission: the PUT body (lazer-protocol.md §5.1 step 3)."""

    ruleset_id: int
    passed: bool
    total_score: int
    total_score_without_mods: int | None = None
    accuracy: float
    max_combo: int
    rank: str
    mods: list[ModInput] = []
    statistics: dict[str, int]
    maximum_statistics: dict[str, int] = {}
    pauses: list[int] = []
    ranked: bool = False
    legacy_total_score: int | None = None


_decoder = msgspec.json.Decoder(SubmittedScore)


def decode_submission(body: bytes) -> SubmittedScore | Rejected:
    """The PUT body, or BAD_BODY when it is not a SoloScoreInfo."""
    try:
        return _decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return Rejected.BAD_BODY


class CheckedScore(msgspec.Struct, frozen=True, kw_only=True):
    """A submission after validation, with the server's own accuracy, rank and total."""

    passed: bool
    total_score: int
    total_score_without_mods: int
    accuracy: float
    max_combo: int
    rank: str
    mods: list[dict[str, Any]]
    acronyms: list[str]
    statistics: dict[str, int]
    maximum_statistics: dict[str, int]
    # Why the play cannot be ranked: its mods that lazer does not rank (Mod.Ranked) or that no
    # player can choose (UserPlayable), or a missing no-mods total.
    unranked_mods: list[str]


def _clean_counts(counts: Mapping[str, int]) -> dict[str, int] | Rejected:
    if len(counts) > 32:
        return Rejected.BAD_BODY
    cleaned: dict[str, int] = {}
    for key, value in counts.items():
        if key not in HIT_RESULTS:
            return Rejected.UNKNOWN_RESULT
        if value < 0:
            return Rejected.NEGATIVE
        if value > 0:
            cleaned[key] = value
    return cleaned


def check_submission(
    score: SubmittedScore,
    ruleset_id: int,
    beatmap_max_combo: int,
    difficulty: lazer_mods.BaseDifficulty,
) -> CheckedScore | Rejected:
    """osu-web's field checks plus ours (S-SC-6, S-SC-7, S-SC-8); recompute what we can."""
    if score.ruleset_id != ruleset_id:
        return Rejected.RULESET
    if score.rank not in RANKS:
        return Rejected.BAD_RANK
    if not 0.0 <= score.accuracy <= 1.0 or math.isnan(score.accuracy):
        return Rejected.BAD_ACCURACY
    if not 0 < score.total_score <= MAX_SCORE:
        return Rejected.BAD_TOTAL
    without_mods = score.total_score_without_mods
    if without_mods is not None and not 0 <= without_mods <= MAX_SCORE:
        return Rejected.BAD_TOTAL_WITHOUT_MODS
    statistics = _clean_counts(score.statistics)
    if isinstance(statistics, Rejected):
        return statistics
    if not statistics:
        return Rejected.NO_STATISTICS
    maximum = _clean_counts(score.maximum_statistics)
    if isinstance(maximum, Rejected):
        return maximum
    # Every judged result must fit under the maximum of its kind: basic hits and misses
    # share the basic maximum, ticks theirs, and so on (a result can never be judged more
    # often than there were objects to judge).
    for group in (
        BASIC_RESULTS,
        ("large_tick_hit", "large_tick_miss"),
        ("small_tick_hit", "small_tick_miss"),
        ("slider_tail_hit",),
        ("small_bonus",),
        ("large_bonus",),
    ):
        judged = sum(statistics.get(r, 0) for r in group)
        allowed = sum(maximum.get(r, 0) for r in group)
        if judged > allowed:
            return Rejected.OVER_MAXIMUM
    if score.max_combo < 0 or score.max_combo > beatmap_max_combo:
        return Rejected.COMBO
    mods = _checked_mods(score.mods, ruleset_id)
    if isinstance(mods, Rejected):
        return mods
    acronyms = sorted(m["acronym"] for m in mods)
    acc = accuracy(ruleset_id, statistics, maximum)
    multiplier = lazer_mods.score_multiplier(ruleset_id, mods, difficulty)
    unranked = [
        m["acronym"]
        for m in mods
        if not lazer_mods.is_ranked(ruleset_id, m)
        or not lazer_mods.MODS[ruleset_id][m["acronym"]].playable
    ]
    if without_mods is None:
        # Old clients send only the total: derive the no-mods total from our multiplier. Such
        # a score with mods is unranked, as osu-queue-score-statistics' ScoreMultiplierValidator
        # aborts processing (and unranks) when the no-mods total is missing.
        without_mods = (
            round(score.total_score / multiplier) if multiplier > 0 else score.total_score
        )
        if mods:
            unranked.append("total_score_without_mods")
    bonus = sum(base_score(ruleset_id, r) * n for r, n in statistics.items() if r in _BONUS_RESULTS)
    if without_mods > _STANDARDISED_MAX + bonus * 10:
        return Rejected.TOTAL_TOO_HIGH
    total = round(without_mods * multiplier)
    return CheckedScore(
        passed=score.passed,
        total_score=total,
        total_score_without_mods=without_mods,
        accuracy=acc,
        max_combo=score.max_combo,
        rank=rank_for(ruleset_id, acc, statistics, acronyms, score.passed),
        mods=mods,
        acronyms=acronyms,
        statistics=statistics,
        maximum_statistics=maximum,
        unranked_mods=sorted(unranked),
    )


def _checked_mods(inputs: Sequence[ModInput], ruleset_id: int) -> list[dict[str, Any]] | Rejected:
    """The mods as stored: known to the ruleset with known settings, numbers in lazer's bounds,
    repeats collapsed (osu-web Mods::parseInputArray), no two exclusive (ModUtils)."""
    seen: dict[str, dict[str, Any]] = {}
    for mod in inputs:
        acronym = mod.acronym.upper()
        found = lazer_mods.definition(ruleset_id, acronym)
        if found is None:
            return Rejected.MODS
        for name, value in mod.settings.items():
            if name not in found.settings:
                return Rejected.MODS  # osu-web: "unknown setting for {mod}"
            bounds = lazer_mods.SETTING_BOUNDS.get((acronym, name))
            if bounds is not None and (
                not isinstance(value, (int, float))
                or isinstance(value, bool)
                or not bounds[0] <= value <= bounds[1]
            ):
                return Rejected.MODS
        seen.setdefault(
            acronym, {"acronym": acronym, **({"settings": mod.settings} if mod.settings else {})}
        )
    if lazer_mods.incompatible_pair(ruleset_id, seen):
        return Rejected.MODS_INCOMPATIBLE
    return list(seen.values())


def judged_objects(statistics: Mapping[str, int]) -> int:
    """How many basic objects were judged (hits and misses)."""
    return sum(statistics.get(r, 0) for r in BASIC_RESULTS)


def maximum_mismatch(
    ruleset_id: int, maximum: Mapping[str, int], attrs: DifficultyAttributes
) -> bool:
    """Whether a play's maximum_statistics disagree with the beatmap's objects, as lazer
    judges them per ruleset (each ruleset's Judgement.MaxResult):

    - osu!: circles, slider heads and spinners are basic (great);
    - taiko: every hit is basic (great); drum-roll ticks, strong hits and swells are bonus;
    - catch: fruits are basic (great), droplets large ticks, tiny droplets small ticks;
    - mania: notes, hold-note heads and tails are basic (perfect).
    """
    basic = judged_objects(maximum)
    if ruleset_id == 0:
        return basic != attrs.n_circles + attrs.n_sliders + attrs.n_spinners
    if ruleset_id == 1:
        return basic != attrs.max_combo
    if ruleset_id == 2:
        large = maximum.get("large_tick_hit", 0) + maximum.get("large_tick_miss", 0)
        small = maximum.get("small_tick_hit", 0) + maximum.get("small_tick_miss", 0)
        return (basic, large, small) != (attrs.n_fruits, attrs.n_droplets, attrs.n_tiny_droplets)
    return basic != attrs.n_objects + attrs.n_hold_notes


def scorable_objects(statistics: Mapping[str, int]) -> int:
    """How many judgements affect score (lazer's HitResult.IsScorable)."""
    return sum(n for r, n in statistics.items() if r in SCORABLE_RESULTS)


def play_counts(
    passed: bool,
    total_score: int,
    statistics: Mapping[str, int],
    maximum: Mapping[str, int],
    seconds_played: float,
) -> bool:
    """Whether the play counts for play count, play time, total score and hits
    (osu-queue-score-statistics PlayValidityHelper.IsValidForPlayTracking): a pass always
    does; a fail does unless it ended within 8 s, scored under 5000 or judged fewer than
    min(10 %, 20) of the scorable judgements."""
    if passed:
        return True
    if seconds_played < 8:
        return False
    return total_score >= 5000 and scorable_objects(statistics) >= min(
        0.1 * scorable_objects(maximum), 20
    )


def play_length(total_length: int, mods: Sequence[Mapping[str, Any]], seconds_played: float) -> int:
    """Seconds a play adds to play time: the time it took, at most the map's length at the
    mods' rate (PlayValidityHelper.GetPlayLength)."""
    return int(max(0.0, min(total_length / lazer_mods.clock_rate(mods), seconds_played)))


def hit_count(ruleset_id: int, statistics: Mapping[str, int]) -> int:
    """Hits for the user's total_hits: osu-queue-score-statistics' HitStatisticsProcessor
    counts great/perfect, ok/good and meh as 300s, 100s and 50s (catch adds droplets as 100s
    and tiny droplets as 50s), and osu-web's total_hits is their sum."""
    kinds = HIT_KINDS | ({"large_tick_hit", "small_tick_hit"} if ruleset_id == 2 else set())
    return sum(n for r, n in statistics.items() if r in kinds)


# Beatmap statuses whose plays can set the user's max combo (MaxComboProcessor: approved >=
# Ranked, i.e. ranked, approved, qualified and loved).
_MAX_COMBO_STATUSES: Final = frozenset({1, 2, 3, 4})


class PlayTotals(msgspec.Struct, frozen=True, kw_only=True):
    """What one play adds to a user's statistics counters (max_combo: a candidate maximum)."""

    play_count: int = 0
    total_score: int = 0
    total_hits: int = 0
    max_combo: int = 0
    play_time: int = 0
    count_300: int = 0
    count_100: int = 0
    count_50: int = 0
    count_miss: int = 0


# osu-queue-score-statistics HitStatisticsProcessor: which judgements a user's count_300,
# count_100, count_50 and count_miss add up; the tick judgements count only in catch.
_HIT_COUNTS: Final[dict[str, str]] = {
    "miss": "count_miss",
    "meh": "count_50",
    "ok": "count_100",
    "good": "count_100",
    "great": "count_300",
    "perfect": "count_300",
}
_CATCH_HIT_COUNTS: Final[dict[str, str]] = {
    **_HIT_COUNTS,
    "large_tick_miss": "count_miss",
    "small_tick_hit": "count_50",
    "large_tick_hit": "count_100",
}


def hit_counts(ruleset_id: int, statistics: Mapping[str, int]) -> dict[str, int]:
    """A play's count_300/100/50/miss (every stored play adds them, failed ones too)."""
    counts = dict.fromkeys(("count_300", "count_100", "count_50", "count_miss"), 0)
    names = _CATCH_HIT_COUNTS if ruleset_id == 2 else _HIT_COUNTS
    for result, count in statistics.items():
        if count < 0:  # the processor stops at a negative count
            break
        if (column := names.get(result)) is not None:
            counts[column] += count
    return counts


def play_totals(
    *,
    ruleset_id: int,
    passed: bool,
    total_score: int,
    statistics: Mapping[str, int],
    maximum: Mapping[str, int],
    max_combo: int,
    mods: Sequence[Mapping[str, Any]],
    seconds_played: float,
    total_length: int,
    beatmap_status: int,
) -> PlayTotals:
    """A play's share of play count, total score, total hits, max combo and play time, as the
    official processors add them: nothing for a play that is not valid for play tracking; max
    combo only from passes on ranked, approved, qualified or loved maps without automation
    mods. Total score here is the standardised total (osu! adds the classic-scoring total and
    caps unranked maps' share by play length; we keep one scoring mode throughout). Hit
    counts are added for every play (the official processor runs on failed plays too)."""
    hits = hit_counts(ruleset_id, statistics)
    if not play_counts(passed, total_score, statistics, maximum, seconds_played):
        return PlayTotals(**hits)
    automation = any(
        (found := lazer_mods.definition(ruleset_id, m["acronym"])) is not None and found.automation
        for m in mods
    )
    combo_counts = passed and not automation and beatmap_status in _MAX_COMBO_STATUSES
    return PlayTotals(
        play_count=1,
        total_score=total_score,
        total_hits=hit_count(ruleset_id, statistics),
        max_combo=max_combo if combo_counts else 0,
        play_time=play_length(total_length, mods, seconds_played),
        **hits,
    )


def weighted_pp(pps: Sequence[float]) -> float:
    """User pp: Σ pp·0.95^i over the best plays (highest first) plus the bonus for plays
    set, 416.6667·(1 - 0.995^min(n, 1000)) (osu-queue-score-statistics UserTotalPerformance)."""
    ordered = sorted(pps, reverse=True)
    total = sum(pp * 0.95**i for i, pp in enumerate(ordered))
    bonus = 416.6667 * (1 - 0.995 ** min(len(ordered), 1000))
    return total + bonus


def weighted_accuracy(accuracies: Sequence[float]) -> float:
    """User hit accuracy (percent): the best plays' accuracy weighted 0.95^i, normalised."""
    if not accuracies:
        return 0.0
    weights = [0.95**i for i in range(len(accuracies))]
    return 100 * sum(a * w for a, w in zip(accuracies, weights, strict=True)) / sum(weights)
