"""GET /me, users/{user}[/{mode}], users?ids[], users/lookup: shapes lazer reads."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import SignedIn, signup

# lazer value types that throw on null (lazer-protocol.md §4.1-4.2, §8.2 #2).
NON_NULL_USER = [
    "id",
    "username",
    "country_code",
    "is_supporter",
    "is_active",
    "is_bot",
    "is_online",
    "pm_friends_only",
    "join_date",
    "last_visit",
    "kudosu",
    "statistics",
    "post_count",
    "follower_count",
    "favourite_beatmapset_count",
    "scores_best_count",
    "scores_first_count",
    "scores_recent_count",
    "scores_pinned_count",
    "beatmap_playcounts_count",
    "comments_count",
    "graveyard_beatmapset_count",
    "loved_beatmapset_count",
    "ranked_beatmapset_count",
    "pending_beatmapset_count",
    "guest_beatmapset_count",
    "nominated_beatmapset_count",
    "mapping_follower_count",
    "support_level",
    "cover",
    "country",
]
NON_NULL_STATISTICS = [
    "level",
    "is_ranked",
    "ranked_score",
    "hit_accuracy",
    "play_count",
    "total_score",
    "total_hits",
    "maximum_combo",
    "replays_watched_by_others",
    "grade_counts",
    "pp",
]


def assert_lazer_user(user: dict[str, Any]) -> None:
    for key in NON_NULL_USER:
        assert user.get(key) is not None, key
    for key in NON_NULL_STATISTICS:
        assert user["statistics"].get(key) is not None, key
    assert set(user["statistics"]["grade_counts"]) == {"ss", "ssh", "s", "sh", "a"}
    assert set(user["statistics"]["level"]) == {"current", "progress"}


async def test_me_every_form(client: httpx.AsyncClient, player: SignedIn) -> None:
    for path in ("/api/v2/me", "/api/v2/me/", "/api/v2/me/taiko", "/api/v2/me/mania/"):
        response = await client.get(path, headers=player.headers)
        assert response.status_code == 200, path
        assert response.headers.get("location") is None
        me = response.json()
        assert_lazer_user(me)
        assert me["session_verification_method"] is None
        assert me["is_restricted"] is False
        assert set(me["statistics_rulesets"]) == {"osu", "taiko", "fruits", "mania"}


async def test_me_requires_a_token(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Basic abc"}):
        response = await client.get("/api/v2/me/", headers=headers)
        assert response.status_code == 401 and response.json() == {"authentication": "basic"}


async def test_user_by_id_name_and_key(client: httpx.AsyncClient, player: SignedIn) -> None:
    other = await signup(client)
    paths = [
        f"/api/v2/users/{other.id}",
        f"/api/v2/users/{other.id}/",
        f"/api/v2/users/{other.id}/osu",
        f"/api/v2/users/{other.id}/?key=id",
        f"/api/v2/users/{other.id}/fruits?key=id",
        f"/api/v2/users/@{other.username}",
        f"/api/v2/users/{other.username}?key=username",
        f"/api/v2/users/{other.username.upper()}/taiko",
    ]
    for path in paths:
        response = await client.get(path, headers=player.headers)
        assert response.status_code == 200, path
        body = response.json()
        assert body["id"] == other.id
        assert_lazer_user(body)
        assert "session_verification_method" not in body


async def test_statistics_follow_the_requested_ruleset(
    client: httpx.AsyncClient, player: SignedIn, services
) -> None:  # type: ignore[no-untyped-def]
    await services.db.execute_raw(
        "UPDATE user_statistics SET total_score = :score, play_count = 7, pp = 123.5, hit_accuracy = 98.5"
        " WHERE user_id = :u AND ruleset = 'mania'",
        score=30_000_000,
        u=player.id,
    )
    mania = (await client.get(f"/api/v2/users/{player.id}/mania", headers=player.headers)).json()
    osu = (await client.get(f"/api/v2/users/{player.id}/osu", headers=player.headers)).json()
    assert mania["statistics"]["play_count"] == 7 and osu["statistics"]["play_count"] == 0
    assert mania["statistics"]["pp"] == 123.5 and mania["statistics"]["is_ranked"] is True
    assert mania["statistics"]["global_rank"] >= 1 and mania["statistics"]["country_rank"] >= 1
    assert osu["statistics"]["global_rank"] is None
    assert mania["statistics"]["level"]["current"] > osu["statistics"]["level"]["current"] == 1
    me = (await client.get("/api/v2/me/", headers=player.headers)).json()
    assert me["statistics_rulesets"]["mania"]["play_count"] == 7


async def test_unknown_users_and_rulesets_are_404(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    for path in (
        "/api/v2/users/987654321",
        "/api/v2/users/@no-such-user",
        "/api/v2/users/99999999999999999999",
        f"/api/v2/users/{player.id}/osurx",
        f"/api/v2/users/{player.id}/catch",
    ):
        response = await client.get(path, headers=player.headers)
        assert response.status_code == 404, path
        assert "error" in response.json()


async def test_users_by_ids_and_lookup(client: httpx.AsyncClient, player: SignedIn) -> None:
    a, b = await signup(client), await signup(client)
    listed = await client.get(
        f"/api/v2/users/?ids[]={a.id}&ids[]={b.id}&ids[]=999999999", headers=player.headers
    )
    assert listed.status_code == 200
    assert [u["id"] for u in listed.json()["users"]] == sorted([a.id, b.id])
    looked = await client.get(
        f"/api/v2/users/lookup/?ids[]={a.id}&ids[]=@{b.username}", headers=player.headers
    )
    users = looked.json()["users"]
    assert {u["id"] for u in users} == {a.id, b.id}
    for user in users:
        assert user["statistics"]["level"]["current"] >= 1
        assert user["country"]["code"] == user["country_code"]


@pytest.mark.parametrize("query", ["ids[]=abc", "ids[]=-1", "ruleset_id=9&ids[]=2"])
async def test_malformed_ids_are_422(
    client: httpx.AsyncClient, player: SignedIn, query: str
) -> None:
    response = await client.get(f"/api/v2/users/?{query}", headers=player.headers)
    assert response.status_code == 422 and "error" in response.json()


async def test_restricted_users_are_hidden(
    client: httpx.AsyncClient, player: SignedIn, services
) -> None:  # type: ignore[no-untyped-def]
    other = await signup(client)
    await services.db.execute_raw("UPDATE users SET is_restricted = 1 WHERE id = :u", u=other.id)
    assert (
        await client.get(f"/api/v2/users/{other.id}", headers=player.headers)
    ).status_code == 404
    listed = await client.get(f"/api/v2/users?ids[]={other.id}", headers=player.headers)
    assert listed.json()["users"] == []


async def test_equal_pp_ranks_by_id_as_the_rankings_do(
    client: httpx.AsyncClient, player: SignedIn, services
) -> None:  # type: ignore[no-untyped-def]
    """Two players with the same pp get consecutive ranks, the lower id first."""
    other = await signup(client)
    for user_id in (player.id, other.id):
        await services.db.execute_raw(
            "UPDATE user_statistics SET pp = 77777.5 WHERE user_id = :u AND ruleset = 'taiko'",
            u=user_id,
        )
    ranks = {}
    for user_id in (player.id, other.id):
        body = (await client.get(f"/api/v2/users/{user_id}/taiko", headers=player.headers)).json()
        ranks[user_id] = body["statistics"]["global_rank"]
    first, second = sorted((player.id, other.id))
    assert ranks[second] == ranks[first] + 1
