"""The authorization-code grant as independent clients run it, over HTTP: requests-oauthlib's
WebApplicationClient (with and without PKCE) and ossapi's authorization-code grant, each
driven through our sign-in and consent page by a cookie-keeping `requests` session."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from oauthlib.oauth2 import WebApplicationClient  # type: ignore[import-untyped]
from requests_oauthlib import OAuth2Session  # type: ignore[import-untyped]

from tests.conformance.conftest import HTTP_TIMEOUT, register
from tests.conformance.live_server import LiveServer
from tests.conformance.test_ossapi import (
    _osu_web_nullable_daily_challenge_dates,
    bounded,
    ossapi_class,
)
from tests.helpers import LAZER_CLIENT_ID, LAZER_SECRET, Account
from tests.oauth_flow import hidden_fields

__all__ = ["_osu_web_nullable_daily_challenge_dates"]  # the fixture, used by name


@pytest.fixture(autouse=True)
def _plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _register_app(live_server: LiveServer, redirect_uri: str) -> tuple[int, str]:
    """An app registered through our client-management API by its owner."""
    owner = register(live_server)
    token = requests.post(
        f"{live_server.url}/oauth/token",
        data={
            "grant_type": "password",
            "client_id": LAZER_CLIENT_ID,
            "client_secret": LAZER_SECRET,
            "username": owner.username,
            "password": owner.password,
            "scope": "*",
        },
        timeout=HTTP_TIMEOUT,
    ).json()["access_token"]
    created = requests.post(
        f"{live_server.url}/oauth/clients",
        data={"name": "Conformance Site", "redirect": redirect_uri},
        headers={"Authorization": f"Bearer {token}"},
        timeout=HTTP_TIMEOUT,
    )
    assert created.status_code == 201, created.text
    return int(created.json()["id"]), str(created.json()["secret"])


def _consent(live_server: LiveServer, url: str, account: Account) -> str:
    """A browser: open the page, sign in, authorize; the redirect back to the app."""
    browser = requests.Session()
    page = browser.get(url, timeout=HTTP_TIMEOUT)
    assert page.status_code == 200, page.text
    signed_in = browser.post(
        f"{live_server.url}/oauth/authorize",
        data={
            **hidden_fields(page.text),
            "action": "login",
            "username": account.username,
            "password": account.password,
        },
        timeout=HTTP_TIMEOUT,
    )
    # requests follows the 303 back to the consent page.
    assert signed_in.status_code == 200 and 'value="approve"' in signed_in.text
    answer = browser.post(
        f"{live_server.url}/oauth/authorize",
        data={**hidden_fields(signed_in.text), "action": "approve"},
        allow_redirects=False,
        timeout=HTTP_TIMEOUT,
    )
    assert answer.status_code == 302, answer.text
    return str(answer.headers["location"])


@pytest.mark.parametrize("pkce", [False, True], ids=["secret", "pkce"])
def test_requests_oauthlib_web_application_client(
    live_server: LiveServer, live_account: Account, pkce: bool
) -> None:
    redirect_uri = "http://127.0.0.1:9/callback"
    client_id, secret = _register_app(live_server, redirect_uri)
    client = WebApplicationClient(client_id)
    session = OAuth2Session(
        client=client,
        redirect_uri=redirect_uri,
        scope=["identify", "public"],
        pkce="S256" if pkce else None,
    )
    url, state = session.authorization_url(f"{live_server.url}/oauth/authorize")
    callback = _consent(live_server, url, live_account)
    assert parse_qs(urlsplit(callback).query)["state"] == [state]
    fetch: dict[str, Any] = {"include_client_id": True}
    if not pkce:
        fetch["client_secret"] = secret
    token = session.fetch_token(
        f"{live_server.url}/oauth/token",
        authorization_response=callback,
        timeout=HTTP_TIMEOUT,
        **fetch,
    )
    assert token["token_type"].lower() == "bearer" and token["refresh_token"]
    me = session.get(f"{live_server.url}/api/v2/me", timeout=HTTP_TIMEOUT)
    assert me.status_code == 200 and me.json()["id"] == live_account.id
    # The code worked once.
    with pytest.raises(Exception, match="invalid_grant"):
        session.fetch_token(
            f"{live_server.url}/oauth/token",
            authorization_response=callback,
            timeout=HTTP_TIMEOUT,
            **fetch,
        )


# ossapi 5.3.6 still passes `client_id` to oauthlib's fetch_token, which warns about it.
@pytest.mark.filterwarnings("ignore:`client_id` has been deprecated:DeprecationWarning")
@pytest.mark.usefixtures(_osu_web_nullable_daily_challenge_dates.__name__)
def test_ossapi_authorization_code_grant(
    live_server: LiveServer, live_account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    redirect_uri = f"http://localhost:{port}/"
    client_id, secret = _register_app(live_server, redirect_uri)

    def browser_open(url: str) -> bool:
        # ossapi opens the page and then waits on a socket for the redirect; the "browser"
        # signs in, authorizes and follows the redirect to that socket.
        def run() -> None:
            callback = _consent(live_server, url, live_account)
            for _ in range(100):
                try:
                    requests.get(callback, timeout=HTTP_TIMEOUT)
                    return
                except requests.ConnectionError:
                    threading.Event().wait(0.05)

        threading.Thread(target=run, daemon=True).start()
        return True

    monkeypatch.setattr("webbrowser.open", browser_open)
    api_class = ossapi_class(live_server)
    api = bounded(
        lambda: api_class(
            str(client_id),  # requests warns about an int username in HTTP Basic
            secret,
            redirect_uri,
            ["identify", "public"],
            grant="authorization",
            token_directory=str(tmp_path),
        )
    )
    me = bounded(api.get_me)
    assert me.id == live_account.id and me.username == live_account.username
