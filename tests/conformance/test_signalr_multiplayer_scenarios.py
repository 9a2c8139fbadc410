"""The multiplayer hub through the official @microsoft/signalr client with its MessagePack
protocol under Node, two and three users per room against the live server: queue order and
limits, team versus, countdowns, kick, host transfer, disband, abort, the load timeout, the
refusal texts, and a room across two `serve` processes whose owner is stopped
(tests/conformance/node/mp/*.mjs, one scenario per test).

Every expected text is the official server's (ppy/osu-server-spectator at 6b142c7, and the
exception classes of ppy/osu `osu.Game/Online/Multiplayer`), written out here rather than
taken from our constants, as ASP.NET Core shows them to a client (tests/conformance/
node_multiplayer.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from server.settings import Settings
from tests.conformance.live_server import LiveServer
from tests.conformance.node_multiplayer import (
    Player,
    hidden_error,
    hub_error,
    invalid_state,
    not_host,
    scenario,
)
from tests.conformance.test_signalr_clients import _node_ready
from tests.conftest import TEST_DATABASE_URL, TEST_REDIS_URL, TEST_SECRET_KEY
from tests.score_play import StoredMap, stored_map
from tests.serve_process import ServeProcess, child_env

pytestmark = pytest.mark.slow

# MultiplayerUserState, MultiplayerRoomState, GameplayAbortReason as lazer numbers them.
IDLE, READY, PLAYING = 0, 1, 5
OPEN, WAITING_FOR_LOAD = 0, 1
LOAD_TOOK_TOO_LONG, HOST_ABORTED_THE_MATCH = 0, 1
# Union ids: MatchServerEvent CountdownStartedEvent, MultiplayerCountdown members,
# MatchRoomState TeamVersusRoomState, MatchUserState TeamVersusUserState.
COUNTDOWN_STARTED = 0
MATCH_START_COUNTDOWN, FORCE_GAMEPLAY_START_COUNTDOWN, SERVER_SHUTTING_DOWN_COUNTDOWN = 0, 1, 2
TEAM_VERSUS_ROOM_STATE = TEAM_VERSUS_USER_STATE = 0


@pytest.fixture(scope="module")
def node(live_server: LiveServer) -> None:
    reason = _node_ready()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def beatmap(live_server: LiveServer, node: None) -> StoredMap:
    return live_server.call(stored_map)


@pytest.fixture(scope="module")
def players(live_server: LiveServer, node: None) -> Callable[[int], list[Player]]:
    """`players(n)`: n fresh accounts (a user is in one room at a time)."""
    return lambda n: [Player(live_server) for _ in range(n)]


def test_round_robin_order_of_three_users(
    live_server: LiveServer, beatmap: StoredMap, players: Callable[[int], list[Player]]
) -> None:
    """Round robin (StandardMatchController.updatePlaylistOrder): each owner's first item in
    the order of the first round, then each owner's second in that owner order. The host's
    item came with the room, A added two, B one, the host a second: host, A, B, host, A.
    Then the first item is played (the official RoundRobinOrderingWithGameplay case)."""
    host, a, b = players(3)
    seen = scenario("round_robin", live_server.url, [host, a, b], beatmap)
    for queue in seen["queues"]:
        assert [i["owner"] for i in queue] == [host.id, a.id, b.id, host.id, a.id]
        assert [i["order"] for i in queue] == [0, 1, 2, 3, 4]
    assert seen["queues"][0] == seen["queues"][1] == seen["queues"][2]
    assert seen["queues"][0][0]["id"] == seen["firstItem"] == seen["currentItem"]
    # The host's first item played: the owners' order is taken again from the remaining
    # items by id (A's first, B's, the host's second), then A's second.
    after = seen["afterPlay"]
    assert after["expired"]
    for queue in after["queues"]:
        assert [i["owner"] for i in queue] == [a.id, b.id, host.id, a.id]
        assert [i["order"] for i in queue] == [0, 1, 2, 3]
    assert after["queues"][0] == after["queues"][1] == after["queues"][2]
    assert after["currentItem"] == after["queues"][0][0]["id"]


def test_host_and_guest_queue_limits(
    live_server: LiveServer, beatmap: StoredMap, players: Callable[[int], list[Player]]
) -> None:
    seen = scenario("queue_limits", live_server.url, players(2), beatmap)
    add = "AddPlaylistItem"
    assert seen == {
        "guestFourth": invalid_state(add, "Can't enqueue more than 3 items at once."),
        "hostFiftyFirst": invalid_state(add, "Can't enqueue more than 50 items at once."),
        "guestInHostOnly": not_host(add),
    }


def test_team_versus_teams_lock_and_slots(
    live_server: LiveServer, beatmap: StoredMap, players: Callable[[int], list[Player]]
) -> None:
    """TeamVersusMatchController: a joiner goes to a team nobody is in, else the smallest
    (ties to the first); ChangeTeamRequest moves them unless SetLockStateRequest locked the
    room; slots split the room by team (StandardMatchController slot rules)."""
    host, a, b = players(3)
    seen = scenario("team_versus", live_server.url, [host, a, b], beatmap)
    teams = [[0, "Team Red"], [1, "Team Blue"]]
    request = "SendMatchRequest"

    def team(team_id: int) -> list[Any]:
        return [TEAM_VERSUS_USER_STATE, [team_id]]

    def room_state(locked: bool, slots: list[int | None] | None) -> list[Any]:
        return [TEAM_VERSUS_ROOM_STATE, [teams, locked, slots]]

    assert seen["initialRoomState"] == room_state(False, None)
    assert seen["hostTeam"] == team(0)
    assert seen["joinTeams"] == {str(a.id): team(1), str(b.id): team(0)}
    assert seen["bMovedSeenBy"] == [team(1)] * 3
    assert seen["outOfRange"] == invalid_state(request, "Attempted to set team out of valid range")
    assert seen["lockedStates"] == [room_state(True, None)] * 3
    assert seen["lockedTeam"] == invalid_state(request, "Teams are currently locked.")
    assert seen["lockedSlot"] == invalid_state(request, "Slots are currently locked.")
    assert seen["noSlots"] == invalid_state(request, "The room does not have slots.")
    # Four slots, two a team: red's host first, blue's A and B in the second half.
    assert seen["slotted"] == room_state(False, [host.id, None, a.id, b.id])
    assert seen["taken"] == invalid_state(request, "The requested slot is already taken.")
    assert seen["invalidSlot"] == invalid_state(request, "Invalid slot.")
    assert seen["moved"] == room_state(False, [host.id, b.id, a.id, None])


def test_auto_start_countdown_starts_the_match(
    live_server: LiveServer, beatmap: StoredMap, players: Callable[[int], list[Player]]
) -> None:
    """AutoStartDuration 2 s: the guest readying starts a MatchStartCountdown of that length;
    its end starts the match (ready and idle players with the map are pulled in)."""
    host, guest = players(2)
    seen = scenario("auto_start", live_server.url, [host, guest], beatmap)
    assert seen["manual"] == invalid_state(
        "SendMatchRequest", "Cannot start manual countdown if auto-start is enabled."
    )
    for event in seen["countdownSeenBy"]:
        kind, (countdown,) = event
        assert kind == COUNTDOWN_STARTED
        assert countdown[0] == MATCH_START_COUNTDOWN
        assert countdown[1][1] == 2 * 10_000_000  # TimeRemaining in ticks
    assert seen["countdownSeenBy"][0] == seen["countdownSeenBy"][1]
    assert seen["roomState"] == WAITING_FOR_LOAD
    assert seen["waitingForLoad"] == [host.id, guest.id]


def test_load_timeout_starts_the_loaded_and_drops_the_rest(
    live_server: LiveServer, beatmap: StoredMap, players: Callable[[int], list[Player]]
) -> None:
    """MULTIPLAYER_LOAD_TIMEOUT_SECONDS is 2 in tests (tests/conftest.py make_settings)."""
    assert live_server.settings.multiplayer_load_timeout_seconds == 2
    host, guest = players(2)
    seen = scenario("load_timeout", live_server.url, [host, guest], beatmap)
    kind, (countdown,) = seen["countdown"]
    assert kind == COUNTDOWN_STARTED and countdown[0] == FORCE_GAMEPLAY_START_COUNTDOWN
    assert countdown[1][1] == 2 * 10_000_000
    assert seen["guestAborted"] == [LOAD_TOOK_TOO_LONG]
    assert seen["guestGotGameplayStarted"] == 0
    assert seen["hostPlaying"] == [host.id, PLAYING]
    assert seen["guestIdle"] == [guest.id, IDLE]


def test_abort_match(
    live_server: LiveServer, beatmap: StoredMap, players: Callable[[int], list[Player]]
) -> None:
    host, guest = players(2)
    seen = scenario("abort_match", live_server.url, [host, guest], beatmap)
    assert seen["notStarted"] == invalid_state(
        "AbortMatch", "Cannot abort a match that hasn't started."
    )
    assert seen["guestAbort"] == not_host("AbortMatch")
    assert seen["aborted"] == [[HOST_ABORTED_THE_MATCH]] * 2
    assert seen["roomStates"] == [OPEN, OPEN]
    assert seen["idle"] == [host.id, guest.id]


def test_kick(
    live_server: LiveServer, beatmap: StoredMap, players: Callable[[int], list[Player]]
) -> None:
    host, a, b = players(3)
    seen = scenario("kick", live_server.url, [host, a, b], beatmap)
    assert seen["byGuest"] == not_host("KickUser")
    assert seen["self"] == invalid_state("KickUser", "Can't kick self")
    assert seen["kickedSeenBy"] == [b.id] * 3
    assert seen["aReady"] == READY
    assert seen["rejoinedUsers"] == [host.id, a.id, b.id]


def test_host_transfer_and_disband(
    live_server: LiveServer, beatmap: StoredMap, players: Callable[[int], list[Player]]
) -> None:
    host, a, b = players(3)

    def ends_at(room_id: int) -> object:
        row = live_server.call(lambda svc: svc.rooms.repo.room(room_id))
        assert row is not None
        return row.ends_at

    def still_open(data: dict[str, Any]) -> None:
        assert ends_at(data["roomId"]) is None

    def disbanded(data: dict[str, Any]) -> None:
        assert ends_at(data["roomId"]) is not None

    seen = scenario(
        "host_transfer",
        live_server.url,
        [host, a, b],
        beatmap,
        steps={"two-left": still_open, "all-left": disbanded},
    )
    assert seen["byGuest"] == not_host("TransferHost")
    assert seen["hostChangedSeenBy"] == [a.id] * 3
    assert seen["oldHostStarts"] == not_host("StartMatch")
    # The host leaving hands the room to the first user still in it.
    assert seen["afterLeave"] == [host.id, host.id]


def _state_change(old: str, new: str) -> str:
    return hub_error(
        "ChangeState", "InvalidStateChangeException", f"Cannot change from {old} to {new}"
    )


_NOT_JOINED = "This user has not yet joined a multiplayer room."
_IN_ANOTHER_ROOM = "Can't join a room when already in another room."
_ADD, _EDIT, _REMOVE = "AddPlaylistItem", "EditPlaylistItem", "RemovePlaylistItem"
_REQUEST, _SETTINGS, _STYLE = "SendMatchRequest", "ChangeSettings", "ChangeUserStyle"

# refusals.mjs's name -> the official text (ppy/osu-server-spectator 6b142c7: MultiplayerHub,
# MultiplayerRoomController, ServerMultiplayerRoom, StandardMatchController; the exception
# classes of ppy/osu).
OFFICIAL_REFUSALS: dict[str, str] = {
    "notJoinedChangeState": hub_error("ChangeState", "NotJoinedRoomException", _NOT_JOINED),
    "notJoinedStartMatch": hub_error("StartMatch", "NotJoinedRoomException", _NOT_JOINED),
    # MultiplayerHub.JoinRoom: a room no instance holds is not created for a joiner who is
    # not its new host; the KeyNotFoundException becomes this InvalidStateException.
    "missingRoom": invalid_state("JoinRoom", "Failed to join the room, please try again."),
    "wrongPassword": hub_error(
        "JoinRoomWithPassword",
        "InvalidPasswordException",
        "Exception of type 'osu.Game.Online.Multiplayer.InvalidPasswordException' was thrown.",
    ),
    "fullRoom": invalid_state("JoinRoomWithPassword", "Not eligible to join this room."),
    "createWhileInRoom": invalid_state("CreateRoom", _IN_ANOTHER_ROOM),
    "joinWhileInRoom": invalid_state("JoinRoomWithPassword", _IN_ANOTHER_ROOM),
    "guestChangeSettings": not_host(_SETTINGS),
    "guestStartMatch": not_host("StartMatch"),
    "guestTransferHost": not_host("TransferHost"),
    "guestKick": not_host("KickUser"),
    "guestStartCountdown": not_host(_REQUEST),
    "guestStopCountdown": not_host(_REQUEST),
    "guestAbortMatch": not_host("AbortMatch"),
    "guestAddInHostOnly": not_host(_ADD),
    # InvalidOperationException("Target user is not in the current room"): no text.
    "kickAbsent": hidden_error("KickUser"),
    "hostNotReady": invalid_state("StartMatch", "Can't start match when the host is not ready."),
    "noUsersReady": invalid_state("StartMatch", "Can't start match when no users are ready."),
    **{
        f"idleTo{state}": _state_change("Idle", state)
        for state in (
            "WaitingForLoad",
            "Playing",
            "FinishedPlay",
            "Results",
        )
    },
    "oneParticipant": invalid_state(_SETTINGS, "Max participants must be between 2 and 16."),
    "seventeenParticipants": invalid_state(_SETTINGS, "Max participants must be between 2 and 16."),
    "playlistsMatchType": invalid_state(_SETTINGS, "Invalid match type selected."),
    "rollOne": invalid_state(
        _REQUEST, "Invalid roll request. Max must be in [2, 100] range inclusive."
    ),
    "rollBeyond": invalid_state(
        _REQUEST, "Invalid roll request. Max must be in [2, 100] range inclusive."
    ),
    "takenSlot": invalid_state(_REQUEST, "The requested slot is already taken."),
    "invalidSlot": invalid_state(_REQUEST, "Invalid slot."),
    "missingBeatmap": invalid_state(
        _ADD, "Attempted to add a beatmap which does not exist online."
    ),
    "modifiedBeatmap": invalid_state(_ADD, "Attempted to add a beatmap which has been modified."),
    "unsupportedRuleset": invalid_state(_ADD, "Attempted to select an unsupported ruleset."),
    "freestyleWithMods": invalid_state(_ADD, "Cannot enqueue freestyle item with mods."),
    "rulesetNotOfBeatmap": invalid_state(
        _ADD, "Attempted to select an invalid beatmap and ruleset combination."
    ),
    "removeOnlyItem": invalid_state(_REMOVE, "The only item in the room cannot be removed."),
    "removeMissingItem": invalid_state(_REMOVE, "Item does not exist in the room."),
    "editMissingItem": invalid_state(_EDIT, "Attempted to change an item that doesn't exist."),
    "guestEditsHostItem": invalid_state(
        _EDIT, "Attempted to change an item which is not owned by the user."
    ),
    "guestRemovesHostItem": invalid_state(
        _REMOVE, "Attempted to remove an item which is not owned by the user."
    ),
    "styleRulesetUnsupported": invalid_state(_STYLE, "Attempted to select an unsupported ruleset."),
    "styleBeatmapMissing": invalid_state(_STYLE, "Invalid beatmap selected."),
    "styleBeatmapOfOtherSet": invalid_state(
        _STYLE, "Selected beatmap is not from the same beatmap set."
    ),
    "styleRulesetNotOfBeatmap": invalid_state(
        _STYLE, "Selected ruleset is not supported for the given beatmap."
    ),
    "readyAllPlayed": invalid_state(
        "ChangeState", "Cannot ready up while all items have been played."
    ),
    "editPlayedItem": invalid_state(
        _EDIT, "Attempted to change an item which has already been played."
    ),
    "removePlayedItem": invalid_state(
        _REMOVE, "Attempted to remove an item which has already been played."
    ),
    "freeStyleNotAllowed": invalid_state(_STYLE, "Current item does not allow free user styles."),
    "modNotAllowed": invalid_state("ChangeUserMods", "Incompatible mods were selected: HD"),
    "abortGameplayOutside": invalid_state(
        "AbortGameplay", "Cannot abort gameplay while not in gameplay."
    ),
    "skipOutside": invalid_state("VoteToSkipIntro", "Cannot skip while not in gameplay."),
    "stopLoadCountdown": invalid_state(_REQUEST, "Cannot stop the requested countdown."),
    "settingsInGame": invalid_state(
        _SETTINGS, "Attempted to change settings while a game is in progress."
    ),
    "countdownInGame": invalid_state(_REQUEST, "Cannot start a countdown during ongoing play."),
    "editCurrentInGame": invalid_state(
        _EDIT, "The current item in the room cannot be edited when currently being played."
    ),
    "removeCurrentInGame": invalid_state(
        _REMOVE, "The current item in the room cannot be removed when currently being played."
    ),
}


@pytest.fixture(scope="module")
def refusals(
    live_server: LiveServer, beatmap: StoredMap, players: Callable[[int], list[Player]]
) -> dict[str, Any]:
    """refusals.mjs, run once for the table below (with a taiko map of another set)."""
    taiko = live_server.call(lambda svc: stored_map(svc, "taiko"))
    other = {"id": taiko.id, "checksum": taiko.checksum}
    return scenario("refusals", live_server.url, players(3), beatmap, taiko=other)


def test_refusals_cover_the_table(refusals: dict[str, Any]) -> None:
    assert sorted(refusals["texts"]) == sorted(OFFICIAL_REFUSALS)


@pytest.mark.parametrize(
    "name",
    list(OFFICIAL_REFUSALS),
)
def test_refusal_text(refusals: dict[str, Any], name: str) -> None:
    assert refusals["texts"][name] == OFFICIAL_REFUSALS[name]


def test_calls_the_official_server_lets_pass(refusals: dict[str, Any]) -> None:
    """LeaveRoom outside a room, a state change to the current state, stopping a countdown
    that does not exist, and the state changes ServerMultiplayerRoom.ChangeUserState ignores
    as crossed in flight (Loaded or ReadyForGameplay outside gameplay, Idle inside it) return
    without an error ("Cannot return to idle without aborting gameplay." is unreachable)."""
    assert refusals["accepted"] == {
        "leaveWithoutRoom": None,
        "readyToReady": None,
        "idleToLoaded": None,
        "idleToReadyForGameplay": None,
        "stopMissingCountdown": None,
        "idleInGame": None,
    }


@pytest.fixture(scope="module")
def owner_stopped(
    tmp_path_factory: pytest.TempPathFactory,
    settings: Settings,
    live_server: LiveServer,
    beatmap: StoredMap,
    players: Callable[[int], list[Player]],
) -> dict[str, Any]:
    """two_instances.mjs against two `python -m server serve` processes on the session's
    MariaDB and Redis (room leases of 2 s: an owner gone is noticed within about 3 s). The
    host is on the owner, two guests on the other instance; the owner gets SIGTERM midway.
    What the users saw, with the ids of the players."""
    if not (TEST_DATABASE_URL and TEST_REDIS_URL):
        pytest.skip(
            "two instances share MariaDB and Redis: set TEST_DATABASE_URL and TEST_REDIS_URL"
        )
    env = child_env(
        settings.data_dir,
        SECRET_KEY=TEST_SECRET_KEY,
        DATABASE_URL=TEST_DATABASE_URL,
        REDIS_URL=TEST_REDIS_URL,
        MULTIPLAYER_LEASE_SECONDS="2",
        # Three users load across two processes: no load timeout on a busy machine.
        MULTIPLAYER_LOAD_TIMEOUT_SECONDS="30",
        TOKEN_RATE_LIMIT_PER_MINUTE="1000000",
        API_RATE_LIMIT_PER_MINUTE="1000000",
        RANK_HISTORY_SNAPSHOT="false",
        OUTBOX_RELAY_SECONDS="0",
        DAILY_CHALLENGE_JOB="false",
        DAILY_CHALLENGE_POLL_SECONDS="0",
    )
    workdir = tmp_path_factory.mktemp("instances")
    servers: list[ServeProcess] = []
    try:
        for _ in range(2):
            servers.append(ServeProcess(workdir, env))
        for server in servers:
            server.wait_ready()
        owner, other = servers
        host, a, b = users = players(3)

        def stop_owner(data: dict[str, Any]) -> None:
            owner.stop()
            assert "Application shutdown complete." in owner.log, owner.log

        seen = scenario(
            "two_instances",
            live_server.url,
            users,
            beatmap,
            steps={"stop-owner": stop_owner},
            bases=[owner.url, other.url],
        )
    finally:
        for server in servers:
            server.stop()
    return {**seen, "host": host.id, "a": a.id, "b": b.id}


def test_two_instances_play_and_kick(owner_stopped: dict[str, Any]) -> None:
    """A round played with the host on one instance and the guests on the other, and a kick
    from the owner that reaches both guests there (calls forwarded, callbacks fanned out)."""
    assert owner_stopped["playedOnBoth"]
    assert owner_stopped["kickSeenOnB"] == [owner_stopped["b"]] * 2


def test_owner_stopped_ends_the_room(
    live_server: LiveServer, owner_stopped: dict[str, Any]
) -> None:
    """The owner closes its connections with the text lazer reconnects on; once its lease
    lapses, the other instance ends the room in the database and closes its members'
    connections with the same text (INSTANCES.md)."""
    shutting_down = "Server returned an error on close: Server is shutting down."
    assert owner_stopped["hostClosed"] == shutting_down
    assert owner_stopped["aClosed"] == shutting_down
    room_id = owner_stopped["roomId"]
    row = live_server.call(lambda svc: svc.rooms.repo.room(room_id))
    assert row is not None and row.ends_at is not None
    events = live_server.call(lambda svc: svc.rooms.repo.events(room_id, None, None, 100))
    assert max(events, key=lambda e: e.id).event_type == "room_disbanded"


def test_owner_stopped_announces_the_shutdown_countdown(owner_stopped: dict[str, Any]) -> None:
    """Every user of the room, on either instance, gets a ServerShuttingDownCountdown before
    the owner's connections close."""
    kinds = [c and c[0] for c in owner_stopped["shutdownCountdown"]]
    assert kinds == [SERVER_SHUTTING_DOWN_COUNTDOWN] * 2
