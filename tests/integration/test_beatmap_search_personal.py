"""beatmapsets/search filters that depend on the signed-in player: `played`, `r` (grades
achieved), `c=recommended`, and generals for data this server does not keep."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from server.services.beatmap_search import recommended_difficulty
from tests.helpers import SignedIn
from tests.score_play import play, stored_map


async def _search(client: httpx.AsyncClient, player: SignedIn, **params: Any) -> httpx.Response:
    return await client.get("/api/v2/beatmapsets/search", params=params, headers=player.headers)


async def _set_ids(client: httpx.AsyncClient, player: SignedIn, **params: Any) -> set[int]:
    response = await _search(client, player, **params)
    assert response.status_code == 200, response.text
    return {s["id"] for s in response.json()["beatmapsets"]}


async def test_played_and_grade_filters_follow_the_players_scores(
    client: httpx.AsyncClient,
    player: SignedIn,
    services: Any,
) -> None:
    word = "pf" + secrets.token_hex(4)
    played = await stored_map(services, version=f"{word} one")
    untouched = await stored_map(services, version=f"{word} two")
    score = await play(client, player, played)
    assert score["rank"] == "X"

    assert await _set_ids(client, player, q=word) == {played.set_id, untouched.set_id}
    assert await _set_ids(client, player, q=word, played="played") == {played.set_id}
    assert await _set_ids(client, player, q=word, played="unplayed") == {untouched.set_id}
    assert await _set_ids(client, player, q=word, played="any") == {played.set_id, untouched.set_id}

    assert await _set_ids(client, player, q=word, r="X") == {played.set_id}
    assert await _set_ids(client, player, q=word, r="XH.X") == {played.set_id}
    assert await _set_ids(client, player, q=word, r="A.B") == set()
    assert await _set_ids(client, player, q=word, r="X", m=1) == set()  # no taiko best

    for bad in ({"r": "Z"}, {"played": "often"}):
        response = await _search(client, player, q=word, **bad)
        assert response.status_code == 422 and "error" in response.json()


async def test_recommended_difficulty_comes_from_the_players_pp(
    client: httpx.AsyncClient,
    player: SignedIn,
    services: Any,
) -> None:
    word = "rd" + secrets.token_hex(4)
    maps = [await stored_map(services, version=f"{word} {n}", n_objects=n) for n in (10, 60, 240)]
    await play(client, player, maps[1])
    me = (await client.get("/api/v2/me/osu", headers=player.headers)).json()
    expected = recommended_difficulty(me["statistics"]["pp"])
    assert expected > 0

    response = await _search(client, player, q=word, c="recommended")
    body = response.json()
    assert body["recommended_difficulty"] == expected
    inside = {m.set_id for m in maps if abs(m.attrs.stars - expected) <= 0.5}
    assert {s["id"] for s in body["beatmapsets"]} == inside
    assert inside and inside != {m.set_id for m in maps}, "the corpus should straddle the window"


async def test_generals_without_data_match_nothing(
    client: httpx.AsyncClient,
    player: SignedIn,
    services: Any,
) -> None:
    word = "ng" + secrets.token_hex(4)
    await stored_map(services, version=word)
    assert len(await _set_ids(client, player, q=word)) == 1
    for general in ("spotlights", "featured_artists", "follows", "converts.spotlights"):
        assert await _set_ids(client, player, q=word, c=general) == set(), general
