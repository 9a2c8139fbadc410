"""The /oauth/token grants: password (first-party lazer client only), refresh_token and
client_credentials, with Passport's error bodies."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import msgspec

from server.db import Database
from server.repositories.oauth import OAuthClient, OAuthRepository
from server.repositories.users import UserRepository
from server.services.accounts import AccountService
from server.services.limits import LoginGuard
from server.services.oauth_apps import OAuthApps
from server.services.tokens import (
    ALL_SCOPES,
    KNOWN_SCOPES,
    IssuedTokens,
    TokenService,
    token_sha256,
)


class TokenRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The fields of a token request, from whichever body format it came in."""

    grant_type: str
    client_id: str | None = None
    client_secret: str | None = None
    username: str | None = None
    password: str | None = None
    refresh_token: str | None = None
    scope: str | None = None
    code: str | None = None
    redirect_uri: str | None = None
    code_verifier: str | None = None


class OAuthFailure(msgspec.Struct, frozen=True):
    """A refused token request: HTTP status plus Passport's error body fields.

    Lazer shows `hint` when present, else `error` (lazer-protocol.md §2.1)."""

    status: int
    error: str
    description: str
    hint: str | None = None


_INVALID_CLIENT = OAuthFailure(401, "invalid_client", "Client authentication failed")
_BAD_CREDENTIALS = OAuthFailure(
    400,
    "invalid_grant",
    "The provided authorization grant (e.g., authorization code, resource owner credentials) "
    "or refresh token is invalid, expired, revoked, does not match the redirection URI used "
    "in the authorization request, or was issued to another client.",
    "Incorrect sign in",
)
_BAD_CODE = OAuthFailure(
    400,
    "invalid_grant",
    "The provided authorization grant (e.g., authorization code, resource owner credentials) "
    "or refresh token is invalid, expired, revoked, does not match the redirection URI used "
    "in the authorization request, or was issued to another client.",
    "Authorization code is invalid, expired or already used",
)
_LOCKED = OAuthFailure(
    429,
    "too_many_attempts",
    "Too many failed sign-in attempts from this address.",
    "Too many failed sign-in attempts. Try again in a few minutes.",
)


def _invalid_refresh(hint: str) -> OAuthFailure:
    return OAuthFailure(401, "invalid_grant", "The refresh token is invalid.", hint)


def _parse_scopes(raw: str | None, default: tuple[str, ...]) -> tuple[str, ...] | OAuthFailure:
    scopes = tuple(dict.fromkeys(raw.split())) if raw and raw.strip() else default
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        return OAuthFailure(
            400,
            "invalid_scope",
            "The requested scope is invalid, unknown, or malformed",
            f"Check the `{unknown[0]}` scope",
        )
    # S-TOK-4: the all-access scope stands alone.
    if ALL_SCOPES in scopes and len(scopes) > 1:
        return OAuthFailure(
            400,
            "invalid_scope",
            "The requested scope is invalid, unknown, or malformed",
            "`*` cannot be combined with other scopes",
        )
    return scopes


