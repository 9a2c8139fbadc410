"""OAuth clients and tokens (stored only as SHA-256 hashes)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from server.db import Database


class OAuthClient(msgspec.Struct, frozen=True):
    """A registered OAuth client."""

    id: int
    name: str
    owner_user_id: int | None
    password_client: bool
    revoked: bool


class AccessTokenRecord(msgspec.Struct, frozen=True):
    """What storage knows of an access token."""

    token_sha256: str
    user_id: int | None
    client_id: int
    scopes: str
    family_id: str
    revoked: bool
    expires_at: int
    client_revoked: bool


class RefreshTokenRecord(msgspec.Struct, frozen=True):
    """What storage knows of a refresh token."""

    token_sha256: str
    access_token_sha256: str
    family_id: str
    user_id: int | None
    client_id: int
    scopes: str
    rotated: bool
    revoked: bool
    expires_at: int


class OAuthRepository:
    """SQL for OAuth clients and tokens."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def client(self, client_id: int) -> OAuthClient | None:
        """One client by id."""
        row = await self._db.one("fetch_oauth_client", client_id=client_id)
        return None if row is None else msgspec.convert(row, OAuthClient, strict=False)

    async def secret_matches(self, client_id: int, secret_sha256: str) -> bool:
        """Whether the hashed secret belongs to the client."""
        found = await self._db.value(
            "client_secret_matches", client_id=client_id, secret_sha256=secret_sha256
        )
        return found is not None

    async def add_client(
        self, *, name: str, owner_user_id: int | None, password_client: bool, now: datetime
    ) -> int:
        """Register a client; returns its id."""
        return await self._db.execute(
            "insert_oauth_client",
            name=name,
            owner_user_id=owner_user_id,
            password_client=int(password_client),
            now=now,
        )

    async def add_secret(self, client_id: int, secret_sha256: str) -> None:
        """Add a hashed secret to a client."""
        await self._db.execute(
            "insert_client_secret", client_id=client_id, secret_sha256=secret_sha256
        )

    async def add_access_token(
        self,
        *,
        token_sha256: str,
        user_id: int | None,
        client_id: int,
        scopes: str,
        family_id: str,
        now: int,
        expires_at: int,
    ) -> None:
        """Store an access token by hash."""
        await self._db.execute(
            "insert_access_token",
            token_sha256=token_sha256,
            user_id=user_id,
            client_id=client_id,
            scopes=scopes,
            family_id=family_id,
            now=now,
            expires_at=expires_at,
        )

    async def add_refresh_token(
        self,
        *,
        token_sha256: str,
        access_token_sha256: str,
        family_id: str,
        user_id: int | None,
        client_id: int,
        scopes: str,
        now: int,
        expires_at: int,
    ) -> None:
        """Store a refresh token by hash."""
        await self._db.execute(
            "insert_refresh_token",
            token_sha256=token_sha256,
            access_token_sha256=access_token_sha256,
            family_id=family_id,
            user_id=user_id,
            client_id=client_id,
            scopes=scopes,
            now=now,
            expires_at=expires_at,
        )

    async def access_token(self, token_sha256: str) -> AccessTokenRecord | None:
        """An access token's record by hash."""
        row = await self._db.one("fetch_access_token", token_sha256=token_sha256)
        return None if row is None else msgspec.convert(row, AccessTokenRecord, strict=False)

    async def refresh_token(self, token_sha256: str) -> RefreshTokenRecord | None:
        """A refresh token's record by hash."""
        row = await self._db.one("fetch_refresh_token", token_sha256=token_sha256)
        return None if row is None else msgspec.convert(row, RefreshTokenRecord, strict=False)

    async def claim_refresh_token(self, token_sha256: str) -> bool:
        """Mark a refresh token used; False when someone used (or revoked) it first."""
        return await self._db.rowcount("claim_refresh_token", token_sha256=token_sha256) == 1

    async def revoke_access_token(self, token_sha256: str) -> None:
        """Revoke one access token."""
        await self._db.execute("revoke_access_token", token_sha256=token_sha256)

    async def revoke_family(self, family_id: str) -> list[str]:
        """Revoke a sign-in family; returns its access-token hashes for cache eviction."""
        rows = await self._db.all("fetch_family_access_tokens", family_id=family_id)
        await self._db.execute("revoke_family_access_tokens", family_id=family_id)
        await self._db.execute("revoke_family_refresh_tokens", family_id=family_id)
        return [row["token_sha256"] for row in rows]

    async def revoke_user(self, user_id: int) -> list[str]:
        """Revoke every token of a user; returns access-token hashes for cache eviction."""
        rows = await self._db.all("fetch_user_access_tokens", user_id=user_id)
        await self._db.execute("revoke_user_access_tokens", user_id=user_id)
        await self._db.execute("revoke_user_refresh_tokens", user_id=user_id)
        return [row["token_sha256"] for row in rows]

    async def revoke_user_except(self, user_id: int, family_id: str) -> list[str]:
        """Revoke every token of a user outside one sign-in family; returns the access-token
        hashes for cache eviction."""
        rows = await self._db.all("fetch_other_access_tokens", user_id=user_id, family_id=family_id)
        await self._db.execute("revoke_other_access_tokens", user_id=user_id, family_id=family_id)
        await self._db.execute("revoke_other_refresh_tokens", user_id=user_id, family_id=family_id)
        return [row["token_sha256"] for row in rows]

    async def delete_expired(self, now: int) -> None:
        """Drop tokens past their expiry."""
        await self._db.execute("delete_expired_access_tokens", now=now)
        await self._db.execute("delete_expired_refresh_tokens", now=now)
