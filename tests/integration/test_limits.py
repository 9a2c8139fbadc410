"""Brute-force and flood controls on sign-in and registration (S-AUTH-6, S-AUTH-7, S-RL-1)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from tests.conftest import app_client, make_settings
from tests.helpers import LAZER_CLIENT_ID, LAZER_SECRET, lazer_multipart, password_grant, signup


def _ip() -> str:
    return f"198.51.100.{secrets.randbelow(250) + 1}-{secrets.token_hex(3)}"


async def test_lockout_after_too_many_failures_from_one_ip(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path
) -> None:
    """S-AUTH-6: more than 10 failures from one IP lock it, even for the right password;
    other IPs are unaffected (the lock is per IP, not per account)."""
    account = await signup(client)
    settings = make_settings(data_dir, LOGIN_MAX_FAILURES="3", TOKEN_RATE_LIMIT_PER_MINUTE="1000")
    attacker = _ip()
    async with app_client(settings, attacker) as bad, app_client(settings, _ip()) as good:
        for attempt in range(4):
            response = await password_grant(bad, account.username, f"wrong-{attempt}")
            assert response.status_code == 400
        locked = await password_grant(bad, account.username, account.password)
        assert locked.status_code == 429
        assert "Too many failed sign-in attempts" in locked.json()["hint"]
        assert (await password_grant(good, account.username, account.password)).status_code == 200


async def test_repeating_the_same_wrong_password_counts_once(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path
) -> None:
    """S-AUTH-6: a client retrying one stored wrong password does not lock itself out."""
    account = await signup(client)
    settings = make_settings(data_dir, LOGIN_MAX_FAILURES="3", TOKEN_RATE_LIMIT_PER_MINUTE="1000")
    async with app_client(settings, _ip()) as retrying:
        for _ in range(8):
            assert (
                await password_grant(retrying, account.username, "same wrong")
            ).status_code == 400
        assert (
            await password_grant(retrying, account.username, account.password)
        ).status_code == 200


async def test_too_many_distinct_accounts_lock_the_ip(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path
) -> None:
    """S-AUTH-6: spraying one password over many accounts locks the IP."""
    account = await signup(client)
    settings = make_settings(
        data_dir,
        LOGIN_MAX_FAILURES="1000",
        LOGIN_MAX_ACCOUNTS="3",
        TOKEN_RATE_LIMIT_PER_MINUTE="1000",
    )
    async with app_client(settings, _ip()) as sprayer:
        for i in range(4):
            await password_grant(sprayer, f"victim{i}{secrets.token_hex(3)}", "password1")
        assert (
            await password_grant(sprayer, account.username, account.password)
        ).status_code == 429


async def test_token_endpoint_rate_limit(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path
) -> None:
    """S-AUTH-7: /oauth/token is limited per IP, with 429 and Retry-After."""
    settings = make_settings(data_dir, TOKEN_RATE_LIMIT_PER_MINUTE="3")
    async with app_client(settings, _ip()) as flooder:
        # A fixed one-minute window: if the run straddles a window edge the count restarts
        # once, so a 429 must come within two windows' worth of requests.
        responses = [
            await flooder.post("/oauth/token", data={"grant_type": "password"}) for _ in range(7)
        ]
        statuses = [r.status_code for r in responses]
        assert statuses[:3] == [401, 401, 401]  # no client credentials, but not yet limited
        limited = [r for r in responses if r.status_code == 429]
        assert limited, statuses
        assert 1 <= int(limited[0].headers["retry-after"]) <= 60
        assert limited[0].json()["error"] == "too_many_requests"


async def test_registration_rate_limit(app: Starlette, data_dir: Path) -> None:
    settings = make_settings(data_dir, REGISTRATION_RATE_LIMIT="2")
    async with app_client(settings, _ip()) as spammer:
        statuses = []
        for _ in range(3):
            name = f"s{secrets.token_hex(5)}"
            body, headers = lazer_multipart(
                {
                    "user[username]": name,
                    "user[user_email]": f"{name}@example.com",
                    "user[password]": "a long passphrase",
                }
            )
            statuses.append(
                (await spammer.post("/users", content=body, headers=headers)).status_code
            )
        assert statuses == [200, 200, 429]


async def test_registration_can_be_disabled(app: Starlette, data_dir: Path) -> None:
    settings = make_settings(data_dir, REGISTRATION_ENABLED="false")
    async with app_client(settings, _ip()) as visitor:
        body, headers = lazer_multipart(
            {
                "user[username]": "closedshop",
                "user[user_email]": "c@example.com",
                "user[password]": "a long passphrase",
            }
        )
        response = await visitor.post("/users", content=body, headers=headers)
        assert response.status_code == 403 and "disabled" in response.json()["error"]


async def test_security_limiters_fail_closed_without_redis(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path
) -> None:
    """S-RL-4: with the limiter's store unreachable, sign-in answers 503, never a bypass."""
    account = await signup(client)
    settings = make_settings(data_dir, REDIS_URL="redis://127.0.0.1:1/0")
    async with app_client(settings, _ip()) as cut_off:
        response = await password_grant(cut_off, account.username, account.password)
        assert response.status_code == 503
        assert "temporarily unavailable" in response.json()["error"]


