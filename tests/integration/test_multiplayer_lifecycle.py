"""The multiplayer hub's gaps against osu-server-spectator, through the hub in-process:
items whose beatmap is only upstream, a joiner's countdown, ChangeUserStyle's look-ups,
InvitePlayer's texts, the sweep of rooms no instance holds, and an owner that stops
gracefully (ServerShuttingDownCountdown waited out, then the rooms end)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from server.app import Services, create_app
from server.jobs import close_abandoned_rooms
from server.models.multiplayer import (
    TICKS_PER_SECOND,
    MultiplayerPlaylistItem,
    StartMatchCountdownRequest,
)
from server.settings import Settings
from tests.beatmap_data import fresh_id, store_set
from tests.conftest import make_settings
from tests.fake_upstream import FakeUpstream
from tests.helpers import SignedIn, sign_in, signup
from tests.integration.hubs import connect
from tests.integration.test_beatmap_upstream import upstream_settings
from tests.integration.test_multiplayer_hub import _error, _new_room, _ok, _result
from tests.score_play import stored_map


async def _user(client: httpx.AsyncClient) -> SignedIn:
    return await sign_in(client, await signup(client))


@asynccontextmanager
async def _instance(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with application.router.lifespan_context(application) as state:
        application.state.lifespan_state = state
        yield application


async def test_an_item_whose_beatmap_is_only_upstream_is_fetched_and_queued(
    settings: Settings, client: httpx.AsyncClient, services: Services, fake: FakeUpstream
) -> None:
    """AddPlaylistItem looks the beatmap up as the official server does in its database:
    here through the upstream fetcher, so a map not stored yet can be queued; a beatmap
    upstream does not know either is refused with the official text."""
    fake.mode = "ok"
    fake.bad_mirror = "error"
    beatmap = await stored_map(services)
    upstream_set = fake.add_set(n_beatmaps=1)
    (upstream_id,) = list(upstream_set.beatmaps)
    checksum = hashlib.md5(upstream_set.beatmaps[upstream_id]).hexdigest()
    assert await services.beatmaps.repo.beatmap(upstream_id) is None
    host_user = await _user(client)
    async with _instance(upstream_settings(settings, fake.url, fake.url)) as app:
        host = await connect(app, "multiplayer", host_user)
        await _result(host, "CreateRoom", ["MultiplayerRoom"], [_new_room(beatmap)])
        item = MultiplayerPlaylistItem(beatmap_id=upstream_id, beatmap_checksum=checksum)
        await _ok(host, "AddPlaylistItem", ["MultiplayerPlaylistItem"], [item])
        added = await host.args_of("PlaylistItemAdded", "MultiplayerPlaylistItem")
        assert added["BeatmapID"] == upstream_id and added["StarRating"] > 0
        stored = await services.beatmaps.repo.beatmap(upstream_id)
        assert stored is not None and stored.checksum == checksum

        unknown = MultiplayerPlaylistItem(beatmap_id=fresh_id(), beatmap_checksum="0" * 32)
        refused = await host.call("AddPlaylistItem", ["MultiplayerPlaylistItem"], [unknown])
        assert _error(refused).endswith(
            "InvalidStateException: Attempted to add a beatmap which does not exist online."
        )
        await _ok(host, "LeaveRoom", [], [])


async def test_a_joiner_sees_the_countdowns_time_left(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """A user joining while a match start countdown runs gets it with the time it has
    left, not the duration it started with."""
    beatmap = await stored_map(services)
    host_user, guest_user = await _user(client), await _user(client)
    host = await connect(app, "multiplayer", host_user)
    guest = await connect(app, "multiplayer", guest_user)
    room = await _result(host, "CreateRoom", ["MultiplayerRoom"], [_new_room(beatmap)])
    duration = 30 * TICKS_PER_SECOND
    request = StartMatchCountdownRequest(duration=duration)
    await _ok(host, "SendMatchRequest", ["MatchUserRequest"], [request])
    await asyncio.sleep(1.1)
    joined = await _result(guest, "JoinRoom", ["long"], [room["RoomID"]])
    (countdown,) = joined["ActiveCountdowns"]
    assert countdown["type"] == "MatchStartCountdown"
    assert 0 < countdown["TimeRemaining"] <= duration - TICKS_PER_SECOND
    for hub in (guest, host):
        await _ok(hub, "LeaveRoom", [], [])


async def test_user_style_looks_up_the_beatmaps(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """ChangeUserStyle on a freestyle item: a difficulty of the item's set is taken; one of
    another set, or one that does not exist, is refused with the official texts."""
    set_id, (first, second), _ = await store_set(
        services, difficulties=[{"n_objects": 30}, {"n_objects": 40}]
    )
    other = await stored_map(services)
    record = await services.beatmaps.repo.beatmap(first)
    assert record is not None and record.beatmapset_id == set_id
    host_user = await _user(client)
    host = await connect(app, "multiplayer", host_user)
    room = _new_room(other)
    room.playlist[0] = MultiplayerPlaylistItem(
        beatmap_id=first, beatmap_checksum=record.checksum, freestyle=True
    )
    await _result(host, "CreateRoom", ["MultiplayerRoom"], [room])
    wrong_set = await host.call("ChangeUserStyle", ["int?", "int?"], [other.id, None])
    assert _error(wrong_set).endswith("Selected beatmap is not from the same beatmap set.")
    missing = await host.call("ChangeUserStyle", ["int?", "int?"], [fresh_id(), None])
    assert _error(missing).endswith("InvalidStateException: Invalid beatmap selected.")
    await _ok(host, "ChangeUserStyle", ["int?", "int?"], [second, 1])
    assert await host.args_of("UserStyleChanged", "int,int?,int?") == [host_user.id, second, 1]
    await _ok(host, "LeaveRoom", [], [])


async def test_invite_player_texts(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """InvitePlayer checks the target first (restricted, blocks, friends-only PMs), then
    that the caller is in a room: the official texts and exception names."""
    beatmap = await stored_map(services)
    host_user, restricted, private = [await _user(client) for _ in range(3)]
    await services.db.execute_raw(
        "UPDATE users SET is_restricted = 1 WHERE id = :id", id=restricted.id
    )
    await services.db.execute_raw(
        "UPDATE users SET pm_friends_only = 1 WHERE id = :id", id=private.id
    )
    host = await connect(app, "multiplayer", host_user)
    outside = await host.call("InvitePlayer", ["int"], [private.id])
    assert _error(outside).endswith(
        "UserBlocksPMsException: User cannot be invited because they have disabled private "
        "messages."
    )
    other = await _user(client)
    not_joined = await host.call("InvitePlayer", ["int"], [other.id])
    assert _error(not_joined).endswith(
        "NotJoinedRoomException: This user has not yet joined a multiplayer room."
    )
    await _result(host, "CreateRoom", ["MultiplayerRoom"], [_new_room(beatmap)])
    refused = await host.call("InvitePlayer", ["int"], [restricted.id])
    assert _error(refused).endswith(
        "InvalidStateException: Can't perform that action on a restricted user."
    )
    await _ok(host, "LeaveRoom", [], [])


async def _in_room(services: Services, room_id: int, user_id: int) -> bool:
    rows = await services.db.all_dynamic(
        "SELECT in_room FROM room_user_totals WHERE room_id = :room_id AND user_id = :user_id",
        room_id=room_id,
        user_id=user_id,
    )
    assert len(rows) == 1
    return bool(rows[0]["in_room"])


async def _dead_owners_room(services: Services, client: httpx.AsyncClient) -> tuple[int, int]:
    """What an owner that died leaves behind: a realtime room opened by its host (ends_at
    cleared), the host inside it, and no lease (it lapsed)."""
    beatmap = await stored_map(services)
    host_user = await _user(client)
    response = await client.post(
        "/api/v2/rooms",
        headers=host_user.headers,
        json={
            "name": "abandoned",
            "type": "head_to_head",
            "playlist": [{"beatmap_id": beatmap.id, "ruleset_id": 0}],
        },
    )
    assert response.status_code == 200, response.text
    room_id = int(response.json()["id"])
    repo = services.rooms.repo
    now = services.realtime.multiplayer.rooms._now()
    await repo.mark_active(room_id, now)
    await repo.enter(room_id, host_user.id, now)
    return room_id, host_user.id


async def test_rooms_no_instance_holds_are_closed_by_the_sweep(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """A room whose owner died with nobody connected anywhere is closed by the sweep:
    ended, nobody inside, `room_disbanded`. A room held here, and one whose lease another
    live instance holds, are left alone."""
    rooms = services.realtime.multiplayer.rooms
    abandoned, host_id = await _dead_owners_room(services, client)
    elsewhere, _ = await _dead_owners_room(services, client)
    await services.redis.set(f"mp:room:{elsewhere}:owner", "another-instance", px=60_000)
    beatmap = await stored_map(services)
    live_host = await connect(app, "multiplayer", await _user(client))
    live = await _result(live_host, "CreateRoom", ["MultiplayerRoom"], [_new_room(beatmap)])

    closed = await close_abandoned_rooms(rooms)
    assert abandoned in closed and elsewhere not in closed and live["RoomID"] not in closed
    row = await services.rooms.repo.room(abandoned)
    assert row is not None and row.ends_at is not None and row.participant_count == 0
    assert await _in_room(services, abandoned, host_id) is False
    events = await services.rooms.repo.events(abandoned, None, None, 10)
    assert max(events, key=lambda e: e.id).event_type == "room_disbanded"
    for kept in (elsewhere, live["RoomID"]):
        kept_row = await services.rooms.repo.room(kept)
        assert kept_row is not None and kept_row.ends_at is None
    assert abandoned not in await close_abandoned_rooms(rooms)  # closed once
    await services.redis.delete(f"mp:room:{elsewhere}:owner")
    await _ok(live_host, "LeaveRoom", [], [])


async def test_a_stopping_owner_waits_out_the_shutdown_countdown_then_ends_its_rooms(
    settings: Settings, client: httpx.AsyncClient, services: Services, data_dir: Path
) -> None:
    """Stopping with a room held: its users get a ServerShuttingDownCountdown of
    MULTIPLAYER_SHUTDOWN_SECONDS, which the instance waits out before it ends the room
    (nobody inside, `room_disbanded`) and closes the connections with the text lazer
    reconnects on. A room whose users leave meanwhile ends at once, through their leave."""
    beatmap = await stored_map(services)
    waited_user, leaving_user = await _user(client), await _user(client)
    instance_settings = make_settings(data_dir, MULTIPLAYER_SHUTDOWN_SECONDS="2")
    stack = contextlib.AsyncExitStack()
    app = await stack.enter_async_context(_instance(instance_settings))
    waited = await connect(app, "multiplayer", waited_user)
    leaving = await connect(app, "multiplayer", leaving_user)
    kept = await _result(waited, "CreateRoom", ["MultiplayerRoom"], [_new_room(beatmap)])
    left = await _result(leaving, "CreateRoom", ["MultiplayerRoom"], [_new_room(beatmap)])

    started = time.monotonic()
    stopping = asyncio.create_task(stack.aclose())
    notices: list[Any] = []
    for hub in (waited, leaving):
        event = await hub.args_of("MatchEvent", "MatchServerEvent")
        notices.append(event["Countdown"])
    assert {n["type"] for n in notices} == {"ServerShuttingDownCountdown"}
    assert {n["TimeRemaining"] for n in notices} == {2 * TICKS_PER_SECOND}
    await _ok(leaving, "LeaveRoom", [], [])
    closed = await waited.close_message(timeout=10)
    assert closed.error == "Server is shutting down." and closed.allow_reconnect
    await stopping
    assert time.monotonic() - started >= 2  # the countdown was waited out

    repo = services.rooms.repo
    for room_id, ending in ((kept["RoomID"], "room_disbanded"), (left["RoomID"], "room_disbanded")):
        row = await repo.room(room_id)
        assert row is not None and row.ends_at is not None and row.participant_count == 0
        events = [e.event_type for e in await repo.events(room_id, None, None, 10)]
        assert events[-1] == ending
    kept_events = [e.event_type for e in await repo.events(kept["RoomID"], None, None, 10)]
    left_events = [e.event_type for e in await repo.events(left["RoomID"], None, None, 10)]
    assert "player_left" not in kept_events  # ended by the stop, its user still inside
    assert left_events[-2:] == ["player_left", "room_disbanded"]
    assert await _in_room(services, kept["RoomID"], waited_user.id) is False
