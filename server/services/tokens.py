"""OAuth tokens: Passport-style JWT access tokens and opaque rotating refresh tokens.

Access tokens are HS256 JWTs carrying Passport's claims (`aud`, `jti`, `iat`, `nbf`, `exp`,
`sub`, `scopes`), because third-party clients such as aiosu read `sub` and `scopes` from
them. A valid signature is never enough: every use is checked against storage (S-TOK-1),
through a short Redis cache that revocation clears, so the database is not hit per request,
and in front of it the process's near cache (server/near_cache.py), which revocation clears
on every instance before it returns. Only SHA-256 hashes of tokens are stored (S-TOK-3).
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import time
from typing import Any

import jwt
import msgspec

from server.db import Database
from server.near_cache import NearCache
from server.redis_store import REDIS_DOWN
from server.repositories.oauth import OAuthRepository

ALL_SCOPES = "*"
KNOWN_SCOPES = frozenset(
    {
        ALL_SCOPES,
        "public",
        "identify",
        "friends.read",
        "chat.read",
        "chat.write",
        "chat.write_manage",
        "delegate",
        "forum.write",
        "forum.write_manage",
        "group_permissions",
        "lazer",
    }
)
_ALGORITHM = "HS256"
_CACHE_PREFIX = "oauth:access:"
_REGION = "oauth-token"


def token_sha256(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


class Session(msgspec.Struct, frozen=True):
    """An authenticated bearer: who (None for a client-credentials token), which client,
    which scopes."""

    user_id: int | None
    client_id: int
    scopes: tuple[str, ...]
    token_sha256: str
    family_id: str
    # False while the sign-in awaits session verification (SESSION_VERIFICATION).
    verified: bool = True

    def allows(self, scope: str) -> bool:
        """Whether the token grants `scope` (the all-access scope grants everything)."""
        return ALL_SCOPES in self.scopes or scope in self.scopes


class IssuedTokens(msgspec.Struct, frozen=True, omit_defaults=True):
    """A newly issued token pair, as the token endpoint returns it (no refresh_token key for
    client credentials, as Passport answers: RFC 6749 §4.4.3)."""

    token_type: str
    expires_in: int
    access_token: str
    refresh_token: str | None = None


class _CachedToken(msgspec.Struct, frozen=True):
    user_id: int | None
    client_id: int
    scopes: tuple[str, ...]
    family_id: str
    expires_at: int
    verified: bool = True


class Bearer(msgspec.Struct, frozen=True):
    """A request's bearer token as the API rate limiter saw it: its digest, and what this
    process's near cache held for it then (`seen`) with the cache's stamp at that moment,
    so authentication does not hash or look it up a second time (see `authenticate`)."""

    token: str
    digest: str
    seen: tuple[Session, int] | None = None
    stamp: int = -1


_cache_encoder = msgspec.json.Encoder()
_cache_decoder = msgspec.json.Decoder(_CachedToken)


class TokenService:
    """Issue, check and revoke tokens."""

    def __init__(
        self,
        db: Database,
        redis: Any,
        secret_key: str,
        access_seconds: int,
        refresh_seconds: int,
        cache_seconds: int,
        near: NearCache | None = None,
    ) -> None:
        self._db = db
        self._repo = OAuthRepository(db)
        self._redis = redis
        self._secret = secret_key
        self._access_seconds = access_seconds
        self._refresh_seconds = refresh_seconds
        self._cache_seconds = cache_seconds
        self._near = near
        self._local = near.region(_REGION, cache_seconds) if near and cache_seconds > 0 else None

    async def issue(
        self,
        *,
        user_id: int | None,
        client_id: int,
        scopes: tuple[str, ...],
        with_refresh: bool,
        family_id: str | None = None,
        verified: bool = True,
    ) -> IssuedTokens:
        """Mint and store an access token (and a refresh token) in a sign-in family."""
        now = int(time.time())
        family = family_id or secrets.token_hex(16)
        claims = {
            "aud": str(client_id),
            "jti": secrets.token_hex(40),
            "iat": now,
            "nbf": now,
            "exp": now + self._access_seconds,
            "sub": "" if user_id is None else str(user_id),
            "scopes": list(scopes),
        }
        access = jwt.encode(claims, self._secret, algorithm=_ALGORITHM)
        access_hash = token_sha256(access)
        scope_text = " ".join(scopes)
        await self._repo.add_access_token(
            token_sha256=access_hash,
            user_id=user_id,
            client_id=client_id,
            scopes=scope_text,
            family_id=family,
            now=now,
            expires_at=now + self._access_seconds,
            verified=verified,
        )
        refresh: str | None = None
        if with_refresh:
            refresh = secrets.token_urlsafe(48)
            await self._repo.add_refresh_token(
                token_sha256=token_sha256(refresh),
                access_token_sha256=access_hash,
                family_id=family,
                user_id=user_id,
                client_id=client_id,
                scopes=scope_text,
                now=now,
                expires_at=now + self._refresh_seconds,
                verified=verified,
            )
        return IssuedTokens("Bearer", self._access_seconds, access, refresh)

    async def authenticate(self, token: str, bearer: Bearer | None = None) -> Session | None:
        """The session a bearer token stands for, or None when it is not valid now
        (`bearer`: what the rate limiter already found for this token)."""
        digest = bearer.digest if bearer is not None else token_sha256(token)
        stamp = 0
        if self._local is not None:
            # Only a token that passed every check below was kept under its exact digest.
            # The rate limiter's lookup stands while the region's stamp has not moved: every
            # revocation, and every loss or return of the subscription, moves it.
            known: tuple[Session, int] | None
            if (
                bearer is not None
                and bearer.seen is not None
                and bearer.stamp == self._local.stamp()
            ):
                known = bearer.seen
            else:
                known = self._local.get(digest)
            if known is not None:
                return known[0] if known[1] > time.time() else None
            stamp = self._local.stamp()
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                options={"require": ["exp", "jti", "sub", "aud"], "verify_aud": False},
            )
        except jwt.PyJWTError:
            return None
        now = int(time.time())
        cached = await self._cache_get(digest)
        if cached is None:
            record = await self._repo.access_token(digest)
            if record is None or record.revoked or record.client_revoked:
                return None
            cached = _CachedToken(
                record.user_id,
                record.client_id,
                tuple(record.scopes.split()),
                record.family_id,
                record.expires_at,
                record.verified,
            )
            await self._cache_put(digest, cached, now)
        if cached.expires_at <= now:
            return None
        # The claims must agree with storage: a token re-signed with other claims fails.
        if claims.get("sub", "") != ("" if cached.user_id is None else str(cached.user_id)):
            return None
        if str(claims.get("aud")) != str(cached.client_id):
            return None
        session = Session(
            cached.user_id,
            cached.client_id,
            cached.scopes,
            digest,
            cached.family_id,
            cached.verified,
        )
        if self._local is not None:
            self._local.put(digest, (session, cached.expires_at), stamp)
        return session

    def rate_key(self, token: str) -> Bearer | None:
        """What the API rate limit counts a bearer token as (its `digest`) when it is one of
        ours (checked before, or its signature verifies), else None (count the IP), so
        made-up tokens cannot each get an allowance of their own. The answer carries the
        near cache's entry for `authenticate` to reuse."""
        digest = token_sha256(token)
        if self._local is not None:
            stamp = self._local.stamp()
            seen: tuple[Session, int] | None = self._local.get(digest)
            if seen is not None:
                return Bearer(token, digest, seen, stamp)
        try:
            jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                options={"verify_exp": False, "verify_aud": False},
            )
        except jwt.PyJWTError:
            return None
        return Bearer(token, digest)

    async def revoke_family(self, family_id: str) -> None:
        """Revoke a sign-in family everywhere (storage first, then the cache)."""
        hashes = await self._repo.revoke_family(family_id)
        await self._cache_evict(hashes)

    async def revoke_user(self, user_id: int) -> None:
        """Revoke every token of a user (password change, admin action: S-TOK-7)."""
        hashes = await self._repo.revoke_user(user_id)
        await self._cache_evict(hashes)

    async def revoke_user_except(self, user_id: int, family_id: str) -> None:
        """Revoke every other sign-in of a user, keeping one family (password change)."""
        hashes = await self._repo.revoke_user_except(user_id, family_id)
        await self._cache_evict(hashes)

    async def mark_verified(self, family_id: str) -> None:
        """A sign-in passed session verification: its tokens work everywhere from now on
        (every instance's cached copy, which says unverified, is dropped)."""
        await self._cache_evict(await self._repo.verify_family(family_id))

    async def evict(self, digests: list[str]) -> None:
        """Drop revoked tokens from the cache (call after the revoking transaction commits)."""
        await self._cache_evict(digests)

    async def _cache_get(self, digest: str) -> _CachedToken | None:
        if self._cache_seconds <= 0:
            return None
        try:
            raw = await self._redis.get(_CACHE_PREFIX + digest)
        except REDIS_DOWN:
            return None  # the cache is an optimisation; storage still answers
        return None if raw is None else _cache_decoder.decode(raw)

    async def _cache_put(self, digest: str, value: _CachedToken, now: int) -> None:
        ttl = min(self._cache_seconds, value.expires_at - now)
        if ttl <= 0:
            return
        with contextlib.suppress(*REDIS_DOWN):  # storage still answers without it
            await self._redis.set(_CACHE_PREFIX + digest, _cache_encoder.encode(value), ex=ttl)

    async def _cache_evict(self, digests: list[str]) -> None:
        if not digests:
            return
        # A failed eviction would leave a revoked token usable for up to the cache TTL, so
        # this one is not swallowed: the caller's request fails instead.
        await self._redis.delete(*(_CACHE_PREFIX + d for d in digests))
        if self._near is not None:
            await self._near.invalidate(_REGION, list(digests), strict=True)
