"""The rendered-profile cache and its invalidation: the one owner of both.

ProfileService keeps rendered users/{id} and /me answers in a near-cache region keyed by
user id. Whatever commits a change a profile shows (a score, a pin, a favourite, a follower,
presence, a recalc) calls `forget` here after its commit, and every instance drops that
user's rendered profiles before the change's request returns.
"""

from __future__ import annotations

from typing import Final

from server.near_cache import NearCache, Region

_REGION: Final = "profile"


class ProfileCache:
    """The profile region of the near cache."""

    def __init__(self, near: NearCache | None, seconds: int = 0) -> None:
        self._near = near
        # Global rank and online state change without an invalidation: the lifetime bounds
        # how late they show. The user's own changes invalidate at once.
        self.region: Region | None = (
            near.region(_REGION, seconds) if near is not None and seconds > 0 else None
        )

    async def forget(self, user_id: int) -> None:
        """Drop a user's rendered profiles on every instance (after a committed change)."""
        if self._near is not None:
            await self._near.invalidate(_REGION, [user_id])

    async def forget_everyone(self) -> None:
        """Drop every rendered profile on every instance (bulk changes: recalc)."""
        if self._near is not None:
            await self._near.invalidate_region(_REGION)
