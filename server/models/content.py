"""The empty answers osu-web gives for news, changelog and comments when it has none (this
server keeps none; see services/content.py for the optional upstream read-through)."""

from __future__ import annotations

from typing import Any

import msgspec


class NewsSidebar(msgspec.Struct, frozen=True):
    """news_sidebar: the year shown, its posts and the years that have posts."""

    current_year: int
    news_posts: list[dict[str, Any]]
    years: list[int]


class NewsSearch(msgspec.Struct, frozen=True):
    """The listing's parameters as osu-web echoes them."""

    limit: int
    sort: str
    year: int | None


class NewsIndex(msgspec.Struct, frozen=True):
    """GET news."""

    news_posts: list[dict[str, Any]]
    news_sidebar: NewsSidebar
    search: NewsSearch
    cursor: dict[str, Any] | None
    cursor_string: str | None


class ChangelogSearch(msgspec.Struct, frozen=True):
    """The changelog listing's parameters as osu-web echoes them."""

    stream: str | None
    from_: str | None = msgspec.field(name="from")
    to: str | None = None
    max_id: int | None = None
    limit: int = 21


class ChangelogIndex(msgspec.Struct, frozen=True):
    """GET changelog."""

    streams: list[dict[str, Any]]
    builds: list[dict[str, Any]]
    search: ChangelogSearch


class DeletedCommentable(msgspec.Struct, frozen=True):
    """CommentableMetaTransformer for no commentable."""

    title: str = "Deleted Item"


class CommentableMeta(msgspec.Struct, frozen=True, kw_only=True):
    """CommentableMetaTransformer for a beatmapset (the only commentable kept here)."""

    current_user_attributes: dict[str, str | None]
    id: int
    type: str
    title: str
    url: str
    owner_id: int | None
    owner_title: str | None
    locked: bool


class CommentBundle(msgspec.Struct, frozen=True, kw_only=True):
    """GET comments (osu-web's CommentBundle::toArray) with no comments."""

    comments: list[dict[str, Any]]
    has_more: bool
    has_more_id: int | None
    included_comments: list[dict[str, Any]]
    pinned_comments: list[dict[str, Any]]
    user_votes: list[int]
    user_follow: bool
    users: list[dict[str, Any]]
    sort: str
    cursor: dict[str, Any] | None
    top_level_count: int
    total: int
    commentable_meta: list[CommentableMeta | DeletedCommentable]
