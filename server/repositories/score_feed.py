"""The recent-scores firehose (GET scores)."""

from __future__ import annotations

from server.db import Database


class ScoreFeedRepository:
    """SQL for the firehose."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def latest(self, ruleset_id: int | None, limit: int) -> list[int]:
        """Ids of the newest ranked passes, newest first."""
        if ruleset_id is None:
            rows = await self._db.all("fetch_latest_feed_ids", limit=limit)
        else:
            rows = await self._db.all(
                "fetch_latest_feed_ids_in_ruleset", ruleset_id=ruleset_id, limit=limit
            )
        return [int(r["id"]) for r in rows]

    async def after(self, ruleset_id: int | None, after_id: int, limit: int) -> list[int]:
        """Ids of ranked passes after `after_id`, oldest first."""
        if ruleset_id is None:
            rows = await self._db.all("fetch_feed_ids_after", after_id=after_id, limit=limit)
        else:
            rows = await self._db.all(
                "fetch_feed_ids_after_in_ruleset",
                ruleset_id=ruleset_id,
                after_id=after_id,
                limit=limit,
            )
        return [int(r["id"]) for r in rows]

    async def max_id(self) -> int:
        """The newest score id (0 without scores)."""
        return int(await self._db.value("fetch_max_score_id") or 0)
