"""A beatmap's play counts are written at most once an interval: the first play at once, the
plays of the next interval summed into one UPDATE (and one invalidation of the cached row),
and drain() writes what is pending without waiting out the interval."""

from __future__ import annotations

import asyncio
from typing import Any

from server.services.beatmap_plays import BeatmapPlayCounter


class _FakeScores:
    def __init__(self) -> None:
        self.writes: list[tuple[int, int, int]] = []

    async def add_beatmap_plays(self, beatmap_id: int, plays: int, passes: int) -> None:
        self.writes.append((beatmap_id, plays, passes))


class _FakeBeatmaps:
    def __init__(self) -> None:
        self.forgotten: list[list[int]] = []

    async def forget(self, beatmap_ids: list[int]) -> None:
        self.forgotten.append(beatmap_ids)


def _counter(interval: float) -> tuple[BeatmapPlayCounter, _FakeScores, _FakeBeatmaps]:
    scores, beatmaps = _FakeScores(), _FakeBeatmaps()
    repo: Any = scores  # the two methods the counter calls
    return BeatmapPlayCounter(repo, beatmaps, interval=interval), scores, beatmaps  # type: ignore[arg-type]


async def test_plays_within_an_interval_are_one_write() -> None:
    counter, scores, beatmaps = _counter(0.2)
    counter.count(1, True)
    await asyncio.sleep(0.02)
    assert scores.writes == [(1, 1, 1)] and beatmaps.forgotten == [[1]]
    for passed in (True, False, False):
        counter.count(1, passed)
    counter.count(2, True)
    await asyncio.sleep(0.05)
    assert scores.writes == [(1, 1, 1)]  # still inside the interval
    await asyncio.sleep(0.25)
    assert scores.writes == [(1, 1, 1), (1, 3, 1), (2, 1, 1)]
    assert beatmaps.forgotten == [[1], [1, 2]]
    await counter.drain()


async def test_drain_writes_at_once() -> None:
    counter, scores, beatmaps = _counter(30.0)
    counter.count(5, True)
    await asyncio.sleep(0.02)
    counter.count(5, False)
    await asyncio.wait_for(counter.drain(), 1.0)
    assert scores.writes == [(5, 1, 1), (5, 1, 0)]
    assert beatmaps.forgotten == [[5], [5]]
