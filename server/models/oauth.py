"""OAuth client shapes (osu-web's OAuth\\Client transformer) for client management."""

from __future__ import annotations

import msgspec


class OAuthClientShape(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A client as its owner sees it; `secret` only in the answer that created or reset it."""

    id: int
    name: str
    redirect: str
    revoked: bool
    user_id: int | None
    secret: str | None = None


class AuthorizedClientShape(msgspec.Struct, frozen=True, kw_only=True):
    """An app the user has authorized, with the scopes it holds."""

    id: int
    name: str
    user_id: int | None
    scopes: list[str]
