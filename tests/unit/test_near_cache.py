"""The near cache's rules, on the in-process Redis stand-in: caching only while subscribed,
racing reads never store, invalidations cross instances, losing Redis wipes and bypasses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import fakeredis
import pytest
import redis.exceptions

from server.near_cache import NearCache


async def _eventually(check: Callable[[], bool], seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.01)


@pytest.fixture
def redis_server() -> fakeredis.FakeServer:
    return fakeredis.FakeServer()


@pytest.fixture
async def cache(redis_server: fakeredis.FakeServer) -> AsyncIterator[NearCache]:
    near = NearCache(fakeredis.FakeAsyncRedis(server=redis_server))
    await near.start()
    yield near
    await near.stop()


async def test_nothing_is_kept_until_the_subscription_is_live(
    redis_server: fakeredis.FakeServer,
) -> None:
    near = NearCache(fakeredis.FakeAsyncRedis(server=redis_server))
    region = near.region("r", ttl=60)
    region.put("k", "v", region.stamp())
    assert region.get("k") is None
    await near.start()
    try:
        assert near.live
        region.put("k", "v", region.stamp())
        assert region.get("k") == "v"
    finally:
        await near.stop()
    assert region.get("k") is None  # stopped: not live, wiped


async def test_a_read_that_raced_an_invalidation_cannot_store(cache: NearCache) -> None:
    region = cache.region("r", ttl=60)
    stamp = region.stamp()  # a reader starts reading the source...
    await cache.invalidate("r", ["k"])  # ...a writer changes it meanwhile...
    region.put("k", "old", stamp)  # ...the reader's stale value is refused
    assert region.get("k") is None
    region.put("k", "new", region.stamp())  # a read begun after the change may store
    assert region.get("k") == "new"
    # Other keys are not affected by the invalidation of "k".
    region.put("other", 1, stamp)
    assert region.get("other") == 1


async def test_fields_under_a_key_are_dropped_together(cache: NearCache) -> None:
    region = cache.region("boards", ttl=60)
    stamp = region.stamp()
    region.put((1, "osu"), b"page", stamp, ("page", 50))
    region.put((1, "osu"), b"mine", stamp, ("user", 7))
    region.put((2, "osu"), b"page2", stamp, ("page", 50))
    assert region.get((1, "osu"), ("user", 7)) == b"mine"
    await cache.invalidate("boards", [(1, "osu")])
    assert region.get((1, "osu"), ("page", 50)) is None
    assert region.get((1, "osu"), ("user", 7)) is None
    assert region.get((2, "osu"), ("page", 50)) == b"page2"


async def test_entries_expire(cache: NearCache) -> None:
    region = cache.region("short", ttl=0.05)
    region.put("k", "v", region.stamp())
    assert region.get("k") == "v"
    await asyncio.sleep(0.08)
    assert region.get("k") is None


async def test_a_full_region_evicts_its_oldest_key(cache: NearCache) -> None:
    region = cache.region("small", ttl=60, max_keys=3)
    for key in range(4):
        region.put(key, key + 100, region.stamp())
    assert region.get(0) is None
    assert [region.get(k) for k in (1, 2, 3)] == [101, 102, 103]


async def test_invalidations_reach_every_instance(redis_server: fakeredis.FakeServer) -> None:
    a = NearCache(fakeredis.FakeAsyncRedis(server=redis_server))
    b = NearCache(fakeredis.FakeAsyncRedis(server=redis_server))
    await a.start()
    await b.start()
    try:
        region_a, region_b = a.region("r", ttl=60), b.region("r", ttl=60)
        region_a.put((1, "osu"), "a's", region_a.stamp())
        region_b.put((1, "osu"), "b's", region_b.stamp())
        region_b.put("kept", "b's", region_b.stamp())
        await a.invalidate("r", [(1, "osu")])  # tuple keys survive the wire
        assert region_a.get((1, "osu")) is None  # at once on the publisher
        await _eventually(lambda: region_b.get((1, "osu")) is None)
        assert region_b.get("kept") == "b's"
        await a.invalidate_region("r")
        await _eventually(lambda: region_b.get("kept") is None)
    finally:
        await a.stop()
        await b.stop()


async def test_losing_redis_wipes_and_bypasses_until_resubscribed(
    cache: NearCache, redis_server: fakeredis.FakeServer
) -> None:
    region = cache.region("r", ttl=60)
    region.put("k", "v", region.stamp())
    redis_server.connected = False
    await _eventually(lambda: not cache.live)
    assert region.get("k") is None
    region.put("k", "v", region.stamp())  # an outage: invalidations could be missed
    assert region.get("k") is None
    redis_server.connected = True
    await _eventually(lambda: cache.live, seconds=5)
    region.put("k", "v2", region.stamp())
    assert region.get("k") == "v2"


async def test_strict_invalidation_fails_when_it_cannot_publish(
    cache: NearCache, redis_server: fakeredis.FakeServer
) -> None:
    """Revocation must not report success if other instances may not have heard of it."""
    region = cache.region("r", ttl=60)
    redis_server.connected = False
    with pytest.raises(redis.exceptions.ConnectionError):
        await cache.invalidate("r", ["k"], strict=True)
    await cache.invalidate("r", ["k"])  # after a commit: logged, not raised
    assert region.get("k") is None


async def test_a_batch_publishes_once_and_only_its_own_task(
    redis_server: fakeredis.FakeServer,
) -> None:
    """A submission's three invalidations go out as one message at the end of its batch;
    another task's invalidation meanwhile is not held back by it."""
    a = NearCache(fakeredis.FakeAsyncRedis(server=redis_server))
    b = NearCache(fakeredis.FakeAsyncRedis(server=redis_server))
    await a.start()
    await b.start()
    try:
        regions = [b.region(name, ttl=60) for name in ("x", "y", "z")]
        for region in regions:
            region.put(1, "v", region.stamp())
        release = asyncio.Event()

        async def batch() -> None:
            async with a.batched():
                await a.invalidate("x", [1])
                await a.invalidate("y", [1])
                await release.wait()

        task = asyncio.create_task(batch())
        await asyncio.sleep(0.2)
        assert regions[0].get(1) == "v"  # collected, not yet published
        await a.invalidate("z", [1])  # another task: published at once
        await _eventually(lambda: regions[2].get(1) is None)
        assert regions[0].get(1) == "v"
        release.set()
        await task
        await _eventually(lambda: regions[0].get(1) is None and regions[1].get(1) is None)
    finally:
        await a.stop()
        await b.stop()


