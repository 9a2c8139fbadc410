"""The multiplayer hub through the official @microsoft/signalr client with its MessagePack
protocol under Node (clients.md §2), two users against the live server: create, the lounge
over REST, wrong and right password, ready, start, load, gameplay, a playlist token and a
submitted score over REST, FinishedPlay, ResultsReady, the next item, leaving
(tests/conformance/node/mp/two_users.mjs; the other scenarios are in
test_signalr_multiplayer_scenarios.py)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.conformance.conftest import HTTP_TIMEOUT
from tests.conformance.live_server import LiveServer
from tests.conformance.node_multiplayer import (
    Player,
    hub_error,
    invalid_state,
    scenario,
)
from tests.conformance.test_signalr_clients import _node_ready
from tests.score_play import VERSION_HASH, age_token, play_body, stored_map


@pytest.mark.slow
def test_two_users_play_a_room(live_server: LiveServer) -> None:
    reason = _node_ready()
    if reason is not None:
        pytest.skip(reason)
    host, guest = Player(live_server), Player(live_server)
    beatmap = live_server.call(stored_map)
    guest_headers = {"Authorization": f"Bearer {guest.token}", "x-api-version": "20251101"}

    def listed_in_the_lounge(data: dict[str, Any]) -> None:
        lounge = requests.get(
            f"{live_server.url}/api/v2/rooms",
            params={"type_group": "realtime"},
            headers=guest_headers,
            timeout=HTTP_TIMEOUT,
        )
        listed = [r for r in lounge.json() if r["id"] == data["roomId"]]
        assert listed and listed[0]["has_password"] and listed[0]["host"]["id"] == host.id

    def guest_submits(data: dict[str, Any]) -> None:
        scores = f"{live_server.url}/api/v2/rooms/{data['roomId']}/playlist/{data['itemId']}/scores"
        token = requests.post(
            scores,
            data={
                "version_hash": VERSION_HASH,
                "beatmap_id": str(beatmap.id),
                "beatmap_hash": beatmap.checksum,
                "ruleset_id": "0",
            },
            headers=guest_headers,
            timeout=HTTP_TIMEOUT,
        )
        assert token.status_code == 200, token.text
        token_id = token.json()["id"]
        live_server.call(lambda svc: age_token(svc.db, token_id, beatmap.total_length * 2 + 5))
        submitted = requests.put(
            f"{scores}/{token_id}",
            json=play_body(beatmap),
            headers=guest_headers,
            timeout=HTTP_TIMEOUT,
        )
        assert submitted.status_code == 200, submitted.text

    def disbanded(data: dict[str, Any]) -> None:
        row = live_server.call(lambda svc: svc.rooms.repo.room(data["roomId"]))
        assert row is not None and row.ends_at is not None  # the last leave disbanded it

    seen = scenario(
        "two_users",
        live_server.url,
        [host, guest],
        beatmap,
        steps={"created": listed_in_the_lounge, "playing": guest_submits, "left": disbanded},
    )
    room_id, item_id = seen["created"]["roomId"], seen["created"]["itemId"]
    assert seen["created"] == {
        "roomId": room_id,
        "itemId": item_id,
        "host": host.id,
        "users": [host.id],
    }
    assert seen["wrongPassword"] == hub_error(
        "JoinRoomWithPassword",
        "InvalidPasswordException",
        "Exception of type 'osu.Game.Online.Multiplayer.InvalidPasswordException' was thrown.",
    )
    assert seen["joinedUsers"] == [host.id, guest.id] and seen["hostSawJoin"] == guest.id
    assert seen["hostNotReady"] == invalid_state(
        "StartMatch", "Can't start match when the host is not ready."
    )
    assert seen["nextItem"]["beatmapId"] == beatmap.id and not seen["nextItem"]["expired"]
    assert seen["currentItemAfter"] == seen["nextItem"]["id"] != item_id
    assert seen["hostSawLeave"] == guest.id

    events = requests.get(
        f"{live_server.url}/api/v2/rooms/{room_id}/events",
        headers={"Authorization": f"Bearer {guest.token}", "x-api-version": "20251101"},
        timeout=HTTP_TIMEOUT,
    ).json()
    assert [e["event_type"] for e in events["events"]] == [
        "room_created",
        "player_joined",
        "player_joined",
        "game_started",
        "game_completed",
        "player_left",
        "player_left",
        "room_disbanded",
    ]
    scores = [s for item in events["playlist_items"] for s in item["scores"]]
    assert [s["user_id"] for s in scores] == [guest.id]