async def _wait_clear_of_minute_edge() -> None:
    # The API limit is per clock minute; a test that straddles one sees a fresh allowance.
    import asyncio
    import time

    if time.time() % 60 > 55:
        await asyncio.sleep(60 - time.time() % 60 + 0.05)


async def test_api_rate_limit_per_token_with_osu_web_headers(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path
) -> None:
    """S-RL-1: X-RateLimit-Limit/Remaining on API answers, 429 with Retry-After past the
    limit, per token (another sign-in has its own), and /health is not an API route."""
    from tests.helpers import sign_in

    account = await signup(client)
    settings = make_settings(data_dir, API_RATE_LIMIT_PER_MINUTE="5")
    await _wait_clear_of_minute_edge()
    async with app_client(settings, _ip()) as limited:
        first = await sign_in(limited, account)
        second = await sign_in(limited, account)
        seen = []
        for _ in range(5):
            response = await limited.get("/api/v2/me", headers=first.headers)
            assert response.status_code == 200
            assert response.headers["x-ratelimit-limit"] == "5"
            seen.append(int(response.headers["x-ratelimit-remaining"]))
        assert seen == [4, 3, 2, 1, 0]
        refused = await limited.get("/api/v2/me", headers=first.headers)
        assert refused.status_code == 429
        assert refused.json() == {"error": "Too Many Attempts."}
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["x-ratelimit-remaining"] == "0"
        assert (await limited.get("/api/v2/me", headers=second.headers)).status_code == 200
        for _ in range(6):
            assert (await limited.get("/health")).status_code == 200


async def test_made_up_tokens_count_against_the_ip(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path
) -> None:
    """A flood with a fresh fake bearer token each time cannot dodge the limit: tokens that
    are not ours count against the caller's IP, like anonymous requests."""
    settings = make_settings(data_dir, API_RATE_LIMIT_PER_MINUTE="3")
    await _wait_clear_of_minute_edge()
    async with app_client(settings, _ip()) as flooder:
        statuses = [
            (
                await flooder.get(
                    "/api/v2/me", headers={"Authorization": f"Bearer fake.{secrets.token_hex(8)}"}
                )
            ).status_code
            for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        assert (await flooder.get("/api/v2/seasonal-backgrounds")).status_code == 429


async def test_failures_on_new_accounts_triple_the_count(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path
) -> None:
    """reliability.md A2 (osu-web LoginAttempt): one wrong password each for several accounts
    counts 1, 3, 9, 27, so the fifth attempt from that address is refused."""
    account = await signup(client)
    settings = make_settings(data_dir, LOGIN_MAX_FAILURES="10", TOKEN_RATE_LIMIT_PER_MINUTE="1000")
    async with app_client(settings, _ip()) as sprayer:
        for i in range(4):
            response = await password_grant(sprayer, f"v{i}{secrets.token_hex(4)}", "password1")
            assert response.status_code == 400
        assert (
            await password_grant(sprayer, account.username, account.password)
        ).status_code == 429


async def test_signed_in_accounts_count_towards_the_address_limit(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path
) -> None:
    """A2: more than LOGIN_MAX_ACCOUNTS accounts signed in from one address, even correctly."""
    accounts = [await signup(client) for _ in range(3)]
    settings = make_settings(data_dir, LOGIN_MAX_ACCOUNTS="2", TOKEN_RATE_LIMIT_PER_MINUTE="1000")
    async with app_client(settings, _ip()) as shared:
        for account in accounts:
            assert (
                await password_grant(shared, account.username, account.password)
            ).status_code == 200
        assert (
            await password_grant(shared, accounts[0].username, accounts[0].password)
        ).status_code == 429


async def test_an_account_guessed_at_from_many_addresses_is_locked(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path
) -> None:
    """Per-account lockout: distinct wrong passwords spread over addresses (each under its
    own limit) lock the account for every address; other accounts are unaffected."""
    account = await signup(client)
    other = await signup(client)
    settings = make_settings(
        data_dir,
        LOGIN_MAX_FAILURES="10",
        LOGIN_ACCOUNT_MAX_FAILURES="4",
        TOKEN_RATE_LIMIT_PER_MINUTE="1000",
        TRUSTED_PROXY_HOPS="1",
    )
    # One app (the embedded Redis stand-in is per app); addresses from X-Forwarded-For.
    async with app_client(settings, "192.0.2.1") as proxied:

        def sign_in_from(ip: str, name: str, password: str) -> Any:
            body, headers = lazer_multipart(
                {
                    "username": name,
                    "password": password,
                    "grant_type": "password",
                    "client_id": LAZER_CLIENT_ID,
                    "client_secret": LAZER_SECRET,
                    "scope": "*",
                }
            )
            headers["X-Forwarded-For"] = ip
            return proxied.post("/oauth/token", content=body, headers=headers)

        for attempt in range(5):
            response = await sign_in_from(f"10.0.0.{attempt}", account.username, f"g{attempt}")
            assert response.status_code == 400
        locked = await sign_in_from("10.0.1.1", account.username, account.password)
        assert locked.status_code == 429
        assert (await sign_in_from("10.0.1.1", other.username, other.password)).status_code == 200
