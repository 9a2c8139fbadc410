"""One-time codes (password reset, session verification) kept in Redis (S-AUTH-8): single
use, expiring, at most `max_tries` guesses, the attempt count updated atomically so several
workers cannot each get their own allowance. Only a keyed hash of a code is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import Enum
from typing import Any

from server.redis_store import REDIS_DOWN
from server.services.limits import LimiterUnavailable

# Unambiguous when read from a mail or typed on a phone.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# KEYS: the code's hash. ARGV: the guess's digest, the most tries allowed.
# 1: right (and the code is gone), 0: wrong, -1: no such code or too many tries (gone).
_CHECK = """
local digest = redis.call('HGET', KEYS[1], 'digest')
if not digest then return -1 end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
if digest == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
if tries >= tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]) return -1 end
return 0
"""


class CodeCheck(Enum):
    """What a guess did."""

    RIGHT = 1
    WRONG = 0
    GONE = -1  # expired, never issued, or too many wrong guesses


class OneTimeCodes:
    """Codes for one purpose, one live code per subject (a new one replaces the old)."""

    def __init__(
        self,
        redis: Any,
        secret_key: str,
        purpose: str,
        *,
        ttl: int,
        max_tries: int = 8,
        digits_only: bool = False,
        length: int = 8,
    ) -> None:
        self._redis = redis
        self._key = hmac.new(secret_key.encode(), purpose.encode(), hashlib.sha256).digest()
        self._prefix = f"codes:{purpose}:"
        self._ttl = ttl
        self._max_tries = max_tries
        self._alphabet = "0123456789" if digits_only else _ALPHABET
        self._length = length
        self._check = redis.register_script(_CHECK)

    def _digest(self, code: str) -> str:
        normalised = code.strip().upper().replace(" ", "").replace("-", "")
        return hmac.new(self._key, normalised.encode(), hashlib.sha256).hexdigest()

    async def issue(self, subject: str) -> str:
        """A new code for `subject` (replacing any earlier one)."""
        code = "".join(secrets.choice(self._alphabet) for _ in range(self._length))
        key = self._prefix + subject
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                pipe.hset(key, mapping={"digest": self._digest(code), "tries": 0})
                pipe.expire(key, self._ttl)
                await pipe.execute()
        except REDIS_DOWN as exc:
            raise LimiterUnavailable(str(exc)) from exc
        return code

    async def check(self, subject: str, guess: str) -> CodeCheck:
        """Check a guess; a right one uses the code up."""
        try:
            result = await self._check(
                keys=[self._prefix + subject], args=[self._digest(guess), self._max_tries]
            )
        except REDIS_DOWN as exc:
            raise LimiterUnavailable(str(exc)) from exc
        return CodeCheck(int(result))

    async def pending(self, subject: str) -> bool:
        """Whether a code for `subject` is live."""
        try:
            return bool(await self._redis.exists(self._prefix + subject))
        except REDIS_DOWN as exc:
            raise LimiterUnavailable(str(exc)) from exc