async def test_read_through_keeps_a_load_unless_an_invalidation_raced_it(
    cache: NearCache,
) -> None:
    region = cache.region("r", ttl=60)
    loads = 0

    async def load() -> str:
        nonlocal loads
        loads += 1
        return f"v{loads}"

    async def racing_load() -> str:
        await cache.invalidate("r", ["raced"])  # the source changed while we read it
        return "stale"

    assert await region.through("k", load) == "v1"
    assert await region.through("k", load) == "v1"  # kept: no second load
    assert await region.through("raced", racing_load) == "stale"  # answered, not kept
    assert region.get("raced") is None

    async def missing() -> None:
        return None

    assert await region.through("absent", missing) is None
    assert region.get("absent") is None


async def test_deployments_on_other_redis_databases_do_not_hear_each_other(
    redis_server: fakeredis.FakeServer,
) -> None:
    """Redis pub/sub ignores the database number; our channels carry it (db<N>:), so a
    server on /2 never drops entries because a server on /1 changed something."""
    one = NearCache(fakeredis.FakeAsyncRedis(server=redis_server, db=1))
    one_again = NearCache(fakeredis.FakeAsyncRedis(server=redis_server, db=1))
    two = NearCache(fakeredis.FakeAsyncRedis(server=redis_server, db=2))
    for near in (one, one_again, two):
        await near.start()
    try:
        same, other = one_again.region("r", ttl=60), two.region("r", ttl=60)
        same.put("k", "v", same.stamp())
        other.put("k", "v", other.stamp())
        await one.invalidate("r", ["k"])
        await _eventually(lambda: same.get("k") is None)
        await asyncio.sleep(0.2)
        assert other.get("k") == "v"
    finally:
        for near in (one, one_again, two):
            await near.stop()


async def test_concurrent_misses_share_one_load(cache: NearCache) -> None:
    """Single flight (issue 17): an entry that expires under load is rebuilt once."""
    region = cache.region("profiles", ttl=60)
    calls = 0
    release = asyncio.Event()

    async def load() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return f"profile#{calls}"

    readers = [asyncio.create_task(region.through(7, load)) for _ in range(20)]
    await asyncio.sleep(0.01)
    release.set()
    assert await asyncio.gather(*readers) == ["profile#1"] * 20
    assert calls == 1
    # Another field of the same key is a different entry with its own load.
    assert await region.through(7, load, field="osu") == "profile#2"


async def test_a_cancelled_leader_hands_the_load_to_a_follower(cache: NearCache) -> None:
    region = cache.region("r", ttl=60)
    started = asyncio.Event()
    calls = 0

    async def load() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            started.set()
            await asyncio.sleep(60)  # the leader's client goes away mid-load
        return "loaded"

    leader = asyncio.create_task(region.through("k", load))
    await started.wait()
    follower = asyncio.create_task(region.through("k", load))
    await asyncio.sleep(0.01)
    leader.cancel()
    assert await follower == "loaded"
    assert calls == 2
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert region.get("k") == "loaded"


async def test_a_failed_load_fails_its_followers_and_is_not_remembered(cache: NearCache) -> None:
    region = cache.region("r", ttl=60)
    release = asyncio.Event()
    calls = 0

    async def load() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        if calls == 1:
            raise LookupError("database went away")
        return "fine"

    readers = [asyncio.create_task(region.through("k", load)) for _ in range(3)]
    await asyncio.sleep(0.01)
    release.set()
    results = await asyncio.gather(*readers, return_exceptions=True)
    assert all(isinstance(r, LookupError) for r in results)
    assert calls == 1
    assert await region.through("k", load) == "fine"  # the next miss loads afresh
