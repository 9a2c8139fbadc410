"""The metadata hub (lazer-protocol.md §7.3): presence, friends, beatmap updates, stubs."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from server.app import Services
from server.core import msgpack as codec
from tests.beatmap_data import fresh_id, make_osu, store_set
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, TEST_SECRET_KEY
from tests.helpers import lazer_multipart, sign_in, signup
from tests.integration.hubs import connect

ONLINE, OFFLINE = 2, 0
IN_SOLO = {
    "type": "InSoloGame",
    "BeatmapID": 129891,
    "BeatmapDisplayTitle": "xi - FREEDOM DiVE [FOUR DIMENSIONS]",
    "RulesetID": 0,
    "RulesetPlayingVerb": "Playing solo",
}


async def _is_online(client: httpx.AsyncClient, headers: dict[str, str], user_id: int) -> bool:
    response = await client.get(f"/api/v2/users/{user_id}", headers=headers)
    assert response.status_code == 200
    return bool(response.json()["is_online"])


async def test_presence_reaches_watchers_friends_and_rest(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    """Presence: echo to the caller, UserPresenceUpdated to watchers, FriendPresenceUpdated
    to friends, online in the REST API; a disconnect broadcasts nil and goes offline."""
    alice = await sign_in(client, await signup(client))
    bob = await sign_in(client, await signup(client))
    body, headers = lazer_multipart({"target": str(alice.id)})
    added = await client.post("/api/v2/friends", content=body, headers={**headers, **bob.headers})
    assert added.status_code == 200, added.text

    bob_hub = await connect(app, "metadata", bob)
    assert (await bob_hub.args_of("DailyChallengeUpdated", "DailyChallengeInfo?")) is None
    assert (await bob_hub.call("BeginWatchingUserPresence", [], [])).error is None

    alice_hub = await connect(app, "metadata", alice)
    assert (await alice_hub.call("UpdateStatus", ["UserStatus?"], [ONLINE])).error is None
    assert (await alice_hub.call("UpdateActivity", ["UserActivity?"], [IN_SOLO])).error is None
    echo = await alice_hub.args_of("UserPresenceUpdated", "int,UserPresence?")
    assert echo == [alice.id, {"Activity": None, "Status": ONLINE}]

    async def presence_of(target: str) -> list[object]:
        while True:
            args = await bob_hub.args_of(target, "int,UserPresence?")
            if args[0] == alice.id and args[1] and args[1]["Activity"] is not None:
                return list(args)

    expected = [alice.id, {"Activity": IN_SOLO, "Status": ONLINE}]
    assert await presence_of("UserPresenceUpdated") == expected
    assert await presence_of("FriendPresenceUpdated") == expected
    assert await _is_online(client, bob.headers, alice.id)

    await alice_hub.wire.close()
    while True:
        args = await bob_hub.args_of("UserPresenceUpdated", "int,UserPresence?")
        if args == [alice.id, None]:
            break
    assert not await _is_online(client, bob.headers, alice.id)
    await bob_hub.wire.close()


async def test_appearing_offline_hides_the_user(app: Starlette, client: httpx.AsyncClient) -> None:
    """Users with status Offline are hidden from watchers and from the REST API."""
    shy = await sign_in(client, await signup(client))
    viewer = await sign_in(client, await signup(client))
    watcher = await connect(app, "metadata", viewer)
    await watcher.call("BeginWatchingUserPresence", [], [])
    hub = await connect(app, "metadata", shy)
    await hub.call("UpdateStatus", ["UserStatus?"], [ONLINE])
    assert await _is_online(client, viewer.headers, shy.id)
    await hub.call("UpdateStatus", ["UserStatus?"], [OFFLINE])
    while True:
        args = await watcher.args_of("UserPresenceUpdated", "int,UserPresence?")
        if args[0] == shy.id and args[1] is None:
            break
    assert not await _is_online(client, viewer.headers, shy.id)
    bad = await hub.call("UpdateStatus", ["UserStatus?"], [7])
    assert bad.error is not None  # S-RT-6: enum range
    await hub.wire.close()
    await watcher.wire.close()


async def test_a_new_presence_watcher_gets_everyone_online(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    """BeginWatchingUserPresence lists the users already online."""
    online = await sign_in(client, await signup(client))
    viewer = await sign_in(client, await signup(client))
    hub = await connect(app, "metadata", online)
    await hub.call("UpdateStatus", ["UserStatus?"], [ONLINE])
    watcher = await connect(app, "metadata", viewer)
    await watcher.call("BeginWatchingUserPresence", [], [])
    while True:
        args = await watcher.args_of("UserPresenceUpdated", "int,UserPresence?")
        if args[0] == online.id:
            assert args[1] == {"Activity": None, "Status": ONLINE}
            break
    await watcher.call("EndWatchingUserPresence", [], [])
    await hub.wire.close()
    await watcher.wire.close()


async def test_beatmap_updates_and_an_unknown_room(
    app: Starlette,
    client: httpx.AsyncClient,
    services: Services,
) -> None:
    """BeatmapSetsUpdated reaches every client; GetChangesSince returns what changed after
    a queue id and [] once up to date (lazer loops until empty); watching an unknown room
    answers an empty list."""
    user = await sign_in(client, await signup(client))
    hub = await connect(app, "metadata", user)
    await services.realtime.metadata.beatmap_sets_updated([1, 2])
    update = await hub.args_of("BeatmapSetsUpdated", "BeatmapUpdates")
    assert update["BeatmapSetIDs"] == [1, 2]
    latest = update["LastProcessedQueueID"]
    changed = await hub.call("GetChangesSince", ["int"], [latest - 1])
    assert codec.decode("BeatmapUpdates", changed.payload or b"") == {
        "BeatmapSetIDs": [2],
        "LastProcessedQueueID": latest,
    }
    done = await hub.call("GetChangesSince", ["int"], [latest])
    assert codec.decode("BeatmapUpdates", done.payload or b"")["BeatmapSetIDs"] == []

    # A room that does not exist has no items (rooms with items: test_room_watching.py).
    stats = await hub.call("BeginWatchingMultiplayerRoom", ["long"], [987_654_320])
    assert stats.completion_kind is codec.CompletionKind.RESULT
    assert codec.decode("MultiplayerPlaylistItemStats[]", stats.payload or b"") == []
    assert (await hub.call("EndWatchingMultiplayerRoom", ["long"], [987_654_320])).error is None
    assert (await hub.call("RefreshFriends", [], [])).error is None
    await hub.wire.close()
    await asyncio.sleep(0)


async def test_storing_sets_tells_connected_clients(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """Beatmap ingest (imports, upstream syncs) announces each added or changed set with
    BeatmapSetsUpdated, which lazer answers with GetChangesSince; storing the same files
    again announces nothing."""
    user = await sign_in(client, await signup(client))
    hub = await connect(app, "metadata", user)
    await hub.call_to("DailyChallengeUpdated")
    set_id, ids, _ = await store_set(services, status=0)
    update = await hub.args_of("BeatmapSetsUpdated", "BeatmapUpdates")
    assert update["BeatmapSetIDs"] == [set_id]
    changed = await hub.call("GetChangesSince", ["int"], [update["LastProcessedQueueID"] - 1])
    assert codec.decode("BeatmapUpdates", changed.payload or b"")["BeatmapSetIDs"] == [set_id]

    again = [{"beatmap_id": ids[0]}]
    await store_set(services, beatmapset_id=set_id, status=0, difficulties=again)
    await hub.no_message()
    await store_set(services, beatmapset_id=set_id, status=1, difficulties=again)  # ranked
    update = await hub.args_of("BeatmapSetsUpdated", "BeatmapUpdates")
    assert update["BeatmapSetIDs"] == [set_id]
    await hub.wire.close()


@pytest.mark.skipif(not TEST_REDIS_URL, reason="the CLI reaches a server only through Redis")
async def test_cli_import_tells_clients_of_a_running_server(
    app: Starlette, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """`python -m server beatmaps import` is another process: it announces the sets it
    stored through the Redis the running server shares."""
    user = await sign_in(client, await signup(client))
    hub = await connect(app, "metadata", user)
    await hub.call_to("DailyChallengeUpdated")
    set_id = fresh_id()
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "cli.osu").write_bytes(make_osu(beatmap_id=fresh_id(), beatmapset_id=set_id))
    env = {
        "PATH": "/usr/bin:/bin",
        "DATA_DIR": str(tmp_path / "data"),
        "SECRET_KEY": TEST_SECRET_KEY,
        "REDIS_URL": TEST_REDIS_URL,
        "LOG_LEVEL": "warning",
    }
    if TEST_DATABASE_URL:
        env["DATABASE_URL"] = TEST_DATABASE_URL
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "server", "beatmaps", "import", str(maps), "--quiet"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    update = await hub.args_of("BeatmapSetsUpdated", "BeatmapUpdates", timeout=10)
    assert update["BeatmapSetIDs"] == [set_id]
    await hub.wire.close()
