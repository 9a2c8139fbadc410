"""The outbox: messages queued with the transaction that caused them."""

from __future__ import annotations

from datetime import datetime

import msgspec

from server.db import Database


class OutboxEntry(msgspec.Struct, frozen=True):
    """One queued message."""

    id: int
    channel: str
    payload: str


class OutboxRepository:
    """SQL for the outbox table."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, channel: str, payload: str, now: datetime) -> int:
        """Queue a message (in the caller's transaction); returns its id."""
        return await self._db.execute("insert_outbox", channel=channel, payload=payload, now=now)

    async def remove(self, entry_id: int) -> None:
        """Forget a published message."""
        await self._db.execute("delete_outbox", id=entry_id)

    async def remove_many(self, entry_ids: list[int]) -> None:
        """Forget several published messages in one statement."""
        await self._db.execute("delete_outbox_many", ids=msgspec.json.encode(entry_ids).decode())

    async def depth(self) -> int:
        """How many messages wait to be published."""
        return int(await self._db.value("count_outbox") or 0)

    async def due(self, before: datetime, limit: int) -> list[OutboxEntry]:
        """Unpublished messages queued before a time, oldest first."""
        rows = await self._db.all("fetch_outbox_due", before=before, limit=limit)
        return [msgspec.convert(row, OutboxEntry, strict=False) for row in rows]
