"""Finding users by name (GET search?mode=user)."""

from __future__ import annotations

from server.db import Database


def like_pattern(text: str) -> str:
    """A LIKE pattern matching names that contain `text` (`!` is the escape character)."""
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


class UserSearchRepository:
    """SQL for the user search."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def search(self, name_safe: str, limit: int, offset: int) -> tuple[list[int], int]:
        """Ids of a page of users whose safe name contains `name_safe`, and how many do."""
        pattern = like_pattern(name_safe)
        rows = await self._db.all(
            "search_users", pattern=pattern, exact=name_safe, limit=limit, offset=offset
        )
        total = await self._db.value("count_users_matching", pattern=pattern)
        return [int(r["id"]) for r in rows], int(total or 0)
