"""Random sequences of client calls against one room: invariants hold after every step, a
refusal changes nothing, and the room always encodes as lazer's wire form."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.core import msgpack as m
from server.models import multiplayer as mp
from server.services.multiplayer.room import RoomMachine
from server.services.multiplayer.rules import BeatmapFacts, Refusal, is_gameplay_state

MAP = BeatmapFacts(checksum="abc", ruleset_id=0, star_rating=4.5)
USERS = [1, 2, 3, 4]


def random_step(rng: random.Random) -> tuple[Any, ...]:
    """One client call. "advance" moves a user along the happy path and "start" is the
    host's, weighted up so that walks reach loading, play and results instead of being
    refused at the door."""
    uid = rng.choice(USERS)
    kind = rng.choices(
        ["advance", "start", "state", "availability", "abort_match", "abort_gameplay",
         "vote", "elapse", "request", "add_item", "remove_item", "settings", "host",
         "leave", "join"],
        weights=[12, 4, 2, 2, 1, 1, 1, 2, 3, 2, 1, 1, 1, 1, 1],
    )[0]  # fmt: skip
    if kind == "state":
        return (kind, uid, rng.choice(list(mp.MultiplayerUserState)))
    if kind == "availability":
        state = rng.choice([mp.DownloadState.LOCALLY_AVAILABLE, mp.DownloadState.NOT_DOWNLOADED])
        return (kind, uid, mp.BeatmapAvailability(state))
    if kind == "start":
        return (kind, rng.choice([1, 1, 1, uid]))
    if kind == "elapse":
        return (kind, rng.randint(1, 8))
    if kind == "request":
        request = rng.choice(
            [
                mp.ChangeTeamRequest(rng.randint(0, 2)),
                mp.StartMatchCountdownRequest(rng.randint(1, 10)),
                mp.StopCountdownRequest(rng.randint(1, 6)),
                mp.SetLockStateRequest(rng.random() < 0.5),
                mp.RollRequest(rng.choice([None, 0, 2, 100, 120])),
                mp.ChangeSlotRequest(rng.randint(0, 5)),
            ]
        )
        return (kind, uid, request)
    if kind == "remove_item":
        return (kind, uid, rng.randint(1, 6), rng.random() < 0.2)
    if kind == "settings":
        settings_ = mp.MultiplayerRoomSettings(
            name="r",
            match_type=rng.choice([mp.MatchType.HEAD_TO_HEAD, mp.MatchType.TEAM_VERSUS]),
            queue_mode=rng.choice(list(mp.QueueMode)),
            auto_start_duration=rng.choice([0, 5]),
            max_participants=rng.choice([None, 1, 2, 4, 6]),
        )
        return (kind, uid, settings_)
    if kind == "host":
        return (kind, uid, rng.choice(USERS))
    return (kind, uid)


S = mp.MultiplayerUserState
HAPPY_PATH = {
    S.IDLE: S.READY,
    S.WAITING_FOR_LOAD: S.LOADED,
    S.LOADED: S.READY_FOR_GAMEPLAY,
    S.PLAYING: S.FINISHED_PLAY,
    S.FINISHED_PLAY: S.IDLE,
    S.RESULTS: S.IDLE,
}


def make_machine() -> RoomMachine:
    room = mp.MultiplayerRoom(
        room_id=1,
        playlist=[mp.MultiplayerPlaylistItem(id=1, owner_id=1, beatmap_checksum="abc")],
    )
    ids = itertools.count(2)
    machine = RoomMachine(
        room,
        now=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        allocate_item_id=lambda: next(ids),
        roll=lambda top: 1,
    )
    machine.initialise()
    for uid in USERS[:2]:
        machine.add_user(mp.MultiplayerRoomUser(user_id=uid))
        machine.change_beatmap_availability(
            uid, mp.BeatmapAvailability(mp.DownloadState.LOCALLY_AVAILABLE)
        )
    room.host = room.users[0]
    return machine


def run(machine: RoomMachine, step: tuple[Any, ...]) -> Any:
    kind, *args = step
    room = machine.room
    present = {u.user_id for u in room.users}
    if kind == "state":
        return machine.change_user_state(args[0], args[1])
    if kind == "advance":
        user = next((u for u in room.users if u.user_id == args[0]), None)
        if user is None:
            return None
        nxt = HAPPY_PATH.get(user.state, mp.MultiplayerUserState.IDLE)
        return machine.change_user_state(args[0], nxt)
    if kind == "availability":
        return machine.change_beatmap_availability(args[0], args[1])
    if kind == "start":
        return machine.start_match(args[0])
    if kind == "abort_match":
        return machine.abort_match(args[0])
    if kind == "abort_gameplay":
        return machine.abort_gameplay(args[0])
    if kind == "vote":
        return machine.vote_to_skip_intro(args[0])
    if kind == "elapse":
        return machine.countdown_elapsed(args[0])
    if kind == "request":
        return machine.match_request(args[0], args[1])
    if kind == "add_item":
        item = mp.MultiplayerPlaylistItem(beatmap_checksum="abc")
        return machine.add_item(args[0], item, MAP)
    if kind == "remove_item":
        return machine.remove_item(args[0], args[1], has_score_tokens=args[2])
    if kind == "settings":
        return machine.change_settings(
            args[0],
            mp.MultiplayerRoomSettings(
                **{f: getattr(args[1], f) for f in args[1].__struct_fields__}
            ),
        )
    if kind == "host":
        return machine.transfer_host(args[0], args[1])
    if kind == "leave":
        if len(present) <= 1 or args[0] not in present:
            return None  # keep the room alive; leaving twice is covered elsewhere
        return machine.remove_user(args[0])
    if kind == "join":
        limit = room.settings.max_participants
        if args[0] in present or (limit is not None and len(present) >= limit):
            return None  # check_join refuses these before the room is touched
        return machine.add_user(mp.MultiplayerRoomUser(user_id=args[0]))
    raise AssertionError(step)


def check_invariants(machine: RoomMachine) -> None:
    room = machine.room
    ids = {u.user_id for u in room.users}
    assert sum(1 for i in room.playlist if i.id == room.settings.playlist_item_id) == 1
    assert room.host is not None and room.host.user_id in ids
    if room.state == mp.MultiplayerRoomState.OPEN:
        assert not any(is_gameplay_state(u.state) for u in room.users)
    if room.state == mp.MultiplayerRoomState.PLAYING:
        assert any(u.state == mp.MultiplayerUserState.PLAYING for u in room.users)
    if room.state == mp.MultiplayerRoomState.WAITING_FOR_LOAD:
        assert any(isinstance(c, mp.ForceGameplayStartCountdown) for c in room.active_countdowns)
    kinds = [type(c) for c in room.active_countdowns]
    assert len(kinds) == len(set(kinds)), "one countdown per type"
    assert len({c.id for c in room.active_countdowns}) == len(kinds)  # type: ignore[union-attr]
    state = room.match_state
    assert isinstance(state, mp.StandardMatchRoomState)
    is_team = isinstance(state, mp.TeamVersusRoomState)
    assert is_team == (room.settings.match_type == mp.MatchType.TEAM_VERSUS)
    if room.settings.max_participants is None:
        assert state.slots is None
    else:
        assert state.slots is not None and len(state.slots) == room.settings.max_participants
        taken = [s for s in state.slots if s is not None]
        assert len(taken) == len(set(taken)) and set(taken) == ids
    for u in room.users:
        assert (u.match_state is not None) == is_team
    active = sorted(i.playlist_order for i in room.playlist if not i.expired)
    if room.state == mp.MultiplayerRoomState.OPEN:
        assert active == list(range(len(active))), "active items are numbered 0..n-1"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_random_calls_keep_the_room_consistent(seed: int) -> None:
    rng = random.Random(seed)
    machine = make_machine()
    check_invariants(machine)
    for _ in range(60):
        step = random_step(rng)
        before = m.encode("MultiplayerRoom", machine.room)
        outcome = run(machine, step)
        after = m.encode("MultiplayerRoom", machine.room)
        if isinstance(outcome, Refusal):
            assert after == before, f"{step} refused but changed the room"
        elif outcome == []:
            assert after == before, f"{step} sent nothing but changed the room"
        check_invariants(machine)
        # Every callback argument the hub will encode is a wire value.
        for callback in outcome if isinstance(outcome, list) else []:
            for arg in callback.args:
                if isinstance(arg, mp.MultiplayerRoomSettings):
                    m.encode("MultiplayerRoomSettings", arg)
                elif isinstance(arg, mp.MultiplayerPlaylistItem):
                    m.encode("MultiplayerPlaylistItem", arg)


def test_random_walks_reach_every_room_state() -> None:
    """The walk above is only as good as where it goes: it must reach play and results."""
    reached: set[str] = set()
    for seed in range(30):
        rng = random.Random(seed)
        machine = make_machine()
        for _ in range(60):
            outcome = run(machine, random_step(rng))
            reached.add(machine.room.state.name)
            for callback in outcome if isinstance(outcome, list) else []:
                reached.add(callback.target)
    assert {"WAITING_FOR_LOAD", "PLAYING", "ResultsReady", "GameplayStarted"} <= reached
