"""Differential test: our core against rosu-pp-py 4.0.2 on generated mods and plays.

rosu-pp-py wraps the same rosu-pp release but is built and bound independently, so any
disagreement is ours: mods JSON handling, the HitResult mapping, the C struct round trip
of cached attributes, or the lazer/stable flag. The strategies here are reused by
tests/conformance/test_pp_differential.py on the real maps in ../shared.
"""

from __future__ import annotations

from typing import Any

import rosu_pp_py as rosu
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import pp
from tests.synthetic_beatmaps import RULESETS, synthetic_osu
from tests.unit.test_pp_core import (
    ROSU_MODES,
    assert_same_difficulty,
    assert_same_performance,
    rosu_kwargs,
    rosu_mods,
)

# Acronyms each ruleset knows that matter to difficulty or pp (plus a few that should not).
_ACRONYMS: dict[int, tuple[str, ...]] = {
    pp.Ruleset.OSU: ("EZ", "HD", "HR", "FL", "NF", "SO", "CL", "TD", "MR", "BL"),
    pp.Ruleset.TAIKO: ("EZ", "HD", "HR", "FL", "NF", "CL"),
    pp.Ruleset.CATCH: ("EZ", "HD", "HR", "FL", "NF", "CL", "MR"),
    pp.Ruleset.MANIA: ("EZ", "HD", "FI", "HR", "FL", "NF", "CL", "MR", "4K", "5K", "7K"),
}
# Difficulty Adjust settings each ruleset's DA has.
_DA_SETTINGS: dict[int, tuple[str, ...]] = {
    pp.Ruleset.OSU: ("circle_size", "approach_rate", "overall_difficulty", "drain_rate"),
    pp.Ruleset.TAIKO: ("overall_difficulty", "drain_rate"),
    pp.Ruleset.CATCH: ("circle_size", "approach_rate", "overall_difficulty", "drain_rate"),
    pp.Ruleset.MANIA: ("overall_difficulty", "drain_rate"),
}
_LEGACY_BITS = (
    1,
    2,
    8,
    16,
    32,
    64,
    256,
    576,
    1024,
    4096,
    16384,
)  # NF EZ HD HR SD DT HT NC FL SO PF


def _setting_value() -> st.SearchStrategy[float]:
    return st.integers(0, 100).map(lambda tenth: tenth / 10)


def lazer_mods_strategy(ruleset: int) -> st.SearchStrategy[list[Any]]:
    """Lists of lazer mods for `ruleset`: plain acronyms, a rate mod with a custom speed, DA."""
    plain = st.lists(st.sampled_from(_ACRONYMS[ruleset]), unique=True, max_size=3).map(
        lambda acronyms: [{"acronym": a} for a in acronyms]
    )
    rate = st.one_of(
        st.none(),
        st.builds(
            lambda acronym, speed: {"acronym": acronym, "settings": {"speed_change": speed}},
            st.sampled_from(("DT", "NC")),
            st.integers(101, 200).map(lambda hundredth: hundredth / 100),
        ),
        st.builds(
            lambda acronym, speed: {"acronym": acronym, "settings": {"speed_change": speed}},
            st.sampled_from(("HT", "DC")),
            st.integers(50, 99).map(lambda hundredth: hundredth / 100),
        ),
    )
    adjust = st.one_of(
        st.none(),
        st.dictionaries(st.sampled_from(_DA_SETTINGS[ruleset]), _setting_value(), min_size=1).map(
            lambda values: {"acronym": "DA", "settings": values}
        ),
    )

    def combine(base: list[Any], rate_mod: Any, da: Any) -> list[Any]:
        mods = list(base)
        # DA and EZ/HR are incompatible in lazer; keep generated sets playable.
        if da is not None:
            mods = [m for m in mods if m["acronym"] not in ("EZ", "HR")] + [da]
        return mods if rate_mod is None else [*mods, rate_mod]

    return st.builds(combine, plain, rate, adjust)


def mods_strategy(ruleset: int) -> st.SearchStrategy[pp.Mods]:
    """Lazer mod lists or, now and then, a legacy bitmask."""
    bitmask = st.lists(st.sampled_from(_LEGACY_BITS), unique=True, max_size=3).map(sum)
    return st.one_of(lazer_mods_strategy(ruleset), bitmask)


def score_strategy(n_objects: int, max_combo: int) -> st.SearchStrategy[pp.ScoreInput]:
    """Plays with counts around the map's size (rosu-pp clamps what does not fit)."""
    count = st.integers(0, max(1, n_objects + n_objects // 5))
    stats = st.builds(
        pp.HitStatistics,
        perfect=count,
        great=count,
        good=count,
        ok=count,
        meh=count,
        miss=st.integers(0, 20),
        large_tick_hit=count,
        large_tick_miss=st.integers(0, 10),
        small_tick_hit=count,
        small_tick_miss=st.integers(0, 30),
        slider_tail_hit=count,
    )
    return st.builds(
        pp.ScoreInput,
        statistics=stats,
        max_combo=st.integers(0, max_combo + 5),
        lazer=st.booleans(),
        legacy_total_score=st.one_of(st.none(), st.integers(0, 2**31)),
    )


def check_against_rosu_pp_py(
    data: bytes, ruleset: int, mods: pp.Mods, draw: Any, *, n_scores: int = 3
) -> None:
    """Difficulty, single pp and batch pp for `mods` on `data` must match rosu-pp-py."""
    theirs_map = rosu.Beatmap(bytes=data)
    if theirs_map.mode != ROSU_MODES[ruleset]:
        theirs_map.convert(ROSU_MODES[ruleset], rosu_mods(mods).get("mods"))
    theirs = rosu.Difficulty(**rosu_mods(mods)).calculate(theirs_map)
    with pp.Beatmap.parse(data) as beatmap:
        ours = beatmap.difficulty(ruleset, mods)
    assert_same_difficulty(ours, theirs)
    n_objects = max(ours.max_combo, ours.n_objects, ours.n_fruits)
    scores = [draw(score_strategy(n_objects, ours.max_combo)) for _ in range(n_scores)]
    singles = []
    for score in scores:
        expected = rosu.Performance(
            lazer=score.lazer, **rosu_mods(mods), **rosu_kwargs(ruleset, score)
        ).calculate(theirs)
        result = pp.performance(ours, mods, score)
        assert_same_performance(result, expected)
        singles.append(result.pp)
    assert pp.performance_batch(ours, mods, scores) == singles


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_synthetic_maps_match_rosu_pp_py(data: st.DataObject) -> None:
    source = data.draw(st.sampled_from(RULESETS), label="map")
    seed = data.draw(st.integers(0, 3), label="seed")
    # osu! maps may be calculated as any ruleset (a convert); others only as themselves.
    own = RULESETS.index(source)
    ruleset = data.draw(st.sampled_from(range(4)) if own == 0 else st.just(own), label="ruleset")
    mods = data.draw(mods_strategy(ruleset), label="mods")
    check_against_rosu_pp_py(
        synthetic_osu(source, n_objects=150, seed=seed), ruleset, mods, data.draw
    )
