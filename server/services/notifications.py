"""Notifications: the REST list and where the notification socket lives."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import msgspec

from server.models.chat import (
    Notification,
    NotificationBundle,
    NotificationIdentity,
    NotificationsRead,
)
from server.redis_store import REDIS_DOWN
from server.repositories.notifications import NotificationRepository
from server.repositories.users import UserAccount
from server.services.socket_relay import user_channel

log = logging.getLogger(__name__)

_PAGE = 50
_MAX_MARK = 100
_encoder = msgspec.json.Encoder()


class SocketEvent(msgspec.Struct, frozen=True, omit_defaults=True):
    """One notification-socket message, `{"event", "data"}`, as osu-web's broadcasts reach
    ppy/osu-notification-server and it relays them. `error` is left out unless set: lazer
    reads it as optional, and osu.py drops every message that has the key at all."""

    event: str
    data: Any
    error: str | None = None


class NotificationService:
    """Read a user's notifications."""

    def __init__(self, notifications: NotificationRepository, redis: Any, endpoint: str) -> None:
        self._notifications = notifications
        self._redis = redis
        self._endpoint = endpoint

    async def push(self, user_id: int, event: str, data: Any) -> int:
        """Send an event to the user's open sockets on every instance; returns listeners."""
        return int(
            await self._redis.publish(
                user_channel(self._redis, user_id), _encoder.encode(SocketEvent(event, data))
            )
        )

    async def push_many(self, user_ids: Iterable[int], event: str, data: Any) -> bool:
        """Send one event to several users' sockets on every instance, encoded once and
        published in one round trip. Best effort: what it announces is already committed,
        and a client that missed it catches up over REST when its socket reconnects (the
        socket closes when its Redis subscription breaks). False when Redis failed."""
        payload = _encoder.encode(SocketEvent(event, data))
        channels = [user_channel(self._redis, uid) for uid in dict.fromkeys(user_ids)]
        if not channels:
            return True
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for channel in channels:
                    pipe.publish(channel, payload)
                await pipe.execute()
        except REDIS_DOWN as exc:
            log.warning("%s to %d user(s) not published: %s", event, len(channels), exc)
            return False
        return True

    async def notify(
        self,
        user: UserAccount,
        *,
        name: str,
        object_type: str,
        object_id: int,
        source_user_id: int | None,
        details: dict[str, Any],
    ) -> Notification:
        """Store a notification and push it as a `new` event (after the row is written)."""
        now = datetime.now(UTC).replace(microsecond=0)
        notification_id = await self._notifications.add(
            user_id=user.id,
            name=name,
            object_type=object_type,
            object_id=object_id,
            source_user_id=source_user_id,
            details=_encoder.encode(details).decode(),
            now=now.replace(tzinfo=None),
        )
        notification = Notification(
            id=notification_id,
            name=name,
            created_at=now,
            object_type=object_type,
            object_id=str(object_id),
            source_user_id=source_user_id,
            is_read=False,
            details=details,
        )
        await self.push(user.id, "new", notification)
        return notification

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

    async def mark_read(self, user: UserAccount, identities: list[NotificationIdentity]) -> int:
        """POST notifications/mark-read: by id, or by object; tells the user's sockets
        (`read`). Returns how many were marked."""
        count = 0
        for identity in identities[:_MAX_MARK]:
            if identity.id is not None:
                count += await self._notifications.mark_read(user.id, identity.id)
            elif identity.object_type is not None:
                count += await self._notifications.mark_read_by_object(
                    user.id, identity.object_type, identity.object_id
                )
        if identities:
            event = NotificationsRead(identities[:_MAX_MARK], count, datetime.now(UTC))
            await self.push_many([user.id], "read", event)
        return count
