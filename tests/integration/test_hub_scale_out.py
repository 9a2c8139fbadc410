"""Two server instances sharing a Redis: hub groups and user messages cross between them, and
a Redis restart drops no connection (reliability.md §2.1 "Hubs").

Each test runs its own redis-server on a free port (so it can be stopped and restarted
without touching anyone else's), and two app instances on the session's database.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from server.app import Services, create_app
from tests.conftest import make_settings
from tests.helpers import sign_in, signup
from tests.integration.hubs import connect, play_token
from tests.integration.test_spectator_hub import (
    PLAYING,
    begin,
    frame_bundle,
    send_frames,
    spectator_state,
)

REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")


class PrivateRedis:
    """A redis-server process this test owns (start, stop, start again on the same port)."""

    def __init__(self, directory: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@asynccontextmanager
async def instance(data_dir: Path, redis_url: str) -> AsyncIterator[Starlette]:
    application = create_app(make_settings(data_dir, REDIS_URL=redis_url))
    async with application.router.lifespan_context(application) as state:
        application.state.lifespan_state = state
        await _wait_connected(application)
        yield application


async def _wait_connected(application: Starlette, seconds: float = 10) -> None:
    bus = application.state.lifespan_state["services"].realtime.bus
    deadline = time.monotonic() + seconds
    while not bus.connected:
        assert time.monotonic() < deadline, "bus never connected to Redis"
        await asyncio.sleep(0.02)


async def _subscribed(application: Starlette) -> None:
    # Subscriptions are applied by the listener's next poll (<= 50 ms).
    await asyncio.sleep(0.3)


async def test_watcher_on_another_instance(
    app: Starlette,
    client: httpx.AsyncClient,
    services: Services,
    data_dir: Path,
    private_redis: PrivateRedis,
) -> None:
    """A player on instance A, a watcher on instance B: the play already under way is
    announced, frames and the end cross over, and the player hears of the watcher."""
    player_user = await sign_in(client, await signup(client))
    watcher_user = await sign_in(client, await signup(client))
    token = await play_token(client, services, player_user)
    async with (
        instance(data_dir, private_redis.url) as a,
        instance(data_dir, private_redis.url) as b,
    ):
        player = await connect(a, "spectator", player_user)
        await _subscribed(a)
        await player.wire.send(begin(token, spectator_state(3, PLAYING), "b"))
        await player.completion("b")

        watcher = await connect(b, "spectator", watcher_user)
        await watcher.call("StartWatchingUser", ["int"], [player_user.id])
        await watcher.call_to("UserBeganPlaying")  # known through Redis on B
        await player.call_to("UserStartedWatching")
        await _subscribed(b)

        bundle = frame_bundle(0.0)
        await player.wire.send(send_frames(token, bundle))
        relayed = await watcher.call_to("UserSentFrames")
        assert bundle in relayed.raw
        await player.wire.send(b"".join([_end(token)]))
        await watcher.call_to("UserFinishedPlaying")

        # S-RT-3 across instances: a second client instance on B logs out the one on A.
        await connect(b, "spectator", player_user, session_id="other-instance")
        await player.call_to("DisconnectRequested")
        await watcher.wire.close()


async def test_frames_reach_a_watcher_who_arrives_on_another_instance_mid_play(
    app: Starlette,
    client: httpx.AsyncClient,
    services: Services,
    data_dir: Path,
    private_redis: PrivateRedis,
) -> None:
    """While nobody on another instance watches, the player's instance stops publishing the
    frames to Redis; a watcher arriving on another instance gets the next bundle."""
    player_user = await sign_in(client, await signup(client))
    watcher_user = await sign_in(client, await signup(client))
    token = await play_token(client, services, player_user)
    async with (
        instance(data_dir, private_redis.url) as a,
        instance(data_dir, private_redis.url) as b,
    ):
        bus = a.state.lifespan_state["services"].realtime.bus
        player = await connect(a, "spectator", player_user)
        await _subscribed(a)
        await player.wire.send(begin(token, spectator_state(3, PLAYING), "b"))
        await player.completion("b")
        deadline = time.monotonic() + 10
        while bus.unheard_skipped == 0:  # the frames stopped going to Redis
            assert time.monotonic() < deadline, "frames nobody else hears were still published"
            await player.wire.send(send_frames(token, frame_bundle(0.0)))
            await asyncio.sleep(0.05)

        watcher = await connect(b, "spectator", watcher_user)
        await watcher.call("StartWatchingUser", ["int"], [player_user.id])
        await watcher.call_to("UserBeganPlaying")
        await _subscribed(b)
        bundle = frame_bundle(1000.0)
        await player.wire.send(send_frames(token, bundle))
        relayed = await watcher.call_to("UserSentFrames")
        assert bundle in relayed.raw
        await watcher.wire.close()
        await player.wire.close()


def _end(token: int) -> bytes:
    from tests.hub_client import invocation
    from tests.integration.test_spectator_hub import PASSED, pack

    return invocation("EndPlaySessionV2", b"\x92" + pack(token) + pack(PASSED), "e")


async def test_presence_crosses_instances(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path, private_redis: PrivateRedis
) -> None:
    """Metadata groups fan out through Redis too; online users are listed on every instance."""
    online = await sign_in(client, await signup(client))
    viewer = await sign_in(client, await signup(client))
    async with (
        instance(data_dir, private_redis.url) as a,
        instance(data_dir, private_redis.url) as b,
    ):
        watcher = await connect(b, "metadata", viewer)
        await watcher.call("BeginWatchingUserPresence", [], [])
        await _subscribed(b)
        hub = await connect(a, "metadata", online)
        await hub.call("UpdateStatus", ["UserStatus?"], [2])
        while True:
            args = await watcher.args_of("UserPresenceUpdated", "int,UserPresence?")
            if args[0] == online.id:
                break
        metadata_b = b.state.lifespan_state["services"].realtime.metadata
        assert online.id in await metadata_b.online_user_ids()
        await hub.wire.close()
        await watcher.wire.close()


async def test_redis_restart_drops_no_connection(
    app: Starlette,
    client: httpx.AsyncClient,
    services: Services,
    data_dir: Path,
    private_redis: PrivateRedis,
) -> None:
    """§2.1: with Redis gone, connected players stay connected and a watcher on the same
    instance still gets frames; once Redis is back, the other instance gets them again."""
    player_user = await sign_in(client, await signup(client))
    near_user = await sign_in(client, await signup(client))
    far_user = await sign_in(client, await signup(client))
    token = await play_token(client, services, player_user)
    async with (
        instance(data_dir, private_redis.url) as a,
        instance(data_dir, private_redis.url) as b,
    ):
        player = await connect(a, "spectator", player_user)
        near = await connect(a, "spectator", near_user)
        far = await connect(b, "spectator", far_user)
        await player.wire.send(begin(token, spectator_state(3, PLAYING), "b"))
        await player.completion("b")
        for watcher in (near, far):
            await watcher.call("StartWatchingUser", ["int"], [player_user.id])
        await _subscribed(b)

        private_redis.stop()
        await asyncio.sleep(0.3)
        await player.wire.send(send_frames(token, frame_bundle(0.0)))
        await near.call_to("UserSentFrames")
        assert (await player.call("EndWatchingUser", ["int"], [1])).error is None

        private_redis.start()
        await _wait_connected(a)
        await _wait_connected(b)
        await asyncio.sleep(1.2)  # the publisher's pause after a failure
        await player.wire.send(send_frames(token, frame_bundle(100.0)))
        await far.call_to("UserSentFrames", timeout=10)
        await near.call_to("UserSentFrames")
        for hub in (player, near, far):
            assert (await hub.call("EndWatchingUser", ["int"], [1])).error is None
            await hub.wire.close()


async def test_replay_when_the_score_is_submitted_to_another_instance(
    app: Starlette,
    client: httpx.AsyncClient,
    services: Services,
    data_dir: Path,
    private_redis: PrivateRedis,
) -> None:
    """The frames are on instance A, the PUT lands on instance B: the submission crosses
    the bus to A, which writes the replay; B then serves it."""
    from tests.conftest import _LifespanStateTransport
    from tests.integration.test_replays import download, eventually_has_replay, started
    from tests.score_play import play_body, stored_map, submit, token_for

    user = await sign_in(client, await signup(client))
    beatmap = await stored_map(services)
    token = await token_for(client, user, beatmap)
    async with (
        instance(data_dir, private_redis.url) as a,
        instance(data_dir, private_redis.url) as b,
        httpx.AsyncClient(
            transport=_LifespanStateTransport(b), base_url="http://testserver"
        ) as http_b,
    ):
        player = await connect(a, "spectator", user)
        await started(player, token, beatmap)
        await player.wire.send(send_frames(token, frame_bundle(0.0)))
        await player.wire.send(_end(token))
        await player.completion("e")
        await _subscribed(b)
        response = await submit(http_b, user, beatmap, token, play_body(beatmap))
        assert response.status_code == 200, response.text
        score_id = response.json()["id"]
        assert (await eventually_has_replay(http_b, user, score_id))["has_replay"] is True
        replays_a = a.state.lifespan_state["services"].realtime.replays
        assert not replays_a.owns(user.id, token)
        got = await download(http_b, user, score_id)
        assert got.status_code == 200
        await player.wire.close()


async def test_room_score_set_crosses_instances(
    app: Starlette,
    client: httpx.AsyncClient,
    services: Services,
    data_dir: Path,
    private_redis: PrivateRedis,
) -> None:
    """A daily challenge watcher on instance B hears of a playlist score submitted to
    instance A (MultiplayerRoomScoreSet through Redis, after the submission's commit)."""
    from tests.conftest import _LifespanStateTransport
    from tests.integration.test_playlist_scores import _room, play
    from tests.integration.test_rooms import lazer_item
    from tests.score_play import stored_map

    host = await sign_in(client, await signup(client))
    player = await sign_in(client, await signup(client))
    viewer = await sign_in(client, await signup(client))
    beatmap = await stored_map(services)
    room = await _room(client, host, [lazer_item(beatmap.id)])
    async with (
        instance(data_dir, private_redis.url) as a,
        instance(data_dir, private_redis.url) as b,
        httpx.AsyncClient(
            transport=_LifespanStateTransport(a), base_url="http://testserver"
        ) as http_a,
    ):
        watcher = await connect(b, "metadata", viewer)
        stats = await watcher.call("BeginWatchingMultiplayerRoom", ["long"], [room["id"]])
        assert stats.error is None
        await _subscribed(b)
        played = await play(http_a, player, room, beatmap, total_score_without_mods=420_000)
        event = await watcher.args_of("MultiplayerRoomScoreSet", "MultiplayerRoomScoreSetEvent")
        assert event == {
            "RoomID": room["id"],
            "PlaylistItemID": room["playlist"][0]["id"],
            "ScoreID": played["id"],
            "UserID": player.id,
            "TotalScore": 420_000,
            "NewRank": 1,
        }
        await watcher.wire.close()
