"""Score rules without I/O: accuracy and rank per ruleset (lazer's ScoreProcessors), mod
multipliers (ScoreMultiplierCalculator), play-count validity and the user pp formula."""

from __future__ import annotations

import pytest

from server.services import scoring
from server.services.mods import BaseDifficulty
from server.services.scoring import SubmittedScore

_MAP = BaseDifficulty(cs=4, ar=9, od=8, hp=5)


def test_accuracy_uses_each_rulesets_base_scores() -> None:
    # osu!: ticks 30, tails 150 count toward accuracy.
    osu = scoring.accuracy(
        0,
        {"great": 9, "ok": 1, "large_tick_hit": 2, "slider_tail_hit": 1},
        {"great": 10, "large_tick_hit": 2, "slider_tail_hit": 1},
    )
    assert osu == pytest.approx((9 * 300 + 100 + 60 + 150) / (3000 + 60 + 150))
    # taiko: an ok is worth 150, half a great.
    assert scoring.accuracy(1, {"great": 1, "ok": 1}, {"great": 2}) == pytest.approx(0.75)
    # catch: fruit, droplet and tiny droplet weigh the same.
    assert (
        scoring.accuracy(
            2,
            {"great": 1, "large_tick_hit": 1, "small_tick_miss": 2},
            {"great": 1, "large_tick_hit": 1, "small_tick_hit": 2},
        )
        == 0.5
    )
    # mania: perfect is 305, great 300.
    assert scoring.accuracy(3, {"great": 1}, {"perfect": 1}) == pytest.approx(300 / 305)
    assert scoring.accuracy(0, {"great": 1}, {}) == 1.0


@pytest.mark.parametrize(
    ("ruleset", "acc", "stats", "mods", "passed", "rank"),
    [
        (0, 1.0, {"great": 10}, [], True, "X"),
        (0, 1.0, {"great": 10}, ["HD"], True, "XH"),
        (0, 0.97, {"great": 9, "miss": 1}, [], True, "A"),  # a miss caps S at A
        (0, 0.96, {"great": 9, "ok": 1}, ["FL"], True, "SH"),
        (0, 0.85, {}, [], True, "B"),
        (0, 0.72, {}, [], True, "C"),
        (0, 0.5, {}, [], True, "D"),
        (0, 1.0, {"great": 10}, [], False, "F"),
        (1, 0.96, {"great": 9, "miss": 1}, [], True, "A"),
        (2, 0.975, {"great": 10}, [], True, "A"),  # catch: S needs 98 %
        (2, 0.99, {"great": 10, "miss": 1}, [], True, "S"),  # no miss cap in catch
        (3, 0.99, {"great": 5, "perfect": 5}, [], True, "X"),  # mania: only greats/perfects
        (3, 0.99, {"good": 1, "perfect": 9}, [], True, "S"),
    ],
)
def test_rank(
    ruleset: int, acc: float, stats: dict[str, int], mods: list[str], passed: bool, rank: str
) -> None:
    assert scoring.rank_for(ruleset, acc, stats, mods, passed) == rank


def _submitted(**changes: object) -> SubmittedScore:
    base: dict[str, object] = {
        "ruleset_id": 0,
        "passed": True,
        "total_score": 500_000,
        "total_score_without_mods": 500_000,
        "accuracy": 1.0,
        "max_combo": 10,
        "rank": "X",
        "statistics": {"great": 10},
        "maximum_statistics": {"great": 10},
    }
    base.update(changes)
    return SubmittedScore(**base)  # type: ignore[arg-type]


def test_check_submission_recomputes_and_collapses_mods() -> None:
    checked = scoring.check_submission(
        _submitted(mods=[scoring.ModInput("hd"), scoring.ModInput("HD")]), 0, 10, _MAP
    )
    assert isinstance(checked, scoring.CheckedScore)
    assert checked.acronyms == ["HD"] and checked.rank == "XH"
    assert checked.total_score == round(500_000 * 1.04)
    old_client = scoring.check_submission(
        _submitted(total_score_without_mods=None, mods=[scoring.ModInput("HD")]), 0, 10, _MAP
    )
    assert isinstance(old_client, scoring.CheckedScore)
    assert old_client.total_score_without_mods == round(500_000 / 1.04)
    # ScoreMultiplierValidator: a play with mods and no no-mods total is unranked.
    assert old_client.unranked_mods == ["total_score_without_mods"]
    autoplay = scoring.check_submission(_submitted(mods=[scoring.ModInput("AT")]), 0, 10, _MAP)
    assert isinstance(autoplay, scoring.CheckedScore) and autoplay.unranked_mods == ["AT"]


