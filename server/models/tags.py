"""Beatmap tags (osu-web TagsController, TagTransformer)."""

from __future__ import annotations

import msgspec


class Tag(msgspec.Struct, frozen=True):
    """A tag players can put on beatmaps; `ruleset_id` None for every ruleset."""

    id: int
    name: str
    ruleset_id: int | None
    description: str


class TagsEnvelope(msgspec.Struct, frozen=True):
    """GET tags."""

    tags: list[Tag]
