"""beatmapsets/search: text, ruleset, status and extra filters, every sort order, and cursor
pagination as lazer pages it (echoing `cursor[...]` back)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import httpx
import pytest

from server.services.beatmap_ingest import BeatmapFile, SetInput, SetMetadata
from tests.beatmap_data import fresh_id, make_osu, store_set
from tests.helpers import SignedIn, lazer_multipart

STATUSES = (1, 1, 2, 3, 4, 0, -1, -2)  # cycled over the corpus


@pytest.fixture(scope="session")
async def corpus(app: Any) -> dict[str, Any]:
    """55 sets sharing a unique word: more than one page of 50."""
    services = app.state.lifespan_state["services"]
    token = "tok" + secrets.token_hex(4)
    sets: dict[int, dict[str, Any]] = {}
    for i in range(55):
        ruleset = ("osu", "taiko", "catch", "mania")[i % 4]
        status = STATUSES[i % len(STATUSES)]
        set_id, ids, _ = await store_set(
            services,
            status=status,
            title=f"Song {i:02d}",
            artist=f"Artist {54 - i:02d}",
            creator="corpusmapper",
            tags=f"{token} n{i}",
            difficulties=[{"ruleset": ruleset, "n_objects": 20 + i, "version": f"Level{i}"}],
        )
        sets[set_id] = {"i": i, "status": status, "ruleset": ruleset, "beatmap_id": ids[0]}
    return {"token": token, "sets": sets}


async def search(client: httpx.AsyncClient, player: SignedIn, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v2/beatmapsets/search", params=params, headers=player.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def assert_survives_newtonsoft(cursor: dict[str, Any]) -> None:
    """lazer's Newtonsoft turns date-like strings into DateTime and echoes them back in the
    machine's culture: no cursor value may look like a date (or be a bare float)."""
    for value in cursor.values():
        assert isinstance(value, (int, str)), value
        if isinstance(value, str):
            with pytest.raises(ValueError):
                datetime.fromisoformat(value)


async def page_all(
    client: httpx.AsyncClient, player: SignedIn, **params: Any
) -> list[dict[str, Any]]:
    """Every page, passing the cursor back as lazer does (`cursor[key]=value`)."""
    results: list[dict[str, Any]] = []
    cursor: dict[str, Any] | None = None
    for _ in range(10):
        query = dict(params)
        if cursor:
            query.update({f"cursor[{k}]": v for k, v in cursor.items()})
        page = await search(client, player, **query)
        assert len(page["beatmapsets"]) <= 50
        if page["cursor"] is not None:
            assert_survives_newtonsoft(page["cursor"])
        results += page["beatmapsets"]
        cursor = page["cursor"]
        if cursor is None:
            assert page["cursor_string"] is None
            return results
    raise AssertionError("pagination did not end")


@pytest.mark.parametrize(
    "sort",
    [
        "title_asc",
        "title_desc",
        "artist_asc",
        "difficulty_asc",
        "difficulty_desc",
        "ranked_desc",
        "ranked_asc",
        "updated_desc",
        "plays_desc",
        "favourites_desc",
        "rating_desc",
        "relevance_desc",
    ],
)
async def test_every_sort_pages_through_everything_once(
    client: httpx.AsyncClient, player: SignedIn, corpus: dict[str, Any], sort: str
) -> None:
    results = await page_all(client, player, q=corpus["token"], s="any", sort=sort, nsfw="true")
    ids = [s["id"] for s in results]
    assert sorted(ids) == sorted(corpus["sets"])  # all 55, none twice
    if sort.startswith("title"):
        titles = [s["title"] for s in results]
        assert titles == sorted(titles, reverse=sort.endswith("desc"))
    if sort.startswith("artist"):
        assert [s["artist"] for s in results] == sorted(s["artist"] for s in results)
    if sort.startswith("difficulty"):
        stars = [s["beatmaps"][0]["difficulty_rating"] for s in results]
        assert stars == sorted(stars, reverse=sort.endswith("desc"))


async def test_first_page_has_fifty_a_cursor_and_the_total(
    client: httpx.AsyncClient, player: SignedIn, corpus: dict[str, Any]
) -> None:
    page = await search(client, player, q=corpus["token"], s="any", sort="title_asc")
    assert page["total"] == 55 and len(page["beatmapsets"]) == 50
    assert page["cursor"] is not None and page["cursor_string"]
    # cursor_string is the same position.
    second = await search(
        client,
        player,
        q=corpus["token"],
        s="any",
        sort="title_asc",
        cursor_string=page["cursor_string"],
    )
    assert [s["title"] for s in second["beatmapsets"]] == [f"Song {i}" for i in range(50, 55)]
    assert second["cursor"] is None
    for beatmapset in page["beatmapsets"]:
        assert beatmapset["beatmaps"], "cards show the difficulties"
        assert beatmapset["covers"]["card@2x"].startswith("https://assets.ppy.sh/")


@pytest.mark.parametrize(
    ("category", "statuses"),
    [
        ("leaderboard", {1, 2, 3, 4}),
        ("ranked", {1, 2}),
        ("qualified", {3}),
        ("loved", {4}),
        ("pending", {0, -1}),
        ("wip", {-1}),
        ("graveyard", {-2}),
        ("any", set(STATUSES)),
    ],
)
async def test_status_categories(
    client: httpx.AsyncClient,
    player: SignedIn,
    corpus: dict[str, Any],
    category: str,
    statuses: set[int],
) -> None:
    results = await page_all(client, player, q=corpus["token"], s=category, sort="ranked_desc")
    expected = {sid for sid, info in corpus["sets"].items() if info["status"] in statuses}
    assert {s["id"] for s in results} == expected
    assert {s["ranked"] for s in results} <= statuses


