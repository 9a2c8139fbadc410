"""Beatmap packs and their beatmapsets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from server.db import Database


class PackRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A stored pack."""

    id: int
    tag: str
    name: str
    author: str
    url: str
    date: datetime
    ruleset_id: int | None
    no_diff_reduction: bool


class PackRepository:
    """SQL for packs."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def packs(self, tag_prefix: str, before_id: int, limit: int) -> list[PackRecord]:
        """Visible packs whose tag starts with `tag_prefix`, newest first, below an id."""
        rows = await self._db.all(
            "fetch_packs", tag_prefix=f"{tag_prefix}%", before_id=before_id, limit=limit
        )
        return [msgspec.convert(r, PackRecord, strict=False) for r in rows]

    async def pack(self, tag: str) -> PackRecord | None:
        """One visible pack by tag."""
        row = await self._db.one("fetch_pack", tag=tag)
        return None if row is None else msgspec.convert(row, PackRecord, strict=False)

    async def set_ids(self, pack_id: int) -> list[int]:
        """A pack's beatmapset ids."""
        rows = await self._db.all("fetch_pack_set_ids", pack_id=pack_id)
        return [int(r["beatmapset_id"]) for r in rows]

    async def define(
        self,
        *,
        tag: str,
        name: str,
        author: str,
        url: str,
        date: datetime,
        ruleset_id: int | None,
        no_diff_reduction: bool,
        set_ids: Sequence[int],
    ) -> None:
        """Create (or replace) a pack with these sets, in one transaction."""
        async with self._db.transaction():
            await self._db.execute("delete_pack_items", tag=tag)
            await self._db.execute("delete_pack", tag=tag)
            pack_id = await self._db.execute(
                "insert_pack",
                tag=tag,
                name=name,
                author=author,
                url=url,
                date=date,
                ruleset_id=ruleset_id,
                no_diff_reduction=int(no_diff_reduction),
            )
            for set_id in dict.fromkeys(set_ids):
                await self._db.execute("insert_pack_item", pack_id=pack_id, beatmapset_id=set_id)

    async def delete(self, tag: str) -> bool:
        """Delete a pack; whether it existed."""
        async with self._db.transaction():
            await self._db.execute("delete_pack_items", tag=tag)
            return await self._db.rowcount("delete_pack", tag=tag) > 0
