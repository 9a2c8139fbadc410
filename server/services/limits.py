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

from server.redis_store import REDIS_DOWN


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
        except REDIS_DOWN as exc:
            raise LimiterUnavailable(str(exc)) from exc
        remaining = max(self._limit - int(count), 0)
        retry_after = window_start + self._window - now
        return Allowance(int(count) <= self._limit, self._limit, remaining, max(retry_after, 1))


# KEYS: failures counter, accounts set, fingerprints set. ARGV: account, fingerprint, ttl.
# osu-web LoginAttempt: a failure repeated with the same account and password counts once;
# a failure against an account this address has not tried before triples the counter (1, 3,
# 9, 27: many accounts from one address are refused early); every key expires `ttl` after
# the last failure.
_RECORD_FAILURE = """
local new_account = redis.call('SADD', KEYS[2], ARGV[1])
local seen = redis.call('SADD', KEYS[3], ARGV[2])
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
if seen == 1 then
  if new_account == 1 and failures > 0 then failures = failures * 3 else failures = failures + 1 end
  redis.call('SET', KEYS[1], failures)
end
for i = 1, 3 do redis.call('EXPIRE', KEYS[i], tonumber(ARGV[3])) end
return {failures, redis.call('SCARD', KEYS[2])}
"""

# KEYS: the account's failures counter, its fingerprints set. ARGV: fingerprint, ttl.
_RECORD_ACCOUNT_FAILURE = """
if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then redis.call('INCR', KEYS[1]) end
for i = 1, 2 do redis.call('EXPIRE', KEYS[i], tonumber(ARGV[2])) end
return tonumber(redis.call('GET', KEYS[1]) or '0')
"""


class LoginGuard:
    """Sign-in lockout (S-AUTH-6, reliability.md A2).

    Per IP: locked after more than `max_failures` failures or more than `max_accounts`
    distinct accounts (signed in or tried) within `window` seconds of the last one.
    Per account: locked for every address after more than `max_account_failures` distinct
    wrong passwords within the window: a slow, spread-out guess at one account. That limit
    is set well above the per-IP one, so one address alone can never reach it (it is locked
    first) and cannot lock its victim out."""

    def __init__(
        self,
        redis: Any,
        secret_key: str,
        max_failures: int,
        max_accounts: int,
        window: int,
        max_account_failures: int = 30,
    ) -> None:
        self._redis = redis
        self._key = hashlib.sha256(b"login-guard:" + secret_key.encode()).digest()
        self._max_failures = max_failures
        self._max_accounts = max_accounts
        self._max_account_failures = max_account_failures
        self._window = window
        self._script = redis.register_script(_RECORD_FAILURE)
        self._account_script = redis.register_script(_RECORD_ACCOUNT_FAILURE)

    def _keys(self, ip: str) -> list[str]:
        # One hash tag per IP so the three keys share a Redis Cluster slot.
        return [f"login:{{{ip}}}:failures", f"login:{{{ip}}}:accounts", f"login:{{{ip}}}:tries"]

    def _account_keys(self, account: str) -> list[str]:
        name = hmac.new(self._key, account.lower().encode(), hashlib.sha256).hexdigest()[:24]
        return [f"login-account:{{{name}}}:failures", f"login-account:{{{name}}}:tries"]

    def _fingerprint(self, account: str, password: str) -> str:
        # Keyed HMAC: the store never holds a password or its MD5 (S-AUTH-3).
        message = account.lower().encode() + b"\0" + password.encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    async def is_locked(self, ip: str, account: str | None = None) -> bool:
        """Whether sign-in from this IP (or, given, to this account) is locked right now."""
        failures_key, accounts_key, _ = self._keys(ip)
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(failures_key)
                pipe.scard(accounts_key)
                if account is not None:
                    pipe.get(self._account_keys(account)[0])
                found = await pipe.execute()
        except REDIS_DOWN as exc:
            raise LimiterUnavailable(str(exc)) from exc
        failures, accounts = int(found[0] or 0), int(found[1])
        if account is not None and int(found[2] or 0) > self._max_account_failures:
            return True
        return failures > self._max_failures or accounts > self._max_accounts

    async def record_failure(self, ip: str, account: str, password: str) -> None:
        """Count a failed sign-in from this IP and against this account."""
        fingerprint = self._fingerprint(account, password)
        try:
            await self._script(
                keys=self._keys(ip), args=[account.lower(), fingerprint, self._window]
            )
            await self._account_script(
                keys=self._account_keys(account), args=[fingerprint, self._window]
            )
        except REDIS_DOWN as exc:
            raise LimiterUnavailable(str(exc)) from exc

    async def record_success(self, ip: str, account: str) -> None:
        """Count a signed-in account among this IP's distinct accounts (osu-web counts
        every account an address signs in to, not only the failed ones)."""
        _, accounts_key, _ = self._keys(ip)
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.sadd(accounts_key, account.lower())
                pipe.expire(accounts_key, self._window)
                await pipe.execute()
        except REDIS_DOWN as exc:
            raise LimiterUnavailable(str(exc)) from exc


