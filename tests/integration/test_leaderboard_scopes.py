"""Filtered leaderboards as osu-web answers them: the caller's position and the score count
are those of the board asked for (scope and mods together), not of the global board or of the
rows returned."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import SignedIn, sign_in, signup
from tests.score_play import play, stored_map


async def _in(services: Any, player: SignedIn, country: str) -> None:
    await services.db.execute_raw(
        "UPDATE users SET country_code = :c WHERE id = :u", c=country, u=player.id
    )


async def test_positions_and_counts_are_those_of_the_scope(
    client: httpx.AsyncClient, services: Any
) -> None:
    beatmap = await stored_map(services)
    names = ("me", "friend", "quiet_friend", "local_above", "local_below", "stranger")
    users = {name: await sign_in(client, await signup(client)) for name in names}
    me = users["me"]
    for name, country in (
        ("me", "FJ"),
        ("friend", "IS"),
        ("quiet_friend", "FJ"),
        ("local_above", "FJ"),
        ("local_below", "FJ"),
        ("stranger", "IS"),
    ):
        await _in(services, users[name], country)
    for name in ("friend", "quiet_friend"):
        response = await client.post(f"/api/v2/friends?target={users[name].id}", headers=me.headers)
        assert response.status_code == 200
    totals = {
        "stranger": 950_000,
        "local_above": 900_000,
        "friend": 880_000,
        "me": 850_000,
        "local_below": 800_000,
        "quiet_friend": 600_000,
    }
    ids = {
        name: (await play(client, users[name], beatmap, total_score_without_mods=total))["id"]
        for name, total in totals.items()
    }
    hidden = {
        name: (
            await play(
                client,
                users[name],
                beatmap,
                total_score_without_mods=total,
                mods=[{"acronym": "HD"}],
            )
        )["id"]
        for name, total in (("stranger", 600_000), ("me", 550_000))
    }
    url = f"/api/v2/beatmaps/{beatmap.id}/scores"

    async def board(query: str) -> dict[str, Any]:
        response = await client.get(f"{url}?{query}", headers=me.headers)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    world = await board("type=global")
    assert world["user_score"]["position"] == 4 and world["score_count"] == 6

    country = await board("type=country")
    assert [s["id"] for s in country["scores"]] == [
        ids["local_above"],
        ids["me"],
        ids["local_below"],
        ids["quiet_friend"],
    ]
    assert country["user_score"]["position"] == 2
    assert country["user_score"]["score"]["id"] == ids["me"]
    short = await board("type=country&limit=1")
    assert len(short["scores"]) == 1
    assert short["score_count"] == 4 and short["user_score"]["position"] == 2

    friends = await board("type=friend&limit=1")
    assert [s["id"] for s in friends["scores"]] == [ids["friend"]]
    assert friends["score_count"] == 3  # me and two friends
    assert friends["user_score"]["position"] == 2

    # Mods and scope combine: the HD board, then the HD board of Fiji.
    hd = await board("mods[]=HD&limit=1")
    assert [s["id"] for s in hd["scores"]] == [hidden["stranger"]]
    assert hd["score_count"] == 2
    assert hd["user_score"] == {"position": 2, "score": hd["user_score"]["score"]}
    assert hd["user_score"]["score"]["id"] == hidden["me"]
    hd_country = await board("type=country&mods[]=HD")
    assert [s["id"] for s in hd_country["scores"]] == [hidden["me"]]
    assert hd_country["score_count"] == 1 and hd_country["user_score"]["position"] == 1
    nomod_friends = await board("type=friend&mods[]=NM")
    assert [s["id"] for s in nomod_friends["scores"]] == [
        ids["friend"],
        ids["me"],
        ids["quiet_friend"],
    ]

    # No teams in this schema: an empty board, no entry, no count.
    team = await board("type=team")
    assert team == {"scores": [], "user_score": None, "score_count": 0}

    # Someone with no score on a filtered board has no entry there.
    other = users["local_below"]
    response = await client.get(f"{url}?type=friend", headers=other.headers)
    body = response.json()
    assert [s["id"] for s in body["scores"]] == [ids["local_below"]]
    assert body["user_score"]["position"] == 1 and body["score_count"] == 1
    response = await client.get(f"{url}?mods[]=HD", headers=other.headers)
    assert response.json()["user_score"] is None
