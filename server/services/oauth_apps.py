"""OAuth apps: the authorization-code grant (RFC 6749 §4.1 with PKCE, RFC 7636) behind the
consent page, and the clients users register and authorize (osu-web
OAuth/ClientsController.php, AuthorizedClientsController.php).

Codes are short-lived and single-use: kept in Redis under their hash and taken with one
atomic read-and-delete, so of two exchanges of one code exactly one gets tokens. A code
bound to a PKCE challenge may be exchanged without the client secret (a public client:
a native or browser app cannot keep one); any other needs it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec

from server.db import Database
from server.redis_store import REDIS_DOWN
from server.repositories.oauth import AuthorizedClient, OAuthClient, OAuthRepository
from server.services.limits import LimiterUnavailable
from server.services.tokens import KNOWN_SCOPES, TokenService

CODE_SECONDS = 300
_CODE_PREFIX = "oauth:code:"
# What a third-party app may ask for: not the all-access scope nor lazer's own (osu-web
# grants those to its first-party client only).
GRANTABLE_SCOPES = KNOWN_SCOPES - {"*", "lazer"}
DEFAULT_SCOPES = ("identify",)
MAX_REDIRECT_URIS = 10
_REDIRECT_FIELD = 512
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")

# Shown on the consent page (osu-web's wording in resources/lang/en/api.php).
SCOPE_TEXT = {
    "public": "Read public data on your behalf.",
    "identify": "Identify you and read your public profile.",
    "friends.read": "See who you are following.",
    "chat.read": "Read messages on your behalf.",
    "chat.write": "Send messages on your behalf.",
    "chat.write_manage": "Join and leave channels on your behalf.",
    "delegate": "Act as the client's owner (client credentials only).",
    "forum.write": "Create and edit forum topics and posts on your behalf.",
    "forum.write_manage": "Manage forum topics on your behalf.",
    "group_permissions": "Use your group permissions.",
}


class AuthorizeRequest(msgspec.Struct, frozen=True):
    """A checked `GET /oauth/authorize`: whom to ask, for what, where to send the answer."""

    client: OAuthClient
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str | None
    code_challenge: str | None


class AuthorizeInvalid(msgspec.Struct, frozen=True):
    """A request that cannot be redirected back (unknown client or redirect URI, RFC 6749
    §4.1.2.1): the page shows the error itself."""

    message: str


class AuthorizeRedirect(msgspec.Struct, frozen=True):
    """An answer that goes back to the app as a redirect (a code or an error)."""

    url: str


class _StoredCode(msgspec.Struct, frozen=True):
    client_id: int
    user_id: int
    redirect_uri: str
    scopes: tuple[str, ...]
    code_challenge: str | None


class AppRejected(msgspec.Struct, frozen=True):
    """Field errors for client management."""

    errors: dict[str, list[str]]


class NewSecret(msgspec.Struct, frozen=True):
    """A client with its secret, shown once (create and reset-secret)."""

    client: OAuthClient
    secret: str


_encoder = msgspec.json.Encoder()
_code_decoder = msgspec.json.Decoder(_StoredCode)


def _with_query(url: str, params: dict[str, str]) -> str:
    joiner = "&" if urlsplit(url).query else "?"
    return url + joiner + urlencode(params)


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def redirect_uri_errors(uris: list[str]) -> list[str]:
    """Why a list of redirect URIs cannot be registered (empty: it can)."""
    errors: list[str] = []
    if len(uris) > MAX_REDIRECT_URIS:
        errors.append(f"At most {MAX_REDIRECT_URIS} redirect URIs.")
    if len(" ".join(uris)) > _REDIRECT_FIELD:
        errors.append(f"The redirect URIs may be at most {_REDIRECT_FIELD} characters together.")
    for uri in uris:
        parts = urlsplit(uri)
        # Absolute, no fragment (RFC 6749 §3.1.2); http(s) or an app's own scheme.
        if not parts.scheme or not (parts.netloc or parts.path) or parts.fragment or "#" in uri:
            errors.append(f"{uri!r} is not an absolute URI without a fragment.")
        elif parts.scheme in ("javascript", "data", "file", "vbscript"):
            errors.append(f"{uri!r} has a scheme that cannot be a redirect URI.")
    return errors


class OAuthApps:
    """Authorization codes and user-managed clients."""

    def __init__(
        self, db: Database, repo: OAuthRepository, tokens: TokenService, redis: Any
    ) -> None:
        self._db = db
        self._repo = repo
        self._tokens = tokens
        self._redis = redis

    # The authorization-code grant.

    async def check_authorize(
        self, params: dict[str, str]
    ) -> AuthorizeRequest | AuthorizeInvalid | AuthorizeRedirect:
        """Check the query of `GET /oauth/authorize`."""
        raw_id = params.get("client_id", "")
        valid_id = raw_id.isdigit() and len(raw_id) <= 10
        client = await self._repo.client(int(raw_id)) if valid_id else None
        if client is None or client.revoked or client.password_client:
            return AuthorizeInvalid("Client authentication failed")
        registered = client.redirect_uris
        redirect_uri = params.get("redirect_uri")
        if redirect_uri is None and len(registered) == 1:
            redirect_uri = registered[0]
        # RFC 6749 §3.1.2.3: an exact, simple string comparison.
        if redirect_uri is None or redirect_uri not in registered:
            return AuthorizeInvalid("The redirect URI does not match the client's.")
        state = params.get("state")

        def back(error: str, description: str) -> AuthorizeRedirect:
            answer = {"error": error, "error_description": description}
            if state is not None:
                answer["state"] = state
            return AuthorizeRedirect(_with_query(redirect_uri, answer))

        if params.get("response_type") != "code":
            return back(
                "unsupported_response_type",
                "The authorization server does not support this response type.",
            )
        raw_scope = params.get("scope", "").replace(",", " ").split()
        scopes = tuple(dict.fromkeys(raw_scope)) or DEFAULT_SCOPES
        if any(scope not in GRANTABLE_SCOPES for scope in scopes):
            return back("invalid_scope", "The requested scope is invalid, unknown, or malformed")
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method", "plain" if challenge else None)
        if challenge is not None:
            # Only S256: "plain" gives no protection once the request is seen.
            if method != "S256":
                return back("invalid_request", "Only the S256 code challenge method is allowed.")
            if not _CHALLENGE.match(challenge):
                return back("invalid_request", "The code challenge is malformed.")
        elif method is not None:
            return back("invalid_request", "code_challenge_method without code_challenge.")
        return AuthorizeRequest(client, redirect_uri, scopes, state, challenge)

    async def approve(self, request: AuthorizeRequest, user_id: int) -> AuthorizeRedirect:
        """The user approved: a single-use code back to the app."""
        code = secrets.token_urlsafe(40)
        stored = _StoredCode(
            request.client.id, user_id, request.redirect_uri, request.scopes, request.code_challenge
        )
        key = _CODE_PREFIX + hashlib.sha256(code.encode()).hexdigest()
        try:
            await self._redis.set(key, _encoder.encode(stored), ex=CODE_SECONDS)
        except REDIS_DOWN as exc:
            raise LimiterUnavailable(str(exc)) from exc
        answer = {"code": code}
        if request.state is not None:
            answer["state"] = request.state
        return AuthorizeRedirect(_with_query(request.redirect_uri, answer))

    def deny(self, request: AuthorizeRequest) -> AuthorizeRedirect:
        """The user said no: access_denied back to the app."""
        answer = {
            "error": "access_denied",
            "error_description": "The resource owner or authorization server denied the request.",
        }
        if request.state is not None:
            answer["state"] = request.state
        return AuthorizeRedirect(_with_query(request.redirect_uri, answer))

    async def take_code(self, code: str) -> _StoredCode | None:
        """The code's grant, removed in the same step (None: unknown, expired or used)."""
        key = _CODE_PREFIX + hashlib.sha256(code.encode()).hexdigest()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.get(key)
                pipe.delete(key)
                raw, _ = await pipe.execute()
        except REDIS_DOWN as exc:
            raise LimiterUnavailable(str(exc)) from exc
        return None if raw is None else _code_decoder.decode(raw)

    @staticmethod
    def verifier_matches(stored: _StoredCode, verifier: str | None) -> bool:
        """PKCE: a code issued with a challenge needs its verifier; one without, none."""
        if stored.code_challenge is None:
            return verifier is None
        if verifier is None or not _VERIFIER.match(verifier):
            return False
        return secrets.compare_digest(pkce_challenge(verifier), stored.code_challenge)

    # Clients a user owns.

    async def clients(self, user_id: int) -> list[OAuthClient]:
        """The user's own clients."""
        return await self._repo.user_clients(user_id)

    async def _owned(self, user_id: int, client_id: int) -> OAuthClient | None:
        client = await self._repo.client(client_id)
        if client is None or client.revoked or client.owner_user_id != user_id:
            return None
        return client

    def _errors(
        self, name: str, redirect_uris: list[str], require_redirect: bool = True
    ) -> AppRejected | None:
        errors: dict[str, list[str]] = {}
        if not name.strip() or len(name) > 100:
            errors["name"] = ["The name must be 1 to 100 characters."]
        uri_errors = redirect_uri_errors(redirect_uris)
        if not redirect_uris and require_redirect:
            uri_errors.append("At least one redirect URI is required.")
        if uri_errors:
            errors["redirect"] = uri_errors
        return AppRejected(errors) if errors else None

    async def create(
        self,
        user_id: int | None,
        name: str,
        redirect_uris: list[str],
        *,
        password_client: bool = False,
        require_redirect: bool = True,
    ) -> NewSecret | AppRejected:
        """Register a client; its secret is returned once and stored only as a hash (the
        CLI registers bots without redirect URIs: client credentials need none)."""
        rejected = self._errors(name, redirect_uris, require_redirect)
        if rejected is not None:
            return rejected
        secret = secrets.token_urlsafe(30)
        async with self._db.transaction():
            client_id = await self._repo.add_client(
                name=name.strip(),
                owner_user_id=user_id,
                password_client=password_client,
                now=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
                redirect_uris=redirect_uris,
            )
            await self._repo.add_secret(client_id, hashlib.sha256(secret.encode()).hexdigest())
        client = await self._repo.client(client_id)
        assert client is not None
        return NewSecret(client, secret)

    async def update(
        self, user_id: int, client_id: int, name: str, redirect_uris: list[str]
    ) -> OAuthClient | AppRejected | None:
        """Rename a client and replace its redirect URIs (None: not the user's client)."""
        client = await self._owned(user_id, client_id)
        if client is None:
            return None
        rejected = self._errors(name, redirect_uris)
        if rejected is not None:
            return rejected
        await self._repo.update_client(client_id, name.strip(), redirect_uris)
        return await self._repo.client(client_id)

    async def reset_secret(self, user_id: int, client_id: int) -> NewSecret | None:
        """A new secret; the old one stops working at once (tokens already issued stay)."""
        client = await self._owned(user_id, client_id)
        if client is None:
            return None
        secret = secrets.token_urlsafe(30)
        async with self._db.transaction():
            await self._repo.replace_secret(client_id, hashlib.sha256(secret.encode()).hexdigest())
        return NewSecret(client, secret)

    async def delete(self, user_id: int, client_id: int) -> bool:
        """Delete a client: every token issued to it stops working."""
        if await self._owned(user_id, client_id) is None:
            return False
        async with self._db.transaction():
            digests = await self._repo.revoke_client(client_id)
        await self._tokens.evict(digests)
        return True

    # Apps a user has authorized.

    async def authorized(self, user_id: int) -> list[AuthorizedClient]:
        """Third-party apps holding live tokens of the user."""
        return await self._repo.authorized_clients(user_id, int(time.time()))

    async def revoke_authorized(self, user_id: int, client_id: int) -> None:
        """Take an app's access away: every token it holds for the user is revoked."""
        async with self._db.transaction():
            digests = await self._repo.revoke_user_client(user_id, client_id)
        await self._tokens.evict(digests)
