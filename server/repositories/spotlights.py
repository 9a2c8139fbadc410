"""Spotlights, their beatmapsets and the rankings over them; the kudosu ranking."""

from __future__ import annotations

from datetime import datetime

import msgspec

from server.db import Database


class SpotlightRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A stored spotlight."""

    id: int
    name: str
    type: str
    mode_specific: bool
    start_date: datetime
    end_date: datetime


class SpotlightStanding(msgspec.Struct, frozen=True):
    """A player's place in a spotlight: summed best scores over how many beatmaps."""

    user_id: int
    total: int
    beatmaps: int


class SpotlightRepository:
    """SQL for spotlights and the kudosu ranking."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def spotlights(self) -> list[SpotlightRecord]:
        """Every spotlight, newest first."""
        rows = await self._db.all("fetch_spotlights")
        return [msgspec.convert(r, SpotlightRecord, strict=False) for r in rows]

    async def set_ids(self, spotlight_id: int, ruleset_id: int) -> list[int]:
        """A spotlight's beatmapsets in one ruleset."""
        rows = await self._db.all(
            "fetch_spotlight_set_ids", spotlight_id=spotlight_id, ruleset_id=ruleset_id
        )
        return [int(r["beatmapset_id"]) for r in rows]

    async def standings(
        self, spotlight: SpotlightRecord, ruleset_id: int
    ) -> list[SpotlightStanding]:
        """The top 50 players of a spotlight in one ruleset."""
        rows = await self._db.all(
            "fetch_spotlight_ranking",
            spotlight_id=spotlight.id,
            ruleset_id=ruleset_id,
            starts=spotlight.start_date,
            ends=spotlight.end_date,
        )
        return [
            SpotlightStanding(int(r["user_id"]), int(r["total"]), int(r["beatmaps"])) for r in rows
        ]

    async def kudosu_ranking(self, limit: int, offset: int) -> list[tuple[int, int]]:
        """(user id, kudosu total) of users who received any, most first."""
        rows = await self._db.all("fetch_kudosu_ranking", limit=limit, offset=offset)
        return [(int(r["user_id"]), int(r["total"])) for r in rows]
