"""Users and their per-ruleset statistics."""

from __future__ import annotations

from datetime import datetime

import msgspec
from pypika import MySQLQuery, Parameter, SQLLiteQuery, Table

from server.db import Database, DuplicateKey
from server.near_cache import NearCache


class UserAccount(msgspec.Struct, frozen=True, kw_only=True):
    """A stored user account."""

    id: int
    username: str
    username_safe: str
    email: str
    password_hash: str
    country_code: str
    playmode: str
    is_supporter: bool
    is_admin: bool
    is_bot: bool
    is_restricted: bool
    pm_friends_only: bool
    title: str | None
    location: str | None
    interests: str | None
    occupation: str | None
    twitter: str | None
    discord: str | None
    website: str | None
    profile_colour: str | None
    avatar_url: str | None
    cover_url: str | None
    silence_end_at: datetime | None
    created_at: datetime
    last_visit_at: datetime
    is_moderator: bool = False
    # Never shown: only the session verification checks codes against it.
    totp_secret: str | None = None


class ProfileCounts(msgspec.Struct, frozen=True):
    """Counters shown on a full profile."""

    favourites: int
    followers: int


class StatisticsRow(msgspec.Struct, frozen=True, kw_only=True):
    """One ruleset's accumulated statistics of a user."""

    user_id: int
    ruleset: str
    ranked_score: int = 0
    total_score: int = 0
    pp: float = 0.0
    hit_accuracy: float = 0.0
    play_count: int = 0
    play_time: int = 0
    total_hits: int = 0
    maximum_combo: int = 0
    replays_watched: int = 0
    count_ssh: int = 0
    count_ss: int = 0
    count_sh: int = 0
    count_s: int = 0
    count_a: int = 0
    count_300: int = 0
    count_100: int = 0
    count_50: int = 0
    count_miss: int = 0


_USER_COLUMNS = [f.name for f in msgspec.structs.fields(UserAccount)]
_users = Table("users")


def username_safe(username: str) -> str:
    """osu-web's name identity: case-insensitive, with space and underscore alike."""
    return username.strip().lower().replace(" ", "_")


_REGION = "user"
# Bounds what a change without an invalidation shows late (last_visit, edits made by hand
# in SQL); every write through this repository invalidates at once.
_CACHE_SECONDS = 60


