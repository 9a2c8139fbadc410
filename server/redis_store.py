"""The Redis connection: a real server when REDIS_URL is set, else an in-process stand-in.

The stand-in is fakeredis (with Lua), so the same commands, scripts and pub/sub run in the
embedded default and in production; state in it lives as long as the process.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as redis

from server.settings import Settings

Redis = redis.Redis


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
