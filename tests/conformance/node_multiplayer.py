"""The Node multiplayer scenarios' runner (node/mp/*.mjs with @microsoft/signalr and its
MessagePack protocol) and the official error texts as the client sees them.

ASP.NET Core shows a HubException's subclass to a client as "An unexpected error occurred
invoking '<method>' on the server. <Type>: <text>", and any other exception without its text
(the official server, ppy/osu-server-spectator, does not enable detailed errors).
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from typing import Any

from tests.conformance.conftest import register
from tests.conformance.live_server import LiveServer
from tests.conformance.test_signalr_clients import NODE_DIR, token_for
from tests.score_play import StoredMap

SCENARIO_SECONDS = 60


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