async def test_ruleset_filter_and_converts(
    client: httpx.AsyncClient, player: SignedIn, corpus: dict[str, Any]
) -> None:
    by_ruleset = {
        r: {sid for sid, i in corpus["sets"].items() if i["ruleset"] == r}
        for r in ("osu", "taiko", "catch", "mania")
    }
    taiko = await page_all(client, player, q=corpus["token"], s="any", m=1)
    assert {s["id"] for s in taiko} == by_ruleset["taiko"]
    with_converts = await page_all(client, player, q=corpus["token"], s="any", m=1, c="converts")
    assert {s["id"] for s in with_converts} == by_ruleset["taiko"] | by_ruleset["osu"]
    mania = await page_all(client, player, q=corpus["token"], s="any", m=3)
    assert {s["id"] for s in mania} == by_ruleset["mania"]


async def test_text_matches_every_field(
    client: httpx.AsyncClient, player: SignedIn, corpus: dict[str, Any]
) -> None:
    target = next(sid for sid, info in corpus["sets"].items() if info["i"] == 7)
    for query in ("level7", "SONG 07", "artist 47", "n7", "corpusmapper song 07"):
        results = await page_all(client, player, q=f"{corpus['token']} {query}", s="any")
        assert target in {s["id"] for s in results}, query
        # Every word must match somewhere (difficulty names are words of their own).
        if query == "level7":
            assert len(results) == 1
    nothing = await search(client, player, q=f"{corpus['token']} zzzznotthere", s="any")
    assert nothing["beatmapsets"] == [] and nothing["total"] == 0 and nothing["cursor"] is None


async def test_favourites_category_needs_and_uses_the_user(
    client: httpx.AsyncClient, player: SignedIn, corpus: dict[str, Any]
) -> None:
    target = next(iter(corpus["sets"]))
    body, headers = lazer_multipart({"action": "favourite"})
    await client.post(
        f"/api/v2/beatmapsets/{target}/favourites",
        content=body,
        headers={**headers, **player.headers},
    )
    results = await page_all(client, player, q=corpus["token"], s="favourites")
    assert [s["id"] for s in results] == [target]
    assert results[0]["has_favourited"] is True
    mine = await search(client, player, q=corpus["token"], s="mine")
    assert mine["beatmapsets"] == []


async def test_extra_genre_language_and_nsfw_filters(
    services: Any, client: httpx.AsyncClient, player: SignedIn
) -> None:
    token = "xtra" + secrets.token_hex(4)
    stored = {}
    for name, meta in {
        "plain": {},
        "explicit": {"nsfw": True},
        "video": {"video": True, "genre_id": 3, "language_id": 3},
        "storyboard": {"storyboard": True},
    }.items():
        set_id, beatmap_id = fresh_id(), fresh_id()
        data = make_osu(beatmap_id=beatmap_id, beatmapset_id=set_id, title=name, tags=token)
        outcome = await services.beatmaps.ingest.store_set(
            SetInput(
                beatmapset_id=set_id,
                status=1,
                files=[BeatmapFile(data=data, filename=f"{name}.osu", beatmap_id=beatmap_id)],
                metadata=SetMetadata(
                    artist="A",
                    artist_unicode="A",
                    title=name,
                    title_unicode=name,
                    creator="C",
                    user_id=0,
                    source="",
                    tags=token,
                    **meta,
                ),
            )
        )
        assert not outcome.rejected
        stored[name] = set_id

    async def titles(**params: Any) -> set[str]:
        return {s["title"] for s in await page_all(client, player, q=token, s="any", **params)}

    assert await titles() == {"plain", "video", "storyboard"}  # nsfw hidden by default
    assert await titles(nsfw="true") == {"plain", "explicit", "video", "storyboard"}
    assert await titles(e="video") == {"video"}
    assert await titles(e="storyboard") == {"storyboard"}
    assert await titles(e="video.storyboard") == set()
    assert await titles(g=3, l=3) == {"video"}


async def test_search_needs_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v2/beatmapsets/search")).status_code == 401


async def test_search_without_query_defaults_to_leaderboard_maps(
    services: Any, client: httpx.AsyncClient, player: SignedIn
) -> None:
    graveyard, _, _ = await store_set(services, status=-2)
    page = await search(client, player)
    assert all(s["ranked"] in (1, 2, 3, 4) for s in page["beatmapsets"])
    assert graveyard not in {s["id"] for s in page["beatmapsets"]}


async def test_search_shows_a_changed_set_at_once(
    services: Any, client: httpx.AsyncClient, player: SignedIn
) -> None:
    token = "chg" + secrets.token_hex(4)
    set_id, first = fresh_id(), fresh_id()
    await store_set(
        services, beatmapset_id=set_id, tags=token, difficulties=[{"beatmap_id": first}]
    )
    before = await search(client, player, q=token, s="any")
    assert [len(s["beatmaps"]) for s in before["beatmapsets"]] == [1]
    # A difficulty is added: the cached rows of the set must not hide it.
    await store_set(
        services,
        beatmapset_id=set_id,
        tags=token,
        difficulties=[{"beatmap_id": first}, {"beatmap_id": fresh_id(), "version": "Extra"}],
    )
    after = await search(client, player, q=token, s="any")
    assert sorted(b["version"] for b in after["beatmapsets"][0]["beatmaps"]) == ["Diff 0", "Extra"]
