"""The multiplayer hub through the official @microsoft/signalr client with its MessagePack
protocol under Node, two and three users per room against the live server: queue order and
limits, team versus, countdowns, kick, host transfer, disband, abort, the load timeout and
the refusal texts (tests/conformance/node/mp/*.mjs, one scenario per test).

Every expected text is the official server's (ppy/osu-server-spectator at 6b142c7, and the
exception classes of ppy/osu `osu.Game/Online/Multiplayer`), written out here rather than
taken from our constants, as ASP.NET Core shows them to a client: a HubException's subclass
as "An unexpected error occurred invoking '<method>' on the server. <Type>: <text>", any
other exception without its text (the official server does not enable detailed errors).
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conformance.conftest import register
from tests.conformance.live_server import LiveServer
from tests.conformance.test_signalr_clients import NODE_DIR, _node_ready, token_for
from tests.score_play import StoredMap, stored_map

pytestmark = pytest.mark.slow

SCENARIO_SECONDS = 60
# MultiplayerUserState, MultiplayerRoomState, GameplayAbortReason as lazer numbers them.
IDLE, READY, WAITING_FOR_LOAD = 0, 1, 2
OPEN = 0
LOAD_TOOK_TOO_LONG, HOST_ABORTED_THE_MATCH = 0, 1
# Union ids: MatchServerEvent CountdownStartedEvent, MultiplayerCountdown members,
# MatchRoomState TeamVersusRoomState, MatchUserState TeamVersusUserState.
COUNTDOWN_STARTED = 0
MATCH_START_COUNTDOWN, FORCE_GAMEPLAY_START_COUNTDOWN, SERVER_SHUTTING_DOWN_COUNTDOWN = 0, 1, 2
TEAM_VERSUS_ROOM_STATE = TEAM_VERSUS_USER_STATE = 0


def hub_error(method: str, exception: str, text: str) -> str:
    """What the client sees for a HubException subclass thrown by `method`."""
    return f"An unexpected error occurred invoking '{method}' on the server. {exception}: {text}"


def invalid_state(method: str, text: str) -> str:
    return hub_error(method, "InvalidStateException", text)


def not_host(method: str) -> str:
    return hub_error(
        method,
        "NotHostException",
        "User is attempting to perform a host level operation while not the host",
    )


def hidden_error(method: str) -> str:
    """A non-HubException (InvalidOperationException, ...): its text is not sent."""
    return f"An unexpected error occurred invoking '{method}' on the server."


class Player:
    """A registered account with a lazer access token."""

    def __init__(self, live_server: LiveServer) -> None:
        account = register(live_server)
        self.id = account.id
        self.token = token_for(live_server, account)

    def wire(self) -> dict[str, Any]:
        return {"id": self.id, "token": self.token}


@pytest.fixture(scope="module")
def node(live_server: LiveServer) -> None:
    reason = _node_ready()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def beatmap(live_server: LiveServer, node: None) -> StoredMap:
    return live_server.call(stored_map)


@pytest.fixture(scope="module")
def players(live_server: LiveServer, node: None) -> Iterator[Callable[[int], list[Player]]]:
    """`players(n)`: n fresh accounts (a user is in one room at a time)."""
    yield lambda n: [Player(live_server) for _ in range(n)]


def scenario(
    name: str,
    base: str,
    users: list[Player],
    beatmap: StoredMap,
    steps: dict[str, Callable[[dict[str, Any]], None]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Run node/mp/<name>.mjs; answer each step it prints after running `steps[step]`; what
    it observed."""
    argument = {
        "base": base,
        "users": [u.wire() for u in users],
        "beatmap": {"id": beatmap.id, "checksum": beatmap.checksum},
        **extra,
    }
    with subprocess.Popen(
        ["node", f"mp/{name}.mjs", json.dumps(argument)],
        cwd=NODE_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        # A hung client or server fails the test instead of hanging the run.
        watchdog = threading.Timer(SCENARIO_SECONDS, process.kill)
        watchdog.start()
        try:
            while True:
                line = process.stdout.readline().decode()
                assert line, f"{name}.mjs ended early: {process.communicate()[1].decode()}"
                data: dict[str, Any] = json.loads(line)
                assert "error" not in data, data["error"]
                if "step" not in data:
                    break
                (steps or {})[data["step"]](data)
                process.stdin.write(b"go\n")
                process.stdin.flush()
            _, stderr = process.communicate()
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, stderr.decode()
    return data


def test_round_robin_order_of_three_users(
    live_server: LiveServer, beatmap: StoredMap, players: Callable[[int], list[Player]]
) -> None:
    """Round robin (StandardMatchController.updatePlaylistOrder): each owner's first item in
    the order of the first round, then each owner's second in that owner order. The host's
    item came with the room, A added two, B one, the host a second: host, A, B, host, A."""
    host, a, b = players(3)
    seen = scenario("round_robin", live_server.url, [host, a, b], beatmap)
    owners = [host.id, a.id, b.id, host.id, a.id]
    for queue in seen["queues"]:
        assert [i["owner"] for i in queue] == owners
        assert [i["order"] for i in queue] == [0, 1, 2, 3, 4]
    assert seen["queues"][0] == seen["queues"][1] == seen["queues"][2]
    assert seen["queues"][0][0]["id"] == seen["firstItem"] == seen["currentItem"]


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
