"""The realtime room's rules (no I/O): transitions, refusals with the official texts, queue."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from server.models import multiplayer as mp
from server.services.multiplayer.rules import (
    Callback,
    Refusal,
    RoomMachine,
    check_settings,
    default_room_state,
    ordered_active_items,
)

S = mp.MultiplayerUserState
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def make_room(
    *user_ids: int,
    queue_mode: mp.QueueMode = mp.QueueMode.HOST_ONLY,
    match_type: mp.MatchType = mp.MatchType.HEAD_TO_HEAD,
    max_participants: int | None = None,
) -> RoomMachine:
    """Host 1 plus `user_ids`, every user with the map, one playlist item (id 1) by the host."""
    settings = mp.MultiplayerRoomSettings(
        name="r",
        playlist_item_id=1,
        queue_mode=queue_mode,
        match_type=match_type,
        max_participants=max_participants,
    )
    room = mp.MultiplayerRoom(
        room_id=10,
        settings=settings,
        playlist=[mp.MultiplayerPlaylistItem(id=1, owner_id=1, beatmap_id=75)],
        match_state=default_room_state(settings),
    )
    ids = itertools.count(2)
    machine = RoomMachine(
        room, now=lambda: NOW, allocate_item_id=lambda: next(ids), roll=lambda top: top // 2
    )
    for uid in (1, *user_ids):
        user = mp.MultiplayerRoomUser(
            user_id=uid,
            beatmap_availability=mp.BeatmapAvailability(mp.DownloadState.LOCALLY_AVAILABLE),
        )
        room.users.append(user)
        machine.join_match_type(user)
    room.host = room.users[0]
    return machine


def state_of(machine: RoomMachine, user_id: int) -> mp.MultiplayerUserState:
    return next(u.state for u in machine.room.users if u.user_id == user_id)


def targets(outcome: list[Callback] | Refusal) -> list[str]:
    assert isinstance(outcome, list), outcome
    return [c.target for c in outcome]


# ---- User state transitions ----

ALLOWED = [
    (S.IDLE, S.READY),
    (S.READY, S.IDLE),
    (S.IDLE, S.SPECTATING),
    (S.READY, S.SPECTATING),
    (S.SPECTATING, S.IDLE),
    (S.RESULTS, S.IDLE),
    (S.FINISHED_PLAY, S.IDLE),
]


@pytest.mark.parametrize(("old", "new"), ALLOWED)
def test_allowed_client_transitions(
    old: mp.MultiplayerUserState, new: mp.MultiplayerUserState
) -> None:
    machine = make_room(2)
    machine.room.users[1].state = old
    out = machine.change_user_state(2, new)
    assert isinstance(out, list)
    assert out[0] == Callback("UserStateChanged", (2, new))
    assert state_of(machine, 2) == new


REFUSED = [
    (S.READY, S.READY_FOR_GAMEPLAY, None),  # not in gameplay: dropped silently, see below
    (S.SPECTATING, S.READY, "Cannot change from Spectating to Ready"),
    (S.RESULTS, S.READY, "Cannot change from Results to Ready"),
    (S.IDLE, S.WAITING_FOR_LOAD, "Cannot change from Idle to WaitingForLoad"),
    (S.IDLE, S.PLAYING, "Cannot change from Idle to Playing"),
    (S.FINISHED_PLAY, S.RESULTS, "Cannot change from FinishedPlay to Results"),
    (S.IDLE, S.FINISHED_PLAY, "Cannot change from Idle to FinishedPlay"),
    (S.RESULTS, S.SPECTATING, "Cannot change from Results to Spectating"),
    (S.LOADED, S.LOADED, None),
    (S.PLAYING, S.SPECTATING, "Cannot change from Playing to Spectating"),
    (S.READY_FOR_GAMEPLAY, S.LOADED, "Cannot change from ReadyForGameplay to Loaded"),
    (
        S.WAITING_FOR_LOAD,
        S.READY_FOR_GAMEPLAY,
        "Cannot change from WaitingForLoad to ReadyForGameplay",
    ),
]


@pytest.mark.parametrize(("old", "new", "text"), REFUSED)
def test_refused_transitions_name_both_states(
    old: mp.MultiplayerUserState, new: mp.MultiplayerUserState, text: str | None
) -> None:
    machine = make_room(2)
    machine.room.users[1].state = old
    out = machine.change_user_state(2, new)
    if text is None:
        assert out == []
    else:
        assert out == Refusal(text, "InvalidStateChangeException")
    assert state_of(machine, 2) == old


def test_crossed_in_flight_messages_are_dropped_silently() -> None:
    machine = make_room(2)
    user = machine.room.users[1]
    user.state = S.WAITING_FOR_LOAD  # Idle sent before the client saw WaitingForLoad
    assert machine.change_user_state(2, S.IDLE) == []
    user.state = S.IDLE  # Loaded sent before the client saw its load aborted
    assert machine.change_user_state(2, S.LOADED) == []
    assert machine.change_user_state(2, S.READY_FOR_GAMEPLAY) == []
    assert user.state == S.IDLE


def test_ready_refused_when_every_item_was_played() -> None:
    machine = make_room(2)
    machine.room.playlist[0].expired = True
    assert machine.change_user_state(2, S.READY) == Refusal(
        "Cannot ready up while all items have been played."
    )


def test_referees_only_idle_or_spectate() -> None:
    machine = make_room(2)
    machine.room.users[1].role = mp.MultiplayerRoomUserRole.REFEREE
    assert machine.change_user_state(2, S.READY) == Refusal(
        "Referees cannot participate in the match."
    )
    assert targets(machine.change_user_state(2, S.SPECTATING)) == ["UserStateChanged"]


def test_unknown_user_is_refused() -> None:
    assert make_room().change_user_state(99, S.READY) == Refusal("User is not in the room.")


def test_spectating_mid_match_gets_load_requested() -> None:
    machine = make_room(2, 3)
    machine.room.state = mp.MultiplayerRoomState.PLAYING
    machine.room.users[0].state = S.PLAYING
    out = machine.change_user_state(3, S.SPECTATING)
    assert isinstance(out, list)
    assert Callback("LoadRequested", user_id=3) in out


# ---- The match flow ----


def test_full_match_flow() -> None:
    machine = make_room(2, 3)
    room = machine.room
    assert targets(machine.change_user_state(1, S.READY)) == ["UserStateChanged"]
    room.users[2].beatmap_availability = mp.BeatmapAvailability(mp.DownloadState.NOT_DOWNLOADED)

    out = machine.start_match(1)
    # Ready host and idle user 2 with the map are pulled in; user 3 without it is not.
    assert out == [
        Callback("UserStateChanged", (1, S.WAITING_FOR_LOAD)),
        Callback("UserStateChanged", (2, S.WAITING_FOR_LOAD)),
        Callback("RoomStateChanged", (mp.MultiplayerRoomState.WAITING_FOR_LOAD,)),
        Callback("LoadRequested"),
    ]
    assert state_of(machine, 3) == S.IDLE

    for uid in (1, 2):
        assert targets(machine.change_user_state(uid, S.LOADED)) == ["UserStateChanged"]
    machine.change_user_state(1, S.READY_FOR_GAMEPLAY)
    out = machine.change_user_state(2, S.READY_FOR_GAMEPLAY)
    assert targets(out) == [
        "UserStateChanged",
        "UserStateChanged",
        "GameplayStarted",
        "UserStateChanged",
        "GameplayStarted",
        "RoomStateChanged",
    ]
    assert room.state == mp.MultiplayerRoomState.PLAYING

    assert targets(machine.change_user_state(1, S.FINISHED_PLAY)) == ["UserStateChanged"]
    out = machine.change_user_state(2, S.FINISHED_PLAY)
    assert isinstance(out, list)
    assert [c.target for c in out][:5] == [
        "UserStateChanged",
        "UserStateChanged",
        "UserStateChanged",
        "RoomStateChanged",
        "ResultsReady",
    ]
    assert state_of(machine, 1) == state_of(machine, 2) == S.RESULTS
    # Host-only: the played item expires, a copy (id 2) is queued and becomes current.
    first = room.playlist[0]
    assert first.expired and first.played_at == NOW
    assert [i.id for i in room.playlist] == [1, 2]
    assert room.settings.playlist_item_id == 2
    assert Callback("SettingsChanged", (room.settings,)) in out


def test_load_timeout_sends_unloaded_users_back() -> None:
    machine = make_room(2)
    machine.change_user_state(1, S.READY)
    machine.start_match(1)
    machine.change_user_state(1, S.LOADED)
    out = machine.start_or_stop_gameplay()
    assert Callback("GameplayStarted", user_id=1) in out
    assert (
        Callback("GameplayAborted", (mp.GameplayAbortReason.LOAD_TOOK_TOO_LONG,), user_id=2) in out
    )
    assert state_of(machine, 2) == S.IDLE


def test_no_results_when_nobody_finished() -> None:
    machine = make_room(2)
    machine.change_user_state(1, S.READY)
    machine.start_match(1)
    for uid in (1, 2):
        machine.change_user_state(uid, S.LOADED)
        machine.change_user_state(uid, S.READY_FOR_GAMEPLAY)
    machine.abort_gameplay(1)
    out = machine.abort_gameplay(2)
    assert "ResultsReady" not in targets(out)
    assert machine.room.state == mp.MultiplayerRoomState.OPEN


def test_start_match_refusals() -> None:
    machine = make_room(2)
    assert machine.start_match(2) == Refusal(
        "User is attempting to perform a host level operation while not the host",
        "NotHostException",
    )
    assert machine.start_match(1) == Refusal("Can't start match when the host is not ready.")
    machine.room.users[0].state = S.SPECTATING
    assert machine.start_match(1) == Refusal("Can't start match when no users are ready.")
    machine.room.users[1].state = S.READY
    machine.room.state = mp.MultiplayerRoomState.PLAYING
    assert machine.start_match(1) == Refusal("Can't start match when already in a running state.")
    machine.room.state = mp.MultiplayerRoomState.OPEN
    machine.room.playlist[0].expired = True
    assert machine.start_match(1) == Refusal("Cannot start an expired playlist item.")


def test_begin_match_with_nobody_ready_skips_the_item() -> None:
    machine = make_room(2)
    out = machine.begin_match()
    assert machine.room.playlist[0].expired
    assert "PlaylistItemAdded" in targets(out)
    assert machine.room.state == mp.MultiplayerRoomState.OPEN


def test_abort_match_and_gameplay_refusals() -> None:
    machine = make_room(2)
    assert machine.abort_match(2).message.startswith("User is attempting")  # type: ignore[union-attr]
    assert machine.abort_match(1) == Refusal("Cannot abort a match that hasn't started.")
    assert machine.abort_gameplay(2) == Refusal("Cannot abort gameplay while not in gameplay.")
    machine.change_user_state(1, S.READY)
    machine.start_match(1)
    out = machine.abort_match(1)
    assert Callback("GameplayAborted", (mp.GameplayAbortReason.HOST_ABORTED_THE_MATCH,)) in out  # type: ignore[operator]
    assert all(u.state == S.IDLE for u in machine.room.users)


# ---- Settings ----


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"match_type": mp.MatchType.PLAYLISTS}, "Invalid match type selected."),
        ({"max_participants": 1}, "Max participants must be between 2 and 16."),
        ({"max_participants": 17}, "Max participants must be between 2 and 16."),
        (
            {"max_participants": 2},
            "There are more players currently in the room than your new requested max "
            "participant limit. Please kick some players first.",
        ),
    ],
)
def test_settings_refusals(change: dict[str, object], text: str) -> None:
    machine = make_room(2, 3)
    new = mp.MultiplayerRoomSettings(name="r", **change)  # type: ignore[arg-type]
    assert check_settings(machine.room, new) == Refusal(text)


def test_settings_keep_the_server_item_and_need_an_open_room() -> None:
    machine = make_room(2)
    new = mp.MultiplayerRoomSettings(name="other", playlist_item_id=999, max_participants=16)
    assert check_settings(machine.room, new) is None
    assert new.playlist_item_id == 1
    machine.room.state = mp.MultiplayerRoomState.PLAYING
    assert check_settings(machine.room, new) == Refusal(
        "Attempted to change settings while a game is in progress."
    )


# ---- Queue ----


def item(owner: int, **kw: object) -> mp.MultiplayerPlaylistItem:
    return mp.MultiplayerPlaylistItem(owner_id=owner, beatmap_id=75, **kw)  # type: ignore[arg-type]


def test_host_only_queue_refuses_guests() -> None:
    machine = make_room(2)
    assert machine.add_item(2, item(2)) == Refusal(
        "User is attempting to perform a host level operation while not the host",
        "NotHostException",
    )


def test_queue_limits_50_host_3_guest() -> None:
    machine = make_room(2, queue_mode=mp.QueueMode.ALL_PLAYERS)
    for _ in range(3):
        assert isinstance(machine.add_item(2, item(2)), list)
    assert machine.add_item(2, item(2)) == Refusal("Can't enqueue more than 3 items at once.")
    for _ in range(49):  # plus the room's first item
        assert isinstance(machine.add_item(1, item(1)), list)
    assert machine.add_item(1, item(1)) == Refusal("Can't enqueue more than 50 items at once.")


def test_freestyle_items_take_no_allowed_mods() -> None:
    machine = make_room()
    bad = item(1, freestyle=True, allowed_mods=[mp.APIMod("HD")])
    assert machine.add_item(1, bad) == Refusal("Cannot enqueue freestyle item with mods.")


def test_round_robin_interleaves_owners_in_first_round_order() -> None:
    machine = make_room(2, 3, queue_mode=mp.QueueMode.ALL_PLAYERS_ROUND_ROBIN)
    for owner in (1, 1, 2, 2, 3):
        machine.add_item(owner, item(owner))
    order = [(i.owner_id, i.id) for i in ordered_active_items(machine.room)]
    assert order == [(1, 1), (2, 4), (3, 6), (1, 2), (2, 5), (1, 3)]
    assert [i.playlist_order for i in sorted(machine.room.playlist, key=lambda i: i.id)] == [
        0,
        3,
        5,
        1,
        4,
        2,
    ]


def test_all_players_orders_by_id_and_advances() -> None:
    machine = make_room(2, queue_mode=mp.QueueMode.ALL_PLAYERS)
    machine.add_item(2, item(2))
    machine.room.users[0].state = S.READY
    machine.complete_current_item()
    assert machine.room.settings.playlist_item_id == 2
    assert state_of(machine, 1) == S.IDLE  # a new current item unreadies everyone


# ---- Host, kick, leave ----


def test_transfer_host_and_refusals() -> None:
    machine = make_room(2)
    assert machine.transfer_host(2, 2).exception == "NotHostException"  # type: ignore[union-attr]
    assert machine.transfer_host(1, 9) == Refusal("User is not in the room.")
    assert machine.transfer_host(1, 2) == [Callback("HostChanged", (2,))]
    assert machine.room.host is not None and machine.room.host.user_id == 2


def test_kick_refusals() -> None:
    machine = make_room(2, 3)
    assert machine.check_kick(1, 1) == Refusal("Can't kick self")
    assert machine.check_kick(2, 3).exception == "NotHostException"  # type: ignore[union-attr]
    assert machine.check_kick(1, 9) == Refusal(
        "Target user is not in the current room", "InvalidOperationException"
    )
    machine.room.users[2].role = mp.MultiplayerRoomUserRole.REFEREE
    assert machine.check_kick(1, 3) == Refusal("Can't kick a referee.")
    assert machine.check_kick(1, 2) is None


def test_host_leaving_passes_host_to_the_first_remaining_user() -> None:
    machine = make_room(2, 3)
    out = machine.remove_user(1)
    assert Callback("HostChanged", (2,)) in out  # type: ignore[operator]
    assert machine.remove_user(1) == Refusal("User is not in the room.")


# ---- Match types ----


def test_team_versus_assigns_empty_team_then_smaller() -> None:
    machine = make_room(2, 3, match_type=mp.MatchType.TEAM_VERSUS)
    teams = [u.match_state for u in machine.room.users]
    assert teams == [
        mp.TeamVersusUserState(0),
        mp.TeamVersusUserState(1),
        mp.TeamVersusUserState(0),
    ]


def test_team_change_refusals() -> None:
    machine = make_room(2, match_type=mp.MatchType.TEAM_VERSUS)
    assert machine.match_request(2, mp.ChangeTeamRequest(team_id=5)) == Refusal(
        "Attempted to set team out of valid range"
    )
    assert machine.match_request(2, mp.ChangeTeamRequest(team_id=0)) == [
        Callback("MatchUserStateChanged", (2, mp.TeamVersusUserState(0)))
    ]
    machine.match_request(1, mp.SetLockStateRequest(locked=True))
    assert machine.match_request(2, mp.ChangeTeamRequest(team_id=1)) == Refusal(
        "Teams are currently locked."
    )
    machine.match_request(1, mp.SetLockStateRequest(locked=False))
    machine.room.users[1].role = mp.MultiplayerRoomUserRole.REFEREE
    assert machine.match_request(2, mp.ChangeTeamRequest(team_id=1)) == Refusal(
        "Referees cannot join teams."
    )


def test_roll_requests() -> None:
    machine = make_room()
    for bad in (1, 101):
        assert machine.match_request(1, mp.RollRequest(max=bad)) == Refusal(
            "Invalid roll request. Max must be in [2, 100] range inclusive."
        )
    assert machine.match_request(1, mp.RollRequest()) == [
        Callback("MatchEvent", (mp.RollEvent(user_id=1, max=100, result=50),))
    ]


def test_slots() -> None:
    machine = make_room(2)
    assert machine.match_request(1, mp.ChangeSlotRequest(slot_id=0)) == Refusal(
        "The room does not have slots."
    )
    machine = make_room(2, max_participants=4)
    state = machine.room.match_state
    assert isinstance(state, mp.StandardMatchRoomState)
    assert state.slots == [1, 2, None, None]
    assert machine.match_request(2, mp.ChangeSlotRequest(slot_id=4)) == Refusal("Invalid slot.")
    assert machine.match_request(2, mp.ChangeSlotRequest(slot_id=0)) == Refusal(
        "The requested slot is already taken."
    )
    assert targets(machine.match_request(2, mp.ChangeSlotRequest(slot_id=3))) == [
        "MatchRoomStateChanged"
    ]
    assert state.slots == [1, None, None, 2]
    machine.match_request(1, mp.SetLockStateRequest(locked=True))
    assert machine.match_request(2, mp.ChangeSlotRequest(slot_id=1)) == Refusal(
        "Slots are currently locked."
    )
    machine.remove_user(2)
    assert state.slots == [1, None, None, None]
