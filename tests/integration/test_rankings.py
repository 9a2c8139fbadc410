"""Rankings pages, global and country ranks in statistics, and the daily rank history."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import sign_in, signup
from tests.score_play import play, stored_map


async def test_rankings_order_pages_and_country(client: httpx.AsyncClient, services: Any) -> None:
    beatmap = await stored_map(services)
    players = [await sign_in(client, await signup(client)) for _ in range(3)]
    for player in players:
        await services.db.execute_raw(
            "UPDATE users SET country_code = 'NZ' WHERE id = :u", u=player.id
        )
    # More oks, less pp: players[0] is best.
    for i, player in enumerate(players):
        await play(client, player, beatmap, oks=3 * i, total_score_without_mods=900_000 - 1000 * i)
    viewer = players[0]
    page = (
        await client.get("/api/v2/rankings/osu/performance?country=NZ", headers=viewer.headers)
    ).json()
    assert [r["user"]["id"] for r in page["ranking"]] == [p.id for p in players]
    assert [r["country_rank"] for r in page["ranking"]] == [1, 2, 3]
    assert page["cursor"] is None
    pps = [r["pp"] for r in page["ranking"]]
    assert pps == sorted(pps, reverse=True) and pps[0] > 0
    first = page["ranking"][0]
    for key in ("level", "grade_counts", "hit_accuracy", "play_count", "ranked_score", "is_ranked"):
        assert first[key] is not None, key

    world = (await client.get("/api/v2/rankings/osu/performance", headers=viewer.headers)).json()
    ids = [r["user"]["id"] for r in world["ranking"]]
    positions = [ids.index(p.id) for p in players if p.id in ids]
    assert positions == sorted(positions)
    assert [r["global_rank"] for r in world["ranking"]] == list(range(1, len(ids) + 1))
    # The rank a profile shows is the ranking's.
    profile = (await client.get(f"/api/v2/users/{viewer.id}/osu", headers=viewer.headers)).json()
    assert profile["statistics"]["global_rank"] == ids.index(viewer.id) + 1
    assert profile["statistics"]["country_rank"] == 1
    history = profile["rank_history"]
    assert history["mode"] == "osu" and len(history["data"]) == 90
    assert history["data"][-1] == profile["statistics"]["global_rank"]
    assert profile["scores_best_count"] == 1

    by_score = (
        await client.get("/api/v2/rankings/osu/score?country=NZ", headers=viewer.headers)
    ).json()
    assert [r["user"]["id"] for r in by_score["ranking"]] == [p.id for p in players]
    assert by_score["ranking"][0]["ranked_score"] == 900_000

    countries = (await client.get("/api/v2/rankings/osu/country", headers=viewer.headers)).json()
    nz = next(r for r in countries["ranking"] if r["code"] == "NZ")
    assert nz["active_users"] == 3 and nz["performance"] > 0
    assert all(r["code"] != "XX" for r in countries["ranking"])  # lazer needs known codes

    second = await client.get(
        "/api/v2/rankings/osu/performance?cursor[page]=2", headers=viewer.headers
    )
    assert second.status_code == 200
    assert (
        await client.get("/api/v2/rankings/nope/performance", headers=viewer.headers)
    ).status_code == 404
    assert (
        await client.get("/api/v2/rankings/osu/nonsense", headers=viewer.headers)
    ).status_code == 404
    bad = await client.get("/api/v2/rankings/osu/performance?country=NZL", headers=viewer.headers)
    assert bad.status_code == 422


async def test_rank_history_snapshot(client: httpx.AsyncClient, services: Any) -> None:
    """A day's snapshot is stored once per ruleset and read back into rank_history."""
    from datetime import UTC, datetime, timedelta

    beatmap = await stored_map(services)
    player = await sign_in(client, await signup(client))
    await play(client, player, beatmap)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    await services.rankings.snapshot("osu", yesterday)
    await services.rankings.snapshot("osu", yesterday)  # idempotent
    rows = await services.db.fetch_raw(
        "SELECT `rank` FROM rank_history WHERE user_id = :u AND ruleset = 'osu'", u=player.id
    )
    assert len(rows) == 1 and rows[0]["rank"] >= 1
    profile = (await client.get(f"/api/v2/users/{player.id}/osu", headers=player.headers)).json()
    assert profile["rank_history"]["data"][-2] == rows[0]["rank"]
