"""Benchmark of the pp hot paths: our core (through cffi) against a rosu-pp-py loop.

Both sides run the same rosu-pp release, so the ratios measure our binding: parsing the
mods JSON, packing structs across cffi, and batching. Targets:

- single calls (parse, difficulty, one pp) within 1.2x of rosu-pp-py;
- pp for 1,000 scores of one map in one batch call at least 5x faster than a rosu-pp-py loop.

Run: `python bench/bench_pp.py` (needs the test extra for rosu-pp-py). Exits 1 when a target
is missed, 2 on a debug build of the core (its timings mean nothing).
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import rosu_pp_py as rosu

from server.core import pp

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # for tests.synthetic_beatmaps

from tests.shared_data import shared_dir  # noqa: E402
from tests.synthetic_beatmaps import synthetic_osu  # noqa: E402

TYPICAL = "ppy-osu-soleily-renatus-insane.osu"
MARATHON = "ppy-osu-within-temptation-marathon.osu"
BATCH_SIZE = 1000
SINGLE_MAX = 1.2  # ours / rosu-pp-py
BATCH_MAX = 0.2  # ours / rosu-pp-py loop: at least 5x faster


@dataclass
class Row:
    name: str
    ours_s: float
    theirs_s: float
    max_ratio: float

    @property
    def ratio(self) -> float:
        return self.ours_s / self.theirs_s

    @property
    def ok(self) -> bool:
        return self.ratio <= self.max_ratio


def _calls_for(func: Callable[[], object], seconds: float) -> int:
    """How many calls of `func` take about `seconds`."""
    func()  # warm up caches and lazy state
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            func()
        if time.perf_counter() - start >= seconds:
            return calls
        calls *= 2


def _round(func: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        func()
    return (time.perf_counter() - start) / calls


def compare(
    ours: Callable[[], object], theirs: Callable[[], object], *, min_time: float
) -> tuple[float, float]:
    """Best seconds per call of each, over 25 alternating rounds.

    Alternating keeps a burst of load on the machine from landing on one side only; the
    best round is the one least disturbed by other processes (as `timeit` advises).
    """
    rounds = 25
    ours_calls = _calls_for(ours, min_time / rounds / 2)
    theirs_calls = _calls_for(theirs, min_time / rounds / 2)
    ours_times, theirs_times = [], []
    for _ in range(rounds):
        ours_times.append(_round(ours, ours_calls))
        theirs_times.append(_round(theirs, theirs_calls))
    return min(ours_times), min(theirs_times)


def load_maps() -> tuple[dict[str, bytes], str]:
    directory = shared_dir() / "testdata" / "beatmaps"
    if (directory / TYPICAL).is_file() and (directory / MARATHON).is_file():
        maps = {"typical": (directory / TYPICAL).read_bytes()}
        maps["marathon"] = (directory / MARATHON).read_bytes()
        return maps, f"shared maps: {TYPICAL}, {MARATHON}"
    maps = {
        "typical": synthetic_osu("osu", n_objects=900, seed=1),
        "marathon": synthetic_osu("osu", n_objects=6500, seed=2),
    }
    return maps, "SYNTHETIC maps (../shared absent): 900 and 6,500 osu! objects"


def random_plays(attrs: pp.DifficultyAttributes, n: int) -> list[pp.ScoreInput]:
    rng = random.Random(7)
    n_objects = attrs.n_circles + attrs.n_sliders + attrs.n_spinners
    plays = []
    for _ in range(n):
        miss = rng.randrange(0, 20)
        meh = rng.randrange(0, 30)
        ok = rng.randrange(0, 80)
        great = max(0, n_objects - miss - meh - ok)
        plays.append(
            pp.ScoreInput(
                statistics=pp.HitStatistics(
                    great=great,
                    ok=ok,
                    meh=meh,
                    miss=miss,
                    large_tick_hit=rng.randrange(0, attrs.n_large_ticks + 1),
                    slider_tail_hit=rng.randrange(0, attrs.n_sliders + 1),
                ),
                max_combo=rng.randrange(1, attrs.max_combo + 1),
                lazer=rng.random() < 0.8,
            )
        )
    return plays


def rosu_difficulty(beatmap: rosu.Beatmap, mods: object) -> object:
    """rosu-pp-py's difficulty as a caller writes it: build the calculator, run it."""
    return rosu.Difficulty(mods=mods).calculate(beatmap)