class UserRepository:
    """SQL for accounts and statistics."""

    def __init__(self, db: Database, near: NearCache | None = None) -> None:
        self._db = db
        self._near = near
        self._cached = near.region(_REGION, _CACHE_SECONDS) if near else None

    async def by_id(self, user_id: int) -> UserAccount | None:
        """One account by id, as stored now."""
        row = await self._db.one("fetch_user_by_id", user_id=user_id)
        return None if row is None else msgspec.convert(row, UserAccount, strict=False)

    async def cached_by_id(self, user_id: int) -> UserAccount | None:
        """One account by id through the near cache: for reads that only show it (every
        authenticated request asks); anything that decides a write uses by_id."""
        if self._cached is None:
            return await self.by_id(user_id)
        return await self._cached.through(user_id, lambda: self.by_id(user_id))

    async def forget(self, user_id: int) -> None:
        """Drop an account from every instance's near cache (after a committed change)."""
        if self._near is not None:
            await self._near.invalidate(_REGION, [user_id])

    async def by_username(self, username: str) -> UserAccount | None:
        """One account by name (case-insensitive, space and underscore alike)."""
        row = await self._db.one(
            "fetch_user_by_username_safe", username_safe=username_safe(username)
        )
        return None if row is None else msgspec.convert(row, UserAccount, strict=False)

    async def by_ids(self, user_ids: list[int]) -> list[UserAccount]:
        """Accounts for a list of ids, in id order; unknown ids are left out."""
        if not user_ids:
            return []
        # The one dynamic query here: an IN list of bound parameters, built with pypika.
        params = {f"id{i}": uid for i, uid in enumerate(dict.fromkeys(user_ids))}
        dialect_query = MySQLQuery if self._db.dialect == "mysql" else SQLLiteQuery
        query = (
            dialect_query.from_(_users)
            .select(*_USER_COLUMNS)
            .where(_users.id.isin([Parameter(f":{name}") for name in params]))
            .orderby(_users.id)
        )
        rows = await self._db.all_dynamic(str(query), **params)
        return [msgspec.convert(row, UserAccount, strict=False) for row in rows]

    async def by_username_with_history(self, username: str) -> UserAccount | None:
        """One account by its name, else by a name it used before (osu-web
        User::lookupWithHistory: an old `@name` still finds a renamed player)."""
        account = await self.by_username(username)
        if account is not None:
            return account
        previous = await self._db.value(
            "fetch_user_id_by_previous_username", username_safe=username_safe(username)
        )
        return None if previous is None else await self.by_id(int(previous))

    async def previous_usernames(self, user_id: int) -> list[str]:
        """A user's earlier names, oldest first."""
        rows = await self._db.all("fetch_previous_usernames", user_id=user_id)
        return [str(row["username_last"]) for row in rows]

    async def by_email(self, email: str) -> UserAccount | None:
        """The account registered with this email (compared lower-cased)."""
        found = await self._db.value("fetch_user_id_by_email", email=email.strip().lower())
        return None if found is None else await self.by_id(int(found))

    async def email_taken(self, email: str) -> bool:
        """Whether an account uses this email (compared lower-cased)."""
        return await self._db.value("fetch_user_id_by_email", email=email.lower()) is not None

    async def insert(
        self, *, username: str, email: str, password_hash: str, country_code: str, now: datetime
    ) -> int | None:
        """Create an account; returns the new id, or None when the name or email was taken
        meanwhile (a concurrent registration won the unique key)."""
        try:
            return await self._db.execute(
                "insert_user",
                username=username,
                username_safe=username_safe(username),
                email=email.lower(),
                password_hash=password_hash,
                country_code=country_code,
                now=now,
            )
        except DuplicateKey:
            return None

    async def insert_system_user(self, *, user_id: int, username: str, now: datetime) -> None:
        """Create a bot account under a fixed id (it has no password and never signs in)."""
        await self._db.execute(
            "insert_system_user",
            user_id=user_id,
            username=username,
            username_safe=username_safe(username),
            email=f"{username_safe(username)}+{user_id}@bot.invalid",
            now=now,
        )

    async def play_count(self, user_id: int) -> int:
        """A user's plays over every ruleset."""
        return int(await self._db.value("count_user_plays", user_id=user_id))

    async def add_statistics(self, user_id: int, ruleset: str) -> None:
        """Start a ruleset's statistics at zero."""
        await self._db.execute("insert_user_statistics", user_id=user_id, ruleset=ruleset)

    async def set_password_hash(self, user_id: int, password_hash: str) -> None:
        """Replace a password hash."""
        await self._db.execute("update_password_hash", user_id=user_id, password_hash=password_hash)
        await self.forget(user_id)

    async def set_totp_secret(self, user_id: int, secret: str | None) -> None:
        """Enrol or remove TOTP."""
        await self._db.execute("update_totp_secret", user_id=user_id, totp_secret=secret)
        await self.forget(user_id)

    async def touch_last_visit(self, user_id: int, now: datetime) -> None:
        """Record a visit."""
        await self._db.execute("touch_last_visit", user_id=user_id, now=now)

    async def is_weak_password(self, password_md5: str) -> bool:
        """Whether a password (by MD5) is on the weak list."""
        return await self._db.value("is_weak_password", password_md5=password_md5) is not None

    async def statistics(self, user_id: int) -> dict[str, StatisticsRow]:
        """Every stored ruleset's statistics of a user, by ruleset name."""
        rows = await self._db.all("fetch_user_statistics", user_id=user_id)
        return {row["ruleset"]: msgspec.convert(row, StatisticsRow, strict=False) for row in rows}

    async def global_rank(self, ruleset: str, pp: float, user_id: int) -> int:
        """Rank by pp among unrestricted users (1-based; ties go to the lower id)."""
        above = await self._db.value(
            "count_users_above_pp", ruleset=ruleset, pp=pp, user_id=user_id
        )
        return int(above) + 1

    async def country_rank(self, ruleset: str, pp: float, user_id: int, country_code: str) -> int:
        """Rank by pp among unrestricted users of one country (1-based; ties to the lower id)."""
        above = await self._db.value(
            "count_country_users_above_pp",
            ruleset=ruleset,
            pp=pp,
            user_id=user_id,
            country_code=country_code,
        )
        return int(above) + 1

    async def ranked_user_count(self, ruleset: str) -> int:
        """How many users have pp in a ruleset."""
        return int(await self._db.value("count_ranked_users", ruleset=ruleset))

    async def profile_counts(self, user_id: int) -> ProfileCounts:
        """Favourite sets and followers of a user, in one query."""
        row = await self._db.one("fetch_profile_counts", user_id=user_id)
        assert row is not None  # an aggregate always returns a row
        return msgspec.convert(row, ProfileCounts, strict=False)
