"""Session verification (issue 16): off by default; on, a password-grant sign-in is held at
lazer's second-factor screen until it sends the mailed code or a TOTP code."""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.app import create_app
from tests.conftest import app_client, make_settings
from tests.helpers import (
    LAZER_SECRET,
    SignedIn,
    lazer_multipart,
    refresh_grant,
    sign_in,
    signup,
)

_CODE = re.compile(r"verification code is ([A-Z0-9]{8})")


@pytest.fixture
async def verifying(app: Starlette, data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(data_dir, SESSION_VERIFICATION="true")
    async with app_client(settings, "198.18.0.20") as client:
        yield client


def _mailed(caplog: pytest.LogCaptureFixture, email: str) -> str:
    found = [
        m for r in caplog.records if email in r.getMessage() and (m := _CODE.search(r.getMessage()))
    ]
    assert found, "no verification code in the log"
    return found[-1].group(1)


async def _verify(client: httpx.AsyncClient, user: SignedIn, key: str) -> httpx.Response:
    # As lazer's VerifySessionRequest sends it: a multipart `verification_key`.
    body, headers = lazer_multipart({"verification_key": key})
    return await client.post(
        "/api/v2/session/verify", content=body, headers={**headers, **user.headers}
    )


async def test_off_by_default(client: httpx.AsyncClient, player: SignedIn) -> None:
    me = (await client.get("/api/v2/me", headers=player.headers)).json()
    assert me["session_verification_method"] is None
    assert (await _verify(client, player, "whatever")).status_code == 204


async def test_mail_code_verifies_the_sign_in(
    verifying: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="server.services.mail")
    account = await signup(verifying)
    user = await sign_in(verifying, account)

    me = await verifying.get("/api/v2/me", headers=user.headers)
    assert me.status_code == 200 and me.json()["session_verification_method"] == "mail"
    held = await verifying.get("/api/v2/friends", headers=user.headers)
    assert held.status_code == 401 and held.json() == {"authentication": "verify"}
    assert (await verifying.get("/api/v2/notifications", headers=user.headers)).is_success
    negotiate = await verifying.post("/signalr/metadata/negotiate", headers=user.headers)
    assert negotiate.status_code == 401

    wrong = await _verify(verifying, user, "ZZZZZZZZ")
    assert wrong.status_code == 422
    assert wrong.json() == {"error": "Incorrect verification code.", "method": "mail"}
    code = _mailed(caplog, account.email)
    assert (await _verify(verifying, user, code.lower())).status_code == 204

    me = await verifying.get("/api/v2/me", headers=user.headers)
    assert me.json()["session_verification_method"] is None
    assert (await verifying.get("/api/v2/friends", headers=user.headers)).status_code == 200
    # Verified stays verified through a refresh; a new sign-in starts over.
    refreshed = (await refresh_grant(verifying, user.refresh_token)).json()
    bearer = {"Authorization": f"Bearer {refreshed['access_token']}"}
    assert (await verifying.get("/api/v2/friends", headers=bearer)).status_code == 200
    again = await sign_in(verifying, account)
    assert (await verifying.get("/api/v2/friends", headers=again.headers)).status_code == 401
    reissued = await verifying.post("/api/v2/session/verify/reissue", headers=again.headers)
    assert reissued.status_code == 200 and "reissued" in reissued.json()["message"]
    assert (
        await verifying.post("/api/v2/session/verify/reissue", headers=bearer)
    ).status_code == 204


async def test_totp_and_the_mail_fallback(
    verifying: httpx.AsyncClient, services: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="server.services.mail")
    account = await signup(verifying)
    secret = pyotp.random_base32()
    await services.users.set_totp_secret(account.id, secret)
    user = await sign_in(verifying, account)
    me = (await verifying.get("/api/v2/me", headers=user.headers)).json()
    assert me["session_verification_method"] == "totp"
    assert "totp_secret" not in me

    wrong = await _verify(
        verifying, user, "000000" if pyotp.TOTP(secret).now() != "000000" else "1"
    )
    assert wrong.status_code == 422 and wrong.json()["method"] == "totp"
    code = pyotp.TOTP(secret).now()
    assert (await _verify(verifying, user, code)).status_code == 204
    # The same code does not verify a second sign-in (single use).
    second = await sign_in(verifying, account)
    replayed = await _verify(verifying, second, code)
    assert replayed.status_code == 422 and replayed.json()["method"] == "totp"

    fallback = await verifying.post("/api/v2/session/verify/mail-fallback", headers=second.headers)
    assert fallback.status_code == 200
    me = (await verifying.get("/api/v2/me", headers=second.headers)).json()
    assert me["session_verification_method"] == "mail"
    assert (await _verify(verifying, second, _mailed(caplog, account.email))).status_code == 204


def test_the_socket_hears_verified(data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="server.services.mail")
    app = create_app(make_settings(data_dir, SESSION_VERIFICATION="true"))
    name = f"sv{secrets.token_hex(4)}"
    with TestClient(app, client=("192.0.2.70", 1)) as tc:
        created = tc.post(
            "/users",
            files={
                "user[username]": (None, name),
                "user[user_email]": (None, f"{name}@example.com"),
                "user[password]": (None, "a long passphrase"),
            },
        )
        assert created.status_code == 200
        token = tc.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": "5",
                "client_secret": LAZER_SECRET,
                "username": name,
                "password": "a long passphrase",
                "scope": "*",
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert tc.get("/api/v2/me", headers=headers).json()["session_verification_method"]
        services = tc.app_state["services"]
        with tc.websocket_connect("/notifications", headers=headers) as ws:
            from tests.integration.test_moderation import _listening

            deadline = time.monotonic() + 5
            while not tc.portal.call(_listening, services, created.json()["id"]):
                assert time.monotonic() < deadline
                time.sleep(0.02)
            code = _mailed(caplog, f"{name}@example.com")
            assert (
                tc.post(
                    "/api/v2/session/verify", data={"verification_key": code}, headers=headers
                ).status_code
                == 204
            )
            assert ws.receive_json()["event"] == "verified"
