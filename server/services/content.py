"""News, changelog, wiki and comments: this server writes none of them.

With UPSTREAM_CONTENT on (and the upstream API configured, as for the beatmap fetcher),
each read goes through to upstream and its answer is kept in Redis for
UPSTREAM_CONTENT_SECONDS, a 404 included. Otherwise, or while upstream fails, the lists are
osu-web's valid empty answers and single items are 404, so clients show "nothing here"
rather than an error.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

import msgspec

from server.models.content import (
    ChangelogIndex,
    ChangelogSearch,
    CommentableMeta,
    CommentBundle,
    DeletedCommentable,
    NewsIndex,
    NewsSearch,
    NewsSidebar,
)
from server.redis_store import REDIS_DOWN
from server.repositories.beatmaps import BeatmapRepository
from server.services.upstream import Upstream, UpstreamError

log = logging.getLogger(__name__)
# Upstream failing (Upstream turns httpx's errors into UpstreamError), or the Redis its token
# lives in.
_UPSTREAM_DOWN: Final[tuple[type[BaseException], ...]] = (UpstreamError, *REDIS_DOWN)

_CACHE_PREFIX: Final = "content:"
_MISSING: Final = b"-"  # a cached upstream 404
# osu-web's Comment::isValidType (the morph map names of commentables).
COMMENTABLE_TYPES: Final = frozenset({"beatmapset", "build", "news_post"})
# The query parameters each listing passes upstream (others would only split the cache).
NEWS_PARAMS: Final = ("limit", "year", "cursor_string")
CHANGELOG_PARAMS: Final = ("stream", "from", "to", "max_id", "message_formats[]")
COMMENT_PARAMS: Final = (
    "commentable_type",
    "commentable_id",
    "parent_id",
    "sort",
    "limit",
    "page",
    "after",
    "user_id",
    "cursor[id]",
    "cursor[created_at]",
    "cursor[votes_count]",
)
COMMENT_SORTS: Final = frozenset({"new", "old", "top"})


class ContentMissing(enum.Enum):
    """An item that is not there (osu-web's 404)."""

    NOT_FOUND = "Not found"
    BAD_COMMENTABLE = "invalid commentable_type"


def _segment(value: str) -> str:
    return quote(value, safe="")


class ContentService:
    """Read-through (or empty) news, changelog, wiki and comments."""

    def __init__(
        self,
        upstream: Upstream,
        redis: Any,
        beatmaps: BeatmapRepository,
        *,
        enabled: bool,
        cache_seconds: int,
    ) -> None:
        self._upstream = upstream
        self._redis = redis
        self._beatmaps = beatmaps
        self.enabled = enabled and upstream.enabled
        self._seconds = cache_seconds

    async def _through(
        self, path: str, params: Sequence[tuple[str, str]]
    ) -> msgspec.Raw | ContentMissing | None:
        """Upstream's answer (cached), ContentMissing for its 404, None when off or failing."""
        if not self.enabled:
            return None
        key = _CACHE_PREFIX + path + "?" + "&".join(f"{k}={v}" for k, v in sorted(params))
        try:
            cached = await self._redis.get(key)
        except REDIS_DOWN:
            cached = None
        if cached is not None:
            data = cached if isinstance(cached, bytes) else str(cached).encode()
            return ContentMissing.NOT_FOUND if data == _MISSING else msgspec.Raw(data)
        try:
            body = await self._upstream.content(path, list(params))
        except _UPSTREAM_DOWN as exc:
            log.warning("content read-through of %s failed: %s", path, exc)
            return None
        try:
            await self._redis.set(key, body if body is not None else _MISSING, ex=self._seconds)
        except REDIS_DOWN:
            log.warning("content cache write failed for %s", path)
        return ContentMissing.NOT_FOUND if body is None else msgspec.Raw(body)

    async def news(
        self, params: Sequence[tuple[str, str]], limit: int, year: int | None
    ) -> msgspec.Raw | NewsIndex:
        """GET news."""
        found = await self._through("news", params)
        if isinstance(found, msgspec.Raw):
            return found
        current = year if year is not None else datetime.now(UTC).year
        return NewsIndex(
            news_posts=[],
            news_sidebar=NewsSidebar(current, [], []),
            search=NewsSearch(limit, "published_desc", year),
            cursor=None,
            cursor_string=None,
        )

    async def news_post(
        self, news: str, params: Sequence[tuple[str, str]]
    ) -> msgspec.Raw | ContentMissing:
        """GET news/{news}."""
        found = await self._through(f"news/{_segment(news)}", params)
        return found if found is not None else ContentMissing.NOT_FOUND

    async def changelog(self, params: Sequence[tuple[str, str]]) -> msgspec.Raw | ChangelogIndex:
        """GET changelog."""
        found = await self._through("changelog", params)
        if isinstance(found, msgspec.Raw):
            return found
        given = dict(params)
        max_id = given.get("max_id")
        return ChangelogIndex(
            streams=[],
            builds=[],
            search=ChangelogSearch(
                stream=given.get("stream"),
                from_=given.get("from"),
                to=given.get("to"),
                max_id=int(max_id) if max_id and max_id.isdigit() else None,
            ),
        )

    async def changelog_build(
        self, stream: str, build: str, params: Sequence[tuple[str, str]]
    ) -> msgspec.Raw | ContentMissing:
        """GET changelog/{stream}/{build}."""
        path = f"changelog/{_segment(stream)}/{_segment(build)}"
        found = await self._through(path, params)
        return found if found is not None else ContentMissing.NOT_FOUND

    async def wiki_page(self, locale: str, path: Sequence[str]) -> msgspec.Raw | ContentMissing:
        """GET wiki/{locale}/{path}."""
        joined = "/".join(_segment(p) for p in path)
        found = await self._through(f"wiki/{_segment(locale)}/{joined}", [])
        return found if found is not None else ContentMissing.NOT_FOUND

    async def comments(
        self,
        params: Sequence[tuple[str, str]],
        commentable: tuple[str, int] | None,
        sort: str,
    ) -> msgspec.Raw | CommentBundle | ContentMissing:
        """GET comments: upstream's, or an empty bundle (for an existing commentable)."""
        if commentable is not None and commentable[0] not in COMMENTABLE_TYPES:
            return ContentMissing.BAD_COMMENTABLE
        found = await self._through("comments", params)
        if found is not None:
            return found
        meta: list[CommentableMeta | DeletedCommentable] = []
        if commentable is not None:
            kind, item_id = commentable
            beatmapset = (
                await self._beatmaps.cached_beatmapset(item_id) if kind == "beatmapset" else None
            )
            if beatmapset is None:  # builds and news posts are never kept here
                return ContentMissing.NOT_FOUND
            meta.append(
                CommentableMeta(
                    current_user_attributes={"can_new_comment_reason": None},
                    id=beatmapset.id,
                    type="beatmapset",
                    title=f"{beatmapset.artist} - {beatmapset.title}",
                    url=f"/beatmapsets/{beatmapset.id}",
                    owner_id=beatmapset.user_id,
                    owner_title="MAPPER",
                    locked=False,
                )
            )
        meta.append(DeletedCommentable())
        return CommentBundle(
            comments=[],
            has_more=False,
            has_more_id=None,
            included_comments=[],
            pinned_comments=[],
            user_votes=[],
            user_follow=False,
            users=[],
            sort=sort,
            cursor=None,
            top_level_count=0,
            total=0,
            commentable_meta=meta,
        )
