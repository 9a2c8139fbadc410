"""Friends and blocks."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from server.db import Database

RelationKind = Literal["friend", "block"]


class Relation(msgspec.Struct, frozen=True):
    """One friend or block of a user."""

    target_id: int
    mutual: bool


class RelationRepository:
    """SQL for user relations."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def list(self, user_id: int, kind: RelationKind) -> list[Relation]:
        """A user's friends or blocks, oldest first."""
        rows = await self._db.all("fetch_relations", user_id=user_id, kind=kind)
        return [msgspec.convert(row, Relation, strict=False) for row in rows]

    async def kind_of(self, user_id: int, target_id: int) -> RelationKind | None:
        """The relation a user has to a target, if any."""
        kind = await self._db.value("fetch_relation_kind", user_id=user_id, target_id=target_id)
        return None if kind is None else kind

    async def put(self, user_id: int, target_id: int, kind: RelationKind, now: datetime) -> None:
        """Make the target a friend or block (replacing the other kind)."""
        await self._db.execute(
            "upsert_relation", user_id=user_id, target_id=target_id, kind=kind, now=now
        )

    async def delete(self, user_id: int, target_id: int, kind: RelationKind) -> bool:
        """Remove a friend or block; False when there was none."""
        changed = await self._db.rowcount(
            "delete_relation", user_id=user_id, target_id=target_id, kind=kind
        )
        return changed > 0

    async def count(self, user_id: int, kind: RelationKind) -> int:
        """How many friends or blocks a user has."""
        return int(await self._db.value("count_relations", user_id=user_id, kind=kind))
