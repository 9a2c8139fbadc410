"""Password change (current password required) and password reset by an emailed code.

Both end every other sign-in and its tokens (reliability.md S-TOK-7, osu-web
AccountController::updatePassword and PasswordResetController → User::resetSessions): a
change keeps the session that made it; a reset, made without a session, ends them all and
tells the notification socket and hubs to log out.
"""

from __future__ import annotations

from enum import Enum

import msgspec

from server.repositories.users import UserAccount, UserRepository
from server.services.accounts import AccountService
from server.services.codes import CodeCheck, OneTimeCodes
from server.services.limits import FixedWindowLimiter, LoginGuard
from server.services.mail import Mailer, MailFailed
from server.services.moderation import ModerationService
from server.services.tokens import TokenService

# S-AUTH-8: reset codes live 10 minutes and allow 8 guesses.
RESET_CODE_SECONDS = 600


class PasswordRejected(msgspec.Struct, frozen=True):
    """Field errors in osu-web's `form_error.user` shape."""

    errors: dict[str, list[str]]


class ResetRequest(Enum):
    """What asking for a reset code did (the caller answers the same for all but LIMITED,
    so the answer never tells whether an account exists)."""

    SENT = "sent"
    LIMITED = "limited"
    MAIL_FAILED = "mail_failed"


_WRONG_CODE = PasswordRejected({"key": ["The reset code is wrong or has expired."]})


class CredentialService:
    """Change and reset passwords."""

    def __init__(
        self,
        users: UserRepository,
        accounts: AccountService,
        tokens: TokenService,
        moderation: ModerationService,
        guard: LoginGuard,
        codes: OneTimeCodes,
        mailer: Mailer,
        reset_limiter: FixedWindowLimiter,
    ) -> None:
        self._users = users
        self._accounts = accounts
        self._tokens = tokens
        self._moderation = moderation
        self._guard = guard
        self._codes = codes
        self._mailer = mailer
        self._reset_limiter = reset_limiter

    async def change_password(
        self,
        user: UserAccount,
        current: str,
        new: str,
        confirmation: str | None,
        keep_family: str,
        ip: str,
    ) -> PasswordRejected | None:
        """Change the password; every sign-in but `keep_family` ends. None on success."""
        if await self._guard.is_locked(ip, user.username):
            return PasswordRejected(
                {"current_password": ["Too many failed attempts. Try again in a few minutes."]}
            )
        if not await self._accounts.password_matches(user, current):
            await self._guard.record_failure(ip, user.username, current)
            return PasswordRejected({"current_password": ["Current password is incorrect."]})
        errors = await self._new_password_errors(user, new, confirmation)
        if errors is not None:
            return errors
        await self._accounts.set_password(user.id, new)
        await self._tokens.revoke_user_except(user.id, keep_family)
        return None

    async def request_reset(self, login: str, ip: str) -> ResetRequest:
        """Mail a reset code to the account named by `login` (username or email)."""
        allowance = await self._reset_limiter.hit(f"ip:{ip}")
        user = await self._find(login)
        if user is not None:
            # S-AUTH-7: a victim's inbox is not flooded from many addresses either.
            allowance_user = await self._reset_limiter.hit(f"user:{user.id}")
            if not allowance_user.allowed:
                return ResetRequest.LIMITED
        if not allowance.allowed:
            return ResetRequest.LIMITED
        if user is None:
            return ResetRequest.SENT
        code = await self._codes.issue(str(user.id))
        try:
            await self._mailer.send(
                user.email,
                "Password reset",
                f"Hello {user.username},\n\nyour password reset code is {code}. It expires in "
                f"{RESET_CODE_SECONDS // 60} minutes.\n\nIf you did not ask for it, ignore this "
                "message; your password stays as it is.\n",
            )
        except MailFailed:
            return ResetRequest.MAIL_FAILED
        return ResetRequest.SENT

    async def reset_password(
        self, login: str, code: str, new: str, confirmation: str | None
    ) -> PasswordRejected | None:
        """Set a new password with a mailed code; every sign-in ends. None on success."""
        user = await self._find(login)
        if user is None or not code.strip():
            return _WRONG_CODE
        # The new password is checked first, so a typo there does not use up the code.
        errors = await self._new_password_errors(user, new, confirmation)
        if errors is not None:
            return errors
        if await self._codes.check(str(user.id), code) is not CodeCheck.RIGHT:
            return _WRONG_CODE
        await self._accounts.set_password(user.id, new)
        await self._moderation.end_sessions(user.id)
        return None

    async def _find(self, login: str) -> UserAccount | None:
        login = login.strip()
        if "@" in login:
            return await self._users.by_email(login)
        return await self._users.by_username(login) if login else None

    async def _new_password_errors(
        self, user: UserAccount, new: str, confirmation: str | None
    ) -> PasswordRejected | None:
        errors = await self._accounts.password_errors(user.username, new)
        if confirmation is not None and confirmation != new:
            errors.append("Password confirmation doesn't match.")
        return PasswordRejected({"password": errors}) if errors else None
