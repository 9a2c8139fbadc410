"""The token endpoint as an independent RFC 6749 client (requests-oauthlib) sees it, over HTTP."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
import requests
from oauthlib.oauth2 import (  # type: ignore[import-untyped]
    BackendApplicationClient,
    InvalidGrantError,
    InvalidScopeError,
    LegacyApplicationClient,
    UnauthorizedClientError,
)
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session  # type: ignore[import-untyped]

from tests.conformance.conftest import HTTP_TIMEOUT
from tests.conformance.live_server import LiveServer, ThirdPartyClient
from tests.helpers import LAZER_CLIENT_ID, LAZER_SECRET, Account

UNAUTHENTICATED = {"authentication": "basic"}


@pytest.fixture(autouse=True)
def _plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    # oauthlib refuses http:// token URLs unless told the transport is a test loopback.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def _password_session(
    live_server: LiveServer, account: Account, client_auth: str
) -> tuple[OAuth2Session, dict[str, Any]]:
    """Sign in with the password grant, sending client credentials as `client_auth` says."""
    session = OAuth2Session(client=LegacyApplicationClient(client_id=LAZER_CLIENT_ID))
    token = session.fetch_token(
        token_url=f"{live_server.url}/oauth/token",
        username=account.username,
        password=account.password,
        client_id=LAZER_CLIENT_ID,
        client_secret=LAZER_SECRET,
        # client_secret_post puts the credentials in the body; otherwise HTTP Basic.
        include_client_id=client_auth == "client_secret_post",
        timeout=HTTP_TIMEOUT,
    )
    return session, token


def _refresh(session: OAuth2Session, live_server: LiveServer, refresh_token: str) -> dict[str, Any]:
    return session.refresh_token(  # type: ignore[no-any-return]
        f"{live_server.url}/oauth/token",
        refresh_token=refresh_token,
        auth=HTTPBasicAuth(LAZER_CLIENT_ID, LAZER_SECRET),
        timeout=HTTP_TIMEOUT,
    )


def _get_me(live_server: LiveServer, access_token: str) -> requests.Response:
    return requests.get(
        f"{live_server.url}/api/v2/me/",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=HTTP_TIMEOUT,
    )


@pytest.mark.parametrize("client_auth", ["client_secret_basic", "client_secret_post"])
def test_password_grant_then_refresh_rotates_tokens(
    live_server: LiveServer, live_account: Account, client_auth: str
) -> None:
    """Password grant, /me, refresh: both tokens rotate and the old access token dies (S-TOK-5)."""
    session, first = _password_session(live_server, live_account, client_auth)
    assert first["token_type"] == "Bearer"
    assert first["expires_in"] > 0
    assert first["refresh_token"]

    me = session.get(f"{live_server.url}/api/v2/me/", timeout=HTTP_TIMEOUT)
    assert me.status_code == 200, me.text
    assert me.json()["id"] == live_account.id
    assert me.json()["username"] == live_account.username

    second = _refresh(session, live_server, first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert session.token["access_token"] == second["access_token"]

    me = session.get(f"{live_server.url}/api/v2/me", timeout=HTTP_TIMEOUT)
    assert me.status_code == 200, me.text
    assert me.json()["id"] == live_account.id

    stale = _get_me(live_server, first["access_token"])
    assert stale.status_code == 401
    assert stale.json() == UNAUTHENTICATED


def test_reused_refresh_token_is_refused_and_revokes_the_family(
    live_server: LiveServer, live_account: Account
) -> None:
    """A rotated refresh token is refused; its reuse revokes the whole sign-in (S-TOK-5/6)."""
    session, first = _password_session(live_server, live_account, "client_secret_basic")
    second = _refresh(session, live_server, first["refresh_token"])
    assert _get_me(live_server, second["access_token"]).status_code == 200

    with pytest.raises(InvalidGrantError):
        _refresh(session, live_server, first["refresh_token"])

    revoked = _get_me(live_server, second["access_token"])
    assert revoked.status_code == 401
    assert revoked.json() == UNAUTHENTICATED
    with pytest.raises(InvalidGrantError):
        _refresh(session, live_server, second["refresh_token"])


def test_refresh_token_is_bound_to_its_client(
    live_server: LiveServer, live_account: Account, third_party_client: ThirdPartyClient
) -> None:
    """Another client cannot redeem lazer's refresh token (S-TOK-5), and the token stays usable."""
    session, first = _password_session(live_server, live_account, "client_secret_basic")
    with pytest.raises(InvalidGrantError):
        session.refresh_token(
            f"{live_server.url}/oauth/token",
            refresh_token=first["refresh_token"],
            auth=HTTPBasicAuth(str(third_party_client.id), third_party_client.secret),
            timeout=HTTP_TIMEOUT,
        )
    assert _get_me(live_server, first["access_token"]).status_code == 200
    again = _refresh(session, live_server, first["refresh_token"])
    assert again["refresh_token"] != first["refresh_token"]


