"""Password change and reset by emailed code (issue 16; S-TOK-7, S-AUTH-8)."""

from __future__ import annotations

import logging
import re

import httpx
import pytest

from tests.helpers import password_grant, sign_in, signup

_CODE = re.compile(r"reset code is ([A-Z0-9]{8})")


def _mailed_code(caplog: pytest.LogCaptureFixture) -> str:
    found = [m for r in caplog.records if (m := _CODE.search(r.getMessage()))]
    assert found, "no reset code in the log"
    return found[-1].group(1)


async def test_change_needs_the_current_password_and_ends_other_sign_ins(
    client: httpx.AsyncClient,
) -> None:
    account = await signup(client)
    here = await sign_in(client, account)
    elsewhere = await sign_in(client, account)
    url = "/api/v2/me/password"

    wrong = await client.put(
        url, data={"current_password": "nope", "password": "a new passphrase"}, headers=here.headers
    )
    assert wrong.status_code == 422
    assert wrong.json()["form_error"]["user"]["current_password"] == [
        "Current password is incorrect."
    ]
    weak = await client.put(
        url,
        data={"user[current_password]": account.password, "user[password]": "short"},
        headers=here.headers,
    )
    assert (
        weak.status_code == 422 and "too short" in weak.json()["form_error"]["user"]["password"][0]
    )
    mismatch = await client.put(
        url,
        data={
            "current_password": account.password,
            "password": "a new passphrase",
            "password_confirmation": "another one",
        },
        headers=here.headers,
    )
    assert mismatch.status_code == 422
    # Nothing changed so far: both sessions still work.
    assert (await client.get("/api/v2/me", headers=elsewhere.headers)).status_code == 200

    changed = await client.put(
        url,
        data={"current_password": account.password, "password": "a new passphrase"},
        headers=here.headers,
    )
    assert changed.status_code == 204
    assert (await client.get("/api/v2/me", headers=here.headers)).status_code == 200
    assert (await client.get("/api/v2/me", headers=elsewhere.headers)).status_code == 401
    assert (await password_grant(client, account.username, account.password)).status_code == 400
    assert (await password_grant(client, account.username, "a new passphrase")).status_code == 200
    assert (await client.put(url, data={})).status_code == 401


async def test_reset_by_mailed_code_ends_every_sign_in(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    account = await signup(client)
    session = await sign_in(client, account)
    caplog.set_level(logging.WARNING, logger="server.services.mail")

    unknown = await client.post("/password-reset", data={"username": "nobody-here"})
    asked = await client.post("/password-reset", data={"username": account.email.upper()})
    assert unknown.status_code == asked.status_code == 200
    assert unknown.json() == asked.json()  # no hint whether the account exists
    code = _mailed_code(caplog)

    form = {"username": account.username, "key": code, "password": "brand new passphrase"}
    wrong = await client.post("/password-reset/reset", data={**form, "key": "AAAAAAAA"})
    assert wrong.status_code == 422 and "key" in wrong.json()["form_error"]["user"]
    weak = await client.post("/password-reset/reset", data={**form, "password": "short"})
    assert weak.status_code == 422 and "password" in weak.json()["form_error"]["user"]
    # Neither used the code up.
    done = await client.post("/password-reset/reset", data=form)
    assert done.status_code == 200, done.text
    assert (await client.get("/api/v2/me", headers=session.headers)).status_code == 401
    assert (
        await password_grant(client, account.username, "brand new passphrase")
    ).status_code == 200
    again = await client.post("/password-reset/reset", data={**form, "password": "third one!!"})
    assert again.status_code == 422  # single use


async def test_a_reset_code_allows_eight_guesses(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    account = await signup(client)
    caplog.set_level(logging.WARNING, logger="server.services.mail")
    assert (await client.post("/password-reset", data={"username": account.username})).is_success
    code = _mailed_code(caplog)
    form = {"username": account.username, "password": "brand new passphrase"}
    for guess in range(8):
        response = await client.post(
            "/password-reset/reset", data={**form, "key": f"WRONG{guess:03d}"}
        )
        assert response.status_code == 422
    late = await client.post("/password-reset/reset", data={**form, "key": code})
    assert late.status_code == 422
    assert (await client.post("/password-reset", data={})).status_code == 422
