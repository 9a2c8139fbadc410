"""Beatmap tags: the list ships as data (server/data/beatmap_tags.json, the tags osu.ppy.sh
serves at api/v2/tags), votes are stored (osu-web BeatmapTagsController)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import msgspec

from server.models.tags import Tag, TagsEnvelope
from server.repositories.beatmap_tags import TagRepository
from server.repositories.beatmaps import BeatmapRepository

TAGS_FILE: Final = Path(__file__).resolve().parents[1] / "data" / "beatmap_tags.json"


class TagRejected(enum.Enum):
    """osu-web's refusals of a tag vote, with their texts."""

    UNKNOWN_BEATMAP = "No query results for model [App\\Models\\Beatmap]."
    UNKNOWN_TAG = "No query results for model [App\\Models\\Tag]."
    NO_SCORE = "You must set a score on a beatmap to add a tag."
    WRONG_RULESET = "This tag is not valid with this Beatmap."


def load_tags(path: Path = TAGS_FILE) -> list[Tag]:
    """The tag list from its data file."""
    return msgspec.json.decode(path.read_bytes(), type=list[Tag])


class TagService:
    """The tag list and tag votes."""

    def __init__(self, repo: TagRepository, beatmaps: BeatmapRepository, tags: list[Tag]) -> None:
        self._repo = repo
        self._beatmaps = beatmaps
        self._tags = {t.id: t for t in tags}

    def tags(self) -> TagsEnvelope:
        """GET tags."""
        return TagsEnvelope(list(self._tags.values()))

    async def vote(self, user_id: int, beatmap_id: int, tag_id: int) -> TagRejected | None:
        """Put the user's tag on a beatmap they set a score on."""
        beatmap = await self._beatmaps.cached_beatmap(beatmap_id)
        if beatmap is None:
            return TagRejected.UNKNOWN_BEATMAP
        if not await self._repo.has_score(user_id, beatmap_id):
            return TagRejected.NO_SCORE
        tag = self._tags.get(tag_id)
        if tag is None:
            return TagRejected.UNKNOWN_TAG
        if tag.ruleset_id is not None and tag.ruleset_id != beatmap.mode:
            return TagRejected.WRONG_RULESET
        now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        await self._repo.vote(beatmap_id, tag_id, user_id, now)
        return None

    async def unvote(self, user_id: int, beatmap_id: int, tag_id: int) -> None:
        """Take the user's tag off a beatmap (nothing to take off is fine, as osu-web)."""
        await self._repo.unvote(beatmap_id, tag_id, user_id)
