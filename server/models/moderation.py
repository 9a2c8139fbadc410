"""Wire shapes of our admin API (osu-web has no public one: this design is ours)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class ModeratedUser(msgspec.Struct, frozen=True, kw_only=True):
    """An account as the admin API shows it after an action."""

    id: int
    username: str
    is_restricted: bool
    silence_end_at: datetime | None
    roles: list[str]
    previous_usernames: list[str]
    # Whether running servers sharing this Redis were reached at once (always true in the
    # server itself; the CLI on the embedded default reaches none).
    live: bool = True


class AccountHistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One account-history entry (osu-web UserAccountHistory's fields, our names)."""

    id: int
    action: str
    reason: str
    period_seconds: int | None
    actor_id: int | None
    created_at: datetime


class AccountHistory(msgspec.Struct, frozen=True):
    """`{"account_history": [...]}`, newest first."""

    account_history: list[AccountHistoryEntry]
