"""Beatmap tags: the list is a table the operator fills (from a file in GET tags' shape, one
by one, or from the upstream osu! API), votes are stored (osu-web BeatmapTagsController).

Nothing is cached: the list is small, GET tags is rare, a vote reads one row by its key, and
every worker (and the CLI) sees a change at once.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import msgspec

from server.models.tags import Tag, TagsEnvelope
from server.repositories.beatmap_tags import TagRepository
from server.repositories.beatmaps import BeatmapRepository
from server.services.upstream import Upstream, UpstreamError


class TagRejected(enum.Enum):
    """osu-web's refusals of a tag vote, with their texts."""

    UNKNOWN_BEATMAP = "No query results for model [App\\Models\\Beatmap]."
    UNKNOWN_TAG = "No query results for model [App\\Models\\Tag]."
    NO_SCORE = "You must set a score on a beatmap to add a tag."
    WRONG_RULESET = "This tag is not valid with this Beatmap."


class TagSyncFailed(msgspec.Struct, frozen=True):
    """Why `tags sync` stored nothing."""

    reason: str


def parse_tags(data: bytes) -> list[Tag]:
    """Tags from JSON in GET tags' shape ({"tags": [{id, name, ruleset_id, description}]});
    ValueError naming what is wrong (bad JSON, a bad field, an id given twice)."""
    try:
        tags = msgspec.json.decode(data, type=TagsEnvelope).tags
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValueError(f"not a tag list: {exc}") from None
    return _distinct(tags)


def _distinct(tags: list[Tag]) -> list[Tag]:
    seen: set[int] = set()
    for tag in tags:
        if tag.id in seen:
            raise ValueError(f"tag id {tag.id} is given twice")
        seen.add(tag.id)
    return tags


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


class TagService:
    """The tag list and tag votes."""

    def __init__(
        self, repo: TagRepository, beatmaps: BeatmapRepository, upstream: Upstream
    ) -> None:
        self._repo = repo
        self._beatmaps = beatmaps
        self._upstream = upstream

    async def tags(self) -> TagsEnvelope:
        """GET tags (with no tags defined: an empty list, a valid answer)."""
        return TagsEnvelope(await self._repo.all_tags())

    async def save(self, tags: list[Tag]) -> int:
        """Define these tags (`tags import`, `tags define`), replacing any with the same id;
        the others stay, and so do votes. How many were saved."""
        await self._repo.save_tags(_distinct(tags), _now())
        return len(tags)

    async def sync(self) -> int | TagSyncFailed:
        """Store upstream's tag list (`tags sync`): its tags are defined or replaced, tags it
        does not list stay. How many were stored, or why none were."""
        if not self._upstream.enabled:
            return TagSyncFailed("the upstream osu! API is not configured (UPSTREAM_API_URL)")
        try:
            found = await self._upstream.tags()
        except UpstreamError as exc:
            return TagSyncFailed(f"upstream GET tags failed: {exc}")
        if found is None:
            return TagSyncFailed("upstream GET tags answered 404")
        try:
            return await self.save(found.tags)
        except ValueError as exc:
            return TagSyncFailed(f"upstream GET tags: {exc}")

    async def vote(self, user_id: int, beatmap_id: int, tag_id: int) -> TagRejected | None:
        """Put the user's tag on a beatmap they set a score on."""
        beatmap = await self._beatmaps.cached_beatmap(beatmap_id)
        if beatmap is None:
            return TagRejected.UNKNOWN_BEATMAP
        if not await self._repo.has_score(user_id, beatmap_id):
            return TagRejected.NO_SCORE
        tag = await self._repo.find_tag(tag_id)
        if tag is None:
            return TagRejected.UNKNOWN_TAG
        if tag.ruleset_id is not None and tag.ruleset_id != beatmap.mode:
            return TagRejected.WRONG_RULESET
        await self._repo.vote(beatmap_id, tag_id, user_id, _now())
        return None

    async def unvote(self, user_id: int, beatmap_id: int, tag_id: int) -> None:
        """Take the user's tag off a beatmap (nothing to take off is fine, as osu-web)."""
        await self._repo.unvote(beatmap_id, tag_id, user_id)
