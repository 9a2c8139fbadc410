"""server.core.pp on synthetic maps: wrappers, error mapping, handle lifetime, the cache.

Numbers are checked against rosu-pp-py (the Python binding of the same rosu-pp release,
built independently of our core), so these tests need nothing outside the project.
"""

from __future__ import annotations

import gc
import hashlib
import math
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
import rosu_pp_py as rosu

from server.core import (
    BeatmapParseError,
    ConversionError,
    InvalidArgument,
    SuspiciousBeatmap,
    TooLarge,
    pp,
)
from tests.synthetic_beatmaps import (
    RULESETS,
    exploding_slider_osu,
    suspicious_osu,
    synthetic_osu,
    write_all,
)

ROOT = Path(__file__).resolve().parents[2]
ROSU_MODES = (rosu.GameMode.Osu, rosu.GameMode.Taiko, rosu.GameMode.Catch, rosu.GameMode.Mania)


def rel_close(a: float, b: float, rel: float = 1e-9) -> bool:
    """Relative closeness that also accepts two tiny values (pp components can be ~1e-6).

    NaN equals NaN here: rosu-pp yields NaN stars on degenerate converts (the 1-object
    nan-slider map as taiko), and both bindings must agree on that too.
    """
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= rel * max(abs(a), abs(b), 1e-12)


def rosu_kwargs(ruleset: int, score: pp.ScoreInput) -> dict[str, int]:
    """The same play in rosu-pp-py's terms (its documented per-ruleset meaning of n300 etc.)."""
    s = score.statistics
    common: dict[str, int] = {"combo": score.max_combo}
    if score.legacy_total_score is not None:
        common["legacy_total_score"] = score.legacy_total_score
    if ruleset == pp.Ruleset.OSU:
        return common | {
            "n300": s.great,
            "n100": s.ok,
            "n50": s.meh,
            "misses": s.miss,
            "large_tick_hits": s.large_tick_hit,
            "small_tick_hits": s.small_tick_hit,
            "slider_end_hits": s.slider_tail_hit,
        }
    if ruleset == pp.Ruleset.TAIKO:
        return common | {"n300": s.great, "n100": s.ok, "misses": s.miss}
    if ruleset == pp.Ruleset.CATCH:
        return common | {
            "n300": s.great,
            "n100": s.large_tick_hit,
            "n50": s.small_tick_hit,
            "n_katu": s.small_tick_miss,
            "misses": s.miss + s.large_tick_miss,
        }
    return common | {
        "n_geki": s.perfect,
        "n300": s.great,
        "n_katu": s.good,
        "n100": s.ok,
        "n50": s.meh,
        "misses": s.miss,
    }


def assert_same_difficulty(ours: pp.DifficultyAttributes, theirs: object) -> None:
    """Every field rosu-pp-py also reports must agree to 1e-9 relative."""
    compared = 0
    for name in pp.DifficultyAttributes.__struct_fields__:
        value = getattr(theirs, name, None)
        if value is None or name == "mode":
            continue
        compared += 1
        assert rel_close(float(getattr(ours, name)), float(value)), name
    assert compared >= 3


def assert_same_performance(ours: pp.PerformanceResult, theirs: object) -> None:
    """pp and every component rosu-pp-py reports must agree to 1e-9 relative."""
    pairs = {
        "pp": "pp",
        "pp_aim": "pp_aim",
        "pp_speed": "pp_speed",
        "pp_accuracy": "pp_accuracy",
        "pp_flashlight": "pp_flashlight",
        "pp_difficulty": "pp_difficulty",
        "effective_miss_count": "effective_miss_count",
        "speed_deviation": "speed_deviation",
        "estimated_unstable_rate": "estimated_unstable_rate",
    }
    for mine, their_name in pairs.items():
        expected = getattr(theirs, their_name, None)
        actual = getattr(ours, mine)
        if expected is None:
            assert actual is None, mine
        else:
            assert actual is not None and rel_close(actual, float(expected)), mine


def rosu_mods(mods: pp.Mods) -> dict[str, Any]:
    """rosu-pp-py's `mods` keyword (it refuses None)."""
    return {} if mods is None else {"mods": mods}


def play(**counts: int) -> pp.ScoreInput:
    combo = counts.pop("combo", 100)
    lazer = bool(counts.pop("lazer", 1))
    return pp.ScoreInput(statistics=pp.HitStatistics(**counts), max_combo=combo, lazer=lazer)


