"""A realtime room with its members on two instances (server/services/multiplayer/
INSTANCES.md): the room's owner holds a lease in Redis; calls from the other instance are
forwarded to it over the hub bus, and callbacks reach both through the room group."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from starlette.applications import Starlette

from server.app import Services, create_app
from server.models.multiplayer import TICKS_PER_SECOND
from tests.conftest import make_settings
from tests.helpers import sign_in, signup
from tests.integration.hubs import connect
from tests.integration.test_hub_scale_out import (
    PrivateRedis,
    _subscribed,
    _wait_connected,
    instance,
    private_redis,  # noqa: F401 (fixture)
    pytestmark,  # noqa: F401 (skipped without redis-server)
)
from tests.integration.test_multiplayer_hub import (
    READY,
    _error,
    _new_room,
    _ok,
    _result,
    _state,
)
from tests.score_play import stored_map


async def test_members_on_two_instances(
    client: httpx.AsyncClient,
    services: Services,
    data_dir: Path,
    private_redis: PrivateRedis,  # noqa: F811
) -> None:
    """Host on A, guest on B: join, state changes, host transfer both ways, a kick that
    reaches B, and a disconnect on B that leaves the room on A."""
    beatmap = await stored_map(services)
    host_user = await sign_in(client, await signup(client))
    guest_user = await sign_in(client, await signup(client))
    a: Starlette
    b: Starlette
    async with (
        instance(data_dir, private_redis.url) as a,
        instance(data_dir, private_redis.url) as b,
    ):
        owner_rooms = a.state.lifespan_state["services"].realtime.multiplayer.rooms
        host = await connect(a, "multiplayer", host_user)
        guest = await connect(b, "multiplayer", guest_user)
        await _subscribed(a)
        room = await _result(host, "CreateRoom", ["MultiplayerRoom"], [_new_room(beatmap, "pw")])
        room_id = room["RoomID"]

        wrong = await guest.call("JoinRoomWithPassword", ["long", "string"], [room_id, "x"])
        assert _error(wrong).endswith("InvalidPasswordException' was thrown.")
        joined = await _result(guest, "JoinRoomWithPassword", ["long", "string"], [room_id, "pw"])
        assert [u["UserID"] for u in joined["Users"]] == [host_user.id, guest_user.id]
        assert (await host.args_of("UserJoined", "MultiplayerRoomUser"))["UserID"] == guest_user.id
        await _subscribed(b)
        second = await guest.call("CreateRoom", ["MultiplayerRoom"], [_new_room(beatmap)])
        assert _error(second).endswith("Can't join a room when already in another room.")

        await _state(guest, READY)  # forwarded to A; the callback comes back through Redis
        for hub in (host, guest):
            changed = await hub.args_of("UserStateChanged", "int,MultiplayerUserState")
            assert changed == [guest_user.id, READY]
        live = owner_rooms.live_room(room_id)
        assert live is not None and [int(u.state) for u in live.users] == [0, READY]

        await _ok(host, "TransferHost", ["int"], [guest_user.id])
        for hub in (host, guest):
            assert await hub.args_of("HostChanged", "int") == guest_user.id
        await _ok(guest, "TransferHost", ["int"], [host_user.id])  # B's host call, run on A
        assert await host.args_of("HostChanged", "int") == host_user.id

        await _ok(host, "KickUser", ["int"], [guest_user.id])
        kicked = await guest.args_of("UserKicked", "MultiplayerRoomUser")
        assert kicked["UserID"] == guest_user.id
        await _subscribed(b)
        outside = await guest.call("StartMatch", [], [])
        assert _error(outside).endswith(
            "NotJoinedRoomException: This user has not yet joined a multiplayer room."
        )

        await _result(guest, "JoinRoomWithPassword", ["long", "string"], [room_id, "pw"])
        await _subscribed(b)
        await guest.wire.close()  # B forwards the disconnect as LeaveRoom
        left = await host.args_of("UserLeft", "MultiplayerRoomUser")
        assert left["UserID"] == guest_user.id
        assert owner_rooms.room_of(guest_user.id) is None


@asynccontextmanager
async def _short_lease(data_dir: Path, redis_url: str) -> AsyncIterator[Starlette]:
    """An instance whose room leases last 2 s (renewed, and owners checked, every 0.67 s)."""
    settings = make_settings(data_dir, REDIS_URL=redis_url, MULTIPLAYER_LEASE_SECONDS="2")
    application = create_app(settings)
    async with application.router.lifespan_context(application) as state:
        application.state.lifespan_state = state
        await _wait_connected(application)
        yield application


async def test_owner_stopped_mid_room(
    client: httpx.AsyncClient,
    services: Services,
    data_dir: Path,
    private_redis: PrivateRedis,  # noqa: F811
) -> None:
    """The owner stopping announces a ServerShuttingDownCountdown to the room (members on
    the other instance too) and waits it out (MULTIPLAYER_SHUTDOWN_SECONDS: 1 s in tests)
    before it ends the room itself, once, with nobody inside; its lease gone, the other
    instance closes its members' connections with the text lazer reconnects on."""
    beatmap = await stored_map(services)
    host_user = await sign_in(client, await signup(client))
    guest_user = await sign_in(client, await signup(client))
    async with _short_lease(data_dir, private_redis.url) as b:
        async with _short_lease(data_dir, private_redis.url) as a:
            host = await connect(a, "multiplayer", host_user)
            guest = await connect(b, "multiplayer", guest_user)
            await _subscribed(b)  # the guest's user channel, for the owner's group control
            room = await _result(host, "CreateRoom", ["MultiplayerRoom"], [_new_room(beatmap)])
            room_id = room["RoomID"]
            await _result(guest, "JoinRoom", ["long"], [room_id])
            await _subscribed(b)
            stopping = time.monotonic()
        # A has stopped (its lifespan ended), after waiting out the countdown.
        assert time.monotonic() - stopping >= 1
        event = await guest.args_of("MatchEvent", "MatchServerEvent")
        assert event["type"] == "CountdownStartedEvent"
        assert event["Countdown"]["type"] == "ServerShuttingDownCountdown"
        assert event["Countdown"]["TimeRemaining"] == 1 * TICKS_PER_SECOND
        closed = await guest.close_message(timeout=8)
        assert closed.error == "Server is shutting down." and closed.allow_reconnect
        row = await services.rooms.repo.room(room_id)
        assert row is not None and row.ends_at is not None and row.participant_count == 0
        events = [e.event_type for e in await services.rooms.repo.events(room_id, None, None, 100)]
        assert events[-1] == "room_disbanded" and events.count("room_disbanded") == 1
        assert "player_left" not in events  # ended by the stop with both users inside