def test_client_credentials_token_reads_public_data_only(
    live_server: LiveServer, live_account: Account, third_party_client: ThirdPartyClient
) -> None:
    """A client-credentials token is `public`, userless: reads users, is refused /me (S-TOK-4)."""
    session = OAuth2Session(client=BackendApplicationClient(client_id=str(third_party_client.id)))
    token = session.fetch_token(
        token_url=f"{live_server.url}/oauth/token",
        client_id=str(third_party_client.id),
        client_secret=third_party_client.secret,
        timeout=HTTP_TIMEOUT,
    )
    assert token["token_type"] == "Bearer"
    assert "refresh_token" not in token  # RFC 6749 §4.4.3
    # Passport-style JWT claims, which aiosu reads client-side.
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert claims["scopes"] == ["public"]
    assert claims["sub"] == ""
    assert claims["aud"] == str(third_party_client.id)

    user = session.get(
        f"{live_server.url}/api/v2/users/{live_account.id}/osu", timeout=HTTP_TIMEOUT
    )
    assert user.status_code == 200, user.text
    assert user.json()["id"] == live_account.id
    assert user.json()["username"] == live_account.username

    me = session.get(f"{live_server.url}/api/v2/me", timeout=HTTP_TIMEOUT)
    assert me.status_code == 401
    assert me.json() == UNAUTHENTICATED


def test_client_credentials_response_has_no_refresh_token_field(
    live_server: LiveServer, third_party_client: ThirdPartyClient
) -> None:
    """Client credentials answer without a refresh_token key, as Passport does (RFC 6749 §4.4.3)."""
    response = requests.post(
        f"{live_server.url}/oauth/token",
        data={"grant_type": "client_credentials", "scope": "public"},
        auth=(str(third_party_client.id), third_party_client.secret),
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()


def test_client_credentials_cannot_request_a_user_scope(
    live_server: LiveServer, third_party_client: ThirdPartyClient
) -> None:
    """Client credentials asking for `*` or `identify` get invalid_scope, not a token (S-TOK-4)."""
    for scope in (["*"], ["identify"]):
        session = OAuth2Session(
            client=BackendApplicationClient(client_id=str(third_party_client.id), scope=scope)
        )
        with pytest.raises(InvalidScopeError):
            session.fetch_token(
                token_url=f"{live_server.url}/oauth/token",
                client_id=str(third_party_client.id),
                client_secret=third_party_client.secret,
                timeout=HTTP_TIMEOUT,
            )


def test_password_grant_is_refused_to_third_party_clients(
    live_server: LiveServer, live_account: Account, third_party_client: ThirdPartyClient
) -> None:
    """Only the first-party lazer client may use the password grant (S-TOK-8)."""
    session = OAuth2Session(client=LegacyApplicationClient(client_id=str(third_party_client.id)))
    with pytest.raises(UnauthorizedClientError):
        session.fetch_token(
            token_url=f"{live_server.url}/oauth/token",
            username=live_account.username,
            password=live_account.password,
            client_id=str(third_party_client.id),
            client_secret=third_party_client.secret,
            timeout=HTTP_TIMEOUT,
        )
