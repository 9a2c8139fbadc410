"""osu! API v1 keys, stored by digest."""

from __future__ import annotations

from datetime import datetime

from server.db import Database


class ApiKeyRepository:
    """SQL for v1 keys."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(
        self, user_id: int, key_hash: str, app_name: str, app_url: str, now: datetime
    ) -> None:
        """Store a key digest; a second key for the user raises a duplicate-key error."""
        await self._db.execute(
            "insert_api_key",
            user_id=user_id,
            key_hash=key_hash,
            app_name=app_name,
            app_url=app_url,
            now=now,
        )

    async def user_id(self, key_hash: str) -> int | None:
        """The owner of a key digest."""
        value = await self._db.value("fetch_api_key_user", key_hash=key_hash)
        return None if value is None else int(value)

    async def exists(self, user_id: int) -> bool:
        """Whether the user holds a key."""
        return bool(await self._db.value("fetch_api_key_exists", user_id=user_id))

    async def delete(self, user_id: int) -> bool:
        """Revoke the user's key; whether there was one."""
        return await self._db.rowcount("delete_api_key", user_id=user_id) > 0
