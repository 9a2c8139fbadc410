"""At-least-once delivery of Redis pub/sub messages that announce committed changes
(reliability.md §2.1, beyond osu-web, which pushes to Redis after the commit and loses the
message when that push fails).

The message is written to the outbox table in the transaction of the change. After the
commit the writer publishes it and deletes the row; if Redis is down the row stays, and the
relay (a scheduled job, server/jobs.py) publishes it later. A message can arrive twice (a
relay that published but died before the delete, or two relays racing past the lock's
expiry): subscribers must treat a repeat as harmless, as `score:processed` readers do.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from server.db import DatabaseError
from server.redis_store import best_effort, channel_prefix
from server.repositories.outbox import OutboxRepository

log = logging.getLogger(__name__)

_RELAY_LOCK: Final = "outbox:relay"
_RELAY_LOCK_SECONDS: Final = 60
# KEYS: lock. ARGV: token. Deletes the lock only if this relay still holds it.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Outbox:
    """Queue messages with a transaction; publish them once committed, or later."""

    def __init__(self, repo: OutboxRepository, redis: Any) -> None:
        self._repo = repo
        self._redis = redis
        self._prefix = channel_prefix(redis)
        self._release = redis.register_script(_RELEASE)

    async def depth(self) -> int:
        """How many messages wait to be published."""
        return await self._repo.depth()

    async def add(self, channel: str, payload: bytes) -> int:
        """Queue a message inside the caller's transaction; returns its id."""
        return await self._repo.add(channel, payload.decode(), _now())

    async def deliver(self, entry_id: int, channel: str, payload: bytes) -> bool:
        """Publish a committed message and forget it; on failure it stays for the relay
        (never raises: the change it announces is already committed)."""
        with best_effort(log, "publishing %s failed; the outbox relay will retry", channel) as sent:
            await self._redis.publish(self._prefix + channel, payload)
        if sent.failed:
            return False
        try:
            await self._repo.remove(entry_id)
        except DatabaseError:  # published; at worst the relay publishes it once more
            log.warning("could not drop outbox entry %s", entry_id, exc_info=True)
        return True

    async def relay(self, *, older_than: float = 30.0, batch: int = 500) -> int:
        """Publish messages left over for longer than `older_than` seconds (their writer
        failed, or died after the commit); returns how many were published. One instance
        relays at a time (a Redis lock); a publish failure stops the round."""
        token = secrets.token_hex(16)
        with best_effort(log, "outbox relay: no lock") as locking:
            if not await self._redis.set(_RELAY_LOCK, token, nx=True, ex=_RELAY_LOCK_SECONDS):
                return 0
        if locking.failed:
            return 0
        delivered = 0
        try:
            before = _now() - timedelta(seconds=older_than)
            for entry in await self._repo.due(before, batch):
                if not await self.deliver(entry.id, entry.channel, entry.payload.encode()):
                    break
                delivered += 1
        finally:
            with best_effort(log, "outbox relay: lock not released (it expires)"):
                await self._release(keys=[_RELAY_LOCK], args=[token])
        if delivered:
            log.info("outbox relay published %d message(s)", delivered)
        return delivered
