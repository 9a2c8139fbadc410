"""The Redis connection: a real server when REDIS_URL is set, else an in-process stand-in.

The stand-in is fakeredis (with Lua), so the same commands, scripts and pub/sub run in the
embedded default and in production; state in it lives as long as the process.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.settings import Settings

Redis = redis.Redis

# Redis cannot be reached right now: answered 503 with Retry-After, not 500.
REDIS_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (RedisConnectionError, RedisTimeoutError)


def open_redis(settings: Settings) -> Any:
    """A Redis client for the configured URL, or the in-process stand-in."""
    if settings.redis_url:
        return redis.Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=2,
            socket_timeout=5,
            health_check_interval=30,
        )
    import fakeredis  # imported lazily: production never needs it

    return fakeredis.FakeAsyncRedis()


def channel_prefix(redis: Any) -> str:
    """What this server's pub/sub channel names start with.

    Redis pub/sub ignores the database number: two deployments (or test runs) sharing a
    Redis server on /0 and /1 would hear each other's hub messages and invalidations. On a
    database other than 0 every channel is prefixed `db<N>:`; on 0 the names are bare, as
    other tools listening for `score:processed` expect."""
    pool = getattr(redis, "connection_pool", None)
    database = int(getattr(pool, "connection_kwargs", {}).get("db", 0) or 0)
    return f"db{database}:" if database else ""