@pytest.fixture(params=RULESETS)
def ruleset_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_algorithm_version_names_the_pinned_rosu_pp() -> None:
    cargo = (ROOT / "rust_core" / "Cargo.toml").read_text()
    pinned = re.search(r'^rosu-pp = "=([0-9.]+)"', cargo, re.MULTILINE)
    assert pinned is not None
    assert pp.algorithm_version().startswith(f"rosu-pp {pinned.group(1)} (osu!lazer ")


def test_the_installed_core_is_a_release_build() -> None:
    assert pp.build_profile() == "release"


def test_info_agrees_with_rosu_pp_py(ruleset_name: str) -> None:
    data = synthetic_osu(ruleset_name, seed=3)
    theirs = rosu.Beatmap(bytes=data)
    with pp.Beatmap.parse(data) as beatmap:
        info = beatmap.info()
        attrs = beatmap.difficulty()
    assert info.mode == RULESETS.index(ruleset_name) == ROSU_MODES.index(theirs.mode)
    for name in ("n_objects", "n_circles", "n_sliders", "n_spinners", "n_holds", "ar", "od", "cs"):
        assert getattr(info, name) == getattr(theirs, name), name
    assert info.hp == theirs.hp
    assert rel_close(info.bpm, theirs.bpm)
    assert info.is_suspicious is theirs.is_suspicious() is False
    assert info.max_combo == attrs.max_combo > 0
    assert 0 < info.drain_ms < info.length_ms


def test_cached_beatmaps_carry_their_md5_and_converts_inherit_it() -> None:
    data = synthetic_osu("osu", seed=4)
    checksum = hashlib.md5(data).hexdigest()
    with pp.Beatmap.parse(data) as plain:
        assert plain.checksum is None
    cache = pp.PpCache()
    beatmap = cache.beatmap(checksum.upper(), lambda: data)
    assert beatmap.checksum == checksum
    with beatmap.convert(pp.Ruleset.TAIKO) as converted:
        assert converted.checksum == checksum
    cache.close()


@pytest.mark.parametrize(
    "mods",
    [
        None,
        72,  # legacy bitmask HDDT
        "HDHR",
        [{"acronym": "DT", "settings": {"speed_change": 1.3}}],
        [{"acronym": "HT", "settings": {"speed_change": 0.6}}, "HD"],
        [{"acronym": "DA", "settings": {"drain_rate": 9, "overall_difficulty": 3}}],
    ],
)
def test_difficulty_and_performance_agree_with_rosu_pp_py(ruleset_name: str, mods: pp.Mods) -> None:
    ruleset = RULESETS.index(ruleset_name)
    if ruleset == pp.Ruleset.MANIA and mods == "HDHR":
        mods = "FI"  # mania has no HR
    data = synthetic_osu(ruleset_name, seed=1)
    with pp.Beatmap.parse(data) as beatmap:
        ours = beatmap.difficulty(mods=mods)
        theirs = rosu.Difficulty(**rosu_mods(mods)).calculate(rosu.Beatmap(bytes=data))
        assert_same_difficulty(ours, theirs)
        score = play(
            great=200,
            ok=20,
            meh=5,
            miss=3,
            large_tick_hit=30,
            small_tick_hit=40,
            small_tick_miss=2,
            slider_tail_hit=60,
            perfect=150,
            good=10,
            combo=150,
        )
        for lazer in (True, False):
            score = msgspec.structs.replace(score, lazer=lazer)
            expected = rosu.Performance(
                lazer=lazer, **rosu_mods(mods), **rosu_kwargs(ruleset, score)
            )
            assert_same_performance(pp.performance(ours, mods, score), expected.calculate(theirs))


def test_converts_agree_with_rosu_pp_py() -> None:
    data = synthetic_osu("osu", seed=2)
    with pp.Beatmap.parse(data) as beatmap:
        for ruleset in (pp.Ruleset.TAIKO, pp.Ruleset.CATCH, pp.Ruleset.MANIA):
            theirs_map = rosu.Beatmap(bytes=data)
            # HR on osu-like rulesets; mania gets a key-count mod, which changes the convert.
            mods = "HR" if ruleset != pp.Ruleset.MANIA else "5K"
            theirs_map.convert(ROSU_MODES[ruleset], mods)
            theirs = rosu.Difficulty(mods=mods).calculate(theirs_map)
            ours = beatmap.difficulty(ruleset, mods)
            assert ours.mode == ruleset and ours.is_convert
            assert_same_difficulty(ours, theirs)
            with beatmap.convert(ruleset, mods) as converted:
                info = converted.info()
                assert info.mode == ruleset and info.is_convert
                assert info.n_objects == theirs_map.n_objects
                assert converted.difficulty(mods=mods) == ours


