"""Beatmap packs (osu-web BeatmapPackTransformer, BeatmapPacksController)."""

from __future__ import annotations

from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType

from server.models.beatmaps import Beatmapset


class UserCompletionData(msgspec.Struct, frozen=True):
    """Which of a pack's sets the caller passed, and whether that is all of them."""

    completed: bool
    beatmapset_ids: list[int]


class BeatmapPack(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A pack; a single pack also carries its sets and the caller's completion."""

    author: str
    date: datetime
    name: str
    no_diff_reduction: bool
    ruleset_id: int | None
    tag: str
    url: str
    beatmapsets: list[Beatmapset] | UnsetType = UNSET
    user_completion_data: UserCompletionData | UnsetType = UNSET


class PackCursor(msgspec.Struct, frozen=True):
    """Where the next page of packs starts (below this pack id)."""

    pack_id: int


class BeatmapPacksPage(msgspec.Struct, frozen=True):
    """A page of packs of one type (100 a page)."""

    beatmap_packs: list[BeatmapPack]
    cursor: PackCursor | None
    cursor_string: str | None
