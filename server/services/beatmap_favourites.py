"""Favouriting beatmapsets: the row, the set's recounted favourite count, and the caches that
show either."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from server.db import Database
from server.services.beatmap_ingest import utc_now
from server.services.profile_cache import ProfileCache

if TYPE_CHECKING:
    from server.services.beatmaps import BeatmapService


class FavouriteOutcome(Enum):
    """Expected failures of a favourite request."""

    NOT_FOUND = "not_found"
    BAD_ACTION = "bad_action"


class BeatmapFavourites:
    """Favourite and unfavourite."""

    def __init__(self, db: Database, beatmaps: BeatmapService, profiles: ProfileCache) -> None:
        self._db = db
        self._beatmaps = beatmaps
        self._repo = beatmaps.repo
        self._ingest = beatmaps.ingest
        self._profiles = profiles

    async def favourite(
        self, user_id: int, beatmapset_id: int, action: str
    ) -> int | FavouriteOutcome:
        """Favourite or unfavourite a set; returns its new favourite count."""
        if action not in ("favourite", "unfavourite"):
            return FavouriteOutcome.BAD_ACTION
        if await self._beatmaps.beatmapset_by_id(beatmapset_id) is None:
            return FavouriteOutcome.NOT_FOUND
        async with self._db.transaction():
            present = await self._repo.is_favourite(user_id, beatmapset_id)
            if action == "favourite" and not present:
                await self._repo.add_favourite(user_id, beatmapset_id, utc_now())
            elif action == "unfavourite" and present:
                await self._repo.remove_favourite(user_id, beatmapset_id)
            # Recounted from the rows in the same transaction, so the count cannot drift.
            count = await self._repo.recount_favourites(beatmapset_id)
        await self._ingest.forget_cached(await self._repo.beatmaps_of_set(beatmapset_id))
        await self._profiles.forget(user_id)  # favourite_beatmapset_count
        return count
