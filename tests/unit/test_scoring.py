"""Score rules without I/O: accuracy and rank per ruleset (lazer's ScoreProcessors), mod
multipliers (ScoreMultiplierCalculator), play-count validity and the user pp formula."""

from __future__ import annotations

import pytest

from server.services import scoring
from server.services.scoring import SubmittedScore


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


def test_mod_multipliers() -> None:
    assert scoring.mod_multiplier(0, []) == 1.0
    assert scoring.mod_multiplier(0, [{"acronym": "HD"}, {"acronym": "HR"}]) == pytest.approx(
        1.04 * 1.09
    )
    assert scoring.mod_multiplier(0, [{"acronym": "DT"}]) == pytest.approx(1.23)
    assert scoring.mod_multiplier(0, [{"acronym": "HT"}]) == pytest.approx(0.55)
    assert scoring.mod_multiplier(0, [{"acronym": "EZ"}, {"acronym": "NF"}]) == pytest.approx(0.4)
    assert scoring.mod_multiplier(1, [{"acronym": "DT"}]) == pytest.approx(1.1)
    assert scoring.mod_multiplier(1, [{"acronym": "HR", "settings": {"x": 1}}]) == 1.0
    assert scoring.mod_multiplier(3, [{"acronym": "4K"}]) == pytest.approx(0.9)
    assert scoring.mod_multiplier(
        0, [{"acronym": "FL", "settings": {"combo_based_size": False}}]
    ) == pytest.approx(1.04)


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
        _submitted(mods=[scoring.ModInput("hd"), scoring.ModInput("HD")]), 0, 10
    )
    assert isinstance(checked, scoring.CheckedScore)
    assert checked.acronyms == ["HD"] and checked.rank == "XH"
    assert checked.total_score == round(500_000 * 1.04)
    old_client = scoring.check_submission(_submitted(total_score_without_mods=None), 0, 10)
    assert isinstance(old_client, scoring.CheckedScore)
    assert old_client.total_score_without_mods == 500_000
    assert scoring.check_submission(
        _submitted(mods=[scoring.ModInput("AT")]), 0, 10
    ).has_unranked_mods  # type: ignore[union-attr]


def test_play_validity() -> None:
    checked = scoring.check_submission(_submitted(), 0, 10)
    assert isinstance(checked, scoring.CheckedScore)
    assert scoring.play_counts(checked, 1.0)  # a pass counts however quick
    failed = scoring.check_submission(
        _submitted(passed=False, statistics={"great": 5, "miss": 5}), 0, 10
    )
    assert isinstance(failed, scoring.CheckedScore)
    assert not scoring.play_counts(failed, 5.0) and scoring.play_counts(failed, 9.0)
    low = scoring.check_submission(
        _submitted(total_score=4000, total_score_without_mods=4000), 0, 10
    )
    assert isinstance(low, scoring.CheckedScore) and not scoring.play_counts(low, 60)


def test_weighted_pp_and_accuracy() -> None:
    assert scoring.weighted_pp([]) == 0
    assert scoring.weighted_pp([100, 200]) == pytest.approx(
        200 + 100 * 0.95 + 416.6667 * (1 - 0.995**2)
    )
    many = scoring.weighted_pp([1.0] * 1500)
    assert many == pytest.approx(sum(0.95**i for i in range(1500)) + 416.6667 * (1 - 0.995**1000))
    assert scoring.weighted_accuracy([1.0, 0.5]) == pytest.approx(100 * (1 + 0.5 * 0.95) / 1.95)
