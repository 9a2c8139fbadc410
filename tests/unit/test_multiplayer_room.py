"""The realtime room's state machine (no I/O): transitions, the match flow, countdowns,
settings, queue modes, match types, membership; every refusal with the official text."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from server.core import msgpack as m
from server.models import multiplayer as mp
from server.services.multiplayer.room import LOAD_TIMEOUT_TICKS, RoomMachine
from server.services.multiplayer.rules import (
    BeatmapFacts,
    Callback,
    Refusal,
    check_join,
    check_joiner,
    check_state_switch,
    ordered_active_items,
)

S = mp.MultiplayerUserState
R = mp.MultiplayerRoomState
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
MAP = BeatmapFacts(checksum="abc", ruleset_id=0, star_rating=4.5)
NOT_HOST = Refusal(
    "User is attempting to perform a host level operation while not the host", "NotHostException"
)


def make_room(
    *guests: int,
    queue_mode: mp.QueueMode = mp.QueueMode.HOST_ONLY,
    match_type: mp.MatchType = mp.MatchType.HEAD_TO_HEAD,
    max_participants: int | None = None,
    auto_start: int = 0,
    allocate_item_id: Callable[[], int] | None = None,
) -> RoomMachine:
    """A room created by host 1 with one item (id 1), then `guests` joined; everyone has
    the map. New items are numbered 2, 3, ... unless `allocate_item_id` is given."""
    clock = itertools.count()
    settings = mp.MultiplayerRoomSettings(
        name="r",
        queue_mode=queue_mode,
        match_type=match_type,
        max_participants=max_participants,
        auto_start_duration=auto_start,
    )
    room = mp.MultiplayerRoom(
        room_id=10,
        settings=settings,
        playlist=[
            mp.MultiplayerPlaylistItem(id=1, owner_id=1, beatmap_id=75, beatmap_checksum="abc")
        ],
    )
    ids = itertools.count(2)
    machine = RoomMachine(
        room,
        now=lambda: NOW + timedelta(seconds=next(clock)),
        allocate_item_id=allocate_item_id or (lambda: next(ids)),
        roll=lambda top: top // 2,
    )
    machine.initialise()
    for uid in (1, *guests):
        machine.add_user(mp.MultiplayerRoomUser(user_id=uid))
        machine.change_beatmap_availability(
            uid, mp.BeatmapAvailability(mp.DownloadState.LOCALLY_AVAILABLE)
        )
        if uid == 1:
            room.host = room.users[0]
    return machine


def user(machine: RoomMachine, user_id: int) -> mp.MultiplayerRoomUser:
    return next(u for u in machine.room.users if u.user_id == user_id)


def targets(outcome: list[Callback] | Refusal) -> list[str]:
    assert isinstance(outcome, list), outcome
    return [c.target for c in outcome]


def countdowns(machine: RoomMachine) -> list[tuple[str, int]]:
    return [(type(c).__name__, c.id) for c in machine.room.active_countdowns]  # type: ignore[union-attr]


def play_through(machine: RoomMachine) -> list[Callback]:
    """Everyone reports the map (a new item resets availability), the host readies and
    starts, everyone pulled in loads and finishes; the callbacks of the end."""
    for u in machine.room.users:
        machine.change_beatmap_availability(
            u.user_id, mp.BeatmapAvailability(mp.DownloadState.LOCALLY_AVAILABLE)
        )
    machine.change_user_state(1, S.READY)
    assert isinstance(machine.start_match(1), list)
    players = [u.user_id for u in machine.room.users if u.state == S.WAITING_FOR_LOAD]
    for uid in players:
        machine.change_user_state(uid, S.LOADED)
        machine.change_user_state(uid, S.READY_FOR_GAMEPLAY)
    out: list[Callback] = []
    for uid in players:
        result = machine.change_user_state(uid, S.FINISHED_PLAY)
        assert isinstance(result, list)
        out = result
    assert machine.room.state == R.OPEN
    return out


# ---- User states ----

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
    user(machine, 2).state = old
    out = machine.change_user_state(2, new)
    assert isinstance(out, list)
    assert out[0] == Callback("UserStateChanged", (2, new))
    assert user(machine, 2).state == new


REFUSED = [
    (S.SPECTATING, S.READY, "Cannot change from Spectating to Ready"),
    (S.RESULTS, S.READY, "Cannot change from Results to Ready"),
    (S.IDLE, S.WAITING_FOR_LOAD, "Cannot change from Idle to WaitingForLoad"),
    (S.IDLE, S.PLAYING, "Cannot change from Idle to Playing"),
    (S.FINISHED_PLAY, S.RESULTS, "Cannot change from FinishedPlay to Results"),
    (S.IDLE, S.FINISHED_PLAY, "Cannot change from Idle to FinishedPlay"),
    (S.RESULTS, S.SPECTATING, "Cannot change from Results to Spectating"),
    (S.PLAYING, S.SPECTATING, "Cannot change from Playing to Spectating"),
    (S.READY_FOR_GAMEPLAY, S.LOADED, "Cannot change from ReadyForGameplay to Loaded"),
    (
        S.WAITING_FOR_LOAD,
        S.READY_FOR_GAMEPLAY,
        "Cannot change from WaitingForLoad to ReadyForGameplay",
    ),
    (S.PLAYING, S.LOADED, "Cannot change from Playing to Loaded"),
]


@pytest.mark.parametrize(("old", "new", "text"), REFUSED)
def test_refused_transitions_name_both_states(
    old: mp.MultiplayerUserState, new: mp.MultiplayerUserState, text: str
) -> None:
    machine = make_room(2)
    user(machine, 2).state = old
    assert machine.change_user_state(2, new) == Refusal(text, "InvalidStateChangeException")
    assert user(machine, 2).state == old


def test_idle_from_gameplay_is_refused_only_outside_the_crossed_case() -> None:
    # Idle from a gameplay state is the crossed-in-flight case (dropped), so the refusal
    # text for it is reached only by the switch check itself; test that directly.
    machine = make_room(2)
    user(machine, 2).state = S.PLAYING
    assert check_state_switch(machine.room, user(machine, 2), S.IDLE) == Refusal(
        "Cannot return to idle without aborting gameplay."
    )


def test_crossed_in_flight_messages_are_dropped_silently() -> None:
    machine = make_room(2)
    u = user(machine, 2)
    u.state = S.WAITING_FOR_LOAD  # Idle sent before the client saw WaitingForLoad
    assert machine.change_user_state(2, S.IDLE) == []
    u.state = S.IDLE  # Loaded sent before the client saw its load aborted
    assert machine.change_user_state(2, S.LOADED) == []
    assert machine.change_user_state(2, S.READY_FOR_GAMEPLAY) == []
    assert machine.change_user_state(2, S.IDLE) == []  # same state: nothing
    assert u.state == S.IDLE


def test_ready_refused_when_every_item_was_played() -> None:
    machine = make_room(2)
    machine.room.playlist[0].expired = True
    assert machine.change_user_state(2, S.READY) == Refusal(
        "Cannot ready up while all items have been played."
    )


def test_referees_only_idle_or_spectate() -> None:
    machine = make_room(2)
    user(machine, 2).role = mp.MultiplayerRoomUserRole.REFEREE
    assert machine.change_user_state(2, S.READY) == Refusal(
        "Referees cannot participate in the match."
    )
    assert targets(machine.change_user_state(2, S.SPECTATING)) == ["UserStateChanged"]


def test_unknown_user_is_refused() -> None:
    machine = make_room()
    for outcome in (
        machine.change_user_state(99, S.READY),
        machine.abort_gameplay(99),
        machine.vote_to_skip_intro(99),
        machine.remove_user(99),
        machine.transfer_host(1, 99),
        machine.change_beatmap_availability(99, mp.BeatmapAvailability()),
        machine.add_item(99, mp.MultiplayerPlaylistItem(), MAP),
        machine.edit_item(99, mp.MultiplayerPlaylistItem(), MAP),
        machine.remove_item(99, 1, has_score_tokens=False),
    ):
        assert outcome == Refusal("User is not in the room.")
    assert machine.match_request(99, mp.RollRequest()) == Refusal(
        "Local user was not found in the expected room", "InvalidOperationException"
    )


def test_spectating_mid_match_gets_load_requested() -> None:
    machine = make_room(2, 3)
    machine.change_user_state(1, S.READY)
    machine.start_match(1)
    out = machine.change_user_state(3, S.IDLE)
    assert out == []  # 3 was pulled into the load: Idle is a crossed message
    user(machine, 3).state = S.IDLE
    out = machine.change_user_state(3, S.SPECTATING)
    assert Callback("LoadRequested", user_id=3) in out  # type: ignore[operator]


def test_beatmap_availability_is_announced_only_on_change() -> None:
    machine = make_room(2)
    same = mp.BeatmapAvailability(mp.DownloadState.LOCALLY_AVAILABLE)
    assert machine.change_beatmap_availability(2, same) == []
    downloading = mp.BeatmapAvailability(mp.DownloadState.DOWNLOADING, 0.5)
    assert machine.change_beatmap_availability(2, downloading) == [
        Callback("UserBeatmapAvailabilityChanged", (2, downloading))
    ]


# ---- The match flow ----


def test_full_match_flow() -> None:
    machine = make_room(2, 3)
    room = machine.room
    assert targets(machine.change_user_state(1, S.READY)) == ["UserStateChanged"]
    machine.change_beatmap_availability(3, mp.BeatmapAvailability(mp.DownloadState.NOT_DOWNLOADED))

    out = machine.start_match(1)
    # The ready host and idle user 2 (with the map) are pulled in; user 3 without it is not.
    assert isinstance(out, list)
    assert out[:4] == [
        Callback("UserStateChanged", (1, S.WAITING_FOR_LOAD)),
        Callback("UserStateChanged", (2, S.WAITING_FOR_LOAD)),
        Callback("RoomStateChanged", (R.WAITING_FOR_LOAD,)),
        Callback("LoadRequested"),
    ]
    (timeout,) = room.active_countdowns
    assert isinstance(timeout, mp.ForceGameplayStartCountdown)
    assert timeout.time_remaining == LOAD_TIMEOUT_TICKS
    assert out[4] == Callback("MatchEvent", (mp.CountdownStartedEvent(timeout),))
    assert user(machine, 3).state == S.IDLE

    for uid in (1, 2):
        assert targets(machine.change_user_state(uid, S.LOADED)) == ["UserStateChanged"]
    machine.change_user_state(1, S.READY_FOR_GAMEPLAY)
    out = machine.change_user_state(2, S.READY_FOR_GAMEPLAY)
    assert targets(out) == [
        "UserStateChanged",
        "MatchEvent",  # the load timeout stops
        "UserStateChanged",
        "GameplayStarted",
        "UserStateChanged",
        "GameplayStarted",
        "RoomStateChanged",
    ]
    assert room.state == R.PLAYING and room.active_countdowns == []

    assert targets(machine.change_user_state(1, S.FINISHED_PLAY)) == ["UserStateChanged"]
    out = machine.change_user_state(2, S.FINISHED_PLAY)
    assert targets(out)[:5] == [
        "UserStateChanged",
        "UserStateChanged",
        "UserStateChanged",
        "RoomStateChanged",
        "ResultsReady",
    ]
    assert user(machine, 1).state == user(machine, 2).state == S.RESULTS
    # Host-only: the played item expires, a copy (id 2) is queued and becomes current.
    first = room.playlist[0]
    assert first.expired and first.played_at is not None
    assert [i.id for i in room.playlist] == [1, 2]
    assert room.settings.playlist_item_id == 2
    assert out[-1] == Callback("SettingsChanged", (room.settings,))
    assert Callback("PlaylistItemAdded", (room.playlist[1],)) in out


def test_load_timeout_sends_unloaded_users_back() -> None:
    machine = make_room(2)
    machine.change_user_state(1, S.READY)
    machine.start_match(1)
    machine.change_user_state(1, S.LOADED)
    (timeout,) = machine.room.active_countdowns
    out = machine.countdown_elapsed(timeout.id)  # type: ignore[union-attr]
    assert isinstance(out, list)
    assert out[0] == Callback("MatchEvent", (mp.CountdownStoppedEvent(timeout.id),))  # type: ignore[union-attr]
    assert Callback("GameplayStarted", user_id=1) in out
    assert (
        Callback("GameplayAborted", (mp.GameplayAbortReason.LOAD_TOOK_TOO_LONG,), user_id=2) in out
    )
    assert user(machine, 2).state == S.IDLE
    assert machine.room.state == R.PLAYING
    assert machine.countdown_elapsed(timeout.id) == []  # type: ignore[union-attr]


def test_nobody_loaded_at_the_timeout_aborts_and_completes_the_item() -> None:
    machine = make_room(2)
    machine.change_user_state(1, S.READY)
    machine.start_match(1)
    (timeout,) = machine.room.active_countdowns
    out = machine.countdown_elapsed(timeout.id)  # type: ignore[union-attr]
    assert "GameplayStarted" not in targets(out)
    assert machine.room.state == R.OPEN
    assert machine.room.playlist[0].expired


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
    assert machine.room.state == R.OPEN
    assert machine.room.playlist[0].expired


def test_start_match_refusals() -> None:
    machine = make_room(2)
    assert machine.start_match(2) == NOT_HOST
    assert machine.start_match(1) == Refusal("Can't start match when the host is not ready.")
    user(machine, 1).state = S.SPECTATING
    assert machine.start_match(1) == Refusal("Can't start match when no users are ready.")
    user(machine, 2).state = S.READY
    machine.room.state = R.PLAYING
    assert machine.start_match(1) == Refusal("Can't start match when already in a running state.")
    machine.room.state = R.OPEN
    machine.room.playlist[0].expired = True
    assert machine.start_match(1) == Refusal("Cannot start an expired playlist item.")


def test_a_match_start_countdown_with_nobody_ready_skips_the_item() -> None:
    machine = make_room(2)
    out = machine.match_request(1, mp.StartMatchCountdownRequest(duration=10))
    assert targets(out) == ["MatchEvent"]
    (countdown,) = machine.room.active_countdowns
    out = machine.countdown_elapsed(countdown.id)  # type: ignore[union-attr]
    assert machine.room.playlist[0].expired
    assert "PlaylistItemAdded" in targets(out)
    assert machine.room.state == R.OPEN


def test_abort_match_and_gameplay() -> None:
    machine = make_room(2)
    assert machine.abort_match(2) == NOT_HOST
    assert machine.abort_match(1) == Refusal("Cannot abort a match that hasn't started.")
    assert machine.abort_gameplay(2) == Refusal("Cannot abort gameplay while not in gameplay.")
    machine.change_user_state(1, S.READY)
    machine.start_match(1)
    out = machine.abort_match(1)
    assert Callback("GameplayAborted", (mp.GameplayAbortReason.HOST_ABORTED_THE_MATCH,)) in out  # type: ignore[operator]
    assert all(u.state == S.IDLE for u in machine.room.users)
    assert machine.room.state == R.OPEN


def test_vote_to_skip_intro() -> None:
    machine = make_room(2, 3)
    assert machine.vote_to_skip_intro(2) == Refusal("Cannot skip while not in gameplay.")
    user(machine, 3).role = mp.MultiplayerRoomUserRole.REFEREE
    assert machine.vote_to_skip_intro(3) == Refusal(
        "Referees do not participate in the match and cannot vote to skip."
    )
    user(machine, 3).role = mp.MultiplayerRoomUserRole.PLAYER
    for u in machine.room.users:
        u.state = S.PLAYING
    assert targets(machine.vote_to_skip_intro(1)) == ["UserVotedToSkipIntro"]
    # Two of three playing: floor(3 / 2) + 1 = 2 votes pass.
    assert targets(machine.vote_to_skip_intro(2)) == [
        "UserVotedToSkipIntro",
        "VoteToSkipIntroPassed",
    ]


# ---- Countdowns ----


def test_match_start_countdown_requests() -> None:
    machine = make_room(2)
    assert machine.match_request(2, mp.StartMatchCountdownRequest(duration=10)) == NOT_HOST
    first = machine.match_request(1, mp.StartMatchCountdownRequest(duration=10))
    second = machine.match_request(1, mp.StartMatchCountdownRequest(duration=20))
    # Exclusive by type: the second stops the first; ids increase.
    assert targets(first) == ["MatchEvent"]
    assert isinstance(second, list)
    assert second[0] == Callback("MatchEvent", (mp.CountdownStoppedEvent(1),))
    assert countdowns(machine) == [("MatchStartCountdown", 2)]
    assert machine.match_request(2, mp.StopCountdownRequest(id=2)) == NOT_HOST
    assert machine.match_request(1, mp.StopCountdownRequest(id=99)) == []
    assert machine.match_request(1, mp.StopCountdownRequest(id=2)) == [
        Callback("MatchEvent", (mp.CountdownStoppedEvent(2),))
    ]
    machine.room.state = R.PLAYING
    assert machine.match_request(1, mp.StartMatchCountdownRequest(duration=10)) == Refusal(
        "Cannot start a countdown during ongoing play."
    )


def test_auto_start_countdown() -> None:
    machine = make_room(2, auto_start=30 * mp.TICKS_PER_SECOND)
    out = machine.change_user_state(2, S.READY)
    assert targets(out) == ["UserStateChanged", "MatchEvent"]
    assert countdowns(machine) == [("MatchStartCountdown", 1)]
    assert machine.room.active_countdowns[0].time_remaining == 30 * mp.TICKS_PER_SECOND  # type: ignore[union-attr]
    assert machine.match_request(1, mp.StartMatchCountdownRequest(duration=10)) == Refusal(
        "Cannot start manual countdown if auto-start is enabled."
    )
    assert machine.match_request(1, mp.StopCountdownRequest(id=1)) == Refusal(
        "Cannot stop the requested countdown."
    )
    # When it runs out the match starts (user 2 ready, the host idle with the map).
    out = machine.countdown_elapsed(1)
    assert machine.room.state == R.WAITING_FOR_LOAD
    assert countdowns(machine) == [("ForceGameplayStartCountdown", 2)]
    assert machine.match_request(1, mp.StopCountdownRequest(id=2)) == Refusal(
        "Cannot stop the requested countdown."
    )


def test_a_match_start_countdown_that_can_no_longer_start_only_stops() -> None:
    machine = make_room(2)
    machine.change_user_state(2, S.READY)
    machine.match_request(1, mp.StartMatchCountdownRequest(duration=10))
    machine.room.playlist[0].expired = True
    assert machine.countdown_elapsed(1) == [Callback("MatchEvent", (mp.CountdownStoppedEvent(1),))]
    assert machine.room.state == R.OPEN


def test_server_shutting_down_countdown_cannot_be_stopped() -> None:
    machine = make_room()
    out = machine.server_shutting_down(60 * mp.TICKS_PER_SECOND)
    (countdown,) = machine.room.active_countdowns
    assert isinstance(countdown, mp.ServerShuttingDownCountdown)
    assert out == [Callback("MatchEvent", (mp.CountdownStartedEvent(countdown),))]
    assert machine.match_request(1, mp.StopCountdownRequest(id=countdown.id)) == Refusal(
        "Cannot stop the requested countdown."
    )


def test_unreadying_everyone_stops_a_match_start_countdown() -> None:
    machine = make_room(2)
    machine.change_user_state(2, S.READY)
    machine.match_request(1, mp.StartMatchCountdownRequest(duration=10))
    out = machine.change_settings(1, mp.MultiplayerRoomSettings(name="renamed"))
    assert isinstance(out, list)
    assert Callback("UserStateChanged", (2, S.IDLE)) in out
    assert Callback("MatchEvent", (mp.CountdownStoppedEvent(1),)) in out
    assert machine.room.active_countdowns == []


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
    before = wire_copy(machine.room)
    new = mp.MultiplayerRoomSettings(name="r", **change)  # type: ignore[arg-type]
    assert machine.change_settings(1, new) == Refusal(text)
    assert machine.room == before


def wire_copy(room: mp.MultiplayerRoom) -> mp.MultiplayerRoom:
    return m.decode_as("MultiplayerRoom", m.encode("MultiplayerRoom", room), mp.MultiplayerRoom)


def test_settings_need_host_and_an_open_room() -> None:
    machine = make_room(2)
    new = mp.MultiplayerRoomSettings(name="other")
    assert machine.change_settings(2, new) == NOT_HOST
    machine.room.state = R.PLAYING
    assert machine.change_settings(1, new) == Refusal(
        "Attempted to change settings while a game is in progress."
    )


def test_settings_change_keeps_the_server_item_and_unreadies() -> None:
    machine = make_room(2)
    machine.change_user_state(2, S.READY)
    new = mp.MultiplayerRoomSettings(name="other", playlist_item_id=999)
    out = machine.change_settings(1, new)
    assert machine.room.settings.playlist_item_id == 1
    assert targets(out) == ["UserStateChanged", "SettingsChanged"]
    same = mp.MultiplayerRoomSettings(name="other", playlist_item_id=5)
    assert machine.change_settings(1, same) == []


def test_switching_to_team_versus_assigns_teams_and_back_clears_them() -> None:
    machine = make_room(2, 3)
    out = machine.change_settings(
        1, mp.MultiplayerRoomSettings(name="r", match_type=mp.MatchType.TEAM_VERSUS)
    )
    assert isinstance(machine.room.match_state, mp.TeamVersusRoomState)
    assert [u.match_state for u in machine.room.users] == [
        mp.TeamVersusUserState(0),
        mp.TeamVersusUserState(1),
        mp.TeamVersusUserState(0),
    ]
    assert targets(out)[:4] == [
        "MatchRoomStateChanged",
        "MatchUserStateChanged",
        "MatchUserStateChanged",
        "MatchUserStateChanged",
    ]
    out = machine.change_settings(1, mp.MultiplayerRoomSettings(name="r"))
    assert type(machine.room.match_state) is mp.StandardMatchRoomState
    assert all(u.match_state is None for u in machine.room.users)
    assert Callback("MatchUserStateChanged", (2, None)) in out  # type: ignore[operator]


def test_max_participants_adds_and_resizes_slots() -> None:
    machine = make_room(2, 3)
    machine.change_settings(1, mp.MultiplayerRoomSettings(name="r", max_participants=4))
    state = machine.room.match_state
    assert isinstance(state, mp.StandardMatchRoomState)
    assert state.slots == [1, 2, 3, None]
    machine.match_request(3, mp.ChangeSlotRequest(slot_id=3))
    assert state.slots == [1, 2, None, 3]
    machine.change_settings(1, mp.MultiplayerRoomSettings(name="r", max_participants=3))
    assert state.slots == [1, 2, 3]  # 3 moved from a removed slot into a free one
    machine.change_settings(1, mp.MultiplayerRoomSettings(name="r"))
    assert state.slots is None


def test_joiner_checks() -> None:
    assert check_joiner(restricted=False, in_another_room=False) is None
    assert check_joiner(restricted=True, in_another_room=True) == Refusal(
        "Can't join a room when restricted."
    )
    assert check_joiner(restricted=False, in_another_room=True) == Refusal(
        "Can't join a room when already in another room."
    )


def test_join_checks() -> None:
    machine = make_room(2)
    room = machine.room
    assert check_join(room, "", banned=False) is None
    room.settings.password = "pw"
    assert check_join(room, "", banned=False) == Refusal(
        "Exception of type 'osu.Game.Online.Multiplayer.InvalidPasswordException' was thrown.",
        "InvalidPasswordException",
    )
    assert check_join(room, "pw", banned=False) is None
    assert check_join(room, "pw", banned=True) == Refusal("Not eligible to join this room.")
    room.settings.max_participants = 2
    assert check_join(room, "pw", banned=False) == Refusal("Not eligible to join this room.")


# ---- Queue ----


def item(**kw: object) -> mp.MultiplayerPlaylistItem:
    fields: dict[str, object] = {"beatmap_id": 75, "beatmap_checksum": "abc", **kw}
    return mp.MultiplayerPlaylistItem(**fields)  # type: ignore[arg-type]


def test_host_only_queue_refuses_guests() -> None:
    machine = make_room(2)
    assert machine.add_item(2, item(), MAP) == NOT_HOST


def test_queue_limits_50_host_3_guest() -> None:
    machine = make_room(2, queue_mode=mp.QueueMode.ALL_PLAYERS)
    for _ in range(3):
        assert isinstance(machine.add_item(2, item(), MAP), list)
    assert machine.add_item(2, item(), MAP) == Refusal("Can't enqueue more than 3 items at once.")
    for _ in range(49):  # plus the room's first item
        assert isinstance(machine.add_item(1, item(), MAP), list)
    assert machine.add_item(1, item(), MAP) == Refusal("Can't enqueue more than 50 items at once.")


@pytest.mark.parametrize(
    ("new", "beatmap", "text"),
    [
        (
            item(freestyle=True, allowed_mods=[mp.APIMod("HD")]),
            MAP,
            "Cannot enqueue freestyle item with mods.",
        ),
        (item(), None, "Attempted to add a beatmap which does not exist online."),
        (
            item(beatmap_checksum="zzz"),
            MAP,
            "Attempted to add a beatmap which has been modified.",
        ),
        (item(ruleset_id=4), MAP, "Attempted to select an unsupported ruleset."),
        (
            item(ruleset_id=1),
            BeatmapFacts(checksum="abc", ruleset_id=3, star_rating=1.0),
            "Attempted to select an invalid beatmap and ruleset combination.",
        ),
    ],
)
def test_item_refusals(
    new: mp.MultiplayerPlaylistItem, beatmap: BeatmapFacts | None, text: str
) -> None:
    machine = make_room()
    assert machine.add_item(1, new, beatmap) == Refusal(text)
    assert machine.edit_item(1, new, beatmap) == Refusal(text)


def test_added_item_takes_owner_rating_and_converts_from_osu() -> None:
    machine = make_room()
    out = machine.add_item(1, item(ruleset_id=3, owner_id=77), MAP)
    added = machine.room.playlist[-1]
    assert (added.id, added.owner_id, added.star_rating, added.playlist_order) == (2, 1, 4.5, 1)
    assert targets(out) == ["PlaylistItemAdded", "PlaylistItemChanged"]


def test_edit_and_remove_refusals() -> None:
    machine = make_room(2, queue_mode=mp.QueueMode.ALL_PLAYERS)
    machine.add_item(2, item(), MAP)  # id 2, user 2's
    machine.add_item(1, item(), MAP)  # id 3, the host's
    assert machine.edit_item(1, item(id=9), MAP) == Refusal(
        "Attempted to change an item that doesn't exist."
    )
    assert machine.edit_item(2, item(id=3), MAP) == Refusal(
        "Attempted to change an item which is not owned by the user."
    )
    assert machine.remove_item(2, 3, has_score_tokens=False) == Refusal(
        "Attempted to remove an item which is not owned by the user."
    )
    assert machine.remove_item(1, 9, has_score_tokens=False) == Refusal(
        "Item does not exist in the room."
    )
    assert machine.remove_item(2, 2, has_score_tokens=True) == Refusal(
        "Attempted to remove an item which has already been played."
    )
    machine.room.state = R.PLAYING
    assert machine.edit_item(1, item(id=1), MAP) == Refusal(
        "The current item in the room cannot be edited when currently being played."
    )
    assert machine.remove_item(1, 1, has_score_tokens=False) == Refusal(
        "The current item in the room cannot be removed when currently being played."
    )
    machine.room.state = R.OPEN
    machine.room.playlist[2].expired = True
    assert machine.edit_item(1, item(id=3), MAP) == Refusal(
        "Attempted to change an item which has already been played."
    )
    assert machine.remove_item(1, 3, has_score_tokens=False) == Refusal(
        "Attempted to remove an item which has already been played."
    )


def test_the_only_item_cannot_be_removed() -> None:
    machine = make_room()
    assert machine.remove_item(1, 1, has_score_tokens=False) == Refusal(
        "The only item in the room cannot be removed."
    )


def test_removing_the_current_item_advances_before_announcing() -> None:
    machine = make_room(2, queue_mode=mp.QueueMode.ALL_PLAYERS)
    machine.add_item(2, item(), MAP)
    out = machine.remove_item(1, 1, has_score_tokens=False)
    assert machine.room.settings.playlist_item_id == 2
    assert targets(out)[-2:] == ["SettingsChanged", "PlaylistItemRemoved"]


def test_editing_the_current_items_beatmap_resets_availability() -> None:
    machine = make_room(2)
    out = machine.edit_item(1, item(id=1, beatmap_checksum="new"), BeatmapFacts("new", 0, 5.0))
    assert Callback("UserBeatmapAvailabilityChanged", (2, mp.BeatmapAvailability())) in out  # type: ignore[operator]
    assert machine.room.playlist[0].beatmap_checksum == "new"


def order(machine: RoomMachine) -> list[int]:
    return [
        i.id for i in sorted(ordered_active_items(machine.room), key=lambda i: i.playlist_order)
    ]


def _store(machine: RoomMachine, ids: Iterator[int]) -> None:
    """What hosting.py does after each operation: the database names the new items."""
    for i in machine.room.playlist:
        if i.id < 0:
            i.id = next(ids)


def test_an_item_not_yet_stored_is_queued_as_the_newest() -> None:
    # hosting.py numbers an item -1, -2, ... until the database names it; the reorder of the
    # operation that adds it must still treat it as the last added (the official ID order).
    temporary = itertools.count(1)
    stored = itertools.count(2)
    machine = make_room(
        2,
        3,
        queue_mode=mp.QueueMode.ALL_PLAYERS_ROUND_ROBIN,
        allocate_item_id=lambda: -next(temporary),
    )
    for owner in (2, 2, 3, 1):
        machine.add_item(owner, item(), MAP)
        _store(machine, stored)
    owners = [i.owner_id for i in sorted(machine.room.playlist, key=lambda i: i.playlist_order)]
    assert owners == [1, 2, 3, 1, 2]
    assert machine.room.settings.playlist_item_id == 1

    machine = make_room(
        2, queue_mode=mp.QueueMode.ALL_PLAYERS, allocate_item_id=lambda: -next(temporary)
    )
    machine.add_item(2, item(), MAP)
    assert machine.room.settings.playlist_item_id == 1  # the new item queues behind


def test_round_robin_like_the_official_ordering_with_gameplay_test() -> None:
    # osu-server-spectator MultiplayerAllPlayersRoundRobinQueueTests.RoundRobinOrderingWithGameplay
    machine = make_room(2, queue_mode=mp.QueueMode.ALL_PLAYERS_ROUND_ROBIN)
    machine.add_item(1, item(), MAP)
    assert order(machine) == [1, 2]
    play_through(machine)
    assert machine.room.settings.playlist_item_id == 2
    machine.add_item(2, item(), MAP)
    machine.add_item(2, item(), MAP)
    assert order(machine) == [2, 3, 4]
    machine.add_item(1, item(), MAP)
    assert order(machine) == [2, 3, 5, 4]
    played = []
    for _ in range(4):
        machine.change_user_state(1, S.IDLE)
        machine.change_user_state(2, S.IDLE)
        played.append(machine.room.settings.playlist_item_id)
        play_through(machine)
    # After the last item it stays current.
    assert played == [2, 3, 5, 4]
    assert machine.room.settings.playlist_item_id == 4


def test_round_robin_with_many_users_like_the_official_test() -> None:
    # ...RoundRobinOrderingWithManyUsers, first part.
    machine = make_room(2, 3, queue_mode=mp.QueueMode.ALL_PLAYERS_ROUND_ROBIN)
    machine.add_item(1, item(), MAP)
    machine.add_item(1, item(), MAP)
    assert order(machine) == [1, 2, 3]
    machine.add_item(2, item(), MAP)
    assert order(machine) == [1, 4, 2, 3]
    machine.add_item(3, item(), MAP)
    assert order(machine) == [1, 4, 5, 2, 3]
    machine.add_item(3, item(), MAP)
    assert order(machine) == [1, 4, 5, 2, 6, 3]


def test_switching_to_host_only_with_everything_played_adds_a_copy() -> None:
    machine = make_room(2, queue_mode=mp.QueueMode.ALL_PLAYERS)
    play_through(machine)
    assert all(i.expired for i in machine.room.playlist)  # all players: no copy
    for uid in (1, 2):
        machine.change_user_state(uid, S.IDLE)
    out = machine.change_settings(1, mp.MultiplayerRoomSettings(name="r"))
    assert "PlaylistItemAdded" in targets(out)
    assert machine.room.settings.playlist_item_id == 2


# ---- Host, kick, leave ----


def test_transfer_host() -> None:
    machine = make_room(2)
    assert machine.transfer_host(2, 2) == NOT_HOST
    assert machine.transfer_host(1, 2) == [Callback("HostChanged", (2,))]
    assert machine.room.host is not None and machine.room.host.user_id == 2


def test_kick_refusals() -> None:
    machine = make_room(2, 3)
    assert machine.check_kick(1, 1) == Refusal("Can't kick self")
    assert machine.check_kick(2, 3) == NOT_HOST
    assert machine.check_kick(1, 9) == Refusal(
        "Target user is not in the current room", "InvalidOperationException"
    )
    user(machine, 3).role = mp.MultiplayerRoomUserRole.REFEREE
    assert machine.check_kick(1, 3) == Refusal("Can't kick a referee.")
    assert machine.check_kick(1, 2) is None
    kicked = user(machine, 2)
    assert machine.remove_user(2, kicked=True) == [Callback("UserKicked", (kicked,))]


def test_host_leaving_passes_host_then_last_leave_empties() -> None:
    machine = make_room(2, 3)
    leaving = user(machine, 1)
    assert machine.remove_user(1) == [
        Callback("HostChanged", (2,)),
        Callback("UserLeft", (leaving,)),
    ]
    machine.remove_user(2)
    assert not machine.is_empty
    machine.remove_user(3)
    assert machine.is_empty


def test_leaving_mid_load_lets_the_others_start() -> None:
    machine = make_room(2)
    machine.change_user_state(1, S.READY)
    machine.start_match(1)
    machine.change_user_state(1, S.LOADED)
    machine.change_user_state(1, S.READY_FOR_GAMEPLAY)
    out = machine.remove_user(2)
    assert Callback("GameplayStarted", user_id=1) in out  # type: ignore[operator]


# ---- Match types and requests ----


def test_team_versus_assigns_empty_team_then_smaller() -> None:
    machine = make_room(2, 3, 4, match_type=mp.MatchType.TEAM_VERSUS)
    teams = [u.match_state for u in machine.room.users]
    assert teams == [mp.TeamVersusUserState(t) for t in (0, 1, 0, 1)]


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
    user(machine, 2).role = mp.MultiplayerRoomUserRole.REFEREE
    assert machine.match_request(2, mp.ChangeTeamRequest(team_id=1)) == Refusal(
        "Referees cannot join teams."
    )


def test_team_versus_slots_split_by_team() -> None:
    machine = make_room(2, 3, match_type=mp.MatchType.TEAM_VERSUS, max_participants=4)
    state = machine.room.match_state
    assert isinstance(state, mp.TeamVersusRoomState)
    # Teams 0, 1, 0: red takes slots 0-1, blue 2-3.
    assert state.slots == [1, 3, 2, None]


def test_roll_requests() -> None:
    machine = make_room()
    for bad in (1, 101):
        assert machine.match_request(1, mp.RollRequest(max=bad)) == Refusal(
            "Invalid roll request. Max must be in [2, 100] range inclusive."
        )
    assert machine.match_request(1, mp.RollRequest()) == [
        Callback("MatchEvent", (mp.RollEvent(user_id=1, max=100, result=50),))
    ]
    assert machine.match_request(1, mp.RollRequest(max=2)) == [
        Callback("MatchEvent", (mp.RollEvent(user_id=1, max=2, result=1),))
    ]


def test_lock_and_slots() -> None:
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
    assert targets(machine.match_request(1, mp.SetLockStateRequest(locked=True))) == [
        "MatchRoomStateChanged"
    ]
    assert machine.match_request(1, mp.SetLockStateRequest(locked=True)) == []
    assert machine.match_request(2, mp.ChangeSlotRequest(slot_id=1)) == Refusal(
        "Slots are currently locked."
    )
    machine.remove_user(2)
    assert state.slots == [1, None, None, None]


def test_requests_of_other_match_types_do_nothing() -> None:
    machine = make_room()
    assert machine.match_request(1, mp.MatchmakingAvatarActionRequest(raw=[1])) == []
    assert machine.match_request(1, mp.ChangeTeamRequest(team_id=1)) == []  # head-to-head
