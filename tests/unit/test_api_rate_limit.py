"""S-RL-1's API limiter on the in-process Redis: exact for one instance, shared by several
through one counter, and a per-process share while Redis is down (S-RL-4)."""

from __future__ import annotations

import time

import fakeredis
import pytest

from server.services.limits import ApiRateLimiter


@pytest.fixture(autouse=True)
def _not_at_a_window_edge() -> None:
    # The limit is per clock minute; a test that straddles one would see a fresh allowance.
    if time.time() % 60 > 57:
        time.sleep(60 - time.time() % 60 + 0.05)


async def _spend(limiter: ApiRateLimiter, key: str, n: int) -> list[bool]:
    return [(await limiter.hit(key)).allowed for _ in range(n)]


async def test_one_instance_counts_exactly() -> None:
    limiter = ApiRateLimiter(fakeredis.FakeAsyncRedis(), 7, chunk=3)
    remaining = []
    for _ in range(7):
        allowance = await limiter.hit("token:a")
        assert allowance.allowed and allowance.limit == 7
        remaining.append(allowance.remaining)
    assert remaining == [6, 5, 4, 3, 2, 1, 0]
    refused = await limiter.hit("token:a")
    assert not refused.allowed and refused.remaining == 0
    assert 1 <= refused.retry_after <= 60
    assert (await limiter.hit("token:b")).allowed  # each key has its own allowance


async def test_instances_share_one_allowance() -> None:
    server = fakeredis.FakeServer()
    a = ApiRateLimiter(fakeredis.FakeAsyncRedis(server=server), 40, chunk=20)
    b = ApiRateLimiter(fakeredis.FakeAsyncRedis(server=server), 40, chunk=20)
    assert await _spend(a, "k", 20) == [True] * 20
    assert await _spend(b, "k", 20) == [True] * 20
    assert await _spend(a, "k", 1) == [False]
    assert await _spend(b, "k", 1) == [False]


async def test_a_redis_outage_leaves_each_process_its_share() -> None:
    server = fakeredis.FakeServer()
    limiter = ApiRateLimiter(fakeredis.FakeAsyncRedis(server=server), 10, chunk=2, instances=2)
    server.connected = False
    assert await _spend(limiter, "k", 6) == [True] * 5 + [False]


async def test_zero_turns_it_off() -> None:
    assert not ApiRateLimiter(fakeredis.FakeAsyncRedis(), 0).enabled