def test_performance_from_the_handle_equals_from_attributes(ruleset_name: str) -> None:
    with pp.Beatmap.parse(synthetic_osu(ruleset_name, seed=5)) as beatmap:
        attrs = beatmap.difficulty(mods="DT")
        score = play(great=150, ok=30, meh=4, miss=2, large_tick_hit=10, perfect=120, combo=90)
        assert beatmap.performance(score, mods="DT") == pp.performance(attrs, "DT", score)


def test_batch_equals_a_loop_of_single_calls(ruleset_name: str) -> None:
    with pp.Beatmap.parse(synthetic_osu(ruleset_name, seed=6)) as beatmap:
        attrs = beatmap.difficulty(mods="HD")
    scores = [
        play(
            great=300 - i,
            ok=i % 7,
            meh=i % 3,
            miss=i % 5,
            large_tick_hit=i,
            small_tick_hit=i // 2,
            slider_tail_hit=i % 40,
            perfect=200 - i,
            good=i % 4,
            combo=50 + i,
            lazer=i % 2,
        )
        for i in range(60)
    ]
    singles = [pp.performance(attrs, "HD", s).pp for s in scores]
    assert pp.performance_batch(attrs, "HD", scores) == singles
    assert len(set(singles)) >= 5  # the plays really differ
    assert pp.performance_batch(attrs, "HD", []) == []


def test_a_long_batch_split_over_threads_equals_single_calls() -> None:
    with pp.Beatmap.parse(synthetic_osu("osu", seed=8)) as beatmap:
        attrs = beatmap.difficulty(mods=[{"acronym": "HR"}])
    # Long enough that the core splits it over threads on any machine with 2+ cores.
    scores = [
        play(great=290 - i % 50, ok=i % 50, miss=i % 3, large_tick_hit=i % 60, combo=i % 400)
        for i in range(1500)
    ]
    batch = pp.performance_batch(attrs, [{"acronym": "HR"}], scores)
    assert batch == [pp.performance(attrs, "HR", s).pp for s in scores]


def test_a_bad_score_in_a_batch_names_its_index() -> None:
    with pp.Beatmap.parse(synthetic_osu("osu")) as beatmap:
        attrs = beatmap.difficulty()
    scores = [play(great=10), play(great=1 << 25)]
    with pytest.raises(InvalidArgument, match="score 1: great"):
        pp.performance_batch(attrs, None, scores)


def test_garbage_bytes_are_a_parse_error() -> None:
    for data in (b"", b"\x00\xff garbage", b"[HitObjects]\n1,2,3,1,0\n", "ünïcode".encode()):
        with pytest.raises(BeatmapParseError):
            pp.Beatmap.parse(data)


def test_oversize_file_is_refused_before_parsing() -> None:
    data = b"osu file format v14\n" + b" " * (16 * 1024 * 1024)
    with pytest.raises(TooLarge, match="limit"):
        pp.Beatmap.parse(data)


def test_suspicious_map_parses_but_refuses_calculation() -> None:
    data = suspicious_osu()
    assert rosu.Beatmap(bytes=data).is_suspicious()
    with pp.Beatmap.parse(data) as beatmap:
        assert beatmap.info().is_suspicious
        with pytest.raises(SuspiciousBeatmap, match="Density"):
            beatmap.difficulty()
        with pytest.raises(SuspiciousBeatmap):
            beatmap.performance(play(great=1))
        with pytest.raises(SuspiciousBeatmap):
            beatmap.difficulty(pp.Ruleset.TAIKO)


def test_a_slider_exploding_into_ticks_is_refused_at_once() -> None:
    data = exploding_slider_osu()
    assert not rosu.Beatmap(bytes=data).is_suspicious()  # why we screen on top of rosu-pp
    start = time.perf_counter()
    with pp.Beatmap.parse(data) as beatmap:
        assert beatmap.info().is_suspicious
        with pytest.raises(SuspiciousBeatmap, match="nested objects"):
            beatmap.performance(play(great=1), mods="HR")
        for ruleset in (pp.Ruleset.TAIKO, pp.Ruleset.CATCH, pp.Ruleset.MANIA):
            with pytest.raises(SuspiciousBeatmap):
                beatmap.difficulty(ruleset)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(
    "mods",
    [
        [{"acronym": "ZZ"}],
        "HDZZ",
        [{"acronym": "DT", "settings": {"no_such_setting": 1}}],
        [{"settings": {}}],
        1 << 31,
        b"{not json",
    ],
)
def test_bad_mods_are_invalid_arguments(mods: pp.Mods) -> None:
    with pp.Beatmap.parse(synthetic_osu("osu")) as beatmap, pytest.raises(InvalidArgument):
        beatmap.difficulty(mods=mods)


