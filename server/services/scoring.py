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
from typing import Any, Final

import msgspec

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


# Mods: multipliers from each ruleset's ScoreMultiplierCalculator (the current V2 for osu!).
# Settings-dependent ones are functions of the mod's settings; combinations that osu! prices
# jointly (HD with other visibility mods) are approximated by the product.
def _rate_osu(speed: float) -> float:
    if speed < 1:
        return int(speed * 20) / 20.0 * 1.4 - 0.5
    value = int(speed * 10) / 10.0
    return (value - 1) * 0.46 + 1 - (0.01 if value not in (1.5, 1.0) else 0.0)


def _rate_other(speed: float) -> float:
    value = int(speed * 10) / 10.0 - 1
    return 1 + value / 5 if speed >= 1 else 0.6 + value


_DEFAULT_SPEED: Final = {"DT": 1.5, "NC": 1.5, "HT": 0.75, "DC": 0.75}
_RATE_MODS: Final = frozenset(_DEFAULT_SPEED)
_SPEED_BOUNDS: Final = {"DT": (1.01, 2.0), "NC": (1.01, 2.0), "HT": (0.5, 0.99), "DC": (0.5, 0.99)}

_FIXED: Final[dict[int, dict[str, float]]] = {
    0: {
        "NF": 0.5,
        "HR": 1.09,
        "TC": 1.02,
        "BL": 1.24,
        "TP": 0.01,
        "RD": 0.7,
        "RX": 0.1,
        "AP": 0.1,
        "SO": 0.95,
        "AD": 0.7,
        "AS": 0.1,
        "SY": 0.99,
        "DA": 1.0,
        "CL": 0.96,
    },
    1: {
        "EZ": 0.5,
        "NF": 0.5,
        "SR": 0.6,
        "HR": 1.06,
        "HD": 1.06,
        "FL": 1.12,
        "DA": 0.5,
        "CL": 1.0,
        "CS": 0.9,
        "RX": 0.1,
        "WU": 0.5,
        "WD": 0.5,
        "AS": 0.5,
    },
    2: {
        "EZ": 0.5,
        "NF": 0.5,
        "HR": 1.12,
        "HD": 1.06,
        "FL": 1.12,
        "DA": 0.5,
        "CL": 1.0,
        "RX": 0.1,
        "WU": 0.5,
        "WD": 0.5,
        "SY": 0.8,
    },
    3: {
        "EZ": 0.5,
        "NF": 0.5,
        "NR": 0.9,
        "DA": 0.5,
        "CL": 1.0,
        "CS": 0.9,
        "HO": 0.9,
        "WU": 0.5,
        "WD": 0.5,
        "AS": 0.5,
        **{f"{k}K": 0.9 for k in range(1, 11)},
    },
}
# Mods that make a play an automated one: never ranked, never on a leaderboard.
UNRANKED_MODS: Final = frozenset({"AT", "CN", "TP"})
# Pairs osu! refuses together (ModUtils.CheckCompatibleSet, the common cases).
_EXCLUSIVE: Final = (
    frozenset({"EZ", "HR"}),
    frozenset({"DT", "HT"}),
    frozenset({"NC", "DC"}),
    frozenset({"DT", "NC"}),
    frozenset({"HT", "DC"}),
    frozenset({"DT", "DC"}),
    frozenset({"NC", "HT"}),
    frozenset({"NF", "SD"}),
    frozenset({"NF", "PF"}),
    frozenset({"SD", "PF"}),
    frozenset({"RX", "AP"}),
    frozenset({"AT", "RX"}),
    frozenset({"AT", "AP"}),
    frozenset({"AT", "CN"}),
)


def _setting(mod: Mapping[str, Any], name: str, default: Any) -> Any:
    settings = mod.get("settings") or {}
    return settings.get(name, default) if isinstance(settings, dict) else default


