"""OAuth apps (issue 16): the consent page, the authorization-code grant with PKCE, and the
clients users register and authorize."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server.services.oauth_apps import pkce_challenge
from tests.conftest import _LifespanStateTransport
from tests.helpers import SignedIn, sign_in, signup
from tests.oauth_flow import (
    approve_in_browser,
    authorize_url,
    csrf_of,
    hidden_fields,
    query_of,
)

CALLBACK = "http://localhost:8765/callback"


@pytest.fixture
async def browser(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client with its own cookie jar, as a separate browser."""
    transport = _LifespanStateTransport(app, "198.18.0.9")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _app(client: httpx.AsyncClient, owner: SignedIn, **fields: str) -> dict[str, Any]:
    created = await client.post(
        "/oauth/clients",
        data={"name": "Stats Site", "redirect": f"{CALLBACK} http://other/cb", **fields},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


async def _exchange(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    return await client.post("/oauth/token", data={"grant_type": "authorization_code", **fields})


async def test_sign_in_consent_and_code_exchange(
    client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    owner = await sign_in(client, await signup(client))
    player = await signup(client)
    registered = await _app(client, owner)
    url = authorize_url(registered["id"], CALLBACK, scope="identify public", state="s t&ate")

    page = await browser.get(url)
    assert page.status_code == 200
    assert "Sign in to continue to Stats Site" in page.text and "<script" not in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    fields = hidden_fields(page.text)
    # A form without its CSRF token, or with another session's, is refused.
    forged = await browser.post(
        "/oauth/authorize",
        data={**fields, "_csrf": "x", "action": "login", "username": player.username},
    )
    assert forged.status_code == 403
    wrong = await browser.post(
        "/oauth/authorize",
        data={**fields, "action": "login", "username": player.username, "password": "nope"},
    )
    assert wrong.status_code == 422 and "Incorrect sign in" in wrong.text
    answer = await approve_in_browser(browser, url, player.username, player.password)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(CALLBACK + "?")
    back = query_of(location)
    assert back["state"] == "s t&ate"

    # Exact redirect_uri, client authentication, single use.
    common = {"client_id": str(registered["id"]), "client_secret": registered["secret"]}
    assert (
        await _exchange(client, code=back["code"], redirect_uri="http://other/cb", **common)
    ).status_code == 400
    # The failed exchange above used the code up (single use), so get another.
    answer = await approve_in_browser(browser, url, player.username, player.password)
    code = query_of(answer.headers["location"])["code"]
    bad_secret = {**common, "client_secret": "wrong"}
    assert (
        await _exchange(client, code=code, redirect_uri=CALLBACK, **bad_secret)
    ).status_code == 401
    tokens = await _exchange(client, code=code, redirect_uri=CALLBACK, **common)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["refresh_token"]
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    me = await client.get("/api/v2/me", headers=bearer)
    assert me.status_code == 200 and me.json()["id"] == player.id
    # identify + public only: no chat, no lazer-only routes.
    assert (await client.get("/api/v2/chat/channels", headers=bearer)).status_code == 403
    again = await _exchange(client, code=code, redirect_uri=CALLBACK, **common)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

    # The player sees the app among their authorized apps and can take its access away.
    player_token = await sign_in(client, player)
    listed = await client.get("/oauth/authorized-clients", headers=player_token.headers)
    assert [(c["id"], sorted(c["scopes"])) for c in listed.json()] == [
        (registered["id"], ["identify", "public"])
    ]
    revoked = await client.delete(
        f"/oauth/authorized-clients/{registered['id']}", headers=player_token.headers
    )
    assert revoked.status_code == 204
    assert (await client.get("/api/v2/me", headers=bearer)).status_code == 401
    assert (
        await client.get("/oauth/authorized-clients", headers=player_token.headers)
    ).json() == []


async def test_deny_and_requests_that_cannot_be_authorized(
    client: httpx.AsyncClient, browser: httpx.AsyncClient
) -> None:
    owner = await sign_in(client, await signup(client))
    player = await signup(client)
    registered = await _app(client, owner)
    url = authorize_url(registered["id"], CALLBACK, state="abc")

    page = await browser.get(url)
    signed_in = await browser.post(
        "/oauth/authorize",
        data={
            **hidden_fields(page.text),
            "action": "login",
            "username": player.username,
            "password": player.password,
        },
    )
    consent = await browser.get(signed_in.headers["location"])
    assert "Stats Site wants to access your account" in consent.text
    assert "Identify you and read your public profile." in consent.text
    denied = await browser.post(
        "/oauth/authorize", data={**hidden_fields(consent.text), "action": "deny"}
    )
    assert denied.status_code == 302
    assert query_of(denied.headers["location"]) == {
        "error": "access_denied",
        "error_description": "The resource owner or authorization server denied the request.",
        "state": "abc",
    }
    # An old token (another session's nonce) does not work after signing in again.
    stale = await browser.post(
        "/oauth/authorize",
        data={**hidden_fields(page.text), "_csrf": csrf_of(page.text), "action": "approve"},
    )
    assert stale.status_code == 403

    # Unknown client or unregistered redirect: an error page, never a redirect.
    for bad in (
        authorize_url(999_999, CALLBACK),
        authorize_url(registered["id"], "http://evil.example/cb"),
        authorize_url(registered["id"], CALLBACK + "/"),
        authorize_url(5, CALLBACK),  # lazer's own client
        authorize_url(10**30, CALLBACK),
        "/oauth/authorize",
    ):
        response = await browser.get(bad)
        assert response.status_code == 400 and "location" not in response.headers
    # Errors the app can be told about go back to it.
    for extra, error in (
        ({"scope": "*"}, "invalid_scope"),
        ({"scope": "identify lazer"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request"),
    ):
        params = authorize_url(registered["id"], CALLBACK, **extra)
        response = await browser.get(params)
        assert response.status_code == 302, (extra, response.text)
        assert query_of(response.headers["location"])["error"] == error


async def test_pkce_public_client(client: httpx.AsyncClient, browser: httpx.AsyncClient) -> None:
    owner = await sign_in(client, await signup(client))
    player = await signup(client)
    registered = await _app(client, owner)
    verifier = "v" * 20 + "-._~" + "A1" * 12
    url = authorize_url(
        registered["id"],
        CALLBACK,
        code_challenge=pkce_challenge(verifier),
        code_challenge_method="S256",
    )

    async def code() -> str:
        answer = await approve_in_browser(browser, url, player.username, player.password)
        return query_of(answer.headers["location"])["code"]

    public = {"client_id": str(registered["id"]), "redirect_uri": CALLBACK}
    wrong = await _exchange(client, code=await code(), code_verifier="w" * 43, **public)
    assert wrong.status_code == 400
    missing = await _exchange(client, code=await code(), **public)
    assert missing.status_code == 400
    ok = await _exchange(client, code=await code(), code_verifier=verifier, **public)
    assert ok.status_code == 200, ok.text
    # Without a challenge, a code needs the client secret.
    plain_url = authorize_url(registered["id"], CALLBACK)
    answer = await approve_in_browser(browser, plain_url, player.username, player.password)
    unbound = query_of(answer.headers["location"])["code"]
    assert (await _exchange(client, code=unbound, **public)).status_code == 400
    for bad in ({"client_id": str(10**30)}, {"client_id": "x"}, {}):
        assert (await _exchange(client, code="c", redirect_uri=CALLBACK, **bad)).status_code == 401
        # A client id too long for the id column is no client, not an error (any grant).
        huge = await client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_secret": "x", **bad},
        )
        assert huge.status_code == 401
    no_code = await _exchange(client, **public)
    assert no_code.status_code == 400 and no_code.json()["error"] == "invalid_request"
    garbage = await client.post("/oauth/authorize", data={"action": "approve", "client_id": "1"})
    assert garbage.status_code == 400


async def test_client_management(client: httpx.AsyncClient) -> None:
    owner = await sign_in(client, await signup(client))
    stranger = await sign_in(client, await signup(client))
    registered = await _app(client, owner)
    client_id = registered["id"]
    assert registered["redirect"] == f"{CALLBACK} http://other/cb"
    assert registered["user_id"] == owner.id and registered["revoked"] is False

    listed = await client.get("/oauth/clients", headers=owner.headers)
    assert [c["id"] for c in listed.json()] == [client_id]
    assert "secret" not in listed.json()[0]
    assert (await client.get("/oauth/clients", headers=stranger.headers)).json() == []

    bad = await client.post(
        "/oauth/clients",
        data={"name": "", "redirect": "javascript:alert(1)"},
        headers=owner.headers,
    )
    assert bad.status_code == 422
    assert set(bad.json()["form_error"]["oauth_client"]) == {"name", "redirect"}
    none = await client.post("/oauth/clients", data={"name": "x"}, headers=owner.headers)
    assert none.status_code == 422

    edited = await client.put(
        f"/oauth/clients/{client_id}",
        data={"name": "Renamed", "redirect": "https://site.example/cb"},
        headers=owner.headers,
    )
    assert edited.status_code == 200 and edited.json()["name"] == "Renamed"
    assert edited.json()["redirect"] == "https://site.example/cb"
    foreign = await client.put(
        f"/oauth/clients/{client_id}", data={"name": "Mine"}, headers=stranger.headers
    )
    assert foreign.status_code == 404

    async def credentials(secret: str) -> int:
        response = await client.post(
            "/oauth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": str(client_id),
                "client_secret": secret,
                "scope": "public",
            },
        )
        return response.status_code

    assert await credentials(registered["secret"]) == 200
    reset = await client.post(f"/oauth/clients/{client_id}/reset-secret", headers=owner.headers)
    assert reset.status_code == 200 and reset.json()["secret"] != registered["secret"]
    assert await credentials(registered["secret"]) == 401
    assert await credentials(reset.json()["secret"]) == 200
    assert (
        await client.post(f"/oauth/clients/{client_id}/reset-secret", headers=stranger.headers)
    ).status_code == 404

    assert (
        await client.delete(f"/oauth/clients/{client_id}", headers=stranger.headers)
    ).status_code == 404
    assert (
        await client.delete(f"/oauth/clients/{client_id}", headers=owner.headers)
    ).status_code == 204
    assert await credentials(reset.json()["secret"]) == 401
    assert (await client.get("/oauth/clients", headers=owner.headers)).json() == []
    assert (await client.get("/oauth/clients")).status_code == 401
