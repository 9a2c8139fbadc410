"""Notifications."""

from __future__ import annotations

from datetime import datetime

import msgspec

from server.db import Database


class NotificationRow(msgspec.Struct, frozen=True):
    """A stored notification; `details` is a JSON object as text."""

    id: int
    name: str
    object_type: str
    object_id: int
    source_user_id: int | None
    details: str
    is_read: bool
    created_at: datetime


class NotificationRepository:
    """SQL for notifications."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def recent(self, user_id: int, limit: int) -> list[NotificationRow]:
        """A user's newest notifications."""
        rows = await self._db.all("fetch_recent_notifications", user_id=user_id, limit=limit)
        return [msgspec.convert(row, NotificationRow, strict=False) for row in rows]

    async def unread_count(self, user_id: int) -> int:
        """How many are unread."""
        return int(await self._db.value("count_unread_notifications", user_id=user_id))

    async def add(
        self,
        *,
        user_id: int,
        name: str,
        object_type: str,
        object_id: int,
        source_user_id: int | None,
        details: str,
        now: datetime,
    ) -> int:
        """Store a notification; returns its id."""
        return await self._db.execute(
            "insert_notification",
            user_id=user_id,
            name=name,
            object_type=object_type,
            object_id=object_id,
            source_user_id=source_user_id,
            details=details,
            now=now,
        )

    async def mark_read(self, user_id: int, notification_id: int) -> int:
        """Mark one notification read; how many changed."""
        return await self._db.rowcount(
            "mark_notification_read", user_id=user_id, notification_id=notification_id
        )

    async def mark_read_by_object(
        self, user_id: int, object_type: str, object_id: int | None
    ) -> int:
        """Mark the notifications about an object (or every object of a type) read."""
        if object_id is None:
            return await self._db.rowcount(
                "mark_notifications_read_by_type", user_id=user_id, object_type=object_type
            )
        return await self._db.rowcount(
            "mark_notifications_read_by_object",
            user_id=user_id,
            object_type=object_type,
            object_id=object_id,
        )
