"""Profile lists beyond scores, from plays submitted as lazer does: most played (counted at
submission, recounted by recalc), set lists by kind, recent activity (rank and first place
lost events, beatmapset approval from ingest), kudosu and beatmaps-passed; and that each of
these routes reaches its own handler rather than users/{user}/{mode}."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from server.__main__ import main
from tests.beatmap_data import store_set
from tests.helpers import SignedIn, sign_in, signup
from tests.integration.test_api_v1 import make_key, settings_env, v1
from tests.score_play import play, stored_map


async def get(client: httpx.AsyncClient, player: SignedIn, path: str, **params: Any) -> Any:
    response = await client.get(f"/api/v2/{path}", params=params, headers=player.headers)
    assert response.status_code == 200, (path, response.text)
    return response.json()


async def test_most_played_is_counted_at_submission_and_by_recalc(
    client: httpx.AsyncClient,
    player: SignedIn,
    services: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    often = await stored_map(services, n_objects=10)
    once = await stored_map(services, n_objects=10)
    for _ in range(3):
        await play(client, player, often)
    await play(client, player, once, passed=False, misses=3)
    path = f"users/{player.id}/beatmapsets/most_played"
    shown = await get(client, player, path, limit=10)
    assert [(p["beatmap_id"], p["count"]) for p in shown] == [(often.id, 3), (once.id, 1)]
    assert shown[0]["beatmap"]["id"] == often.id
    assert shown[0]["beatmapset"]["id"] == often.set_id
    assert [p["beatmap_id"] for p in await get(client, player, path, limit=1, offset=1)] == [
        once.id
    ]
    # recalc rebuilds the counts from the stored plays.
    await services.db.execute_raw("DELETE FROM beatmap_playcounts WHERE user_id = :u", u=player.id)
    assert await get(client, player, path) == []
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    code = await asyncio.to_thread(main, ["recalc", "--user", str(player.id), "--quiet"])
    assert code == 0
    again = await get(client, player, path, limit=10)
    assert [(p["beatmap_id"], p["count"]) for p in again] == [(often.id, 3), (once.id, 1)]


async def test_set_lists_by_kind(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    ranked, _, _ = await store_set(services, status=1)
    loved, _, _ = await store_set(services, status=4)
    pending, _, _ = await store_set(services, status=0)
    graveyard, _, _ = await store_set(services, status=-2)
    guest, guest_maps, _ = await store_set(services, status=1)
    for set_id in (ranked, loved, pending, graveyard):
        await services.db.execute_raw(
            "UPDATE beatmapsets SET user_id = :u WHERE id = :s", u=player.id, s=set_id
        )
    await services.db.execute_raw(
        "UPDATE beatmaps SET user_id = :u WHERE id = :b", u=player.id, b=guest_maps[0]
    )
    favourite = await client.post(
        f"/api/v2/beatmapsets/{loved}/favourites", data={"action": "favourite"},
        headers=player.headers,
    )  # fmt: skip
    assert favourite.status_code == 200
    expected = {
        "ranked": [ranked],
        "ranked_and_approved": [ranked],
        "loved": [loved],
        "pending": [pending],
        "unranked": [pending],
        "graveyard": [graveyard],
        "guest": [guest],
        "favourite": [loved],
        "nominated": [],
    }
    for kind, ids in expected.items():
        sets = await get(client, player, f"users/{player.id}/beatmapsets/{kind}", limit=50)
        assert [s["id"] for s in sets] == ids, kind
        for shown in sets:
            assert shown["beatmaps"] and shown["beatmaps"][0]["beatmapset_id"] == shown["id"]
    unknown = await client.get(
        f"/api/v2/users/{player.id}/beatmapsets/everything", headers=player.headers
    )
    assert unknown.status_code == 404


async def test_rank_and_first_place_lost_events(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    rival = await sign_in(client, await signup(client))
    beatmap = await stored_map(services, n_objects=20)
    first = await play(client, player, beatmap, total_score_without_mods=500_000)
    events = await get(client, player, f"users/{player.id}/recent_activity")
    assert [e["type"] for e in events] == ["rank"]
    rank = events[0]
    assert rank["rank"] == 1 and rank["mode"] == "osu" and rank["scoreRank"] == first["rank"]
    assert rank["user"] == {"username": player.account.username, "url": f"/users/{player.id}"}
    assert rank["beatmap"]["url"] == f"/beatmaps/{beatmap.id}?mode=osu"
    assert rank["beatmap"]["title"].endswith("]") and rank["created_at"] == rank["createdAt"]
    # The player improving their own first place takes first place from nobody.
    await play(client, player, beatmap, total_score_without_mods=600_000)
    await play(client, rival, beatmap, total_score_without_mods=700_000)
    mine = await get(client, player, f"users/{player.id}/recent_activity", limit=10)
    assert [e["type"] for e in mine] == ["rankLost", "rank", "rank"]
    assert mine[0]["user"]["username"] == player.account.username and "rank" not in mine[0]
    theirs = await get(client, rival, f"users/{rival.id}/recent_activity")
    assert [(e["type"], e["rank"]) for e in theirs] == [("rank", 1)]
    # A lower score than the best writes nothing; API v1 shows the same events.
    await play(client, rival, beatmap, total_score_without_mods=100_000)
    assert len(await get(client, rival, f"users/{rival.id}/recent_activity")) == 1
    key = await make_key(client, player)
    (user,) = (await v1(client, "get_user", key, u=player.id, event_days=31)).json()
    assert [e["epicfactor"] for e in user["events"]] == ["2", "4", "4"]
    assert "has lost first place on" in user["events"][0]["display_html"]
    assert user["events"][1]["beatmap_id"] == str(beatmap.id)


async def test_beatmapset_approval_is_an_event_of_its_mapper(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    set_id, _, _ = await store_set(services, status=0)
    await services.db.execute_raw(
        "UPDATE beatmapsets SET user_id = :u WHERE id = :s", u=player.id, s=set_id
    )
    await services.beatmaps.repo.forget([], [set_id])
    await store_set(services, beatmapset_id=set_id, status=4)
    events = await get(client, player, f"users/{player.id}/recent_activity")
    assert [(e["type"], e["approval"]) for e in events] == [("beatmapsetApprove", "loved")]
    assert events[0]["beatmapset"]["url"] == f"/beatmapsets/{set_id}"


async def test_kudosu_comes_from_its_table(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    assert await get(client, player, f"users/{player.id}/kudosu") == []
    await services.db.execute_raw(
        "INSERT INTO kudosu_history (receiver_id, giver_id, action, amount, model, post_url,"
        " post_title, details, created_at) VALUES (:r, :g, 'vote.give', 1,"
        " 'beatmap_discussion', '/beatmapsets/1/discussion', 'A - B', '{\"event\": \"vote\"}',"
        " '2024-01-02 03:04:05')",
        r=player.id,
        g=player.id,
    )
    (entry,) = await get(client, player, f"users/{player.id}/kudosu")
    assert entry["action"] == "vote.give" and entry["amount"] == 1
    assert entry["giver"] == {"url": f"/users/{player.id}", "username": player.account.username}
    assert entry["post"] == {"url": "/beatmapsets/1/discussion", "title": "A - B"}
    assert entry["details"] == {"event": "vote"} and entry["created_at"].startswith("2024-01-02")


async def test_beatmaps_passed(client: httpx.AsyncClient, player: SignedIn, services: Any) -> None:
    passed = await stored_map(services, n_objects=10)
    failed = await stored_map(services, n_objects=10)
    easy = await stored_map(services, n_objects=10)
    await play(client, player, passed)
    await play(client, player, failed, passed=False, misses=4)
    await play(client, player, easy, mods=[{"acronym": "EZ"}])
    ids = [passed.set_id, failed.set_id, easy.set_id]
    path = f"users/{player.id}/beatmaps-passed"
    shown = await get(client, player, path, **{"beatmapset_ids[]": ids})
    assert [b["id"] for b in shown["beatmaps_passed"]] == [passed.id]
    with_easy = await get(
        client, player, path, **{"beatmapset_ids[]": ids, "no_diff_reduction": "false"}
    )
    assert {b["id"] for b in with_easy["beatmaps_passed"]} == {passed.id, easy.id}
    assert (await get(client, player, path, **{"beatmapset_ids[]": ids, "ruleset_id": 1})) == {
        "beatmaps_passed": []
    }
    assert await get(client, player, path) == {"beatmaps_passed": []}
    too_many = await client.get(
        f"/api/v2/{path}", params={"beatmapset_ids[]": list(range(1, 52))}, headers=player.headers
    )
    assert too_many.status_code == 422 and "50" in too_many.json()["error"]


@pytest.mark.parametrize(
    "tail", ["kudosu", "recent_activity", "beatmaps-passed", "beatmapsets/ranked"]
)
async def test_overlapping_user_routes_reach_their_own_handlers(
    client: httpx.AsyncClient, player: SignedIn, tail: str
) -> None:
    for suffix in ("", "/"):
        response = await client.get(
            f"/api/v2/users/{player.id}/{tail}{suffix}", headers=player.headers
        )
        assert response.status_code == 200, response.text
        assert isinstance(response.json(), (list, dict)) and "error" not in response.json()
    # The general route still answers for rulesets and refuses other names.
    assert (await get(client, player, f"users/{player.id}/taiko"))["id"] == player.id
    bad = await client.get(f"/api/v2/users/{player.id}/kudosux", headers=player.headers)
    assert bad.status_code == 404
