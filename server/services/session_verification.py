"""Session verification as lazer expects it (osu-web app/Libraries/SessionVerification/*),
off unless SESSION_VERIFICATION is on.

A password-grant sign-in then starts unverified: its tokens reach only `me`, the
notification socket and `session/verify*` until the player types the code we mailed them,
or the one their authenticator shows when they enrolled TOTP. `me` names the method in
`session_verification_method`; lazer shows its second-factor screen for it. A verified
sign-in stays verified through its refreshes; the `verified` socket event tells the client.
"""

from __future__ import annotations

import contextlib
from enum import Enum
from typing import Any, Literal

import msgspec

from server.redis_store import REDIS_DOWN
from server.repositories.users import UserAccount
from server.services.codes import CodeCheck, OneTimeCodes
from server.services.limits import FixedWindowLimiter, LimiterUnavailable
from server.services.mail import Mailer, MailFailed
from server.services.notifications import NotificationService
from server.services.tokens import Session, TokenService

Method = Literal["totp", "mail"]
# osu-web: a mailed key is valid 5 hours and allows 8 tries.
CODE_SECONDS = 5 * 3600
_FALLBACK_PREFIX = "session-verify:mail:"
_USED_TOTP_PREFIX = "session-verify:totp-used:"


class Verified(Enum):
    """The session is verified (now, or it already was)."""

    DONE = "done"


class VerifyFailed(msgspec.Struct, frozen=True):
    """A refused attempt: osu-web's message and the method lazer should show next (it reads
    `method` from the body, and without one would switch to TOTP)."""

    message: str
    method: Method


class Reissued(msgspec.Struct, frozen=True):
    """What reissue and mail-fallback answered."""

    message: str


def totp_uri(secret: str, username: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app enrols from."""
    import pyotp  # on first use, as every caller of pyotp here: few accounts enrol TOTP

    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret."""
    import pyotp

    return pyotp.random_base32()


class SessionVerification:
    """Issue and check second factors for unverified sign-ins."""

    def __init__(
        self,
        tokens: TokenService,
        notifications: NotificationService,
        codes: OneTimeCodes,
        mailer: Mailer,
        redis: Any,
        reissue_limiter: FixedWindowLimiter,
        attempt_limiter: FixedWindowLimiter,
    ) -> None:
        self._tokens = tokens
        self._notifications = notifications
        self._codes = codes
        self._mailer = mailer
        self._redis = redis
        self._reissue_limiter = reissue_limiter
        self._attempt_limiter = attempt_limiter

    async def pending_method(self, session: Session, user: UserAccount) -> Method | None:
        """None for a verified sign-in; else its method, a mail code sent if none is live
        (osu-web issues one when the unverified session first shows up)."""
        if session.verified:
            return None
        method = await self._method(session, user)
        if method == "mail" and not await self._codes.pending(session.family_id):
            await self._mail_code(session, user)
        return method

    async def verify(
        self, session: Session, user: UserAccount, key: str
    ) -> Verified | VerifyFailed:
        """POST session/verify with `verification_key`."""
        if session.verified:
            return Verified.DONE
        method = await self._method(session, user)
        key = key.replace(" ", "")
        allowance = await self._attempt_limiter.hit(session.family_id)
        if not allowance.allowed:
            return VerifyFailed("Too many attempts. Try again in a few minutes.", method)
        if method == "totp":
            assert user.totp_secret is not None
            import pyotp

            if not (key.isdigit() and pyotp.TOTP(user.totp_secret).verify(key, valid_window=1)):
                return VerifyFailed("Incorrect verification code.", method)
            if not await self._first_use(user.id, key):
                return VerifyFailed("Incorrect verification code.", method)  # replayed
        else:
            checked = await self._codes.check(session.family_id, key)
            if checked is CodeCheck.GONE:
                await self._mail_code(session, user)
                return VerifyFailed(
                    "Verification code expired, new verification email sent.", method
                )
            if checked is CodeCheck.WRONG:
                return VerifyFailed("Incorrect verification code.", method)
        await self._tokens.mark_verified(session.family_id)
        # Best effort: the client also learns it from the 204.
        with contextlib.suppress(*REDIS_DOWN):
            await self._notifications.push(user.id, "verified", {"key": session.family_id})
        return Verified.DONE

    async def reissue(self, session: Session, user: UserAccount) -> Verified | Reissued:
        """POST session/verify/reissue: a new mailed code (TOTP has nothing to reissue)."""
        if session.verified:
            return Verified.DONE
        if await self._method(session, user) == "totp":
            return Reissued("Use the code from your authenticator app.")
        if not (await self._reissue_limiter.hit(session.family_id)).allowed:
            return Reissued("Too many reissue requests. Try again in a few minutes.")
        await self._mail_code(session, user)
        return Reissued("Verification code reissued, new verification email sent.")

    async def mail_fallback(self, session: Session, user: UserAccount) -> Verified | Reissued:
        """POST session/verify/mail-fallback: verify this sign-in by mail instead of TOTP."""
        if session.verified:
            return Verified.DONE
        try:
            await self._redis.set(_FALLBACK_PREFIX + session.family_id, b"1", ex=CODE_SECONDS)
        except REDIS_DOWN as exc:
            raise LimiterUnavailable(str(exc)) from exc
        return await self.reissue(session, user)

    async def _method(self, session: Session, user: UserAccount) -> Method:
        if user.totp_secret is None:
            return "mail"
        try:
            fallback = await self._redis.exists(_FALLBACK_PREFIX + session.family_id)
        except REDIS_DOWN as exc:
            raise LimiterUnavailable(str(exc)) from exc
        return "mail" if fallback else "totp"

    async def _first_use(self, user_id: int, key: str) -> bool:
        # A TOTP code works once (S-AUTH-8): kept past its validity window.
        try:
            return bool(
                await self._redis.set(f"{_USED_TOTP_PREFIX}{user_id}:{key}", b"1", nx=True, ex=120)
            )
        except REDIS_DOWN as exc:
            raise LimiterUnavailable(str(exc)) from exc

    async def _mail_code(self, session: Session, user: UserAccount) -> None:
        code = await self._codes.issue(session.family_id)
        # A failed mail is logged by the mailer; the player can ask again (reissue).
        with contextlib.suppress(MailFailed):
            await self._mailer.send(
                user.email,
                "Account verification",
                f"Hello {user.username},\n\nsomeone (hopefully you) signed in to your account. "
                f"Your verification code is {code}. It is valid for {CODE_SECONDS // 3600} "
                "hours.\n\nIf this was not you, change your password.\n",
            )
