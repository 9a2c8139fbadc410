"""The score counts of a full user, as osu-web's ProfileCount computes them: top plays, first
places, pins, and passes of the last 24 hours."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import SignedIn, sign_in, signup
from tests.score_play import play, stored_map


async def _counts(client: httpx.AsyncClient, player: SignedIn) -> dict[str, int]:
    user = (await client.get(f"/api/v2/users/{player.id}/osu", headers=player.headers)).json()
    return {k: user[k] for k in user if k.startswith("scores_") and k.endswith("_count")}


async def test_profile_score_counts(client: httpx.AsyncClient, services: Any) -> None:
    maps = [await stored_map(services, seed=i) for i in range(3)]
    a = await sign_in(client, await signup(client))
    b = await sign_in(client, await signup(client))
    # a is first on maps 0 and 2, b on map 1.
    first = await play(client, a, maps[0], total_score_without_mods=900_000)
    await play(client, b, maps[0], total_score_without_mods=800_000)
    await play(client, a, maps[1], total_score_without_mods=700_000)
    await play(client, b, maps[1], total_score_without_mods=750_000)
    third = await play(client, a, maps[2], total_score_without_mods=600_000)
    # Fails and plays older than a day are not recent.
    await play(client, a, maps[0], passed=False, misses=30, total_score_without_mods=100_000)
    old = await play(client, a, maps[1], total_score_without_mods=650_000)
    await services.db.execute_raw(
        "UPDATE scores SET ended_at = '2001-01-01 00:00:00' WHERE id = :i", i=old["id"]
    )
    for score in (first, third):
        response = await client.put(f"/api/v2/score-pins/{score['id']}", headers=a.headers)
        assert response.status_code == 204, response.text

    assert await _counts(client, a) == {
        "scores_best_count": 3,
        "scores_first_count": 2,
        "scores_pinned_count": 2,
        "scores_recent_count": 3,
    }
    assert await _counts(client, b) == {
        "scores_best_count": 2,
        "scores_first_count": 1,
        "scores_pinned_count": 0,
        "scores_recent_count": 2,
    }
    # The counts agree with the lists they count.
    for kind, key in (("firsts", "scores_first_count"), ("recent", "scores_recent_count")):
        listed = (
            await client.get(f"/api/v2/users/{a.id}/scores/{kind}?mode=osu", headers=a.headers)
        ).json()
        assert len(listed) == (await _counts(client, a))[key], kind
    # A restricted player's score above does not take the first place.
    other_map = await stored_map(services, seed=3)
    c = await sign_in(client, await signup(client))
    cheat = await sign_in(client, await signup(client))
    await play(client, c, other_map, total_score_without_mods=500_000)
    await play(client, cheat, other_map, total_score_without_mods=990_000)
    await services.db.execute_raw("UPDATE users SET is_restricted = 1 WHERE id = :u", u=cheat.id)
    assert (await _counts(client, c))["scores_first_count"] == 1