def test_mods_are_read_for_the_target_ruleset() -> None:
    with pp.Beatmap.parse(synthetic_osu("osu")) as beatmap:
        assert beatmap.difficulty(pp.Ruleset.MANIA, [{"acronym": "4K"}]).mode == pp.Ruleset.MANIA
        with pytest.raises(InvalidArgument, match="4K"):
            beatmap.difficulty(pp.Ruleset.OSU, [{"acronym": "4K"}])


def test_classic_mod_keeps_stars_and_changes_lazer_pp() -> None:
    with pp.Beatmap.parse(synthetic_osu("osu", seed=7)) as beatmap:
        plain, classic = beatmap.difficulty(), beatmap.difficulty(mods=[{"acronym": "CL"}])
        score = play(
            great=250,
            ok=20,
            meh=10,
            miss=3,
            large_tick_hit=40,
            small_tick_hit=60,
            slider_tail_hit=50,
            combo=200,
        )
        assert classic.stars == plain.stars
        assert pp.performance(plain, None, score).pp != pp.performance(classic, "CL", score).pp


def test_converting_a_non_osu_map_is_a_conversion_error() -> None:
    with pp.Beatmap.parse(synthetic_osu("mania")) as beatmap:
        with pytest.raises(ConversionError):
            beatmap.convert(pp.Ruleset.TAIKO)
        with pytest.raises(ConversionError):
            beatmap.difficulty(pp.Ruleset.OSU)


def test_unknown_ruleset_and_out_of_range_counts_are_invalid() -> None:
    with pp.Beatmap.parse(synthetic_osu("osu")) as beatmap:
        with pytest.raises(InvalidArgument):
            beatmap.difficulty(7)
        attrs = beatmap.difficulty()
    with pytest.raises(InvalidArgument, match="max_combo"):
        pp.performance(attrs, None, play(great=10, combo=1 << 25))
    with pytest.raises(InvalidArgument, match="ruleset"):
        pp.performance(msgspec.structs.replace(attrs, mode=9), None, play(great=10))


def test_counts_that_do_not_fit_a_uint32_are_invalid_arguments() -> None:
    with pp.Beatmap.parse(synthetic_osu("osu")) as beatmap:
        attrs = beatmap.difficulty()
        for bad in (play(great=-1), play(great=1 << 32)):
            with pytest.raises(InvalidArgument, match="out of range"):
                pp.performance(attrs, None, bad)
            with pytest.raises(InvalidArgument, match="out of range"):
                pp.performance_batch(attrs, None, [play(great=1), bad])
            with pytest.raises(InvalidArgument, match="out of range"):
                beatmap.performance(bad)


def test_statistics_decode_from_lazer_score_json_with_bounds() -> None:
    body = b'{"great": 500, "ok": 3, "miss": 1, "large_bonus": 12, "slider_tail_hit": 40}'
    stats = msgspec.json.decode(body, type=pp.HitStatistics)
    assert (stats.great, stats.ok, stats.miss, stats.slider_tail_hit) == (500, 3, 1, 40)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"great": -1}', type=pp.HitStatistics)


def test_close_frees_the_handle_and_is_idempotent() -> None:
    before = pp.live_beatmaps()
    beatmap = pp.Beatmap.parse(synthetic_osu("osu"))
    converted = beatmap.convert(pp.Ruleset.CATCH)
    assert pp.live_beatmaps() == before + 2
    beatmap.close()
    beatmap.close()
    converted.close()
    assert pp.live_beatmaps() == before
    with pytest.raises(InvalidArgument, match="closed"):
        beatmap.difficulty()


def test_a_forgotten_beatmap_is_freed_when_collected() -> None:
    before = pp.live_beatmaps()
    pp.Beatmap.parse(synthetic_osu("taiko"))
    gc.collect()
    assert pp.live_beatmaps() == before


def test_close_during_a_calculation_waits_for_it() -> None:
    before = pp.live_beatmaps()
    beatmap = pp.Beatmap.parse(synthetic_osu("osu", n_objects=3000))
    results: list[float] = []
    started = threading.Event()

    def calculate() -> None:
        started.set()
        results.append(beatmap.difficulty(mods="DT").stars)

    worker = threading.Thread(target=calculate)
    worker.start()
    started.wait()
    beatmap.close()
    worker.join()
    assert pp.live_beatmaps() == before
    # Either the calculation ran to completion or it saw the closed handle; never a crash.
    assert len(results) in (0, 1)


