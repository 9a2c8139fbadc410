"""The Redis connection: a real server when REDIS_URL is set, else an in-process stand-in.

The stand-in is fakeredis (with Lua), so the same commands, scripts and pub/sub run in the
embedded default and in production; state in it lives as long as the process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from server.settings import Settings

Redis = redis.Redis

# What a Redis outage raises: redis-py's own errors, socket errors (OSError, of which the
# builtin ConnectionError is one) and timeouts. Redis holds only what SQL can rebuild
# (DESIGN.md), so these slow a read or delay a fan-out but never fail a request. Nothing
# else is caught: a bug is not an outage and must still surface.
REDIS_DOWN: Final[tuple[type[BaseException], ...]] = (RedisError, OSError, TimeoutError)


class Attempt:
    """How a best-effort step went: `failed` once Redis did not answer."""

    def __init__(self) -> None:
        self.failed = False


@contextmanager
def best_effort(log: logging.Logger, what: str, *args: object) -> Iterator[Attempt]:
    """Run a cache, pub/sub or lock step that may fail while Redis is down: an outage is
    logged as a warning (`what % args`) and the block is left, marking the attempt failed
    so the caller can fall back (to SQL, to a retry later)."""
    attempt = Attempt()
    try:
        yield attempt
    except REDIS_DOWN:
        attempt.failed = True
        # Once per step and interval: a step on the request path would otherwise write a
        # warning per request for the whole outage (the dependency monitor reports the
        # outage itself, with its start, summaries and end).
        now = time.monotonic()
        if now - _last_warned.get(what, -_WARN_INTERVAL_SECONDS) >= _WARN_INTERVAL_SECONDS:
            _last_warned[what] = now
            log.warning(f"{what} (Redis unavailable)", *args, exc_info=True)
        else:
            log.debug(f"{what} (Redis unavailable)", *args)


# best_effort's last warning per step (monotonic seconds).
_last_warned: dict[str, float] = {}
_WARN_INTERVAL_SECONDS: Final = 30.0


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
