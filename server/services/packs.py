"""Beatmap packs (osu-web BeatmapPacksController, BeatmapPack): listed by type from the tag's
first letter, 100 a page under a cursor; one pack with its sets and the caller's completion
(osu-web's BeatmapPack::userCompletionData)."""

from __future__ import annotations

import base64
import binascii
import enum
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

import msgspec

from server.models.packs import BeatmapPack, BeatmapPacksPage, PackCursor, UserCompletionData
from server.repositories.packs import PackRecord, PackRepository
from server.services.beatmaps import BeatmapService
from server.services.profile_pages import ProfilePages

# osu-web's BeatmapPack::TAG_MAPPINGS.
PACK_TYPES: Final = {
    "standard": "S",
    "featured": "F",
    "tournament": "P",
    "loved": "L",
    "chart": "R",
    "theme": "T",
    "artist": "A",
}
PACKS_PER_PAGE: Final = 100
_NO_CURSOR: Final = 2**31 - 1


class PackRejected(enum.Enum):
    """Why a pack request is answered with 404."""

    UNKNOWN_TYPE = "unknown pack type"
    NOT_FOUND = "No query results for model [App\\Models\\BeatmapPack]."


def _encode(cursor: PackCursor) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(cursor)).decode().rstrip("=")


def decode_pack_cursor(raw: str | None) -> PackCursor | None:
    """A cursor_string back to a cursor; None when absent or unreadable."""
    if not raw:
        return None
    try:
        data: Any = msgspec.json.decode(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, msgspec.DecodeError, ValueError):
        return None
    value = data.get("pack_id") if isinstance(data, dict) else None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    return PackCursor(value)


def _shape(record: PackRecord) -> BeatmapPack:
    return BeatmapPack(
        author=record.author,
        date=record.date.replace(tzinfo=UTC),
        name=record.name,
        no_diff_reduction=record.no_diff_reduction,
        ruleset_id=record.ruleset_id,
        tag=record.tag,
        url=record.url,
    )


class PackService:
    """Listing, showing and defining packs."""

    def __init__(self, repo: PackRepository, beatmaps: BeatmapService, pages: ProfilePages) -> None:
        self.repo = repo
        self._beatmaps = beatmaps
        self._pages = pages

    async def packs(
        self, pack_type: str, cursor: PackCursor | None
    ) -> BeatmapPacksPage | PackRejected:
        """A page of one type's packs, newest first."""
        prefix = PACK_TYPES.get(pack_type)
        if prefix is None:
            return PackRejected.UNKNOWN_TYPE
        before = cursor.pack_id if cursor is not None else _NO_CURSOR
        rows = await self.repo.packs(prefix, before, PACKS_PER_PAGE + 1)
        more = len(rows) > PACKS_PER_PAGE
        rows = rows[:PACKS_PER_PAGE]
        next_cursor = PackCursor(rows[-1].id) if more and rows else None
        return BeatmapPacksPage(
            beatmap_packs=[_shape(r) for r in rows],
            cursor=next_cursor,
            cursor_string=_encode(next_cursor) if next_cursor else None,
        )

    async def pack(self, tag: str, viewer_id: int | None) -> BeatmapPack | PackRejected:
        """One pack with its sets and the viewer's completion."""
        record = await self.repo.pack(tag)
        if record is None:
            return PackRejected.NOT_FOUND
        set_ids = await self.repo.set_ids(record.id)
        completed = False
        done: list[int] = []
        if viewer_id is not None and set_ids:
            beatmaps = await self._beatmaps.repo.beatmaps_of_sets(set_ids)
            passed = await self._pages.passed_ids(
                viewer_id,
                beatmaps,
                ruleset_id=record.ruleset_id,
                exclude_converts=record.ruleset_id is None,
                no_diff_reduction=record.no_diff_reduction,
            )
            set_of = {b.id: b.beatmapset_id for b in beatmaps}
            done = sorted({set_of[i] for i in passed})
            completed = len(done) == len(set(set_of.values()))
        return msgspec.structs.replace(
            _shape(record),
            beatmapsets=await self._beatmaps.sets_with_beatmaps(set_ids, viewer_id),
            user_completion_data=UserCompletionData(completed, done),
        )

    async def define(
        self,
        *,
        tag: str,
        name: str,
        author: str,
        url: str,
        ruleset_id: int | None,
        no_diff_reduction: bool,
        set_ids: Sequence[int],
    ) -> None:
        """Create or replace a pack (the `packs define` command)."""
        await self.repo.define(
            tag=tag,
            name=name,
            author=author,
            url=url,
            date=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
            ruleset_id=ruleset_id,
            no_diff_reduction=no_diff_reduction,
            set_ids=set_ids,
        )
