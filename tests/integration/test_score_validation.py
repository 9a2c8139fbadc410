"""Submission rules beyond the field checks: a pass no sooner than the map can be played,
maximum_statistics checked against the map in every ruleset, and lazer's mod definitions
(multipliers, ranked flags, exclusions). Each rejection stores nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import SignedIn, sign_in, signup
from tests.score_play import (
    StoredMap,
    age_token,
    maximum_statistics,
    play,
    play_body,
    stored_map,
    submit,
    token_for,
)


async def _nothing_stored(client: httpx.AsyncClient, services: Any, player: SignedIn) -> None:
    rows = await services.db.fetch_raw("SELECT id FROM scores WHERE user_id = :u", u=player.id)
    assert rows == []
    me = (await client.get(f"/api/v2/users/{player.id}/osu?key=id", headers=player.headers)).json()
    assert me["statistics"]["play_count"] == 0


async def test_pass_sooner_than_the_map_is_rejected(
    client: httpx.AsyncClient, services: Any
) -> None:
    """A pass whose token is younger than the map's length at its mods' rate (less 2 s) is
    refused; the fastest rate counts, and a fail may end at any time."""
    player = await sign_in(client, await signup(client))
    beatmap = await stored_map(services)
    assert beatmap.total_length >= 15
    token = await token_for(client, player, beatmap)
    instant = await submit(client, player, beatmap, token, play_body(beatmap), played=False)
    assert instant.status_code == 422
    assert instant.json() == {"error": "score submitted sooner than the beatmap can be played"}
    # Old enough for the map at 1.5x, not at 1x.
    await age_token(services.db, token, beatmap.total_length / 1.5 + 1)
    nomod = await submit(client, player, beatmap, token, play_body(beatmap), played=False)
    assert nomod.status_code == 422
    await _nothing_stored(client, services, player)
    double_time = play_body(beatmap, mods=[{"acronym": "DT"}])
    accepted = await submit(client, player, beatmap, token, double_time, played=False)
    assert accepted.status_code == 200, accepted.text
    # Wind Up ends at 1.5x: the same age is enough for it.
    wind_up = await token_for(client, player, beatmap)
    await age_token(services.db, wind_up, beatmap.total_length / 1.5 + 1)
    body = play_body(beatmap, mods=[{"acronym": "WU"}])
    assert (await submit(client, player, beatmap, wind_up, body, played=False)).status_code == 200
    failed = await token_for(client, player, beatmap)
    body = play_body(beatmap, passed=False, misses=20)
    assert (await submit(client, player, beatmap, failed, body, played=False)).status_code == 200


def _inflated(beatmap: StoredMap, result: str) -> dict[str, Any]:
    """A play claiming one more `result` than the map has, in both statistics and maximum."""
    maximum = maximum_statistics(beatmap.attrs)
    maximum[result] = maximum.get(result, 0) + 1
    body = play_body(beatmap)
    body["maximum_statistics"] = maximum
    body["statistics"] = dict(maximum)
    return body


@pytest.mark.parametrize(
    ("ruleset", "result"),
    [
        ("osu", "great"),
        ("taiko", "great"),
        ("catch", "great"),
        ("catch", "large_tick_hit"),
        ("catch", "small_tick_hit"),
        ("mania", "perfect"),
    ],
)
async def test_maximum_statistics_must_match_the_map(
    client: httpx.AsyncClient, services: Any, ruleset: str, result: str
) -> None:
    player = await sign_in(client, await signup(client))
    extra = {"n_objects": 60} if ruleset == "catch" else {}
    beatmap = await stored_map(services, ruleset=ruleset, **extra)
    if ruleset == "catch" and result == "large_tick_hit":
        assert beatmap.attrs.n_droplets == 0  # claiming droplets the map does not have
    token = await token_for(client, player, beatmap)
    response = await submit(client, player, beatmap, token, _inflated(beatmap, result))
    assert response.status_code == 422, response.text
    assert response.json() == {"error": "maximum_statistics do not match the beatmap"}
    rows = await services.db.fetch_raw("SELECT id FROM scores WHERE user_id = :u", u=player.id)
    assert rows == []
    # The map's own counts are accepted on the same token.
    accepted = await submit(client, player, beatmap, token, play_body(beatmap))
    assert accepted.status_code == 200, accepted.text


async def test_converted_maps_are_checked_against_the_conversion(
    client: httpx.AsyncClient, services: Any
) -> None:
    """An osu! map played as mania: hold notes count head and tail (the converted counts)."""
    player = await sign_in(client, await signup(client))
    beatmap = await stored_map(services)
    from server.core.pp import Beatmap

    data = await services.beatmaps.files.get("osu", beatmap.checksum)
    with Beatmap.parse(data) as parsed:
        mania = parsed.difficulty(3)
    assert mania.n_hold_notes > 0
    as_mania = StoredMap(
        beatmap.id, beatmap.set_id, beatmap.checksum, 3, mania, beatmap.total_length, services.db
    )
    token = await token_for(client, player, as_mania)
    wrong = play_body(as_mania)
    wrong["maximum_statistics"] = wrong["statistics"] = {"perfect": mania.n_objects}
    assert (await submit(client, player, as_mania, token, wrong)).status_code == 422
    right = await submit(client, player, as_mania, token, play_body(as_mania))
    assert right.status_code == 200, right.text
    assert right.json()["maximum_statistics"] == {"perfect": mania.n_objects + mania.n_hold_notes}


async def test_multipliers_follow_lazer(client: httpx.AsyncClient, services: Any) -> None:
    """Difficulty Adjust is priced by how far it moves the map's settings (CS 3.5 here),
    Magnetised by its strength; the client's own total is not used."""
    player = await sign_in(client, await signup(client))
    beatmap = await stored_map(services)
    record = await services.beatmaps.repo.beatmap(beatmap.id)
    assert record.cs == 3.5
    da = await play(
        client,
        player,
        beatmap,
        mods=[{"acronym": "DA", "settings": {"circle_size": 4.5}}],
        total_score=900_000,
    )
    assert da["total_score"] == round(900_000 * 0.5)
    magnetised = await play(
        client, player, beatmap, mods=[{"acronym": "MG", "settings": {"attraction_strength": 1.0}}]
    )
    assert magnetised["total_score"] == round(900_000 * 0.1)
    classic = await play(client, player, beatmap, mods=[{"acronym": "CL"}])
    assert classic["total_score"] == round(900_000 * 0.985)


