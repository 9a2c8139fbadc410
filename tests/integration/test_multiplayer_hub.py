"""The multiplayer hub in-process (lazer-protocol.md §7.2): a room created over the hub is a
realtime room over REST; two users play one item through to results with a playlist token
and a submitted score; refusals carry the official texts; kick, host transfer, disband and
AbortMatch change the room and its rows."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from server.app import Services
from server.core import msgpack as codec
from server.models.multiplayer import (
    TICKS_PER_SECOND,
    APIMod,
    ChangeTeamRequest,
    DownloadState,
    MatchType,
    MultiplayerPlaylistItem,
    MultiplayerRoom,
    MultiplayerRoomSettings,
    QueueMode,
    SetLockStateRequest,
    StartMatchCountdownRequest,
)
from tests.helpers import SignedIn, sign_in, signup
from tests.hub_client import HubClient
from tests.integration.hubs import connect
from tests.integration.test_playlist_scores import request_token, submit
from tests.score_play import StoredMap, play_body, stored_map

IDLE, READY, LOADED, READY_FOR_GAMEPLAY, FINISHED_PLAY = 0, 1, 3, 4, 6
OPEN, WAITING_FOR_LOAD, PLAYING = 0, 1, 2


async def _user(client: httpx.AsyncClient) -> SignedIn:
    return await sign_in(client, await signup(client))


def _new_room(beatmap: StoredMap, password: str = "") -> MultiplayerRoom:
    item = MultiplayerPlaylistItem(
        beatmap_id=beatmap.id, beatmap_checksum=beatmap.checksum, ruleset_id=beatmap.ruleset_id
    )
    settings = MultiplayerRoomSettings(name="hub room", password=password)
    return MultiplayerRoom(settings=settings, playlist=[item])


def _error(envelope: codec.HubEnvelope) -> str:
    assert envelope.error is not None, envelope
    return envelope.error


async def _result(hub: HubClient, target: str, types: list[str], values: list[Any]) -> Any:
    envelope = await hub.call(target, types, values)
    assert envelope.error is None, envelope.error
    assert envelope.payload is not None
    return codec.decode("MultiplayerRoom", envelope.payload)


async def _ok(hub: HubClient, target: str, types: list[str], values: list[Any]) -> None:
    envelope = await hub.call(target, types, values)
    assert envelope.error is None, envelope.error


async def _room_of_two(
    app: Starlette, client: httpx.AsyncClient, services: Services, password: str = ""
) -> tuple[HubClient, HubClient, SignedIn, SignedIn, dict[str, Any], StoredMap]:
    beatmap = await stored_map(services)
    host_user, guest_user = await _user(client), await _user(client)
    host = await connect(app, "multiplayer", host_user)
    guest = await connect(app, "multiplayer", guest_user)
    room = await _result(host, "CreateRoom", ["MultiplayerRoom"], [_new_room(beatmap, password)])
    joined = await _result(
        guest, "JoinRoomWithPassword", ["long", "string"], [room["RoomID"], password]
    )
    assert [u["UserID"] for u in joined["Users"]] == [host_user.id, guest_user.id]
    assert (await host.args_of("UserJoined", "MultiplayerRoomUser"))["UserID"] == guest_user.id
    return host, guest, host_user, guest_user, room, beatmap


async def _available(hub: HubClient) -> None:
    availability = {"State": int(DownloadState.LOCALLY_AVAILABLE), "DownloadProgress": None}
    await _ok(hub, "ChangeBeatmapAvailability", ["BeatmapAvailability"], [availability])


async def _state(hub: HubClient, state: int) -> None:
    await _ok(hub, "ChangeState", ["MultiplayerUserState"], [state])


async def _events(client: httpx.AsyncClient, user: SignedIn, room_id: int) -> list[str]:
    response = await client.get(f"/api/v2/rooms/{room_id}/events", headers=user.headers)
    assert response.status_code == 200, response.text
    return [e["event_type"] for e in response.json()["events"]]


async def test_create_list_join_play_results(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """CreateRoom writes a realtime room the lounge lists; a wrong password is refused; two
    players ready, start, load, play with a playlist token, submit, finish; ResultsReady;
    the item expires and host-only mode queues its copy; the room events say what happened."""
    beatmap = await stored_map(services)
    host_user, guest_user = await _user(client), await _user(client)
    host = await connect(app, "multiplayer", host_user)
    guest = await connect(app, "multiplayer", guest_user)
    room = await _result(host, "CreateRoom", ["MultiplayerRoom"], [_new_room(beatmap, "pw")])
    room_id = room["RoomID"]
    item_id = room["Settings"]["PlaylistItemId"]
    assert room["Host"]["UserID"] == host_user.id and room["Playlist"][0]["ID"] == item_id

    lounge = await client.get("/api/v2/rooms?type_group=realtime", headers=guest_user.headers)
    assert lounge.status_code == 200
    listed = [r for r in lounge.json() if r["id"] == room_id]
    assert listed and listed[0]["has_password"] is True and listed[0]["type"] == "head_to_head"

    wrong = await guest.call("JoinRoomWithPassword", ["long", "string"], [room_id, "nope"])
    assert _error(wrong).endswith(
        "InvalidPasswordException: Exception of type "
        "'osu.Game.Online.Multiplayer.InvalidPasswordException' was thrown."
    )
    joined = await _result(guest, "JoinRoomWithPassword", ["long", "string"], [room_id, "pw"])
    assert len(joined["Users"]) == 2

    for hub in (host, guest):
        await _available(hub)
    await _state(guest, READY)
    started = await host.call("StartMatch", [], [])
    assert _error(started).endswith("Can't start match when the host is not ready.")
    await _state(host, READY)
    await _ok(host, "StartMatch", [], [])
    for hub in (host, guest):
        await hub.call_to("LoadRequested")
        assert await hub.args_of("RoomStateChanged", "MultiplayerRoomState") == WAITING_FOR_LOAD
    for hub in (host, guest):
        await _state(hub, LOADED)
        await _state(hub, READY_FOR_GAMEPLAY)
    for hub in (host, guest):
        await hub.call_to("GameplayStarted")

    token = await request_token(client, guest_user, room_id, item_id, beatmap)
    assert token.status_code == 200, token.text
    submitted = await submit(
        client, guest_user, room_id, item_id, beatmap, int(token.json()["id"]), play_body(beatmap)
    )
    assert submitted.status_code == 200, submitted.text

    await _state(guest, FINISHED_PLAY)
    live = services.realtime.multiplayer.rooms.live_room(room_id)
    assert live is not None and int(live.state) == PLAYING  # the host still plays
    await _state(host, FINISHED_PLAY)
    for hub in (host, guest):
        await hub.call_to("ResultsReady")
        added = await hub.args_of("PlaylistItemAdded", "MultiplayerPlaylistItem")
    assert added["ID"] != item_id and added["BeatmapID"] == beatmap.id

    stored = await services.rooms.repo.playlist(room_id)
    assert [(i.id, i.expired, i.played_at is not None) for i in stored] == [
        (item_id, True, True),
        (added["ID"], False, False),
    ]
    board = await client.get(f"/api/v2/rooms/{room_id}/leaderboard", headers=host_user.headers)
    assert [e["user_id"] for e in board.json()["leaderboard"]] == [guest_user.id]
    assert await _events(client, host_user, room_id) == [
        "room_created",
        "player_joined",
        "player_joined",
        "game_started",
        "game_completed",
    ]


async def test_refusals_kick_transfer_disband(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """Official refusal texts; a kick tells the kicked user and the room; the host passes on
    leave; the last leave ends the room; the matchmaking methods say they are unsupported."""
    host, guest, host_user, guest_user, room, _ = await _room_of_two(app, client, services)
    room_id = room["RoomID"]

    not_host = await guest.call("KickUser", ["int"], [host_user.id])
    assert _error(not_host).endswith(
        "NotHostException: User is attempting to perform a host level operation while not the host"
    )
    itself = await host.call("KickUser", ["int"], [host_user.id])
    assert _error(itself).endswith("InvalidStateException: Can't kick self")
    again = await guest.call("JoinRoom", ["long"], [room_id])
    assert _error(again).endswith("Can't join a room when already in another room.")
    unsupported = await host.call("MatchmakingJoinQueue", ["int"], [1])
    assert "not supported" in _error(unsupported)

    third_user = await _user(client)
    third = await connect(app, "multiplayer", third_user)
    await _result(third, "JoinRoom", ["long"], [room_id])
    await _ok(host, "KickUser", ["int"], [third_user.id])
    kicked = await third.args_of("UserKicked", "MultiplayerRoomUser")
    assert kicked["UserID"] == third_user.id
    assert (await guest.args_of("UserKicked", "MultiplayerRoomUser"))["UserID"] == third_user.id
    assert services.realtime.multiplayer.rooms.room_of(third_user.id) is None

    await _ok(host, "TransferHost", ["int"], [guest_user.id])
    for hub in (host, guest):
        assert await hub.args_of("HostChanged", "int") == guest_user.id
    await _ok(guest, "LeaveRoom", [], [])
    assert await host.args_of("HostChanged", "int") == host_user.id
    assert (await host.args_of("UserLeft", "MultiplayerRoomUser"))["UserID"] == guest_user.id
    row = await services.rooms.repo.room(room_id)
    assert row is not None and row.user_id == host_user.id and row.ends_at is None
    assert row.participant_count == 1  # who is inside: the kicked and the left are not

    await _ok(host, "LeaveRoom", [], [])
    row = await services.rooms.repo.room(room_id)
    assert row is not None and row.ends_at is not None
    assert services.realtime.multiplayer.rooms.live_room(room_id) is None
    ended = await host.call("JoinRoom", ["long"], [room_id])
    assert _error(ended).endswith(
        "InvalidStateException: Failed to join the room, please try again."
    )
    events = await _events(client, host_user, room_id)
    assert events == [
        "room_created",
        "player_joined",
        "player_joined",
        "player_joined",
        "player_kicked",
        "host_changed",
        "player_left",
        "host_changed",
        "player_left",
        "room_disbanded",
    ]


async def test_abort_match_and_restricted_join(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """AbortMatch returns everyone to Idle with HostAbortedTheMatch and records game_aborted;
    a restricted user is refused with the official text."""
    host, guest, host_user, _, room, _ = await _room_of_two(app, client, services)
    room_id = room["RoomID"]
    early = await host.call("AbortMatch", [], [])
    assert _error(early).endswith("Cannot abort a match that hasn't started.")
    for hub in (host, guest):
        await _available(hub)
        await _state(hub, READY)
    await _ok(host, "StartMatch", [], [])
    await _ok(host, "AbortMatch", [], [])
    assert await guest.args_of("GameplayAborted", "GameplayAbortReason") == 1
    room_now = services.realtime.multiplayer.rooms.live_room(room_id)
    assert room_now is not None and {int(u.state) for u in room_now.users} == {IDLE}
    assert int(room_now.state) == OPEN
    assert (await _events(client, host_user, room_id))[-2:] == ["game_started", "game_aborted"]

    banned_user = await _user(client)
    await services.db.execute_raw(
        "UPDATE users SET is_restricted = 1 WHERE id = :id", id=banned_user.id
    )
    banned = await connect(app, "multiplayer", banned_user)
    refused = await banned.call("JoinRoom", ["long"], [room_id])
    assert _error(refused).endswith("InvalidStateException: Can't join a room when restricted.")


async def test_not_in_a_room(app: Starlette, client: httpx.AsyncClient) -> None:
    """Room methods outside a room are refused; LeaveRoom is a no-op."""
    hub = await connect(app, "multiplayer", await _user(client))
    await _ok(hub, "LeaveRoom", [], [])
    refused = await hub.call("StartMatch", [], [])
    assert _error(refused).endswith(
        "NotJoinedRoomException: This user has not yet joined a multiplayer room."
    )


async def test_load_timeout(app: Starlette, client: httpx.AsyncClient, services: Services) -> None:
    """A player who does not load within the load timeout (2 s in tests) is sent back to
    Idle with LoadTookTooLong while the loaded host plays; the host's AbortGameplay then
    ends the game without results."""
    host, guest, host_user, _, room, _ = await _room_of_two(app, client, services)
    for hub in (host, guest):
        await _available(hub)
        await _state(hub, READY)
    await _ok(host, "StartMatch", [], [])
    await _state(host, LOADED)
    await _state(host, READY_FOR_GAMEPLAY)
    assert await guest.args_of("GameplayAborted", "GameplayAbortReason", timeout=5) == 0
    await host.call_to("GameplayStarted")
    live = services.realtime.multiplayer.rooms.live_room(room["RoomID"])
    assert live is not None and int(live.state) == PLAYING
    await _ok(host, "AbortGameplay", [], [])
    assert await guest.args_of("RoomStateChanged", "MultiplayerRoomState") == WAITING_FOR_LOAD
    assert int(live.state) == OPEN
    assert (await _events(client, host_user, room["RoomID"]))[-2:] == [
        "game_started",
        "game_aborted",
    ]


async def test_settings_queue_teams_countdown_invite(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """All-players queue: a guest queues up to 3 items (stored), removes one; team versus
    with locked teams; mods outside the allowed list; a match-start countdown starts the
    match when it ends; an invitation reaches the invited user."""
    host, guest, host_user, guest_user, room, beatmap = await _room_of_two(app, client, services)
    room_id = room["RoomID"]
    settings = MultiplayerRoomSettings(name="renamed", queue_mode=QueueMode.ALL_PLAYERS)
    refused = await guest.call("ChangeSettings", ["MultiplayerRoomSettings"], [settings])
    assert "NotHostException" in _error(refused)
    await _ok(host, "ChangeSettings", ["MultiplayerRoomSettings"], [settings])
    changed = await guest.args_of("SettingsChanged", "MultiplayerRoomSettings")
    assert changed["Name"] == "renamed" and changed["QueueMode"] == int(QueueMode.ALL_PLAYERS)
    row = await services.rooms.repo.room(room_id)
    assert row is not None and row.name == "renamed" and row.queue_mode == "all_players"

    item = MultiplayerPlaylistItem(
        beatmap_id=beatmap.id, beatmap_checksum=beatmap.checksum, ruleset_id=0
    )
    added_ids = []
    for _ in range(3):
        await _ok(guest, "AddPlaylistItem", ["MultiplayerPlaylistItem"], [item])
        added = await host.args_of("PlaylistItemAdded", "MultiplayerPlaylistItem")
        assert added["OwnerID"] == guest_user.id
        added_ids.append(added["ID"])
    fourth = await guest.call("AddPlaylistItem", ["MultiplayerPlaylistItem"], [item])
    assert _error(fourth).endswith("Can't enqueue more than 3 items at once.")
    modified = MultiplayerPlaylistItem(beatmap_id=beatmap.id, beatmap_checksum="0" * 32)
    bad = await host.call("AddPlaylistItem", ["MultiplayerPlaylistItem"], [modified])
    assert _error(bad).endswith("Attempted to add a beatmap which has been modified.")
    await _ok(guest, "RemovePlaylistItem", ["long"], [added_ids[-1]])
    assert await host.args_of("PlaylistItemRemoved", "long") == added_ids[-1]
    stored = [i.id for i in await services.rooms.repo.playlist(room_id)]
    assert stored == [room["Settings"]["PlaylistItemId"], *added_ids[:2]]

    teams = MultiplayerRoomSettings(
        name="renamed", queue_mode=QueueMode.ALL_PLAYERS, match_type=MatchType.TEAM_VERSUS
    )
    await _ok(host, "ChangeSettings", ["MultiplayerRoomSettings"], [teams])
    state = await guest.args_of("MatchRoomStateChanged", "MatchRoomState?")
    assert [t["Name"] for t in state["Teams"]] == ["Team Red", "Team Blue"]
    row = await services.rooms.repo.room(room_id)
    assert row is not None and row.type == "team_versus"
    await _ok(host, "SendMatchRequest", ["MatchUserRequest"], [SetLockStateRequest(True)])
    locked = await guest.call("SendMatchRequest", ["MatchUserRequest"], [ChangeTeamRequest(0)])
    assert _error(locked).endswith("Teams are currently locked.")

    mods = [APIMod("HD")]
    mods_refused = await guest.call("ChangeUserMods", ["APIMod[]"], [mods])
    assert _error(mods_refused).endswith("Incompatible mods were selected: HD")

    third_user = await _user(client)
    third = await connect(app, "multiplayer", third_user)
    await _ok(host, "InvitePlayer", ["int"], [third_user.id])
    assert await third.args_of("Invited", "int,long,string") == [host_user.id, room_id, ""]

    for hub in (host, guest):
        await _available(hub)
        await _state(hub, READY)
    countdown = StartMatchCountdownRequest(duration=TICKS_PER_SECOND // 2)
    await _ok(host, "SendMatchRequest", ["MatchUserRequest"], [countdown])
    event = await guest.args_of("MatchEvent", "MatchServerEvent")
    assert event["type"] == "CountdownStartedEvent"
    await guest.call_to("LoadRequested", timeout=5)
    events = await _events(client, host_user, room_id)
    assert events[-1] == "game_started"
    started = await services.rooms.repo.events(room_id, None, None, 100)
    detail = started[-1].event_detail
    assert detail is not None and '"room_type":"team_versus"' in detail


async def test_restriction_takes_the_player_out_of_the_room(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """Restricting the host of a realtime room ends their hub connection
    (DisconnectRequested): they leave the room, the guest hears UserLeft and becomes host,
    the room's rows say so; signed in again, CreateRoom and JoinRoom are refused with the
    official text."""
    host, guest, host_user, guest_user, room, beatmap = await _room_of_two(app, client, services)
    room_id = room["RoomID"]
    account = await services.users.by_id(host_user.id)
    assert account is not None
    await services.moderation.restrict(account, None, "test")

    await host.call_to("DisconnectRequested")
    assert (await guest.args_of("UserLeft", "MultiplayerRoomUser"))["UserID"] == host_user.id
    assert (await guest.args_of("HostChanged", "int")) == guest_user.id
    live = services.realtime.multiplayer.rooms.live_room(room_id)
    assert live is not None and [u.user_id for u in live.users] == [guest_user.id]
    assert live.host is not None and live.host.user_id == guest_user.id
    row = await services.rooms.repo.room(room_id)
    assert row is not None and row.user_id == guest_user.id
    assert (await _events(client, guest_user, room_id))[-2:] == ["player_left", "host_changed"]

    again = await sign_in(client, host_user.account)
    hub = await connect(app, "multiplayer", again)
    refused = await hub.call("CreateRoom", ["MultiplayerRoom"], [_new_room(beatmap)])
    assert _error(refused).endswith("InvalidStateException: Can't join a room when restricted.")
    refused = await hub.call("JoinRoom", ["long"], [room_id])
    assert _error(refused).endswith("InvalidStateException: Can't join a room when restricted.")
    live = services.realtime.multiplayer.rooms.live_room(room_id)
    assert live is not None and [u.user_id for u in live.users] == [guest_user.id]