def test_play_validity() -> None:
    """PlayValidityHelper.IsValidForPlayTracking: a pass always counts; a fail needs 8 s,
    5000 score and min(10 %, 20) of the scorable judgements."""
    great = {"great": 10}
    assert scoring.play_counts(True, 4000, great, great, 1.0)
    half = {"great": 5, "miss": 5}
    assert not scoring.play_counts(False, 20_000, half, great, 5.0)
    assert scoring.play_counts(False, 20_000, half, great, 9.0)
    assert not scoring.play_counts(False, 4000, half, great, 60)
    assert not scoring.play_counts(False, 20_000, {"great": 19}, {"great": 300}, 60)
    assert scoring.play_counts(False, 20_000, {"great": 20}, {"great": 500}, 60)  # capped at 20
    # Ticks and tails are scorable judgements too; ignore results are not.
    assert scoring.play_counts(
        False, 20_000, {"great": 1, "large_tick_hit": 1}, {"great": 10, "large_tick_hit": 10}, 60
    )
    assert not scoring.play_counts(
        False, 20_000, {"great": 1, "ignore_hit": 9}, {"great": 20, "ignore_hit": 9}, 60
    )


def test_play_totals_follow_the_official_processors() -> None:
    def totals(**changes: object) -> scoring.PlayTotals:
        base: dict[str, object] = {
            "ruleset_id": 0,
            "passed": True,
            "total_score": 600_000,
            "statistics": {"great": 8, "ok": 1, "meh": 1},
            "maximum": {"great": 10},
            "max_combo": 12,
            "mods": [],
            "seconds_played": 100.0,
            "total_length": 60,
            "beatmap_status": 1,
        }
        base.update(changes)
        return scoring.play_totals(**base)  # type: ignore[arg-type]

    assert totals() == scoring.PlayTotals(
        play_count=1,
        total_score=600_000,
        total_hits=10,
        max_combo=12,
        play_time=60,
        count_300=8,
        count_100=1,
        count_50=1,
    )
    # Play time: the time taken, at most the map's length at the mods' rate.
    assert totals(seconds_played=30.0).play_time == 30
    assert totals(mods=[{"acronym": "DT"}]).play_time == 40
    # Max combo only from passes on ranked..loved maps without automation mods.
    assert totals(beatmap_status=0).max_combo == 0
    assert totals(beatmap_status=4).max_combo == 12
    assert totals(mods=[{"acronym": "RX"}]).max_combo == 0
    assert totals(mods=[{"acronym": "SO"}]).max_combo == 0
    assert totals(passed=False, total_score=20_000).max_combo == 0
    # Catch counts droplets and tiny droplets as hits.
    catch = totals(ruleset_id=2, statistics={"great": 5, "large_tick_hit": 2, "small_tick_hit": 3})
    assert catch.total_hits == 10
    # An invalid play adds nothing but its hit counts (HitStatisticsProcessor runs on every
    # play, failed ones too).
    assert totals(passed=False, total_score=100, seconds_played=2.0) == scoring.PlayTotals(
        count_300=8, count_100=1, count_50=1
    )


def test_hit_counts_follow_hit_statistics_processor() -> None:
    mania = {"perfect": 5, "great": 4, "good": 3, "ok": 2, "meh": 1, "miss": 6}
    assert scoring.hit_counts(3, mania) == {
        "count_300": 9,
        "count_100": 5,
        "count_50": 1,
        "count_miss": 6,
    }
    # Ticks count only in catch: droplets as 100s, tiny droplets as 50s, missed droplets as
    # misses (a missed tiny droplet counts nowhere).
    ticks = {"great": 5, "large_tick_hit": 2, "small_tick_hit": 3, "large_tick_miss": 1}
    ticks["small_tick_miss"] = 4
    assert scoring.hit_counts(2, ticks) == {
        "count_300": 5,
        "count_100": 2,
        "count_50": 3,
        "count_miss": 1,
    }
    assert scoring.hit_counts(0, ticks) == {
        "count_300": 5,
        "count_100": 0,
        "count_50": 0,
        "count_miss": 0,
    }


def test_weighted_pp_and_accuracy() -> None:
    assert scoring.weighted_pp([]) == 0
    assert scoring.weighted_pp([100, 200]) == pytest.approx(
        200 + 100 * 0.95 + 416.6667 * (1 - 0.995**2)
    )
    many = scoring.weighted_pp([1.0] * 1500)
    assert many == pytest.approx(sum(0.95**i for i in range(1500)) + 416.6667 * (1 - 0.995**1000))
    assert scoring.weighted_accuracy([1.0, 0.5]) == pytest.approx(100 * (1 + 0.5 * 0.95) / 1.95)
