"""A beatmap's play and pass counts, added after the score's commit, a batch at a time.

Every play of a beatmap adds to that beatmap's one row. Inside the submission's transaction
that row lock would be held until the commit, serialising every submission on a popular map
(all of a room's players at once, everyone on a new ranked map) behind it. The counts are the
map's public counters, not the player's statistics (those stay in the transaction), so they
are added after the commit instead, off the request path: the first play is written at once,
and plays counted within the next second are summed per beatmap into one UPDATE each, after
which the beatmaps' cached rows are dropped on every instance. Writing at most once a second
keeps a popular map's cached row alive: a write per play would make every submission read
the row again. A process that dies between a commit and the update loses that second's
counts; shutdown drains what is pending at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from typing import Final

from server.db import DatabaseError
from server.repositories.beatmaps import BeatmapRepository
from server.repositories.scores import ScoreRepository

log = logging.getLogger(__name__)

# Counts are written at most this often (each write drops the beatmaps' cached rows).
WRITE_INTERVAL_SECONDS: Final = 1.0


class BeatmapPlayCounter:
    """Pending play/pass counts per beatmap and the task that writes them."""

    def __init__(
        self,
        repo: ScoreRepository,
        beatmaps: BeatmapRepository,
        interval: float = WRITE_INTERVAL_SECONDS,
    ) -> None:
        self._repo = repo
        self._beatmaps = beatmaps
        self._interval = interval
        self._pending: dict[int, list[int]] = {}  # beatmap id -> [plays, passes]
        self._writer: asyncio.Task[None] | None = None
        self._hurry = asyncio.Event()  # set while draining: no waiting between writes

    def count(self, beatmap_id: int, passed: bool) -> None:
        """One more play of the beatmap (a committed score); never waits."""
        counts = self._pending.setdefault(beatmap_id, [0, 0])
        counts[0] += 1
        counts[1] += int(passed)
        if self._writer is None or self._writer.done():
            # A fresh context: not the request's, whose near-cache batch (if any) would
            # swallow the invalidation this task publishes.
            self._writer = asyncio.create_task(
                self._write(), name="beatmap-play-counts", context=contextvars.Context()
            )

    async def drain(self) -> None:
        """Write every counted play now and wait until it is written (shutdown, tests)."""
        self._hurry.set()
        try:
            while self._writer is not None and not self._writer.done():
                await asyncio.wait([self._writer])
        finally:
            self._hurry.clear()

    async def _write(self) -> None:
        # A bug ends this task (asyncio logs it); the next count starts another.
        while self._pending:
            batch, self._pending = self._pending, {}
            written: list[int] = []
            for beatmap_id, (plays, passes) in batch.items():
                try:
                    await self._repo.add_beatmap_plays(beatmap_id, plays, passes)
                    written.append(beatmap_id)
                except DatabaseError:
                    log.warning(
                        "could not add %d play(s) to beatmap %s", plays, beatmap_id, exc_info=True
                    )
            if written:  # an invalidation that cannot be published is logged by the cache
                await self._beatmaps.forget(written)
            # The plays of the next interval gather into the next batch; a count() meanwhile
            # finds this task running and starts none.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._hurry.wait(), self._interval)