def rosu_kwargs(play: pp.ScoreInput) -> dict[str, int | bool]:
    s = play.statistics
    return {
        "lazer": play.lazer,
        "n300": s.great,
        "n100": s.ok,
        "n50": s.meh,
        "misses": s.miss,
        "large_tick_hits": s.large_tick_hit,
        "slider_end_hits": s.slider_tail_hit,
        "combo": play.max_combo,
    }


def run(min_time: float) -> tuple[list[Row], str]:
    maps, source = load_maps()
    rows: list[Row] = []
    mods_json = pp.encode_mods([{"acronym": "HD"}, {"acronym": "DT"}])
    mods_rosu = [{"acronym": "HD"}, {"acronym": "DT"}]

    data = maps["typical"]
    rows.append(
        Row(
            "parse (typical map)",
            *compare(
                lambda: pp.Beatmap.parse(data).close(),
                lambda: rosu.Beatmap(bytes=data),
                min_time=min_time,
            ),
            SINGLE_MAX,
        )
    )
    for label in ("typical", "marathon"):
        ours_map = pp.Beatmap.parse(maps[label])
        theirs_map = rosu.Beatmap(bytes=maps[label])
        rows.append(
            Row(
                f"difficulty HDDT ({label} map)",
                *compare(
                    functools.partial(ours_map.difficulty, mods=mods_json),
                    functools.partial(rosu_difficulty, theirs_map, mods_rosu),
                    min_time=min_time,
                ),
                SINGLE_MAX,
            )
        )
        ours_map.close()

    with pp.Beatmap.parse(maps["typical"]) as beatmap:
        attrs = beatmap.difficulty(mods=mods_json)
    theirs_attrs = rosu.Difficulty(mods=mods_rosu).calculate(rosu.Beatmap(bytes=maps["typical"]))
    plays = random_plays(attrs, BATCH_SIZE)
    kwargs = [rosu_kwargs(play) for play in plays]
    one, one_kwargs = plays[0], kwargs[0]
    rows.append(
        Row(
            "pp, one score from attributes",
            *compare(
                lambda: pp.performance(attrs, mods_json, one),
                lambda: rosu.Performance(mods=mods_rosu, **one_kwargs).calculate(theirs_attrs),
                min_time=min_time,
            ),
            SINGLE_MAX,
        )
    )

    def rosu_loop() -> list[float]:
        return [rosu.Performance(mods=mods_rosu, **kw).calculate(theirs_attrs).pp for kw in kwargs]

    ours_batch = pp.performance_batch(attrs, mods_json, plays)
    theirs_batch = rosu_loop()
    if any(
        abs(a - b) > 1e-9 * max(abs(a), abs(b))
        for a, b in zip(ours_batch, theirs_batch, strict=True)
    ):
        raise SystemExit("batch results differ from rosu-pp-py: the benchmark is meaningless")
    rows.append(
        Row(
            f"pp, batch of {BATCH_SIZE:,} scores",
            *compare(
                lambda: pp.performance_batch(attrs, mods_json, plays), rosu_loop, min_time=min_time
            ),
            BATCH_MAX,
        )
    )
    return rows, source


def main() -> int:
    """Run the benchmark, print a table, return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-time", type=float, default=3.0, help="seconds per measurement")
    args = parser.parse_args()
    profile = pp.build_profile()
    if profile != "release":
        print(
            f"refusing to benchmark a {profile} build of the core; reinstall with pip install -e ."
        )
        return 2
    rows, source = run(args.min_time)
    print(f"{pp.algorithm_version()} vs rosu-pp-py; {source}")
    print(f"{'measurement':34} {'ours':>12} {'rosu-pp-py':>12} {'ratio':>7}  target")
    for row in rows:
        print(
            f"{row.name:34} {row.ours_s * 1e6:10.1f}us {row.theirs_s * 1e6:10.1f}us "
            f"{row.ratio:6.2f}x  <= {row.max_ratio}x {'ok' if row.ok else 'MISSED'}"
        )
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