def mod_multiplier(ruleset_id: int, mods: Sequence[Mapping[str, Any]]) -> float:
    """The score multiplier lazer applies for these mods on this ruleset."""
    result = 1.0
    acronyms = {m["acronym"] for m in mods}
    for mod in mods:
        acronym = mod["acronym"]
        if acronym in _RATE_MODS:
            speed = float(_setting(mod, "speed_change", _DEFAULT_SPEED[acronym]))
            result *= _rate_osu(speed) if ruleset_id == 0 else _rate_other(speed)
        elif ruleset_id == 0 and acronym == "EZ":
            retries = int(_setting(mod, "retries", 2))
            result *= max(0.4, 0.8 - max(0, 0.1 * (retries - 2)))
        elif ruleset_id == 0 and acronym == "HD":
            if "BL" in acronyms:
                continue  # HD+BL is priced as BL alone
            value = 1.04 - (0.02 if _setting(mod, "only_fade_approach_circles", False) else 0)
            result *= value
        elif ruleset_id == 0 and acronym == "FL":
            size = float(_setting(mod, "size_multiplier", 1.0))
            value = max(1.02, min(1.2, 1.2 - 0.2 * (size - 1)))
            if not _setting(mod, "combo_based_size", True):
                value = 1 + (value - 1) / 5
            result *= value
        elif ruleset_id in (1, 2) and mod.get("settings") and acronym in ("HR", "HD", "FL"):
            continue  # taiko/catch price a customised HR/HD/FL at 1.0
        else:
            result *= _FIXED.get(ruleset_id, {}).get(acronym, 1.0)
    return result


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
    except (msgspec.DecodeError, msgspec.ValidationError):
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
    has_unranked_mods: bool


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
    score: SubmittedScore, ruleset_id: int, beatmap_max_combo: int
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
        ("miss", "meh", "ok", "good", "great", "perfect"),
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
    seen: dict[str, dict[str, Any]] = {}
    for mod in score.mods:
        if not mod.acronym or len(mod.acronym) > 4 or not mod.acronym.isalnum():
            return Rejected.MODS
        speed = mod.settings.get("speed_change") if mod.acronym.upper() in _RATE_MODS else None
        if speed is not None:
            # lazer's bounds for the rate mods' speed_change (ModDoubleTime, ModHalfTime).
            low, high = _SPEED_BOUNDS[mod.acronym.upper()]
            if (
                not isinstance(speed, (int, float))
                or isinstance(speed, bool)
                or not low <= speed <= high
            ):
                return Rejected.MODS
        # osu-web collapses repeated acronyms to one.
        seen.setdefault(
            mod.acronym.upper(),
            {
                "acronym": mod.acronym.upper(),
                **({"settings": mod.settings} if mod.settings else {}),
            },
        )
    acronyms = sorted(seen)
    for pair in _EXCLUSIVE:
        if pair <= set(acronyms):
            return Rejected.MODS_INCOMPATIBLE
    mods = list(seen.values())
    acc = accuracy(ruleset_id, statistics, maximum)
    multiplier = mod_multiplier(ruleset_id, mods)
    if without_mods is None:
        # Old clients send only the total: derive the no-mods total from our multiplier.
        without_mods = (
            round(score.total_score / multiplier) if multiplier > 0 else score.total_score
        )
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
        has_unranked_mods=bool(UNRANKED_MODS & set(acronyms)),
    )


def judged_objects(statistics: Mapping[str, int]) -> int:
    """How many basic objects were judged (hits and misses)."""
    return sum(statistics.get(r, 0) for r in ("miss", "meh", "ok", "good", "great", "perfect"))


def play_counts(score: CheckedScore, seconds_played: float) -> bool:
    """Whether the play increments play count (osu-queue-score-statistics' PlayValidityHelper:
    a fail in its first 8 s, a total under 5000, or judging fewer than min(10 %, 20) of the
    map's objects does not count)."""
    objects = judged_objects(score.maximum_statistics)
    if not score.passed and seconds_played < 8:
        return False
    if score.total_score < 5000:
        return False
    return judged_objects(score.statistics) >= min(objects * 0.1, 20)


def rate_of(mods: Sequence[Mapping[str, Any]]) -> float:
    """The playback rate the mods set (1.0 without a rate mod)."""
    for mod in mods:
        if mod["acronym"] in _RATE_MODS:
            return float(_setting(mod, "speed_change", _DEFAULT_SPEED[mod["acronym"]]))
    return 1.0


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
