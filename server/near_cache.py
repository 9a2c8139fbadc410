"""An in-process cache in front of Redis and SQL for the hot reads, coherent across instances.

lazer asks for the same few things over and over (its own token on every request, the
beatmap and leaderboard it is looking at, its own profile after every play). Even a cached
answer costs Redis and SQL round trips, and each round trip costs more Python than the
whole rest of the request. So hot answers are also kept in this process.

Coherence: a change is invalidated here at once and published on one Redis channel before
the change's request returns; every instance listens and drops what it holds. An instance
caches only while its subscription is live: losing it (Redis restarted, network cut) clears
everything and bypasses the cache until the subscription is back, so a missed message can
never leave a stale entry. A read that raced an invalidation cannot store what it read
(`stamp`/`put`). Every entry also has a lifetime, the bound for data that changes without an
invalidation (global ranks move when other players submit; online flags).

In the embedded default the channel runs through the in-process Redis stand-in.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from typing import Any, Final, TypeVar

import msgspec

from server.redis_store import REDIS_DOWN, channel_prefix

log = logging.getLogger(__name__)
T = TypeVar("T")

CHANNEL: Final = "near-cache:invalidate"
_POLL_SECONDS: Final = 0.05
_MAX_BACKOFF_SECONDS: Final = 5.0
# Per-key invalidation marks kept to refuse racing puts; past this many, the whole region's
# older reads are refused instead (cheap and still correct).
_MAX_MARKS: Final = 10_000


class _Drop(msgspec.Struct, frozen=True, array_like=True):
    region: str
    keys: list[Any] | None  # msgpack-able keys (lists for tuples); None: the whole region


class _Invalidation(msgspec.Struct, frozen=True, array_like=True):
    origin: str
    drops: list[_Drop]


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(_Invalidation)
# The invalidations a task is collecting into one message (see NearCache.batched); per
# task, so a batch never holds back another request's invalidations.
_batch: contextvars.ContextVar[list[_Drop] | None] = contextvars.ContextVar(
    "near_cache_batch", default=None
)


class _Abandoned(Exception):
    """A single-flight load whose leader was cancelled before it finished."""


def _wire_key(key: Hashable) -> Any:
    return list(key) if isinstance(key, tuple) else key


def _local_key(raw: Any) -> Hashable:
    return tuple(raw) if isinstance(raw, list) else raw


class Region:
    """One named keyspace: entries of `field → value` under a key, with a lifetime.

    A key groups what one invalidation drops together (a leaderboard's pages for every
    limit and every viewer's own entry; a user's profile for every ruleset)."""

    def __init__(self, owner: NearCache, name: str, ttl: float, max_keys: int) -> None:
        self._owner = owner
        self.name = name
        self._ttl = ttl
        self._max_keys = max_keys
        self._max_fields = 1024
        self._entries: dict[Hashable, tuple[float, dict[Hashable, Any]]] = {}
        self._version = 0
        self._marks: dict[Hashable, int] = {}
        self._floor = 0  # reads stamped before this version may not store
        self._flights: dict[tuple[Hashable, Hashable], asyncio.Future[Any]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, field: Hashable = None) -> Any | None:
        """The cached value, or None (missing, expired, or the cache is not live)."""
        entry = self._entries.get(key)
        if entry is None or not self._owner.live:
            self.misses += 1
            return None
        expires, fields = entry
        if expires <= time.monotonic():
            del self._entries[key]
            self.misses += 1
            return None
        value = fields.get(field)
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    async def through(
        self, key: Hashable, load: Callable[[], Awaitable[T | None]], field: Hashable = None
    ) -> T | None:
        """The cached value, else `load()`'s, kept unless an invalidation raced the load
        (None is never kept: a miss stays a miss).

        Concurrent misses on one entry share one load (single flight): when an entry
        expires under load, every request for it would otherwise rebuild it at once, and the
        rebuilds queue behind each other on the event loop (a p99 a hundred times the p50)."""
        flight = (key, field)
        while True:
            found: T | None = self.get(key, field)
            if found is not None:
                return found
            leader = self._flights.get(flight)
            if leader is None:
                break
            try:
                # Shielded: a follower that gives up must not cancel the leader's load.
                shared: T | None = await asyncio.shield(leader)
                return shared
            except _Abandoned:
                continue  # the leader was cancelled mid-load; one of us loads instead
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._flights[flight] = future
        try:
            stamp = self.stamp()
            value = await load()
        except BaseException as exc:
            # Followers see the leader's error; a cancelled leader hands the load on.
            future.set_exception(exc if isinstance(exc, Exception) else _Abandoned())
            future.exception()  # retrieved: nobody may be waiting to read it
            raise
        else:
            future.set_result(value)
            if value is not None:
                self.put(key, value, stamp, field)
            return value
        finally:
            if self._flights.get(flight) is future:
                del self._flights[flight]

    def stamp(self) -> int:
        """Take before reading the source; pass to `put` so a racing invalidation wins."""
        return self._version

    def put(self, key: Hashable, value: Any, stamp: int, field: Hashable = None) -> None:
        """Keep `value` unless the key was invalidated after `stamp` was taken."""
        if not self._owner.live or stamp < self._floor or self._marks.get(key, -1) > stamp:
            return
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            if len(self._entries) >= self._max_keys:
                # Oldest first: dicts keep insertion order.
                del self._entries[next(iter(self._entries))]
            entry = (now + self._ttl, {})
            self._entries[key] = entry
        fields = entry[1]
        if len(fields) >= self._max_fields:
            fields.clear()
        fields[field] = value

    def drop(self, keys: list[Hashable]) -> None:
        """Forget these keys here (no publishing: see NearCache.invalidate)."""
        self._version += 1
        for key in keys:
            self._entries.pop(key, None)
            self._marks[key] = self._version
        if len(self._marks) > _MAX_MARKS:
            self._marks.clear()
            self._floor = self._version

    def clear(self) -> None:
        """Forget everything and refuse every read already under way."""
        self._version += 1
        self._entries.clear()
        self._marks.clear()
        self._floor = self._version


class NearCache:
    """The regions of one process and the Redis subscription that keeps them coherent."""

    def __init__(self, redis: Any, enabled: bool = True) -> None:
        self._redis = redis
        self._channel = channel_prefix(redis) + CHANNEL
        self._enabled = enabled
        self._regions: dict[str, Region] = {}
        self.instance_id = secrets.token_hex(8)
        self.live = False
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._subscribed = asyncio.Event()

    def lookup_counts(self) -> dict[str, tuple[int, int]]:
        """Hits and misses so far, by region (for the metrics)."""
        return {name: (region.hits, region.misses) for name, region in self._regions.items()}

    def region(self, name: str, ttl: float, max_keys: int = 10_000) -> Region:
        """The region called `name` (created on first use)."""
        region = self._regions.get(name)
        if region is None:
            region = self._regions[name] = Region(self, name, ttl, max_keys)
        return region

    async def start(self) -> None:
        """Subscribe; caching starts once the subscription is live."""
        if not self._enabled:
            return
        self._task = asyncio.create_task(self._listen(), name="near-cache-listen")
        # Normally immediate; a Redis that is down must not hold up start-up.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), 2)

    async def stop(self) -> None:
        """Stop listening and stop caching."""
        self._stopping = True
        self._set_live(False)
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), 2 * _POLL_SECONDS + 1)
            self._task.cancel()
            await asyncio.wait([self._task], timeout=2)
            self._task = None

    async def invalidate(self, region: str, keys: list[Hashable], *, strict: bool = False) -> None:
        """Drop `keys` here and on every other instance, before the caller's change returns.

        After a commit, failures are logged, not raised (strict=False): an instance that
        cannot publish can usually not be heard by the others' subscriptions either, and
        those bypass their caches while cut off; the entries' lifetime bounds the rest.
        Revocation passes strict=True and fails its request instead."""
        await self.invalidate_many([(region, keys)], strict=strict)

    async def invalidate_many(
        self, drops: list[tuple[str, list[Hashable]]], *, strict: bool = False
    ) -> None:
        """Several regions' keys in one message (a submission changes a board, a beatmap's
        play count and a profile at once)."""
        wanted = [(region, keys) for region, keys in drops if keys]
        if not wanted:
            return
        for region, keys in wanted:
            self.region_drop(region, keys)
        wire = [_Drop(region, [_wire_key(k) for k in keys]) for region, keys in wanted]
        pending = _batch.get()
        if pending is not None and not strict:
            pending.extend(wire)
            return
        await self._publish(_Invalidation(self.instance_id, wire), strict=strict)

    @contextlib.asynccontextmanager
    async def batched(self) -> AsyncIterator[None]:
        """Collect this task's invalidations and publish them as one message at the end
        (local drops still happen at once). For a change that touches several regions."""
        if _batch.get() is not None:
            yield
            return
        pending: list[_Drop] = []
        token = _batch.set(pending)
        try:
            yield
        finally:
            _batch.reset(token)
            if pending:
                await self._publish(_Invalidation(self.instance_id, pending), strict=False)

    async def invalidate_region(self, region: str) -> None:
        """Drop a whole region here and on every other instance (bulk changes: recalc)."""
        self.region_drop(region, None)
        await self._publish(_Invalidation(self.instance_id, [_Drop(region, None)]), strict=False)

    async def _publish(self, message: _Invalidation, *, strict: bool) -> None:
        data = _encoder.encode(message)
        try:
            try:
                await self._redis.publish(self._channel, data)
            except REDIS_DOWN:
                # A pool may hold a connection Redis closed; one retry gets a fresh one.
                await self._redis.publish(self._channel, data)
        except REDIS_DOWN:
            if strict:
                raise
            regions = ", ".join(drop.region for drop in message.drops)
            log.warning("near cache: could not publish an invalidation of %s", regions)

    def region_drop(self, region: str, keys: list[Hashable] | None) -> None:
        """Drop keys (None: all) from a region of this process only."""
        found = self._regions.get(region)
        if found is None:
            return
        if keys is None:
            found.clear()
        else:
            found.drop(keys)

    def _set_live(self, live: bool) -> None:
        # Both ways the slate is wiped: while cut off, invalidations may have been missed.
        for region in self._regions.values():
            region.clear()
        self.live = live

    async def _listen(self) -> None:
        backoff = 0.2
        while not self._stopping:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self._set_live(True)
                self._subscribed.set()
                backoff = 0.2
                while not self._stopping:
                    message = await pubsub.get_message(timeout=_POLL_SECONDS)
                    if message is not None and message.get("type") == "message":
                        self._on_message(message["data"])
            except asyncio.CancelledError:
                raise
            except REDIS_DOWN as exc:  # a dead Redis must never end the listener
                if self.live:
                    log.warning("near cache: subscription lost (%s); bypassing the cache", exc)
                self._set_live(False)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
            finally:
                self._set_live(False)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _on_message(self, data: bytes) -> None:
        try:
            message = _decoder.decode(data)
        except msgspec.DecodeError:
            log.warning("near cache: undecodable invalidation")
            return
        if message.origin != self.instance_id:
            for drop in message.drops:
                keys = None if drop.keys is None else [_local_key(k) for k in drop.keys]
                self.region_drop(drop.region, keys)
