"""SignalR clients we did not write, against the live server (clients.md §2): the official
@microsoft/signalr client with its MessagePack protocol under Node, and aiosignalr.

They negotiate (and skip negotiation), invoke with and without awaiting, receive server
calls, and stay connected through more than 30 s without application messages, which only
works if the server pings (lazer-protocol.md §6.1).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conformance.conftest import HTTP_TIMEOUT, register
from tests.conformance.live_server import LiveServer
from tests.helpers import LAZER_CLIENT_ID, LAZER_SECRET, Account, lazer_multipart

NODE_DIR = Path(__file__).parent / "node"
SILENCE_SECONDS = 32


def token_for(live_server: LiveServer, account: Account) -> str:
    body, headers = lazer_multipart(
        {
            "username": account.username,
            "password": account.password,
            "grant_type": "password",
            "client_id": LAZER_CLIENT_ID,
            "client_secret": LAZER_SECRET,
            "scope": "*",
        }
    )
    response = requests.post(
        f"{live_server.url}/oauth/token", data=body, headers=headers, timeout=HTTP_TIMEOUT
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _node_ready() -> str | None:
    """Why the Node client cannot run, or None when it can."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are needed for the @microsoft/signalr conformance test"
    if not (NODE_DIR / "node_modules" / "@microsoft" / "signalr").is_dir():
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            timeout=180,
            check=False,
        )
        if done.returncode != 0:
            return f"npm ci failed: {done.stderr.decode()[-500:]}"
    return None


