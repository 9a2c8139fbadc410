"""GET news, news/{news}, changelog, changelog/{stream}/{build}, wiki/{locale}/{path} and
comments: read through to upstream when configured, else osu-web's empty answers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import int_param, require_session
from server.http import JSONResponse, fail, services
from server.services.content import (
    CHANGELOG_PARAMS,
    COMMENT_PARAMS,
    COMMENT_SORTS,
    NEWS_PARAMS,
    ContentMissing,
)

# How deep a wiki path may go (routes are per segment count: no catch-all path parameter).
WIKI_MAX_DEPTH = 6


def _params(request: Request, names: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.query_params.multi_items() if k in names][:32]


def _answer(found: object) -> Response:
    if isinstance(found, ContentMissing):
        fail(422 if found is ContentMissing.BAD_COMMENTABLE else 404, found.value)
    return JSONResponse(found)


async def news(request: Request) -> Response:
    """News posts, newest first."""
    await require_session(request, "public")
    query = request.query_params
    limit = int_param(query.get("limit"), "limit")
    year = int_param(query.get("year"), "year", minimum=1)
    content = services(request).content
    return _answer(
        await content.news(
            _params(request, NEWS_PARAMS), 12 if limit is None else max(1, min(limit, 21)), year
        )
    )


async def news_post(request: Request) -> Response:
    """One news post by slug or id."""
    await require_session(request, "public")
    content = services(request).content
    found = await content.news_post(request.path_params["news"], _params(request, ("key",)))
    return _answer(found)


async def changelog(request: Request) -> Response:
    """Update streams and builds."""
    await require_session(request, "public")
    content = services(request).content
    return _answer(await content.changelog(_params(request, CHANGELOG_PARAMS)))


async def changelog_build(request: Request) -> Response:
    """One build of a stream."""
    await require_session(request, "public")
    content = services(request).content
    found = await content.changelog_build(
        request.path_params["stream"],
        request.path_params["build"],
        _params(request, ("message_formats[]",)),
    )
    return _answer(found)


async def wiki_page(request: Request) -> Response:
    """A wiki page by locale and path."""
    await require_session(request, "public")
    params = request.path_params
    path = [params[f"p{i}"] for i in range(WIKI_MAX_DEPTH) if f"p{i}" in params]
    found = await services(request).content.wiki_page(request.path_params["locale"], path)
    return _answer(found)


async def comments(request: Request) -> Response:
    """Comments (optionally on one commentable): upstream's, or an empty bundle."""
    await require_session(request, "public")
    query = request.query_params
    commentable = None
    if query.get("commentable_type") and query.get("commentable_id"):
        item_id = int_param(query["commentable_id"], "commentable_id", minimum=1)
        assert item_id is not None
        commentable = (query["commentable_type"], item_id)
    sort = query.get("sort") or "new"
    if sort not in COMMENT_SORTS:
        sort = "new"
    found = await services(request).content.comments(
        _params(request, COMMENT_PARAMS), commentable, sort
    )
    return _answer(found)
