"""At-least-once delivery of Redis pub/sub messages that announce committed changes
(reliability.md §2.1, beyond osu-web, which pushes to Redis after the commit and loses the
message when that push fails).

The message is written to the outbox table in the transaction of the change. After the
commit the writer publishes it and deletes the row (a score submission hands it to
`deliver_soon`, which does that off the request path: what queues meanwhile is published in
one pipelined round trip and its rows deleted in one statement); if Redis is down the row
stays, and the relay (a scheduled job, server/jobs.py) publishes it later. A message can
arrive twice (a relay or writer that published but died before the delete, or two relays
racing past the lock's expiry): subscribers must treat a repeat as harmless, as
`score:processed` readers do.
"""

from __future__ import annotations

import asyncio
import contextvars
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
        self._soon: list[tuple[int, str, bytes]] = []
        self._sender: asyncio.Task[None] | None = None

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

    def deliver_soon(self, entry_id: int, channel: str, payload: bytes) -> None:
        """`deliver` off the caller's path (never raises, never waits): messages queued
        while a send is in flight go together in the next one."""
        self._soon.append((entry_id, channel, payload))
        if self._sender is None or self._sender.done():
            # A fresh context: not the request's (its near-cache batch, its log fields).
            self._sender = asyncio.create_task(
                self._send_soon(), name="outbox-deliver", context=contextvars.Context()
            )

    async def drain(self) -> None:
        """Wait until what `deliver_soon` queued is sent (shutdown, tests)."""
        while self._sender is not None and not self._sender.done():
            await asyncio.wait([self._sender])

    async def _send_soon(self) -> None:
        # A bug ends this task (asyncio logs it); the next deliver_soon starts another, and
        # the relay publishes what the failed batch left in the table.
        while self._soon:
            batch, self._soon = self._soon, []
            await self._deliver_many(batch)

    async def _deliver_many(self, batch: list[tuple[int, str, bytes]]) -> None:
        with best_effort(log, "publishing %d message(s) failed; the outbox relay will retry",
                         len(batch)) as sent:  # fmt: skip
            async with self._redis.pipeline(transaction=False) as pipe:
                for _, channel, payload in batch:
                    pipe.publish(self._prefix + channel, payload)
                await pipe.execute()
        if sent.failed:
            return
        try:
            await self._repo.remove_many([entry_id for entry_id, _, _ in batch])
        except DatabaseError:  # published; at worst the relay publishes them once more
            log.warning("could not drop %d outbox entries", len(batch), exc_info=True)

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
