"""The metadata hub's room watching (lazer's daily challenge screen): BeginWatchingMultiplayerRoom
returns each item's passing scores in 13 bins of 100,000, their sum and the newest score id;
watchers get MultiplayerRoomScoreSet for each stored passing playlist score, with the player's
room rank when the score became their best on the item."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server.core import msgpack as codec
from tests.helpers import sign_in, signup
from tests.integration.hubs import connect
from tests.integration.test_playlist_scores import _room, play
from tests.integration.test_rooms import lazer_item
from tests.score_play import StoredMap, stored_map


@pytest.fixture
async def room_map(services: Any) -> StoredMap:
    return await stored_map(services)


async def test_room_stats_and_score_set_events(
    app: Starlette, client: httpx.AsyncClient, room_map: StoredMap
) -> None:
    host, a, b, watcher = [await sign_in(client, await signup(client)) for _ in range(4)]
    room = await _room(client, host, [lazer_item(room_map.id), lazer_item(room_map.id)])
    rid = room["id"]
    first, second = (item["id"] for item in room["playlist"])
    a1 = await play(client, a, room, room_map, total_score_without_mods=150_000)
    b1 = await play(client, b, room, room_map, total_score_without_mods=950_000)
    # A failed play is stored but counts in no bin.
    await play(client, a, room, room_map, total_score_without_mods=990_000, passed=False)
    a2 = await play(client, a, room, room_map, item=1, total_score_without_mods=99_999)

    hub = await connect(app, "metadata", watcher)
    await hub.call_to("DailyChallengeUpdated")
    stats = await hub.call("BeginWatchingMultiplayerRoom", ["long"], [rid])
    assert stats.error is None
    # By hand: item 1 holds 150,000 (bin 1) and 950,000 (bin 9); item 2 holds 99,999 (bin 0).
    bins_first = [0] * 13
    bins_first[1] = bins_first[9] = 1
    assert codec.decode("MultiplayerPlaylistItemStats[]", stats.payload or b"") == [
        {
            "PlaylistItemID": first,
            "TotalScoreDistribution": bins_first,
            "CumulativeScore": 1_100_000,
            "LastProcessedScoreID": b1["id"],
        },
        {
            "PlaylistItemID": second,
            "TotalScoreDistribution": [1] + [0] * 12,
            "CumulativeScore": 99_999,
            "LastProcessedScoreID": a2["id"],
        },
    ]
    assert a1["id"] < b1["id"] < a2["id"]

    # a beats their best on the first item: a's room total is 300,000 + 99,999 behind b's
    # 950,000, so the new rank is 2.
    a3 = await play(client, a, room, room_map, total_score_without_mods=300_000)
    event = await hub.args_of("MultiplayerRoomScoreSet", "MultiplayerRoomScoreSetEvent")
    assert event == {
        "RoomID": rid,
        "PlaylistItemID": first,
        "ScoreID": a3["id"],
        "UserID": a.id,
        "TotalScore": 300_000,
        "NewRank": 2,
    }
    # A pass below the player's best is announced without a rank; a failed play not at all.
    await play(client, a, room, room_map, total_score_without_mods=10_000, passed=False)
    a4 = await play(client, a, room, room_map, total_score_without_mods=200_000)
    event = await hub.args_of("MultiplayerRoomScoreSet", "MultiplayerRoomScoreSetEvent")
    assert (event["ScoreID"], event["NewRank"]) == (a4["id"], None)

    # After EndWatchingMultiplayerRoom nothing more arrives.
    assert (await hub.call("EndWatchingMultiplayerRoom", ["long"], [rid])).error is None
    await play(client, b, room, room_map, item=1, total_score_without_mods=500_000)
    with pytest.raises(TimeoutError):
        await hub.call_to("MultiplayerRoomScoreSet", timeout=0.3)
    await hub.wire.close()
    await asyncio.sleep(0)


async def test_unknown_room_has_no_stats(app: Starlette, client: httpx.AsyncClient) -> None:
    user = await sign_in(client, await signup(client))
    hub = await connect(app, "metadata", user)
    stats = await hub.call("BeginWatchingMultiplayerRoom", ["long"], [987_654_321])
    assert codec.decode("MultiplayerPlaylistItemStats[]", stats.payload or b"") == []
    await hub.wire.close()
    await asyncio.sleep(0)