class OAuthService:
    """Run one token request to tokens or an OAuthFailure."""

    def __init__(
        self,
        db: Database,
        clients: OAuthRepository,
        users: UserRepository,
        accounts: AccountService,
        tokens: TokenService,
        guard: LoginGuard,
        apps: OAuthApps,
        *,
        verify_sessions: bool = False,
    ) -> None:
        self._apps = apps
        # SESSION_VERIFICATION: password-grant sign-ins start unverified.
        self._verify_sessions = verify_sessions
        self._db = db
        self._clients = clients
        self._users = users
        self._accounts = accounts
        self._tokens = tokens
        self._guard = guard

    @property
    def guard(self) -> LoginGuard:
        """The sign-in lockout (shared with the consent page's sign-in form)."""
        return self._guard

    async def _client(self, request: TokenRequest) -> OAuthClient | OAuthFailure:
        if not request.client_id or not request.client_secret:
            return _INVALID_CLIENT
        # An id column holds 32 bits: a longer number is no client (and must not reach SQL).
        raw = request.client_id
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
            return _INVALID_CLIENT
        client = await self._clients.client(int(request.client_id))
        if client is None or client.revoked:
            return _INVALID_CLIENT
        secret_hash = hashlib.sha256(request.client_secret.encode()).hexdigest()
        if not await self._clients.secret_matches(client.id, secret_hash):
            return _INVALID_CLIENT
        return client

    async def grant(self, request: TokenRequest, ip: str) -> IssuedTokens | OAuthFailure:
        """Dispatch on grant_type."""
        if request.grant_type == "authorization_code":
            return await self._authorization_code(request)
        client = await self._client(request)
        if isinstance(client, OAuthFailure):
            return client
        if request.grant_type == "password":
            return await self._password(client, request, ip)
        if request.grant_type == "refresh_token":
            return await self._refresh(client, request)
        if request.grant_type == "client_credentials":
            return await self._client_credentials(client, request)
        return OAuthFailure(
            400,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
            "Check that all required parameters have been provided",
        )

    async def _password(
        self, client: OAuthClient, request: TokenRequest, ip: str
    ) -> IssuedTokens | OAuthFailure:
        # S-TOK-8: the resource-owner password grant exists for the first-party lazer client
        # only; third-party tools use client credentials or pre-issued tokens.
        if not client.password_client:
            return OAuthFailure(
                400,
                "unauthorized_client",
                "The authenticated client is not authorized to use this authorization grant type.",
            )
        scopes = _parse_scopes(request.scope, (ALL_SCOPES,))
        if isinstance(scopes, OAuthFailure):
            return scopes
        if not request.username or not request.password:
            return OAuthFailure(
                400,
                "invalid_request",
                "The request is missing a required parameter.",
                "Check the `username` and `password` parameters",
            )
        if await self._guard.is_locked(ip, request.username):
            return _LOCKED
        user = await self._accounts.check_credentials(request.username, request.password)
        if user is None:
            await self._guard.record_failure(ip, request.username, request.password)
            return _BAD_CREDENTIALS
        await self._guard.record_success(ip, request.username)
        async with self._db.transaction():
            await self._users.touch_last_visit(
                user.id, datetime.now(UTC).replace(tzinfo=None, microsecond=0)
            )
            return await self._tokens.issue(
                user_id=user.id,
                client_id=client.id,
                scopes=scopes,
                with_refresh=True,
                verified=not self._verify_sessions,
            )

    async def _refresh(
        self, client: OAuthClient, request: TokenRequest
    ) -> IssuedTokens | OAuthFailure:
        if not request.refresh_token:
            return OAuthFailure(
                400,
                "invalid_request",
                "The request is missing a required parameter.",
                "Check the `refresh_token` parameter",
            )
        record = await self._clients.refresh_token(token_sha256(request.refresh_token))
        if record is None or record.revoked:
            return _invalid_refresh("Token has been revoked")
        if record.client_id != client.id:
            # S-TOK-5: a refresh token only works for the client it was issued to.
            return _invalid_refresh("Token is not linked to client")
        if record.expires_at <= int(datetime.now(UTC).timestamp()):
            return _invalid_refresh("Token has expired")
        original = tuple(record.scopes.split())
        scopes = _parse_scopes(request.scope, original)
        if isinstance(scopes, OAuthFailure):
            return scopes
        if not (set(scopes) <= set(original) or ALL_SCOPES in original):
            return OAuthFailure(
                400,
                "invalid_scope",
                "The requested scope is invalid, unknown, or malformed",
                "Scopes must be a subset of the original grant",
            )
        async with self._db.transaction():
            # Claim first: of two concurrent uses of one refresh token, exactly one wins.
            claimed = not record.rotated and await self._clients.claim_refresh_token(
                record.token_sha256
            )
            if claimed:
                await self._clients.revoke_access_token(record.access_token_sha256)
                issued = await self._tokens.issue(
                    user_id=record.user_id,
                    client_id=client.id,
                    scopes=scopes,
                    with_refresh=True,
                    family_id=record.family_id,
                    verified=record.verified,
                )
        if not claimed:
            # S-TOK-6: a rotated refresh token came back, so it was copied: revoke the family.
            await self._tokens.revoke_family(record.family_id)
            return _invalid_refresh("Token has been revoked")
        # Evict after commit, so no request can re-cache the old token as still valid.
        await self._tokens.evict([record.access_token_sha256])
        return issued

    async def _authorization_code(self, request: TokenRequest) -> IssuedTokens | OAuthFailure:
        # RFC 6749 §4.1.3. A confidential client authenticates; a code bound to a PKCE
        # challenge may come from a public client without a secret (RFC 7636).
        public = request.client_secret is None and request.client_id is not None
        if public:
            raw_id = request.client_id or ""
            valid_id = raw_id.isdigit() and len(raw_id) <= 10
            client = await self._clients.client(int(raw_id)) if valid_id else None
            if client is None or client.revoked:
                return _INVALID_CLIENT
        else:
            checked = await self._client(request)
            if isinstance(checked, OAuthFailure):
                return checked
            client = checked
        if not request.code or not request.redirect_uri:
            return OAuthFailure(
                400,
                "invalid_request",
                "The request is missing a required parameter.",
                "Check the `code` and `redirect_uri` parameters",
            )
        stored = await self._apps.take_code(request.code)
        if (
            stored is None
            or stored.client_id != client.id
            # §4.1.3: the same redirect_uri as in the authorization request, exactly.
            or stored.redirect_uri != request.redirect_uri
            or (public and stored.code_challenge is None)
            or not self._apps.verifier_matches(stored, request.code_verifier)
        ):
            return _BAD_CODE
        return await self._tokens.issue(
            user_id=stored.user_id, client_id=client.id, scopes=stored.scopes, with_refresh=True
        )

    async def _client_credentials(
        self, client: OAuthClient, request: TokenRequest
    ) -> IssuedTokens | OAuthFailure:
        scopes = _parse_scopes(request.scope, ("public",))
        if isinstance(scopes, OAuthFailure):
            return scopes
        if ALL_SCOPES in scopes or "identify" in scopes:
            # S-TOK-4: a token with no user can never hold the all-access scope.
            return OAuthFailure(
                400,
                "invalid_scope",
                "The requested scope is invalid, unknown, or malformed",
                "Client credentials cannot request this scope",
            )
        return await self._tokens.issue(
            user_id=None, client_id=client.id, scopes=scopes, with_refresh=False
        )
