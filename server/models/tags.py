"""Beatmap tags (osu-web TagsController, TagTransformer).

The same shapes are decoded from what an operator imports and from upstream's GET tags, so
their constraints are the table's: an INT id, a name that fits, one of the four rulesets.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

TagId = Annotated[int, msgspec.Meta(ge=1, lt=2**31)]
TagName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
TagRuleset = Annotated[int, msgspec.Meta(ge=0, le=3)]
TagDescription = Annotated[str, msgspec.Meta(max_length=2000)]


class Tag(msgspec.Struct, frozen=True):
    """A tag players can put on beatmaps; `ruleset_id` None for every ruleset."""

    id: TagId
    name: TagName
    ruleset_id: TagRuleset | None
    description: TagDescription


class TagsEnvelope(msgspec.Struct, frozen=True):
    """GET tags (also the shape `tags import` reads and `tags sync` fetches)."""

    tags: list[Tag]
