"""osu! API v1 keys: one per user as osu-web issues them (LegacyApiKeyController), kept only
as a SHA-256 digest and shown once, when made."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime
from urllib.parse import urlsplit

import msgspec

from server.db import DuplicateKey
from server.models.v1 import LegacyApiKey
from server.repositories.api_keys import ApiKeyRepository

# osu-web's ApiKey::MAX_FIELD_LENGTHS and its lang strings (model_validation.php).
MAX_APP_NAME = 100
MAX_APP_URL = 512
_EXISTS = "Only one API key is provided per user for the moment."
_KEY_RE = re.compile(r"^[0-9a-f]{40}$")
# Digests of keys seen valid, so the rate limiter can count a key as itself (see rate_key).
_MAX_KNOWN = 100_000


class KeyRejected(msgspec.Struct, frozen=True):
    """Validation errors by field, as osu-web's `form_error.legacy_api_key`."""

    errors: dict[str, list[str]]


def key_digest(key: str) -> str:
    """What is stored for a key. Keys are 160 random bits, so an unsalted SHA-256 is enough."""
    return hashlib.sha256(key.encode()).hexdigest()


def _is_url(value: str) -> bool:
    # PHP's FILTER_VALIDATE_URL, as far as it matters here: a scheme and a host.
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(parts.scheme) and bool(parts.netloc) and " " not in value


class ApiKeyService:
    """Issuing, revoking and checking v1 keys."""

    def __init__(self, repo: ApiKeyRepository) -> None:
        self._repo = repo
        self._known: dict[str, None] = {}

    async def issue(self, user_id: int, app_name: str, app_url: str) -> LegacyApiKey | KeyRejected:
        """A new key for the user, unless the fields are invalid or the user holds one."""
        errors: dict[str, list[str]] = {}
        app_name = app_name.strip()
        app_url = app_url.strip()
        if not app_name:
            errors.setdefault("app_name", []).append("application name is required.")
        elif len(app_name) > MAX_APP_NAME:
            errors.setdefault("app_name", []).append(
                f"application name exceeded maximum length - can only be up to {MAX_APP_NAME} "
                "characters."
            )
        if len(app_url) > MAX_APP_URL:
            errors.setdefault("app_url", []).append(
                f"application url exceeded maximum length - can only be up to {MAX_APP_URL} "
                "characters."
            )
        elif not _is_url(app_url):
            errors.setdefault("app_url", []).append("Please enter a valid URL.")
        if await self._repo.exists(user_id):
            errors.setdefault("base", []).append(_EXISTS)
        if errors:
            return KeyRejected(errors)
        key = secrets.token_hex(20)  # osu-web: bin2hex(random_bytes(20))
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        try:
            await self._repo.insert(user_id, key_digest(key), app_name, app_url, now)
        except DuplicateKey:  # a concurrent request made one first
            return KeyRejected({"base": [_EXISTS]})
        return LegacyApiKey(key, app_name, app_url)

    async def revoke(self, user_id: int) -> bool:
        """Revoke the user's key; whether there was one."""
        return await self._repo.delete(user_id)

    async def user_for(self, key: str) -> int | None:
        """The owner of a key, or None for a malformed or unknown one."""
        if not _KEY_RE.match(key):
            return None
        digest = key_digest(key)
        user_id = await self._repo.user_id(digest)
        if user_id is not None and digest not in self._known:
            if len(self._known) >= _MAX_KNOWN:
                self._known.clear()
            self._known[digest] = None
        return user_id

    def rate_key(self, key: str) -> str | None:
        """What the API rate limit counts a v1 key as: its digest once it has been seen valid
        here, else None (count the IP), so made-up keys get no allowance of their own."""
        if not _KEY_RE.match(key):
            return None
        digest = key_digest(key)
        return digest if digest in self._known else None
