"""The metadata hub's daily challenge poll outlives a database outage: a failed poll is
logged and the next one runs (queries raise our translated DatabaseError kinds, which the
poll's DATABASE_ERRORS must name)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, cast

from server.db import DatabaseUnavailable
from server.hubs.metadata import MetadataHub


class _FlakyDailyChallenge:
    """No daily challenge room; the second lookup finds the database down."""

    def __init__(self) -> None:
        self.calls = 0

    async def current_room(self, now: datetime) -> int | None:
        self.calls += 1
        if self.calls == 2:
            raise DatabaseUnavailable("connection refused")
        return None


async def test_the_poll_goes_on_after_the_database_was_unavailable() -> None:
    daily = _FlakyDailyChallenge()
    unused = cast(Any, None)  # the poll touches none of these while the room stays None
    hub = MetadataHub(
        bus=unused,
        redis=unused,
        relations=unused,
        profiles=unused,
        playlists=unused,
        daily_challenge=cast(Any, daily),
        daily_poll_seconds=1,
    )
    await hub.start()  # the first lookup
    try:
        async with asyncio.timeout(10):
            while daily.calls < 3:  # the failed second poll, then a third
                await asyncio.sleep(0.05)
    finally:
        await hub.stop()
    assert daily.calls >= 3