def _loader(data: bytes, calls: list[str]) -> tuple[str, Callable[[], bytes]]:
    checksum = hashlib.md5(data).hexdigest()

    def load() -> bytes:
        calls.append(checksum)
        return data

    return checksum, load


def test_cache_evicts_least_recently_used_beatmap_and_frees_it() -> None:
    before = pp.live_beatmaps()
    cache = pp.PpCache(max_beatmaps=2, max_attributes=100)
    calls: list[str] = []
    maps = [_loader(synthetic_osu("osu", n_objects=40, seed=s), calls) for s in range(3)]
    first = cache.beatmap(*maps[0])
    cache.beatmap(*maps[1])
    assert cache.beatmap(*maps[0]) is first
    cache.beatmap(*maps[2])  # evicts map 1, the least recently used
    assert len(cache) == 2 and not first.closed
    assert cache.cached_beatmap(maps[1][0]) is None
    assert calls == [maps[0][0], maps[1][0], maps[2][0]]
    assert pp.live_beatmaps() == before + 2
    cache.close()
    assert first.closed and pp.live_beatmaps() == before


def test_cache_reuses_attributes_and_bounds_them() -> None:
    cache = pp.PpCache(max_beatmaps=1, max_attributes=2)
    calls: list[str] = []
    checksum, load = _loader(synthetic_osu("catch", n_objects=60), calls)
    nm = cache.difficulty(checksum, load)
    assert cache.difficulty(checksum, load) is nm
    cache.difficulty(checksum, load, mods="HR")
    cache.difficulty(checksum, load, mods="DT")
    assert cache.attribute_count == 2
    assert cache.difficulty(checksum, load) == nm  # recomputed, same
    assert calls == [checksum]
    cache.close()


def test_cache_keeps_a_beatmap_open_while_it_calculates_even_if_evicted() -> None:
    before = pp.live_beatmaps()
    cache = pp.PpCache(max_beatmaps=1)
    calls: list[str] = []
    big = _loader(synthetic_osu("osu", n_objects=3000, seed=10), calls)
    small = _loader(synthetic_osu("osu", n_objects=20, seed=11), calls)
    started = threading.Event()
    results: list[pp.DifficultyAttributes] = []

    def calculate() -> None:
        started.set()
        results.append(cache.difficulty(*big, mods="DT"))

    worker = threading.Thread(target=calculate)
    worker.start()
    started.wait()
    cache.beatmap(*small)  # evicts the big map, possibly mid-calculation
    worker.join()
    assert len(results) == 1 and results[0].stars > 0
    cache.close()
    assert pp.live_beatmaps() == before


def test_eviction_of_a_pinned_beatmap_defers_the_free_until_unpinned() -> None:
    before = pp.live_beatmaps()
    cache = pp.PpCache(max_beatmaps=1)
    calls: list[str] = []
    first = cache._pinned_beatmap(*_loader(synthetic_osu("taiko", n_objects=30), calls))
    cache.beatmap(*_loader(synthetic_osu("taiko", n_objects=31), calls))
    assert first.closed and pp.live_beatmaps() == before + 2  # evicted, still allocated
    first._unpin()
    assert pp.live_beatmaps() == before + 1
    cache.close()
    assert pp.live_beatmaps() == before


def test_cache_refuses_bytes_that_do_not_match_the_checksum() -> None:
    before = pp.live_beatmaps()
    cache = pp.PpCache()
    with pytest.raises(InvalidArgument, match="hash"):
        cache.beatmap("0" * 32, lambda: synthetic_osu("osu", n_objects=20))
    assert len(cache) == 0 and pp.live_beatmaps() == before


async def test_async_variants_match_sync_results(tmp_path: Path) -> None:
    paths = write_all(tmp_path, seed=9)
    cache = pp.PpCache()
    score = play(great=100, ok=5, miss=1, combo=80)
    for ruleset_name, path in paths.items():
        data = path.read_bytes()
        checksum = hashlib.md5(data).hexdigest()
        beatmap = await pp.Beatmap.parse_async(data)
        attrs = await beatmap.difficulty_async(mods="HD")
        assert attrs == await cache.difficulty_async(checksum, path.read_bytes, mods="HD")
        assert attrs.mode == RULESETS.index(ruleset_name)
        single = await beatmap.performance_async(score, mods="HD")
        assert single == await cache.performance_async(checksum, path.read_bytes, score, mods="HD")
        assert await pp.performance_batch_async(attrs, "HD", [score]) == [single.pp]
        beatmap.close()
    cache.close()
