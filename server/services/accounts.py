"""Accounts: registration with osu-web's validation, and credential checks."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import msgspec

from server.models.rulesets import RULESETS
from server.repositories.users import UserAccount, UserRepository, username_safe
from server.services.passwords import PasswordHasher, password_md5

_USERNAME_CHARS = re.compile(r"^[A-Za-z0-9\-\[\]_ ]+$")
# A deliberately plain check: one @, something on both sides, a dot in the domain, no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MIN_PASSWORD = 8
_MAX_PASSWORD = 512


class RegistrationInput(msgspec.Struct, frozen=True):
    """What POST /users carries."""

    username: str
    email: str
    password: str


class Registered(msgspec.Struct, frozen=True):
    """Registration succeeded."""

    user: UserAccount


class RegistrationRejected(msgspec.Struct, frozen=True):
    """Field errors in osu-web's `form_error.user` shape."""

    errors: dict[str, list[str]]


def username_errors(username: str) -> list[str]:
    """osu-web's username rules (app/Libraries/UsernameValidation.php), in its wording."""
    errors: list[str] = []
    if username != username.strip():
        errors.append("Username can't start or end with spaces!")
    if len(username) < 3:
        errors.append("The requested username is too short.")
    if len(username) > 15:
        errors.append("The requested username is too long.")
    if "  " in username or not _USERNAME_CHARS.match(username):
        errors.append("The requested username contains invalid characters.")
    if "_" in username and " " in username:
        errors.append("Please use either underscores or spaces, not both!")
    return errors


class AccountService:
    """Create accounts and check credentials."""

    def __init__(self, users: UserRepository, hasher: PasswordHasher) -> None:
        self._users = users
        self._hasher = hasher

    async def register(
        self, data: RegistrationInput, country_code: str
    ) -> Registered | RegistrationRejected:
        """Validate as osu-web does and create the account with zeroed statistics."""
        errors: dict[str, list[str]] = {"username": [], "user_email": [], "password": []}
        errors["username"] += username_errors(data.username)
        if not errors["username"] and await self._users.by_username(data.username) is not None:
            errors["username"].append("Username is already in use!")

        email = data.email.strip()
        if not _EMAIL.match(email) or len(email) > 254:
            errors["user_email"].append("Doesn't seem to be a valid email address.")
        elif await self._users.email_taken(email):
            errors["user_email"].append("Email address already used.")

        password = data.password
        errors["password"] += await self.password_errors(data.username, password)

        errors = {field: messages for field, messages in errors.items() if messages}
        if errors:
            return RegistrationRejected(errors)

        password_hash = await self._hasher.hash(password)
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        user_id = await self._users.insert(
            username=data.username,
            email=email,
            password_hash=password_hash,
            country_code=country_code,
            now=now,
        )
        if user_id is None:
            # Another registration took the name or the email between the checks and the insert.
            if await self._users.email_taken(email):
                return RegistrationRejected({"user_email": ["Email address already used."]})
            return RegistrationRejected({"username": ["Username is already in use!"]})
        for ruleset in RULESETS:
            await self._users.add_statistics(user_id, ruleset)
        user = await self._users.by_id(user_id)
        assert user is not None
        return Registered(user)

    async def password_errors(self, username: str, password: str) -> list[str]:
        """osu-web's rules for a new password (User::isValidPassword), in its wording."""
        errors: list[str] = []
        if len(password) < _MIN_PASSWORD:
            errors.append("New password is too short.")
        elif len(password) > _MAX_PASSWORD:
            errors.append("New password is too long.")
        if username and username_safe(username) in username_safe(password):
            errors.append("Password may not contain username.")
        if await self._users.is_weak_password(password_md5(password).lower()):
            errors.append("Password is too common. Please choose a different one.")
        return errors

    async def set_password(self, user_id: int, password: str) -> None:
        """Store a new password (its bcrypt hash)."""
        await self._users.set_password_hash(user_id, await self._hasher.hash(password))

    async def password_matches(self, user: UserAccount, password: str) -> bool:
        """Whether `password` is the account's current one."""
        return await self._hasher.verify(password, user.password_hash)

    async def check_credentials(self, login: str, password: str) -> UserAccount | None:
        """The account when name and password match; None otherwise, in the same time."""
        user = await self._users.by_username(login)
        matched = await self._hasher.verify(password, user.password_hash if user else None)
        if user is None or not matched:
            return None
        if self._hasher.needs_rehash(user.password_hash):
            # S-AUTH-1: move the stored hash to the configured cost on a successful login.
            await self._users.set_password_hash(user.id, await self._hasher.hash(password))
        return user
