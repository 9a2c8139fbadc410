"""The browser session of the OAuth consent page: a signed cookie, and CSRF tokens bound to it.

The cookie holds a random nonce, the signed-in user (0: nobody yet) and when it was issued,
signed with a key derived from SECRET_KEY. A user's cookie is also bound to their password
hash, so a password change or reset signs every browser out. The CSRF token of a form is an
HMAC of the cookie's nonce: a page on another site can neither read the cookie nor compute
the token (and the cookie is SameSite=Lax besides). Signing in issues a new nonce.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import msgspec

from server.repositories.users import UserAccount, UserRepository

COOKIE = "osu_session"
SESSION_SECONDS = 86_400


class WebSession(msgspec.Struct, frozen=True):
    """The browser's session: its nonce and who is signed in (None: nobody)."""

    nonce: str
    user: UserAccount | None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class WebSessions:
    """Issue and read session cookies; make and check CSRF tokens."""

    def __init__(self, secret_key: str, *, secure: bool) -> None:
        self._key = hmac.new(secret_key.encode(), b"web-session", hashlib.sha256).digest()
        self.secure = secure

    def _sign(self, body: str, user: UserAccount | None) -> str:
        bound = hashlib.sha256(user.password_hash.encode()).hexdigest()[:16] if user else ""
        return _b64(hmac.new(self._key, f"{body}|{bound}".encode(), hashlib.sha256).digest())

    def issue(self, user: UserAccount | None) -> str:
        """A new cookie value (new nonce) for `user` (None: signed out)."""
        body = f"{secrets.token_urlsafe(18)}.{user.id if user else 0}.{int(time.time())}"
        return f"{body}.{self._sign(body, user)}"

    async def read(self, cookie: str | None, users: UserRepository) -> WebSession | None:
        """The session a cookie stands for; None when absent, forged or expired."""
        if not cookie or cookie.count(".") != 3:
            return None
        nonce, raw_user, raw_issued, signature = cookie.split(".")
        if not raw_user.isdigit() or not raw_issued.isdigit():
            return None
        if int(raw_issued) + SESSION_SECONDS < time.time():
            return None
        user = await users.by_id(int(raw_user)) if raw_user != "0" else None
        if raw_user != "0" and user is None:
            return None
        body = f"{nonce}.{raw_user}.{raw_issued}"
        if not hmac.compare_digest(signature, self._sign(body, user)):
            return None
        return WebSession(nonce, user)

    def csrf(self, session: WebSession) -> str:
        """The CSRF token forms of this session carry."""
        return _b64(hmac.new(self._key, f"csrf:{session.nonce}".encode(), hashlib.sha256).digest())

    def csrf_ok(self, session: WebSession | None, token: str | None) -> bool:
        """Whether a form's token belongs to this session."""
        if session is None or not token:
            return False
        return hmac.compare_digest(token, self.csrf(session))

    @staticmethod
    def nonce_of(cookie: str) -> str:
        """The nonce of a freshly issued cookie."""
        return cookie.split(".", 1)[0]
