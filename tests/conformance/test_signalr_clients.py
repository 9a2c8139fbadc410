"""SignalR clients we did not write, against the live server (clients.md §2): the official
@microsoft/signalr client with its MessagePack protocol under Node, and signalrcore.

They negotiate (and skip negotiation), invoke with and without awaiting, receive server
calls, and stay connected through more than 30 s without application messages, which only
works if the server pings (lazer-protocol.md §6.1).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from tests.conformance.conftest import HTTP_TIMEOUT, register
from tests.conformance.live_server import LiveServer
from tests.helpers import LAZER_CLIENT_ID, LAZER_SECRET, Account, lazer_multipart

NODE_DIR = Path(__file__).parent / "node"
SILENCE_SECONDS = 32


def token_for(live_server: LiveServer, account: Account) -> str:
    body, headers = lazer_multipart(
        {
            "username": account.username,
            "password": account.password,
            "grant_type": "password",
            "client_id": LAZER_CLIENT_ID,
            "client_secret": LAZER_SECRET,
            "scope": "*",
        }
    )
    response = requests.post(
        f"{live_server.url}/oauth/token", data=body, headers=headers, timeout=HTTP_TIMEOUT
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _node_ready() -> str | None:
    """Why the Node client cannot run, or None when it can."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are needed for the @microsoft/signalr conformance test"
    if not (NODE_DIR / "node_modules" / "@microsoft" / "signalr").is_dir():
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            timeout=180,
            check=False,
        )
        if done.returncode != 0:
            return f"npm ci failed: {done.stderr.decode()[-500:]}"
    return None


@pytest.mark.slow
def test_official_node_client(live_server: LiveServer) -> None:
    """@microsoft/signalr 10.0.11 + msgpack: negotiate and skip-negotiation, awaited and
    non-blocking invocations, server calls with lazer-typed payloads, 32 s of silence."""
    reason = _node_ready()
    if reason is not None:
        pytest.skip(reason)
    player, watcher = register(live_server), register(live_server)
    done = subprocess.run(
        [
            "node",
            "client.mjs",
            live_server.url,
            token_for(live_server, player),
            str(player.id),
            token_for(live_server, watcher),
            str(SILENCE_SECONDS),
        ],
        cwd=NODE_DIR,
        capture_output=True,
        timeout=SILENCE_SECONDS + 40,
        check=False,
    )
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()
    seen = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert seen["dailyChallenge"] is None
    assert seen["presenceEcho"] == [player.id, [None, 2]]
    assert seen["changes"] == [[], 0]
    assert seen["startedWatching"] == [[watcher.id, watcher.username]]
    assert seen["began"] == [player.id, [1816113, 0, [["HD", []]], 1, {}]]
    user_id, (header, frames) = seen["frames"]
    assert user_id == player.id and header[0] == 123456 and len(frames) == 2
    assert frames[0][:2] == [0.0, 100.5]
    assert seen["finished"][1][3] == 3
    assert "Method does not exist" in seen["unknownMethodError"]
    assert seen["statesAfterSilence"] == ["Connected"] * 3
    assert seen["changesAfterSilence"] == [[], 0]
