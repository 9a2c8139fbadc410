"""Notifications: the REST list and where the notification socket lives."""

from __future__ import annotations

import msgspec

from server.models.chat import Notification, NotificationBundle
from server.repositories.notifications import NotificationRepository
from server.repositories.users import UserAccount

_PAGE = 50


class NotificationService:
    """Read a user's notifications."""

    def __init__(self, notifications: NotificationRepository, endpoint: str) -> None:
        self._notifications = notifications
        self._endpoint = endpoint

    async def bundle(self, user: UserAccount) -> NotificationBundle:
        """GET notifications: newest first, with the absolute ws(s):// socket URL."""
        rows = await self._notifications.recent(user.id, _PAGE + 1)
        notifications = [
            Notification(
                id=row.id,
                name=row.name,
                created_at=row.created_at,
                object_type=row.object_type,
                # osu-web sends object_id as a string; lazer declares it so.
                object_id=str(row.object_id),
                source_user_id=row.source_user_id,
                is_read=row.is_read,
                details=msgspec.json.decode(row.details) if row.details else {},
            )
            for row in rows[:_PAGE]
        ]
        return NotificationBundle(
            has_more=len(rows) > _PAGE,
            notifications=notifications,
            unread_count=await self._notifications.unread_count(user.id),
            notification_endpoint=self._endpoint,
        )
