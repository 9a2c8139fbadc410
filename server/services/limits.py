"""Rate limits and the per-IP sign-in lockout, kept in Redis so every instance shares them.

Each check is one atomic Redis operation (a pipeline in MULTI, or a Lua script), so
concurrent requests on several workers cannot slip past a limit (S-RL-2). These limiters
guard security-sensitive routes and fail closed: when Redis is unreachable the caller gets
`LimiterUnavailable` and answers 503 (S-RL-4).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import msgspec
from redis.exceptions import RedisError


class LimiterUnavailable(Exception):
    """The limiter's store could not be reached; fail closed."""


class Allowance(msgspec.Struct, frozen=True):
    """The outcome of one rate-limit check."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: int


class FixedWindowLimiter:
    """At most `limit` hits per `window` seconds for each key."""

    def __init__(self, redis: Any, prefix: str, limit: int, window: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self._limit = limit
        self._window = window

    async def hit(self, key: str) -> Allowance:
        """Count one hit for `key` and say whether it is within the limit."""
        now = int(time.time())
        window_start = now - now % self._window
        redis_key = f"ratelimit:{self._prefix}:{key}:{window_start}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(redis_key)
                pipe.expire(redis_key, self._window + 1)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable(str(exc)) from exc
        remaining = max(self._limit - int(count), 0)
        retry_after = window_start + self._window - now
        return Allowance(int(count) <= self._limit, self._limit, remaining, max(retry_after, 1))


# KEYS: failures counter, accounts set, fingerprints set. ARGV: account, fingerprint, ttl.
# A failure repeated with the same account and password counts once (osu-web does not
# double-count an identical wrong password); every key expires `ttl` after the last failure.
_RECORD_FAILURE = """
local seen = redis.call('SADD', KEYS[3], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
if seen == 1 then
  failures = redis.call('INCR', KEYS[1])
end
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], tonumber(ARGV[3])) end
return {failures, redis.call('SCARD', KEYS[2])}
"""


class LoginGuard:
    """Per-IP sign-in lockout (S-AUTH-6): keyed by IP, never by account, so nobody can lock
    a victim out; locked after more than `max_failures` failures or more than
    `max_accounts` distinct accounts tried within `window` seconds of the last failure."""

    def __init__(
        self, redis: Any, secret_key: str, max_failures: int, max_accounts: int, window: int
    ) -> None:
        self._redis = redis
        self._key = hashlib.sha256(b"login-guard:" + secret_key.encode()).digest()
        self._max_failures = max_failures
        self._max_accounts = max_accounts
        self._window = window
        self._script = redis.register_script(_RECORD_FAILURE)

    def _keys(self, ip: str) -> list[str]:
        # One hash tag per IP so the three keys share a Redis Cluster slot.
        return [f"login:{{{ip}}}:failures", f"login:{{{ip}}}:accounts", f"login:{{{ip}}}:tries"]

    def _fingerprint(self, account: str, password: str) -> str:
        # Keyed HMAC: the store never holds a password or its MD5 (S-AUTH-3).
        message = account.lower().encode() + b"\0" + password.encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    async def is_locked(self, ip: str) -> bool:
        """Whether sign-in from this IP is locked right now."""
        failures_key, accounts_key, _ = self._keys(ip)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(failures_key)
                pipe.scard(accounts_key)
                failures, accounts = await pipe.execute()
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable(str(exc)) from exc
        return int(failures or 0) > self._max_failures or int(accounts) > self._max_accounts

    async def record_failure(self, ip: str, account: str, password: str) -> None:
        """Count a failed sign-in from this IP."""
        try:
            await self._script(
                keys=self._keys(ip),
                args=[account.lower(), self._fingerprint(account, password), self._window],
            )
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable(str(exc)) from exc
