"""Beatmap tags: the shipped list, votes from players who set a score, and top_tag_ids /
current_user_tag_ids on beatmapset JSON."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import SignedIn, sign_in, signup
from tests.score_play import play, stored_map

OSU_TAG = 19  # aim/jump (osu! only)
ANY_TAG = 2  # rhythm/simple (every ruleset)
TAIKO_TAG = 72  # gimmick/mirrored (taiko only)


async def test_tag_list_ships_as_data(client: httpx.AsyncClient, player: SignedIn) -> None:
    tags = (await client.get("/api/v2/tags", headers=player.headers)).json()["tags"]
    by_id = {t["id"]: t for t in tags}
    assert len(tags) > 100 and by_id[OSU_TAG]["name"] == "aim/jump"
    assert by_id[OSU_TAG]["ruleset_id"] == 0 and by_id[ANY_TAG]["ruleset_id"] is None
    assert set(by_id[OSU_TAG]) == {"id", "name", "ruleset_id", "description"}


async def test_votes_need_a_score_and_show_on_the_beatmapset(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    beatmap = await stored_map(services, n_objects=10)
    path = f"/api/v2/beatmaps/{beatmap.id}/tags"
    refused = await client.put(f"{path}/{OSU_TAG}", headers=player.headers)
    assert refused.status_code == 403
    assert refused.json() == {"error": "You must set a score on a beatmap to add a tag."}
    await play(client, player, beatmap)
    other = await sign_in(client, await signup(client))
    await play(client, other, beatmap, passed=False, misses=3)  # any score will do
    for voter, tag in ((player, OSU_TAG), (player, ANY_TAG), (other, ANY_TAG), (player, ANY_TAG)):
        assert (await client.put(f"{path}/{tag}", headers=voter.headers)).status_code == 204
    wrong = await client.put(f"{path}/{TAIKO_TAG}", headers=player.headers)
    assert wrong.status_code == 422 and wrong.json() == {
        "error": "This tag is not valid with this Beatmap."
    }
    assert (await client.put(f"{path}/99999", headers=player.headers)).status_code == 404
    assert (await client.put(f"/api/v2/beatmaps/999999999/tags/{OSU_TAG}",
                             headers=player.headers)).status_code == 404  # fmt: skip
    assert (await client.put(f"{path}/x", headers=player.headers)).status_code == 422

    async def shown(viewer: SignedIn) -> dict[str, Any]:
        body = (await client.get(f"/api/v2/beatmapsets/{beatmap.set_id}",
                                 headers=viewer.headers)).json()  # fmt: skip
        return body["beatmaps"][0]  # type: ignore[no-any-return]

    mine = await shown(player)
    assert mine["top_tag_ids"] == [{"tag_id": ANY_TAG, "count": 2}, {"tag_id": OSU_TAG, "count": 1}]
    assert mine["current_user_tag_ids"] == [ANY_TAG, OSU_TAG]
    assert (await shown(other))["current_user_tag_ids"] == [ANY_TAG]
    assert (await client.delete(f"{path}/{ANY_TAG}", headers=player.headers)).status_code == 204
    assert (await client.delete(f"{path}/{ANY_TAG}", headers=player.headers)).status_code == 204
    after = await shown(player)
    assert after["top_tag_ids"] == [
        {"tag_id": ANY_TAG, "count": 1},
        {"tag_id": OSU_TAG, "count": 1},
    ]
    assert after["current_user_tag_ids"] == [OSU_TAG]
    assert (await client.put(f"{path}/{OSU_TAG}")).status_code == 401
