"""Friends and blocks, with osu-web's limits and rules."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from server.models.users import UserRelation
from server.repositories.relations import RelationKind, RelationRepository
from server.repositories.users import UserAccount, UserRepository
from server.services.profiles import ProfileService

MAX_RELATIONS = {"friend": 500, "block": 100}


class RelationRefused(msgspec.Struct, frozen=True):
    """Why a relation change was refused, with the HTTP status osu-web uses."""

    status: int
    message: str


class RelationService:
    """List, add and remove friends and blocks."""

    def __init__(
        self, relations: RelationRepository, users: UserRepository, profiles: ProfileService
    ) -> None:
        self._relations = relations
        self._users = users
        self._profiles = profiles

    async def list(self, user: UserAccount, kind: RelationKind) -> list[UserRelation]:
        """A user's friends or blocks as APIRelation, with their targets."""
        relations = await self._relations.list(user.id, kind)
        targets = await self._users.by_ids([r.target_id for r in relations])
        compact = {u.id: u for u in await self._profiles.compact_many(targets)}
        return [
            UserRelation(
                r.target_id, kind, r.mutual if kind == "friend" else False, compact[r.target_id]
            )
            for r in relations
            if r.target_id in compact
        ]

    async def add(
        self, user: UserAccount, target_id: int, kind: RelationKind
    ) -> UserRelation | RelationRefused:
        """Befriend or block a user (either replaces the other, as in osu-web)."""
        if target_id == user.id:
            return RelationRefused(
                422,
                "You can't add yourself as a friend."
                if kind == "friend"
                else "You can't block yourself.",
            )
        target = await self._users.by_id(target_id)
        if target is None:
            return RelationRefused(404, "User not found! ;_;")
        if await self._relations.kind_of(user.id, target_id) != kind:
            if await self._relations.count(user.id, kind) >= MAX_RELATIONS[kind]:
                return RelationRefused(422, f"You have reached the {kind} limit.")
            await self._relations.put(
                user.id, target_id, kind, datetime.now(UTC).replace(tzinfo=None, microsecond=0)
            )
            await self._profiles.forget(target_id)  # follower_count
        mutual = kind == "friend" and await self._relations.kind_of(target_id, user.id) == "friend"
        compact = await self._profiles.compact_many([target])
        return UserRelation(target_id, kind, mutual, compact[0])

    async def remove(self, user: UserAccount, target_id: int, kind: RelationKind) -> bool:
        """Remove a friend or block; False when there was none."""
        removed = await self._relations.delete(user.id, target_id, kind)
        if removed:
            await self._profiles.forget(target_id)  # follower_count
        return removed
