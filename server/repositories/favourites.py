"""Favourite beatmapsets."""

from __future__ import annotations

from server.db import Database


class FavouriteRepository:
    """SQL for beatmapset favourites."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def beatmapset_ids(self, user_id: int) -> list[int]:
        """A user's favourite beatmapset ids, newest first."""
        rows = await self._db.all("fetch_favourite_beatmapset_ids", user_id=user_id)
        return [int(row["beatmapset_id"]) for row in rows]
