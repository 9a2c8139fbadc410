"""ossapi 5.3.6 (client credentials) parses the bot-facing v2 lists into its models:
user_beatmaps (every type), user_recent_activity, user_kudosu, search, beatmap_packs and
beatmap_pack, spotlights, scores (with its cursor), tags, news_listing, and wiki_page from a
server reading content through to an upstream (the fake upstream)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from ossapi import Ossapi, UserBeatmapType  # type: ignore[import-untyped]
from ossapi.models import BeatmapPlaycount, Beatmapset  # type: ignore[import-untyped]

from server.models.tags import Tag
from server.settings import Settings
from tests.beatmap_data import fresh_id
from tests.conformance.conftest import HTTP_TIMEOUT
from tests.conformance.live_server import LiveServer, ThirdPartyClient, bind_loopback
from tests.conformance.test_ossapi import bounded, ossapi_class
from tests.conftest import make_settings
from tests.fake_upstream import FakeUpstream, ServedFake
from tests.helpers import sign_in, signup, unique_name
from tests.score_play import play, stored_map


@pytest.fixture(autouse=True)
def _plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> dict[str, Any]:
    """A mapper with sets of every kind, plays (most played, rank events), a pack and a
    spotlight, made over HTTP as lazer does where lazer could."""
    name = unique_name("o")

    async def setup(svc: Any) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=live_server.url, timeout=HTTP_TIMEOUT) as client:
            player = await sign_in(client, await signup(client, username=name))
            beatmap = await stored_map(svc, n_objects=10)
            for _ in range(2):
                await play(client, player, beatmap)
            await svc.db.execute_raw(
                "UPDATE beatmapsets SET user_id = :u WHERE id = :s", u=player.id, s=beatmap.set_id
            )
            favourite = await client.post(
                f"/api/v2/beatmapsets/{beatmap.set_id}/favourites",
                data={"action": "favourite"},
                headers=player.headers,
            )
            assert favourite.status_code == 200
        tag = f"S{beatmap.set_id}"
        await svc.packs.define(
            tag=tag, name="Conformance Pack", author="peppy", url="https://example.com",
            ruleset_id=None, no_diff_reduction=True, set_ids=[beatmap.set_id],
        )  # fmt: skip
        starts = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(days=1)
        await svc.db.execute_raw(
            "INSERT INTO spotlights (name, type, mode_specific, start_date, end_date)"
            " VALUES ('Conformance Spotlight', 'monthly', 1, :s, :e)",
            s=starts,
            e=starts + timedelta(days=30),
        )
        tags = [
            Tag(fresh_id(), "conformance/any", None, "Every ruleset."),
            Tag(fresh_id(), "conformance/mania", 3, "mania only."),
        ]
        await svc.tags.save(tags)
        return {"user_id": player.id, "name": name, "beatmap": beatmap, "pack": tag, "tags": tags}

    return live_server.call(setup, timeout=60)


@pytest.fixture
def api(live_server: LiveServer, third_party_client: ThirdPartyClient, tmp_path: Path) -> Ossapi:
    return bounded(
        lambda: ossapi_class(live_server)(
            str(third_party_client.id), third_party_client.secret, token_directory=str(tmp_path)
        )
    )


def test_user_beatmaps_every_type(api: Ossapi, world: dict[str, Any]) -> None:
    beatmap = world["beatmap"]
    for kind in UserBeatmapType:
        found = bounded(lambda kind=kind: api.user_beatmaps(world["user_id"], kind, limit=10))
        if kind is UserBeatmapType.MOST_PLAYED:
            assert [type(p) for p in found] == [BeatmapPlaycount]
            assert found[0].beatmap_id == beatmap.id and found[0].count == 2
        elif kind in (UserBeatmapType.RANKED, UserBeatmapType.FAVOURITE):
            assert [s.id for s in found] == [beatmap.set_id], kind
            assert isinstance(found[0], Beatmapset) and found[0].beatmaps[0].id == beatmap.id
        else:
            assert found == [], kind


def test_recent_activity_and_kudosu(api: Ossapi, world: dict[str, Any]) -> None:
    events = bounded(lambda: api.user_recent_activity(world["user_id"]))
    assert [e.type.value for e in events] == ["rank"]
    assert events[0].rank == 1 and events[0].user.username == world["name"]
    assert bounded(lambda: api.user_kudosu(world["user_id"])) == []


def test_search(api: Ossapi, world: dict[str, Any]) -> None:
    found = bounded(lambda: api.search(query=world["name"], mode="user"))
    assert [u.id for u in found.users.data] == [world["user_id"]] and found.users.total == 1
    assert found.wiki_pages is None
    wiki = bounded(lambda: api.search(query="Main page", mode="wiki_page"))
    assert wiki.wiki_pages.data == [] and wiki.wiki_pages.total == 0


def test_beatmap_packs(api: Ossapi, world: dict[str, Any]) -> None:
    packs = bounded(lambda: api.beatmap_packs())
    assert world["pack"] in [p.tag for p in packs.beatmap_packs]
    pack = bounded(lambda: api.beatmap_pack(world["pack"]))
    assert pack.name == "Conformance Pack" and pack.ruleset_id is None
    assert [s.id for s in pack.beatmapsets] == [world["beatmap"].set_id]
    assert pack.user_completion_data.completed is False  # a client-credentials caller


def test_spotlights_and_tags(api: Ossapi, world: dict[str, Any]) -> None:
    spotlights = bounded(lambda: api.spotlights())
    assert "Conformance Spotlight" in [s.name for s in spotlights]
    tags = {t.id: t for t in bounded(lambda: api.tags())}
    for made in world["tags"]:
        parsed = tags[made.id]
        assert (parsed.name, parsed.ruleset_id, parsed.description) == (
            made.name,
            made.ruleset_id,
            made.description,
        )


def test_scores_firehose(api: Ossapi, world: dict[str, Any]) -> None:
    latest = bounded(lambda: api.scores())
    assert latest.scores and latest.scores[-1].beatmap_id == world["beatmap"].id
    again = bounded(lambda: api.scores(cursor_string=latest.cursor_string))
    assert again.scores == [] and again.cursor_string == latest.cursor_string
    assert bounded(lambda: api.scores("taiko", cursor_string=latest.cursor_string)).scores == []


def test_news_listing(api: Ossapi) -> None:
    news = bounded(lambda: api.news_listing(limit=5))
    assert news.news_posts == [] and news.search.limit == 5
    assert news.news_sidebar.years == [] and news.cursor_string is None


@pytest.fixture(scope="module")
def content_server(settings: Settings, app: Any) -> Iterator[tuple[LiveServer, FakeUpstream]]:
    """A second live server whose news, wiki, ... read through to the fake upstream."""
    fake = FakeUpstream()
    served = ServedFake(fake)
    served.start()
    sock = bind_loopback()
    host, port = sock.getsockname()[:2]
    live = LiveServer(
        make_settings(
            settings.data_dir,
            SERVER_URL=f"http://{host}:{port}",
            UPSTREAM_API_URL=f"{fake.url}/api/v2",
            UPSTREAM_CLIENT_ID="17",
            UPSTREAM_CLIENT_SECRET="upstream-secret",
            UPSTREAM_CONTENT="true",
            UPSTREAM_RETRIES="0",
            UPSTREAM_TIMEOUT_SECONDS="2",
        ),
        sock,
    )
    live.start()
    try:
        yield live, fake
    finally:
        # The token this fake issued is cached in the shared Redis; no other fake accepts it.
        live.call(lambda svc: svc.redis.delete("beatmaps:upstream:token"))
        live.stop()
        served.stop()


def test_wiki_page_through_upstream(
    content_server: tuple[LiveServer, FakeUpstream], tmp_path: Path
) -> None:
    live, fake = content_server
    fake.content["wiki/en/People/The_Team"] = {
        "available_locales": ["en", "fr"],
        "layout": "markdown_page",
        "locale": "en",
        "markdown": "# The Team",
        "path": "People/The_Team",
        "subtitle": "People",
        "tags": ["staff"],
        "title": "The Team",
    }
    client = live.register_client("wiki-reader")
    api = bounded(
        lambda: ossapi_class(live)(str(client.id), client.secret, token_directory=str(tmp_path))
    )
    page = bounded(lambda: api.wiki_page("en", "People/The_Team"))
    assert page.title == "The Team" and page.available_locales == ["en", "fr"]
    assert page.markdown == "# The Team"