def _start_node(live_server: LiveServer) -> tuple[subprocess.Popen[bytes], Account, Account]:
    player, watcher = register(live_server), register(live_server)
    process = subprocess.Popen(
        [
            "node",
            "client.mjs",
            live_server.url,
            token_for(live_server, player),
            str(player.id),
            token_for(live_server, watcher),
            str(SILENCE_SECONDS),
        ],
        cwd=NODE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    return process, player, watcher


def _check_node(process: subprocess.Popen[bytes], player: Account, watcher: Account) -> None:
    try:
        stdout, stderr = process.communicate(timeout=SILENCE_SECONDS + 40)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stdout.decode() + stderr.decode()
    seen = json.loads(stdout.decode().strip().splitlines()[-1])
    assert seen["dailyChallenge"] is None
    assert seen["presenceEcho"] == [player.id, [None, 2]]
    assert seen["changes"] == [[], seen["latestQueueId"]]
    assert seen["startedWatching"] == [[watcher.id, watcher.username]]
    assert seen["began"] == [player.id, [1816113, 0, [["HD", []]], 1, {}]]
    user_id, (header, frames) = seen["frames"]
    assert user_id == player.id and header[0] == 123456 and len(frames) == 2
    assert frames[0][:2] == [0.0, 100.5]
    assert seen["finished"][1][3] == 3
    assert "Method does not exist" in seen["unknownMethodError"]
    assert seen["statesAfterSilence"] == ["Connected"] * 3
    assert seen["changesAfterSilence"] == [[], seen["latestQueueId"]]


async def _aiosignalr_run(live_server: LiveServer) -> None:
    """aiosignalr 0.1.1: the same steps as the Node script, from Python."""
    import asyncio

    import msgpack  # type: ignore[import-untyped]
    from aiosignalr.client.hub_connection import HubConnection  # type: ignore[import-untyped]

    player_account, watcher_account = register(live_server), register(live_server)
    player_token = token_for(live_server, player_account)
    watcher_token = token_for(live_server, watcher_account)
    received: dict[str, asyncio.Future[tuple[object, ...]]] = {}
    loop = asyncio.get_running_loop()

    def recorder(name: str):  # type: ignore[no-untyped-def]
        received[name] = loop.create_future()

        def handler(*args: object) -> None:
            if not received[name].done():
                received[name].set_result(args)

        return handler

    async def open_hub(hub: str, token: str, skip: bool) -> HubConnection:
        connection = HubConnection(protocol="messagepack")
        for name in ("UserPresenceUpdated", "UserBeganPlaying", "UserSentFrames",
                     "UserStartedWatching", "DailyChallengeUpdated"):  # fmt: skip
            connection.on(name, recorder(f"{hub}:{token[-6:]}:{name}"))
        url = f"{live_server.url}/signalr/{hub}"
        await connection.start(
            url.replace("http", "ws", 1) if skip else url,
            access_token_factory=lambda: token,
            headers={"X-Client-Session-ID": f"py-{hub}-{skip}"},
            skip_negotiation=skip,
        )
        return connection

    def seen(hub: str, token: str, name: str) -> asyncio.Future[tuple[object, ...]]:
        return received[f"{hub}:{token[-6:]}:{name}"]

    metadata = await open_hub("metadata", player_token, False)
    assert await metadata.invoke("UpdateStatus", 2) is None
    echo = await asyncio.wait_for(seen("metadata", player_token, "UserPresenceUpdated"), 5)
    assert list(echo) == [player_account.id, [None, 2]]
    # Everything queued so far (sets other tests stored), then nothing after the latest id.
    sets, latest = await metadata.invoke("GetChangesSince", 0)
    assert isinstance(sets, list) and isinstance(latest, int)
    assert await metadata.invoke("GetChangesSince", latest) == [[], latest]

    player = await open_hub("spectator", player_token, False)
    watcher = await open_hub("spectator", watcher_token, True)
    await watcher.invoke("StartWatchingUser", player_account.id)
    started = await asyncio.wait_for(seen("spectator", player_token, "UserStartedWatching"), 5)
    assert list(started) == [[[watcher_account.id, watcher_account.username]]]
    state = [129891, 0, [["DT", []]], 1, {}]
    # No score token: relayed, not recorded (a replay needs an issued token, S-RT-7).
    await player.invoke("BeginPlaySessionV2", None, state)
    began = await asyncio.wait_for(seen("spectator", watcher_token, "UserBeganPlaying"), 5)
    assert list(began) == [player_account.id, state]
    header = [1, 1.0, 1, 1, {}, [0.0, 0.0, 0, 0.0, 0.0], [msgpack.Timestamp(0), 0], [], None, None]
    await player.send("SendFrameDataV2", None, [header, [[0.0, 1.0, 2.0, 1]]])
    frames = await asyncio.wait_for(seen("spectator", watcher_token, "UserSentFrames"), 5)
    assert frames[0] == player_account.id

    await asyncio.sleep(SILENCE_SECONDS)
    for connection in (metadata, player, watcher):
        assert connection.state.name == "CONNECTED"
    assert await metadata.invoke("GetChangesSince", latest) == [[], latest]
    for connection in (metadata, player, watcher):
        await connection.stop()


@pytest.mark.slow
async def test_independent_clients(live_server: LiveServer) -> None:
    """@microsoft/signalr 10.0.11 + msgpack under Node and aiosignalr 0.1.1 in Python, side by
    side: negotiate and skip-negotiation, awaited and non-blocking invocations, server calls
    with lazer-typed payloads, then 32 s without application messages."""
    reason = _node_ready()
    node = _start_node(live_server) if reason is None else None
    try:
        async with asyncio.timeout(SILENCE_SECONDS + 40):  # a hang fails instead of stalling
            await _aiosignalr_run(live_server)
    except BaseException:
        if node is not None:
            node[0].kill()
            node[0].wait(10)
        raise
    if node is None:
        pytest.skip(reason or "node unavailable")
    _check_node(*node)


def test_node_client_is_told_to_disconnect_on_restriction(live_server: LiveServer) -> None:
    """issue 16: a restricted player's hub connections get DisconnectRequested (lazer logs
    out on it) and are closed, as the official @microsoft/signalr client sees it."""
    reason = _node_ready()
    if reason is not None:
        pytest.skip(reason)
    account = register(live_server)
    process = subprocess.Popen(
        ["node", "disconnect.mjs", live_server.url, token_for(live_server, account)],
        cwd=NODE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().decode().strip() == "connected"

        async def restrict(svc: Any) -> None:
            user = await svc.users.by_id(account.id)
            await svc.moderation.restrict(user, None, "conformance")

        live_server.call(restrict)
        stdout, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stdout.decode() + stderr.decode()
    seen = json.loads(stdout.decode().strip().splitlines()[-1])
    assert seen["disconnectRequested"] is True and seen["closed"] is True


def _play_in_room(
    live_server: LiveServer, headers: dict[str, str], room: dict[str, Any], beatmap: Any, total: int
) -> dict[str, Any]:
    """A playlist play over the wire as lazer makes it: token, then the score."""
    from tests.score_play import VERSION_HASH, age_token, play_body

    room_id, item_id = room["id"], room["playlist"][0]["id"]
    token = requests.post(
        f"{live_server.url}/api/v2/rooms/{room_id}/playlist/{item_id}/scores",
        data={
            "version_hash": VERSION_HASH,
            "beatmap_id": str(beatmap.id),
            "beatmap_hash": beatmap.checksum,
            "ruleset_id": "0",
        },
        headers=headers,
        timeout=HTTP_TIMEOUT,
    )
    assert token.status_code == 200, token.text
    token_id = token.json()["id"]
    live_server.call(lambda svc: age_token(svc.db, token_id, beatmap.total_length * 2 + 5))
    submitted = requests.put(
        f"{live_server.url}/api/v2/rooms/{room_id}/playlist/{item_id}/scores/{token_id}",
        json=play_body(beatmap, total_score_without_mods=total),
        headers=headers,
        timeout=HTTP_TIMEOUT,
    )
    assert submitted.status_code == 200, submitted.text
    return submitted.json()  # type: ignore[no-any-return]


def test_node_client_watches_a_room(live_server: LiveServer) -> None:
    """@microsoft/signalr under Node on the metadata hub: the item statistics returned by
    BeginWatchingMultiplayerRoom, MultiplayerRoomScoreSet for a score stored while watching,
    and DailyChallengeUpdated when the job opens a day's room (array-keyed MessagePack)."""
    from datetime import UTC, date, datetime

    from server.jobs import open_daily_challenge
    from tests.score_play import stored_map

    reason = _node_ready()
    if reason is not None:
        pytest.skip(reason)
    host, watcher = register(live_server), register(live_server)
    headers = {"Authorization": f"Bearer {token_for(live_server, host)}"}
    beatmap = live_server.call(stored_map)
    created = requests.post(
        f"{live_server.url}/api/v2/rooms",
        json={
            "name": "watched",
            "duration": 60,
            "playlist": [{"ruleset_id": 0, "beatmap_id": beatmap.id}],
        },
        headers=headers,
        timeout=HTTP_TIMEOUT,
    )
    assert created.status_code == 200, created.text
    room = created.json()
    item_id = room["playlist"][0]["id"]
    first = _play_in_room(live_server, headers, room, beatmap, 250_000)

    process = subprocess.Popen(
        ["node", "metadata_rooms.mjs", live_server.url, token_for(live_server, watcher),
         str(room["id"])],
        cwd=NODE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        watching = process.stdout.readline().decode()
        assert watching, process.stderr.read().decode() if process.stderr else ""
        bins = [0] * 13
        bins[2] = 1
        assert json.loads(watching) == {"stats": [[item_id, bins, 250_000, first["id"]]]}
        second = _play_in_room(live_server, headers, room, beatmap, 640_000)

        day = date(2031, 9, 1)
        now = datetime(2031, 9, 1, 0, 0, 30, tzinfo=UTC)

        async def open_day(svc: Any) -> int | None:
            queued = await svc.daily_challenge.add(day, beatmap.id, 0, [])
            assert getattr(queued, "error", None) is None
            return (
                await open_daily_challenge(svc.daily_challenge, svc.realtime.metadata, now)
            ).opened

        daily_room = live_server.call(open_day)
        assert daily_room is not None
        stdout, stderr = process.communicate(timeout=40)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        # Back to the real clock: no daily challenge open for the other tests.
        live_server.call(lambda svc: svc.realtime.metadata.refresh_daily_challenge())
    assert process.returncode == 0, stdout.decode() + stderr.decode()
    seen = json.loads(stdout.decode().strip().splitlines()[-1])
    assert seen["dailyChallengeOnConnect"] is None
    assert seen["scoreSet"] == [room["id"], item_id, second["id"], host.id, 640_000, 1]
    assert seen["dailyChallenge"] == [daily_room]
