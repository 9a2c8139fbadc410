"""Bot-facing v2 lists: user search, the scores firehose and legacy score ids, beatmap packs
(defined with the CLI), spotlights and their chart rankings, and the kudosu ranking."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from server.__main__ import main
from tests.helpers import SignedIn, sign_in, signup, unique_name
from tests.integration.test_api_v1 import settings_env
from tests.score_play import play, stored_map


async def get(client: httpx.AsyncClient, player: SignedIn, path: str, **params: Any) -> Any:
    response = await client.get(f"/api/v2/{path}", params=params, headers=player.headers)
    assert response.status_code == 200, (path, response.text)
    return response.json()


async def test_user_search_by_name(client: httpx.AsyncClient, player: SignedIn) -> None:
    stem = unique_name("s")[:10]
    exact = await signup(client, username=stem)
    longer = await signup(client, username=f"{stem}_x")
    found = await get(client, player, "search", mode="user", query=stem.upper())
    assert set(found) == {"user"}
    assert [u["id"] for u in found["user"]["data"]] == [exact.id, longer.id]
    assert found["user"]["total"] == 2 and found["user"]["data"][0]["username"] == stem
    # `_` in a query is a character, not a LIKE wildcard; a space matches it as osu-web does.
    assert [u["id"] for u in (await get(client, player, "search", mode="user",
                                         query=f"{stem} x"))["user"]["data"]] == [longer.id]  # fmt: skip
    assert (await get(client, player, "search", mode="user", query="%"))["user"]["total"] == 0
    both = await get(client, player, "search", query=stem)
    assert both["wiki_page"] == {"data": [], "total": 0} and both["user"]["total"] == 2
    assert await get(client, player, "search", mode="wiki_page", query="x") == {
        "wiki_page": {"data": [], "total": 0}
    }
    empty = await get(client, player, "search", mode="user", query="")
    assert empty == {"user": {"data": [], "total": 0}}
    page_two = await get(client, player, "search", mode="user", query=stem, page=2)
    assert page_two["user"]["data"] == [] and page_two["user"]["total"] == 2
    bad = await client.get("/api/v2/search", params={"mode": "forum"}, headers=player.headers)
    assert bad.status_code == 422


async def test_scores_firehose_pages_with_its_cursor(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    beatmap = await stored_map(services, n_objects=10)
    taiko = await stored_map(services, ruleset="taiko", n_objects=10)
    first = await play(client, player, beatmap)
    await play(client, player, beatmap, passed=False, misses=3)  # fails are not listed
    latest = await get(client, player, "scores")
    ids = [s["id"] for s in latest["scores"]]
    assert ids == sorted(ids) and ids[-1] == first["id"]
    cursor = latest["cursor_string"]
    assert latest["cursor"] == {"id": first["id"]}
    padded = cursor + "=" * (-len(cursor) % 4)
    assert json.loads(base64.urlsafe_b64decode(padded)) == {"id": first["id"]}
    # Nothing new: the same cursor back and no scores.
    same = await get(client, player, "scores", cursor_string=cursor)
    assert same["scores"] == [] and same["cursor_string"] == cursor
    second = await play(client, player, taiko)
    newer = await get(client, player, "scores", cursor_string=cursor)
    assert [s["id"] for s in newer["scores"]] == [second["id"]]
    assert newer["scores"][0]["user"]["id"] == player.id
    osu_only = await get(client, player, "scores", cursor_string=cursor, ruleset="osu")
    assert osu_only["scores"] == []
    assert (await get(client, player, "scores", **{"cursor[id]": first["id"]}))["scores"][0][
        "id"
    ] == second["id"]
    bad = await client.get("/api/v2/scores", params={"ruleset": "chess"}, headers=player.headers)
    assert bad.status_code == 422 and bad.json() == {"error": "invalid ruleset parameter"}


async def test_legacy_score_ids_reach_their_own_route(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    unknown = await client.get("/api/v2/scores/chess/5", headers=player.headers)
    assert unknown.status_code == 404 and unknown.json() == {"error": "unknown ruleset name"}
    missing = await client.get("/api/v2/scores/osu/123456", headers=player.headers)
    assert missing.status_code == 404 and "Score" in missing.json()["error"]
    bad = await client.get("/api/v2/scores/osu/abc", headers=player.headers)
    assert bad.status_code == 422


async def test_packs_defined_with_the_cli(
    client: httpx.AsyncClient,
    player: SignedIn,
    services: Any,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    done = await stored_map(services, n_objects=10)
    todo = await stored_map(services, n_objects=10)
    await play(client, player, done)
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    tag = f"S{done.set_id}"
    args = ["packs", "define", tag, str(done.set_id), str(todo.set_id), "--name", "Pack One",
            "--author", "peppy", "--url", "https://example.com/p1", "--ruleset", "osu"]  # fmt: skip
    assert await asyncio.to_thread(main, args) == 0
    theme = ["packs", "define", f"T{done.set_id}", str(done.set_id), "--name", "Theme",
             "--author", "x"]  # fmt: skip
    assert await asyncio.to_thread(main, theme) == 0
    assert await asyncio.to_thread(main, ["packs", "define", "Z1", "1", "--name", "n",
                                          "--author", "a"]) == 1  # fmt: skip

    listed = await get(client, player, "beatmaps/packs")
    tags = [p["tag"] for p in listed["beatmap_packs"]]
    assert tag in tags and f"T{done.set_id}" not in tags and listed["cursor_string"] is None
    themes = await get(client, player, "beatmaps/packs", type="theme")
    assert [p["tag"] for p in themes["beatmap_packs"]][:1] == [f"T{done.set_id}"]
    assert (await client.get("/api/v2/beatmaps/packs", params={"type": "x"},
                             headers=player.headers)).status_code == 404  # fmt: skip

    pack = await get(client, player, f"beatmaps/packs/{tag}")
    assert pack["name"] == "Pack One" and pack["author"] == "peppy" and pack["ruleset_id"] == 0
    assert pack["no_diff_reduction"] is True and pack["url"] == "https://example.com/p1"
    assert sorted(s["id"] for s in pack["beatmapsets"]) == sorted([done.set_id, todo.set_id])
    assert pack["user_completion_data"] == {"completed": False, "beatmapset_ids": [done.set_id]}
    await play(client, player, todo)
    again = await get(client, player, f"beatmaps/packs/{tag}")
    assert again["user_completion_data"]["completed"] is True
    assert (
        await client.get("/api/v2/beatmaps/packs/S0", headers=player.headers)
    ).status_code == 404
    assert await asyncio.to_thread(main, ["packs", "delete", tag]) == 0
    gone = await client.get(f"/api/v2/beatmaps/packs/{tag}", headers=player.headers)
    assert gone.status_code == 404


async def test_spotlights_and_their_charts(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    before = await get(client, player, "spotlights")
    assert isinstance(before["spotlights"], list)
    beatmap = await stored_map(services, n_objects=10)
    rival = await sign_in(client, await signup(client))
    starts = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(days=1)
    await services.db.execute_raw(
        "INSERT INTO spotlights (name, type, mode_specific, start_date, end_date)"
        " VALUES ('Spotlight X', 'monthly', 1, :s, :e)",
        s=starts,
        e=starts + timedelta(days=30),
    )
    spotlight = (await get(client, player, "spotlights"))["spotlights"][0]
    assert spotlight["name"] == "Spotlight X" and spotlight["type"] == "monthly"
    assert spotlight["mode_specific"] is True and "participant_count" not in spotlight
    # No beatmapsets in taiko (nor in osu yet): osu-web's 404 for the ruleset.
    assert (
        await client.get("/api/v2/rankings/osu/charts", headers=player.headers)
    ).status_code == 404
    await services.db.execute_raw(
        "INSERT INTO spotlight_beatmapsets (spotlight_id, ruleset_id, beatmapset_id)"
        " VALUES (:i, 0, :s)",
        i=spotlight["id"],
        s=beatmap.set_id,
    )
    await play(client, player, beatmap, total_score_without_mods=400_000)
    await play(client, rival, beatmap, total_score_without_mods=800_000)
    chart = await get(client, player, "rankings/osu/charts", spotlight=spotlight["id"])
    assert [s["id"] for s in chart["beatmapsets"]] == [beatmap.set_id]
    assert [r["user"]["id"] for r in chart["ranking"]] == [rival.id, player.id]
    assert chart["ranking"][0]["global_rank"] == 1 and chart["ranking"][0]["play_count"] == 1
    assert chart["spotlight"]["participant_count"] == 2
    assert (await get(client, player, "rankings/osu/charts"))["spotlight"]["id"] == spotlight["id"]
    unknown = await client.get(
        "/api/v2/rankings/osu/charts", params={"spotlight": 999999}, headers=player.headers
    )
    assert unknown.status_code == 404


async def test_kudosu_ranking(client: httpx.AsyncClient, player: SignedIn, services: Any) -> None:
    other = await signup(client)
    for receiver, amount in ((player.id, 2), (other.id, 5), (player.id, 1)):
        await services.db.execute_raw(
            "INSERT INTO kudosu_history (receiver_id, giver_id, action, amount, model,"
            " post_url, post_title, details, created_at) VALUES (:r, NULL, 'give', :a,"
            " 'forum_post', NULL, 't', '{}', '2024-01-01 00:00:00')",
            r=receiver,
            a=amount,
        )
    ranking = (await get(client, player, "rankings/kudosu"))["ranking"]
    mine = {u["id"]: u["kudosu"] for u in ranking}
    assert mine[other.id] == {"available": 5, "total": 5}
    assert mine[player.id] == {"available": 3, "total": 3}
    ids = [u["id"] for u in ranking]
    assert ids.index(other.id) < ids.index(player.id)
    assert (await get(client, player, "rankings/kudosu", page=20))["ranking"] == []
