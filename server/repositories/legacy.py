"""The few reads only osu! API v1 makes: its beatmap listing filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from pypika import MySQLQuery, Order, Parameter, SQLLiteQuery, Table

from server.db import Database
from server.repositories.beatmaps import BeatmapRecord

_beatmaps = Table("beatmaps")
_sets = Table("beatmapsets")


class LegacyBeatmapFilter(msgspec.Struct, frozen=True, kw_only=True):
    """get_beatmaps' filters; every one given must hold."""

    beatmap_id: int | None = None
    beatmapset_id: int | None = None
    checksum: str | None = None
    creator_id: int | None = None
    # Ranked (or loved, qualified...) after this; also set when no other filter is, so a
    # bare request lists ranked maps from the oldest, as crawlers page through v1.
    ranked_since: datetime | None = None
    mode: int | None = None
    with_converts: bool = False
    limit: int = 500


class LegacyRepository:
    """SQL for v1's own listings."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def beatmaps(self, flt: LegacyBeatmapFilter) -> list[BeatmapRecord]:
        """Beatmaps passing the filter, oldest ranked first (then by id)."""
        query_class = MySQLQuery if self._db.dialect == "mysql" else SQLLiteQuery
        params: dict[str, Any] = {"limit": flt.limit}
        query = (
            query_class.from_(_beatmaps)
            .join(_sets)
            .on(_sets.id == _beatmaps.beatmapset_id)
            .select(_beatmaps.star)
        )
        if flt.beatmap_id is not None:
            params["beatmap_id"] = flt.beatmap_id
            query = query.where(_beatmaps.id == Parameter(":beatmap_id"))
        if flt.beatmapset_id is not None:
            params["beatmapset_id"] = flt.beatmapset_id
            query = query.where(_beatmaps.beatmapset_id == Parameter(":beatmapset_id"))
        if flt.checksum is not None:
            params["checksum"] = flt.checksum
            query = query.where(_beatmaps.checksum == Parameter(":checksum"))
        if flt.creator_id is not None:
            params["creator_id"] = flt.creator_id
            query = query.where(_sets.user_id == Parameter(":creator_id"))
        if flt.ranked_since is not None:
            params["since"] = flt.ranked_since
            query = query.where(_sets.ranked_date > Parameter(":since"))
        if flt.mode is not None:
            params["mode"] = flt.mode
            if flt.with_converts:
                params["convert_from"] = 0
                query = query.where(
                    (_beatmaps.mode == Parameter(":mode"))
                    | (_beatmaps.mode == Parameter(":convert_from"))
                )
            else:
                query = query.where(_beatmaps.mode == Parameter(":mode"))
        query = (
            query.orderby(_sets.ranked_date, order=Order.asc)
            .orderby(_beatmaps.id, order=Order.asc)
            .limit(Parameter(":limit"))  # type: ignore[arg-type]
        )
        rows = await self._db.all_dynamic(str(query), **params)
        return [msgspec.convert(row, BeatmapRecord, strict=False) for row in rows]