# KEYS: the window's shared counter. ARGV: how many to claim, the key's lifetime. Returns
# the counter after the claim.
_CLAIM = """
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
if used == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return used
"""


class _Bucket:
    __slots__ = ("claimed", "left", "spent", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self.left = 0  # claimed by this process and not spent yet
        self.claimed = 0  # the shared counter after this process's last claim
        self.spent = 0  # spent in this process this window (the fallback's count)


class ApiRateLimiter:
    """S-RL-1: at most `limit` API requests a minute per token (per IP without one).

    One shared counter per key and window in Redis, as S-RL-2 asks, but not a round trip
    per request: each process claims allowance in chunks with one atomic INCRBY and spends
    it locally. With one instance the figures are exact; with N instances a client can be
    refused up to N chunks early at the end of a window, never let through late. When Redis
    is down the limit becomes a per-process share, `limit // instances` (S-RL-4: general
    limiters degrade rather than fail closed)."""

    def __init__(
        self,
        redis: Any,
        limit: int,
        *,
        window: int = 60,
        chunk: int | None = None,
        instances: int = 1,
        max_keys: int = 100_000,
    ) -> None:
        self._redis = redis
        self.limit = limit
        self._window = window
        # A sixtieth of the limit (20 for osu-web's 1200), within [20, 1000]: a client at
        # full speed costs one claim a second, and N instances refuse at most N chunks early.
        if chunk is None:
            chunk = min(max(limit // 60, 20), 1000)
        self._chunk = max(1, min(chunk, limit))
        self._fallback_limit = max(1, limit // max(1, instances))
        self._max_keys = max_keys
        self._claim = redis.register_script(_CLAIM)
        self._buckets: dict[str, _Bucket] = {}

    @property
    def enabled(self) -> bool:
        """Whether requests are limited at all (a limit of 0 turns it off)."""
        return self.limit > 0

    async def hit(self, key: str) -> Allowance:
        """Spend one request of `key`'s allowance, claiming more from Redis when needed."""
        now = time.time()
        window = int(now) - int(now) % self._window
        retry_after = max(window + self._window - int(now), 1)
        bucket = self._buckets.get(key)
        if bucket is None or bucket.window != window:
            if len(self._buckets) >= self._max_keys:
                self._buckets = {k: b for k, b in self._buckets.items() if b.window == window}
            bucket = self._buckets[key] = _Bucket(window)
        if bucket.left == 0 and bucket.claimed < self.limit:
            await self._claim_more(key, bucket)
        if bucket.left == 0:
            return Allowance(False, self.limit, 0, retry_after)
        bucket.left -= 1
        bucket.spent += 1
        remaining = max(self.limit - bucket.claimed + bucket.left, 0)
        return Allowance(True, self.limit, remaining, retry_after)

    async def _claim_more(self, key: str, bucket: _Bucket) -> None:
        claim = self._chunk
        try:
            used = int(
                await self._claim(
                    keys=[f"ratelimit:api:{key}:{bucket.window}"],
                    args=[claim, self._window + 1],
                )
            )
            limit = self.limit
        except REDIS_DOWN:
            used = bucket.spent + bucket.left + claim
            limit = self._fallback_limit
        granted = max(0, min(claim, limit - (used - claim)))
        bucket.left += granted
        bucket.claimed = max(bucket.claimed, used if granted else limit)
