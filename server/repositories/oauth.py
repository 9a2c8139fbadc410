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
    redirect: str = ""

    @property
    def redirect_uris(self) -> list[str]:
        """The registered redirect URIs (stored separated by spaces: a URI has none)."""
        return self.redirect.split()


class AuthorizedClient(msgspec.Struct, frozen=True):
    """A client a user has granted access to, with the scopes of its live tokens."""

    id: int
    name: str
    owner_user_id: int | None
    scopes: list[str]


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
    verified: bool = True


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
    verified: bool = True


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
        self,
        *,
        name: str,
        owner_user_id: int | None,
        password_client: bool,
        now: datetime,
        redirect_uris: list[str] | None = None,
    ) -> int:
        """Register a client; returns its id."""
        return await self._db.execute(
            "insert_oauth_client",
            name=name,
            owner_user_id=owner_user_id,
            password_client=int(password_client),
            redirect=" ".join(redirect_uris or []),
            now=now,
        )

    async def user_clients(self, user_id: int) -> list[OAuthClient]:
        """The live clients a user owns."""
        rows = await self._db.all("fetch_user_oauth_clients", user_id=user_id)
        return [msgspec.convert(row, OAuthClient, strict=False) for row in rows]

    async def update_client(self, client_id: int, name: str, redirect_uris: list[str]) -> None:
        """Rename a client and replace its redirect URIs."""
        await self._db.execute(
            "update_oauth_client", client_id=client_id, name=name, redirect=" ".join(redirect_uris)
        )

    async def replace_secret(self, client_id: int, secret_sha256: str) -> None:
        """Forget every secret of a client and set a new one."""
        await self._db.execute("delete_client_secrets", client_id=client_id)
        await self.add_secret(client_id, secret_sha256)

    async def revoke_client(self, client_id: int) -> list[str]:
        """Delete a client; returns its live access-token hashes for cache eviction."""
        rows = await self._db.all("fetch_client_access_tokens", client_id=client_id)
        await self._db.execute("revoke_oauth_client", client_id=client_id)
        return [row["token_sha256"] for row in rows]

    async def authorized_clients(self, user_id: int, now: int) -> list[AuthorizedClient]:
        """Third-party clients the user has live tokens for, with the scopes granted."""
        found: dict[int, AuthorizedClient] = {}
        for row in await self._db.all("fetch_authorized_clients", user_id=user_id, now=now):
            client = found.setdefault(
                int(row["id"]),
                AuthorizedClient(int(row["id"]), str(row["name"]), row["owner_user_id"], []),
            )
            for scope in str(row["scopes"]).split():
                if scope not in client.scopes:
                    client.scopes.append(scope)
        return list(found.values())

    async def revoke_user_client(self, user_id: int, client_id: int) -> list[str]:
        """Revoke a user's tokens for one client; returns access-token hashes to evict."""
        rows = await self._db.all(
            "fetch_user_client_access_tokens", user_id=user_id, client_id=client_id
        )
        await self._db.execute(
            "revoke_user_client_access_tokens", user_id=user_id, client_id=client_id
        )
        await self._db.execute(
            "revoke_user_client_refresh_tokens", user_id=user_id, client_id=client_id
        )
        return [row["token_sha256"] for row in rows]

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
        verified: bool = True,
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
            verified=int(verified),
        )

    async def verify_family(self, family_id: str) -> list[str]:
        """Mark a sign-in family verified; returns its access-token hashes for eviction."""
        rows = await self._db.all("fetch_family_access_tokens", family_id=family_id)
        await self._db.execute("verify_family_access_tokens", family_id=family_id)
        await self._db.execute("verify_family_refresh_tokens", family_id=family_id)
        return [row["token_sha256"] for row in rows]

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
        verified: bool = True,
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
            verified=int(verified),
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
