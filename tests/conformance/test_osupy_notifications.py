"""osu.py 4.3.1's notification socket client (clients.md §1: an independent client of the
chat socket) against the live server: it starts chat, hears the server-side join and each
message exactly once, with the sender in `users`; when its account is restricted it receives
`logout` and its connection ends.

osu.py's `notifications` extra needs websockets<14, which the test venv cannot have
(aiosignalr needs 16), so it runs in a venv of its own made on first use; without a
package registry the test is skipped.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conformance.conftest import HTTP_TIMEOUT, register
from tests.conformance.live_server import LiveServer
from tests.conformance.test_signalr_clients import token_for
from tests.integration.test_moderation import _listening

SCRIPT = Path(__file__).parent / "osupy" / "listen.py"
OSUPY = "osu.py[notifications]==4.3.1"
VENV = Path(tempfile.gettempdir()) / "osu-lean-server-osupy-4.3.1"

pytestmark = pytest.mark.slow


def _osupy_python() -> Path:
    python = VENV / "bin" / "python"
    if python.exists():
        return python
    made = subprocess.run(
        [sys.executable, "-m", "venv", str(VENV)], capture_output=True, timeout=120, check=False
    )
    if made.returncode == 0:
        made = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", OSUPY],
            capture_output=True,
            timeout=300,
            check=False,
        )
    if made.returncode != 0:
        pytest.skip(f"osu.py could not be installed: {made.stderr.decode()[-300:]}")
    return python


class _Lines:
    """JSON lines from the client process, read with a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.seen: list[dict[str, Any]] = []

    def next(self, timeout: float) -> dict[str, Any] | None:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.process.stdout.readline()
        if not line:
            return None
        event: dict[str, Any] = json.loads(line)
        self.seen.append(event)
        return event

    def until(self, kind: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            event = self.next(left)
            if event is not None and event["event"] == kind:
                return event
        raise AssertionError(f"no {kind} event; saw {self.seen}")


def _start(live_server: LiveServer, python: Path, token: str) -> subprocess.Popen[str]:
    ws_url = live_server.url.replace("http://", "ws://") + "/notifications"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [str(python), str(SCRIPT), ws_url, token, "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _join(live_server: LiveServer, token: str, channel: int, user: int, method: str) -> None:
    response = requests.request(
        method,
        f"{live_server.url}/api/v2/chat/channels/{channel}/users/{user}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code in (200, 204), response.text


def test_osupy_hears_a_message_once(live_server: LiveServer) -> None:
    python = _osupy_python()
    listener, speaker = register(live_server), register(live_server)
    listen_token, speak_token = token_for(live_server, listener), token_for(live_server, speaker)
    channels = requests.get(
        f"{live_server.url}/api/v2/chat/channels",
        headers={"Authorization": f"Bearer {listen_token}"},
        timeout=HTTP_TIMEOUT,
    ).json()
    osu = next(c["channel_id"] for c in channels if c["name"] == "#osu")
    _join(live_server, speak_token, osu, speaker.id, "PUT")
    process = _start(live_server, python, listen_token)
    try:
        lines = _Lines(process)
        lines.until("started")
        # chat.start takes effect on the server a moment after it is sent: join (a
        # server-sent chat.channel.join) until osu.py reports one.
        deadline = time.monotonic() + 10
        while True:
            _join(live_server, listen_token, osu, listener.id, "PUT")
            event = lines.next(0.5)
            while event is not None and event["event"] != "join":
                event = lines.next(0.5)
            if event is not None:
                assert event["channel_id"] == osu and event["name"] == "#osu"
                break
            assert time.monotonic() < deadline, lines.seen
            _join(live_server, listen_token, osu, listener.id, "DELETE")
        sent = requests.post(
            f"{live_server.url}/api/v2/chat/channels/{osu}/messages",
            data={"message": "hello osu.py", "is_action": "false"},
            headers={"Authorization": f"Bearer {speak_token}"},
            timeout=HTTP_TIMEOUT,
        )
        assert sent.status_code == 200, sent.text
        message = lines.until("message")
        assert message["messages"] == [
            {
                "message_id": sent.json()["message_id"],
                "content": "hello osu.py",
                "sender_id": speaker.id,
            }
        ]
        assert message["users"] == [speaker.id]
        while lines.next(0.5) is not None:
            pass
        assert [e for e in lines.seen if e["event"] == "message"] == [message]
    finally:
        process.kill()
        _, stderr = process.communicate(timeout=10)
    assert "Traceback" not in stderr, stderr


def test_osupy_hears_logout_when_restricted(live_server: LiveServer) -> None:
    """osu-web User::resetSessions on restriction: the connected client is sent `logout`
    (osu.py's on_logout), then the socket ends and osu.py's loop returns."""
    python = _osupy_python()
    account = register(live_server)
    token = token_for(live_server, account)
    process = _start(live_server, python, token)
    try:
        lines = _Lines(process)
        lines.until("started")
        deadline = time.monotonic() + 10
        while not live_server.call(lambda svc: _listening(svc, account.id)):
            assert time.monotonic() < deadline, "the socket never subscribed"
            time.sleep(0.05)

        async def restrict(svc: Any) -> None:
            user = await svc.users.by_id(account.id)
            assert user is not None
            await svc.moderation.restrict(user, None, "conformance")

        live_server.call(restrict)
        lines.until("logout")
        assert process.wait(timeout=10) == 0  # osu.py's loop ended with the connection
    finally:
        process.kill()
        _, stderr = process.communicate(timeout=10)
    assert "Traceback" not in stderr, stderr
    me = requests.get(
        f"{live_server.url}/api/v2/me",
        headers={"Authorization": f"Bearer {token}"},
        timeout=HTTP_TIMEOUT,
    )
    assert me.status_code == 401
