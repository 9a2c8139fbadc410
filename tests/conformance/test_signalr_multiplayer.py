"""The multiplayer hub through the official @microsoft/signalr client with its MessagePack
protocol under Node (clients.md §2), two users against the live server: create, the lounge
over REST, wrong and right password, ready, start, load, gameplay, a playlist token and a
submitted score over REST, FinishedPlay, ResultsReady, the next item, leaving."""

from __future__ import annotations

import json
import subprocess
from typing import IO, Any

import pytest
import requests

from tests.conformance.conftest import HTTP_TIMEOUT, register
from tests.conformance.live_server import LiveServer
from tests.conformance.test_signalr_clients import NODE_DIR, _node_ready, token_for
from tests.score_play import VERSION_HASH, age_token, play_body, stored_map

STEP_SECONDS = 30


def _read_step(stdout: IO[bytes]) -> dict[str, Any]:
    line = stdout.readline().decode()
    assert line, "the Node client ended early"
    data: dict[str, Any] = json.loads(line)
    assert "error" not in data, data["error"]
    return data


@pytest.mark.slow
def test_two_users_play_a_room(live_server: LiveServer) -> None:
    reason = _node_ready()
    if reason is not None:
        pytest.skip(reason)
    host, guest = register(live_server), register(live_server)
    host_token, guest_token = token_for(live_server, host), token_for(live_server, guest)
    beatmap = live_server.call(stored_map)
    process = subprocess.Popen(
        [
            "node",
            "multiplayer.mjs",
            live_server.url,
            host_token,
            str(host.id),
            guest_token,
            str(guest.id),
            str(beatmap.id),
            beatmap.checksum,
        ],
        cwd=NODE_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    guest_headers = {"Authorization": f"Bearer {guest_token}", "x-api-version": "20251101"}
    try:
        created = _read_step(process.stdout)
        assert created["step"] == "created"
        room_id, item_id = created["roomId"], created["itemId"]
        lounge = requests.get(
            f"{live_server.url}/api/v2/rooms",
            params={"type_group": "realtime"},
            headers=guest_headers,
            timeout=HTTP_TIMEOUT,
        )
        listed = [r for r in lounge.json() if r["id"] == room_id]
        assert listed and listed[0]["has_password"] and listed[0]["host"]["id"] == host.id
        process.stdin.write(b"go\n")
        process.stdin.flush()

        playing = _read_step(process.stdout)
        assert playing["step"] == "playing"
        token = requests.post(
            f"{live_server.url}/api/v2/rooms/{room_id}/playlist/{item_id}/scores",
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
            f"{live_server.url}/api/v2/rooms/{room_id}/playlist/{item_id}/scores/{token_id}",
            json=play_body(beatmap),
            headers=guest_headers,
            timeout=HTTP_TIMEOUT,
        )
        assert submitted.status_code == 200, submitted.text
        process.stdin.write(b"go\n")
        process.stdin.flush()

        left = _read_step(process.stdout)
        assert left["step"] == "left"
        row = live_server.call(lambda svc: svc.rooms.repo.room(room_id))
        assert row is not None and row.ends_at is not None  # the last leave disbanded it
        process.stdin.write(b"go\n")
        process.stdin.flush()
        stdout, stderr = process.communicate(timeout=STEP_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 0, stdout.decode() + stderr.decode()
    seen = json.loads(stdout.decode().strip().splitlines()[-1])
    assert seen["created"] == {
        "roomId": room_id,
        "itemId": item_id,
        "host": host.id,
        "users": [host.id],
    }
    assert seen["wrongPassword"].endswith("InvalidPasswordException: Invalid password")
    assert seen["joinedUsers"] == [host.id, guest.id] and seen["hostSawJoin"] == guest.id
    assert seen["hostNotReady"].endswith("Can't start match when the host is not ready.")
    assert seen["nextItem"]["beatmapId"] == beatmap.id and not seen["nextItem"]["expired"]
    assert seen["currentItemAfter"] == seen["nextItem"]["id"] != item_id
    assert seen["hostSawLeave"] == guest.id

    events = requests.get(
        f"{live_server.url}/api/v2/rooms/{room_id}/events",
        headers=guest_headers,
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
