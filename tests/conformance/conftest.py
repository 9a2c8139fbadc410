"""Conformance fixtures: the real server on a loopback port, for independent HTTP clients.

The live server shares the session's backends: it starts after the `app` fixture has wiped
and migrated the database, then opens its own create_app(settings) on the same data.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from starlette.applications import Starlette

from server.settings import Settings
from tests.conformance.live_server import LiveServer, ThirdPartyClient, bind_loopback
from tests.conformance.sweep_data import SweepData, build
from tests.conftest import make_settings
from tests.helpers import Account, lazer_multipart, unique_name

# Every blocking HTTP call in these tests is bounded: a hung server fails the test instead
# of hanging the run.
HTTP_TIMEOUT = 10.0


@pytest.fixture(scope="session")
def live_server(app: Starlette, settings: Settings) -> Iterator[LiveServer]:
    """The app under uvicorn on 127.0.0.1, started once per session."""
    sock = bind_loopback()
    host, port = sock.getsockname()[:2]
    live_settings = make_settings(settings.data_dir, SERVER_URL=f"http://{host}:{port}")
    server = LiveServer(live_settings, sock)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def register(live_server: LiveServer, password: str | None = None) -> Account:
    """Register an account over the wire as lazer does (multipart POST /users)."""
    username = unique_name("c")
    password = password or f"pw-{unique_name('')}"
    email = f"{username}@example.com"
    body, headers = lazer_multipart(
        {"user[username]": username, "user[user_email]": email, "user[password]": password}
    )
    response = requests.post(
        f"{live_server.url}/users", data=body, headers=headers, timeout=HTTP_TIMEOUT
    )
    assert response.status_code == 200, response.text
    return Account(username, email, password, response.json()["id"])


@pytest.fixture
def live_account(live_server: LiveServer) -> Account:
    """A freshly registered account on the live server."""
    return register(live_server)


@pytest.fixture(scope="session")
def third_party_client(live_server: LiveServer) -> ThirdPartyClient:
    """A registered third-party OAuth client (client credentials only)."""
    return live_server.register_client("conformance-bot")


@pytest.fixture(scope="session")
def sweep(live_server: LiveServer) -> SweepData:
    """The client sweep's data set on the live server, built once per session."""
    return live_server.call(lambda svc: build(svc, live_server.url), timeout=180)