async def test_unranked_mods_make_the_play_unranked(
    client: httpx.AsyncClient, services: Any
) -> None:
    """A mod lazer does not rank (here DT at a custom rate, Classic) gives no pp, no ranked
    score and no leaderboard entry; the play still counts as a play."""
    player = await sign_in(client, await signup(client))
    beatmap = await stored_map(services)
    custom_rate = await play(
        client, player, beatmap, mods=[{"acronym": "DT", "settings": {"speed_change": 1.2}}]
    )
    classic = await play(client, player, beatmap, mods=[{"acronym": "CL"}])
    for score in (custom_rate, classic):
        assert score["ranked"] is False and score["pp"] is None and score["position"] is None
    board = (
        await client.get(f"/api/v2/beatmaps/{beatmap.id}/scores", headers=player.headers)
    ).json()
    assert board["scores"] == [] and board["user_score"] is None
    me = (await client.get(f"/api/v2/users/{player.id}/osu?key=id", headers=player.headers)).json()
    assert me["statistics"]["ranked_score"] == 0 and me["statistics"]["pp"] == 0
    assert me["statistics"]["play_count"] == 2
    # Ranked settings of a ranked mod keep it ranked: DT with pitch adjustment.
    pitched = await play(
        client, player, beatmap, mods=[{"acronym": "DT", "settings": {"adjust_pitch": True}}]
    )
    assert pitched["ranked"] is True and pitched["pp"] > 0


async def test_mods_outside_lazers_definitions_are_rejected(
    client: httpx.AsyncClient, services: Any
) -> None:
    player = await sign_in(client, await signup(client))
    beatmap = await stored_map(services)
    cases = {
        "incompatible": [{"acronym": "HR"}, {"acronym": "MR"}],
        "key mod on osu!": [{"acronym": "4K"}],
        "setting of another mod": [{"acronym": "HD", "settings": {"retries": 3}}],
        "strength out of range": [{"acronym": "MG", "settings": {"attraction_strength": 5}}],
        "rate out of range": [{"acronym": "WU", "settings": {"final_rate": 4}}],
    }
    token = await token_for(client, player, beatmap)
    for case, chosen in cases.items():
        response = await submit(client, player, beatmap, token, play_body(beatmap, mods=chosen))
        assert response.status_code == 422, (case, response.text)
        assert response.json()["error"] in ("invalid mods", "incompatible mods"), case
    await _nothing_stored(client, services, player)
