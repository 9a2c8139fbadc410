"""Which instance owns each realtime room: a lease in Redis (see INSTANCES.md).

The owner takes `mp:room:<id>:owner` when it opens the room and renews it while it holds the
room; other instances forward calls for the room to the instance the lease names.
"""

from __future__ import annotations

import logging
from typing import Any

from server.redis_store import REDIS_DOWN

log = logging.getLogger(__name__)


# Extend the lease only while this instance still holds it; take it again if nobody does
# (it was claimed while Redis was down, or lapsed in a Redis outage), so the sweep of rooms
# nobody holds never closes a room this instance serves.
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
if not holder then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


def _key(room_id: int) -> str:
    return f"mp:room:{room_id}:owner"


class RoomLeases:
    """Claim, renew, release and look up room ownership for one instance."""

    def __init__(self, redis: Any, instance_id: str, lease_seconds: float = 30) -> None:
        self._redis = redis
        self.instance_id = instance_id
        self._lease_ms = int(lease_seconds * 1000)
        # How often the owner renews, and how often members elsewhere check the owner.
        self.renew_seconds = lease_seconds / 3

    async def claim(self, room_id: int) -> bool:
        """Take the room's lease; False when another instance holds it. Without Redis the
        room is served here (a single instance needs no lease)."""
        try:
            taken = await self._redis.set(
                _key(room_id), self.instance_id, nx=True, px=self._lease_ms
            )
            if taken:
                return True
            return await self.owner(room_id) == self.instance_id
        except REDIS_DOWN as exc:
            log.warning("multiplayer: room lease unavailable (%s); serving room here", exc)
            return True

    async def owner(self, room_id: int) -> str | None:
        """The instance holding the room's lease, if any."""
        try:
            value = await self._redis.get(_key(room_id))
        except REDIS_DOWN:
            return None
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def unowned(self, room_id: int) -> bool:
        """Whether Redis says no instance holds the room (False when it cannot say)."""
        try:
            return await self._redis.get(_key(room_id)) is None
        except REDIS_DOWN:
            return False

    async def held_by(self, room_id: int, owner: str) -> bool | None:
        """Whether `owner` still holds the room's lease (None: Redis cannot say now)."""
        try:
            value = await self._redis.get(_key(room_id))
        except REDIS_DOWN:
            return None
        held: bool = (value.decode() if isinstance(value, bytes) else value) == owner
        return held

    async def renew(self, room_ids: list[int]) -> None:
        """Extend the leases of the rooms this instance holds."""
        for room_id in room_ids:
            try:
                await self._redis.eval(_RENEW, 1, _key(room_id), self.instance_id, self._lease_ms)
            except REDIS_DOWN as exc:
                log.warning("multiplayer: could not renew room lease (%s)", exc)
                return

    async def take_closing(self, room_id: int) -> bool:
        """Whether this instance is the one to close a room whose owner is gone."""
        try:
            taken = await self._redis.set(
                f"mp:room:{room_id}:closing", self.instance_id, nx=True, px=self._lease_ms * 10
            )
        except REDIS_DOWN:
            return False
        return bool(taken)

    async def release(self, room_id: int) -> None:
        """Give the lease up (the room ended here)."""
        try:
            await self._redis.eval(_RELEASE, 1, _key(room_id), self.instance_id)
        except REDIS_DOWN as exc:
            log.warning("multiplayer: could not release room lease (%s)", exc)
