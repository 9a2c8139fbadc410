"""News, changelog, wiki and comments: osu-web's empty answers by default, and with
UPSTREAM_CONTENT an upstream read-through cached in Redis (against the fake upstream)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from server.settings import Settings
from tests.beatmap_data import store_set
from tests.conftest import app_client
from tests.fake_upstream import FakeUpstream
from tests.helpers import SignedIn
from tests.integration.test_beatmap_upstream import upstream_settings


async def test_empty_answers_without_upstream(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    async def get(path: str, **params: Any) -> httpx.Response:
        return await client.get(f"/api/v2/{path}", params=params, headers=player.headers)

    news = (await get("news", limit=50, year=2020)).json()
    assert news == {
        "news_posts": [],
        "news_sidebar": {"current_year": 2020, "news_posts": [], "years": []},
        "search": {"limit": 21, "sort": "published_desc", "year": 2020},
        "cursor": None,
        "cursor_string": None,
    }
    default = (await get("news")).json()
    assert default["search"]["limit"] == 12
    assert default["news_sidebar"]["current_year"] == datetime.now(UTC).year
    changelog = (await get("changelog", stream="lazer")).json()
    assert changelog == {
        "streams": [],
        "builds": [],
        "search": {"stream": "lazer", "from": None, "to": None, "max_id": None, "limit": 21},
    }
    for path in ("news/some-post", "changelog/lazer/2024.101.0", "wiki/en/Main_page",
                 "wiki/en/People/The_Team/Developers"):  # fmt: skip
        missing = await get(path)
        assert missing.status_code == 404 and missing.json() == {"error": "Not found"}, path
    bundle = (await get("comments")).json()
    assert bundle["comments"] == [] and bundle["total"] == 0 and bundle["has_more"] is False
    assert bundle["commentable_meta"] == [{"title": "Deleted Item"}] and bundle["sort"] == "new"
    set_id, _, _ = await store_set(services, status=1)
    on_set = (await get("comments", commentable_type="beatmapset", commentable_id=set_id)).json()
    assert on_set["commentable_meta"][0]["id"] == set_id
    assert on_set["commentable_meta"][0]["owner_title"] == "MAPPER"
    assert (await get("comments", commentable_type="build", commentable_id=1)).status_code == 404
    assert (await get("comments", commentable_type="user", commentable_id=1)).status_code == 422
    assert (await client.get("/api/v2/news")).status_code == 401


async def test_upstream_read_through_is_cached(
    settings: Settings, fake: FakeUpstream, player: SignedIn, services: Any
) -> None:
    # Another fake's token may be cached in the shared Redis: this fake would refuse it.
    await services.redis.delete("beatmaps:upstream:token")
    fake.mode = "ok"
    fake.content["wiki/en/Main_page"] = {"title": "Main page", "path": "Main_page"}
    fake.content["wiki/en/People/The_Team"] = {"title": "The Team", "path": "People/The_Team"}
    fake.content["news"] = {"news_posts": [{"id": 1}]}
    configured = upstream_settings(
        settings, fake.url, fake.url, UPSTREAM_CONTENT="true", UPSTREAM_RETRIES="0"
    )
    async with app_client(configured, "198.51.100.33") as client:

        async def get(path: str, **params: Any) -> httpx.Response:
            return await client.get(f"/api/v2/{path}", params=params, headers=player.headers)

        before = fake.hits["content"]
        page = await get("wiki/en/Main_page")
        assert page.status_code == 200 and page.json()["title"] == "Main page"
        assert (await get("wiki/en/Main_page")).json()["title"] == "Main page"
        assert fake.hits["content"] == before + 1  # the second read came from the cache
        deep = await get("wiki/en/People/The_Team")
        assert deep.json()["path"] == "People/The_Team"
        news = (await get("news", limit=5, unrelated="x")).json()
        assert news["news_posts"] == [{"id": 1}] and news["query"] == {"limit": "5"}
        missing = await get("wiki/en/Nothing_here")
        assert missing.status_code == 404
        hits = fake.hits["content"]
        assert (await get("wiki/en/Nothing_here")).status_code == 404
        assert fake.hits["content"] == hits  # a 404 is cached too
        # Upstream failing: the empty answer, never a 500.
        fake.mode = "error"
        assert (await get("changelog")).json()["builds"] == []
        assert (await get("news", year=2001)).json()["news_posts"] == []
        fake.mode = "ok"
    # This fake's token would be stale for the next upstream test's fake (shared Redis).
    await services.redis.delete("beatmaps:upstream:token")
