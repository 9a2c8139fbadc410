"""POST /oauth/token: every grant, every body format, and the token security requirements."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import httpx
import jwt

from tests.helpers import (
    LAZER_CLIENT_ID,
    LAZER_SECRET,
    SignedIn,
    password_grant,
    refresh_grant,
    sign_in,
    signup,
)


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v2/me/", headers={"Authorization": f"Bearer {token}"})


async def test_lazer_multipart_password_grant(client: httpx.AsyncClient) -> None:
    account = await signup(client)
    response = await password_grant(client, account.username, account.password)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    # lazer treats a token as valid only while more than 30 s remain (lazer-protocol §8.2 #5).
    assert body["expires_in"] == 86400
    assert body["refresh_token"]
    assert (await _me(client, body["access_token"])).json()["id"] == account.id


async def test_urlencoded_json_and_basic_auth_bodies(client: httpx.AsyncClient) -> None:
    account = await signup(client)
    fields = {
        "grant_type": "password",
        "username": account.username,
        "password": account.password,
        "scope": "*",
    }
    urlencoded = await client.post(
        "/oauth/token", data={**fields, "client_id": LAZER_CLIENT_ID, "client_secret": LAZER_SECRET}
    )
    assert urlencoded.status_code == 200
    as_json = await client.post(
        "/oauth/token",
        json={**fields, "client_id": int(LAZER_CLIENT_ID), "client_secret": LAZER_SECRET},
    )
    assert as_json.status_code == 200
    basic = base64.b64encode(f"{LAZER_CLIENT_ID}:{LAZER_SECRET}".encode()).decode()
    with_basic = await client.post(
        "/oauth/token/", data=fields, headers={"Authorization": f"Basic {basic}"}
    )
    assert with_basic.status_code == 200


async def test_both_public_lazer_secrets_work(client: httpx.AsyncClient) -> None:
    account = await signup(client)
    for secret in (LAZER_SECRET, "3LP2mhUrV89xxzD1YKNndXHEhWWCRLPNKioZ9ymT"):
        response = await client.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": "5",
                "client_secret": secret,
                "username": account.username,
                "password": account.password,
                "scope": "*",
            },
        )
        assert response.status_code == 200, secret
    wrong = await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": "5",
            "client_secret": "nope",
            "username": account.username,
            "password": account.password,
        },
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"


async def test_unknown_user_and_wrong_password_look_the_same(client: httpx.AsyncClient) -> None:
    """S-AUTH-5: same status and body for no such user and a wrong password."""
    account = await signup(client)
    wrong = await password_grant(client, account.username, "not the password")
    unknown = await password_grant(client, "nobody-" + account.username[:6], "not the password")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()
    assert wrong.json()["hint"] == "Incorrect sign in"


async def test_sign_in_by_name_is_case_insensitive(client: httpx.AsyncClient) -> None:
    account = await signup(client)
    response = await password_grant(client, account.username.upper(), account.password)
    assert response.status_code == 200


async def test_access_token_is_a_passport_style_jwt(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    """S-TOK-2: allowlisted algorithm, aud, unique jti, sub, scopes, iat/nbf/exp."""
    claims = jwt.decode(player.access_token, options={"verify_signature": False})
    assert set(claims) >= {"aud", "jti", "iat", "nbf", "exp", "sub", "scopes"}
    assert claims["aud"] == "5" and claims["sub"] == str(player.id) and claims["scopes"] == ["*"]
    assert claims["exp"] - claims["iat"] == 86400
    assert jwt.get_unverified_header(player.access_token)["alg"] == "HS256"
    again = await sign_in(client, player.account)
    assert (
        jwt.decode(again.access_token, options={"verify_signature": False})["jti"] != claims["jti"]
    )


async def test_tokens_are_stored_only_as_hashes(player: SignedIn, services) -> None:  # type: ignore[no-untyped-def]
    """S-TOK-3."""
    rows = await services.db.fetch_raw(
        "SELECT token_sha256 FROM oauth_access_tokens WHERE user_id = :u", u=player.id
    )
    stored = {row["token_sha256"] for row in rows}
    assert hashlib.sha256(player.access_token.encode()).hexdigest() in stored
    assert player.access_token not in stored
    refresh_rows = await services.db.fetch_raw(
        "SELECT token_sha256 FROM oauth_refresh_tokens WHERE user_id = :u", u=player.id
    )
    assert hashlib.sha256(player.refresh_token.encode()).hexdigest() in {
        r["token_sha256"] for r in refresh_rows
    }


async def test_forged_and_tampered_tokens_are_refused(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    """S-TOK-1/2: a valid-looking token not in storage, or re-signed claims, gets 401."""
    claims = jwt.decode(player.access_token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "sub": "999999"}, "x" * 48, algorithm="HS256")
    none_alg = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    for token in (forged, none_alg, player.access_token[:-2] + "xx", "garbage"):
        response = await _me(client, token)
        assert response.status_code == 401
        assert response.json() == {"authentication": "basic"}


async def test_refresh_rotates_and_reuse_revokes_the_family(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    """S-TOK-5/6: the old refresh and access tokens die on use; replaying the old refresh
    token revokes every token of the sign-in, including the new ones."""
    first = await refresh_grant(client, player.refresh_token)
    assert first.status_code == 200
    new = first.json()
    assert new["refresh_token"] != player.refresh_token
    assert (await _me(client, player.access_token)).status_code == 401
    assert (await _me(client, new["access_token"])).status_code == 200

    replay = await refresh_grant(client, player.refresh_token)
    assert replay.status_code == 401 and replay.json()["error"] == "invalid_grant"
    assert (await _me(client, new["access_token"])).status_code == 401
    assert (await refresh_grant(client, new["refresh_token"])).status_code == 401


async def test_other_sign_ins_survive_a_family_revocation(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    other = await sign_in(client, player.account)
    await refresh_grant(client, player.refresh_token)
    await refresh_grant(client, player.refresh_token)  # reuse: revokes the first family only
    assert (await _me(client, other.access_token)).status_code == 200


async def test_revocation_reaches_a_cached_token(
    client: httpx.AsyncClient, player: SignedIn, services
) -> None:  # type: ignore[no-untyped-def]
    """S-TOK-1: every use is checked against storage; the cache cannot outlive a revocation."""
    assert (await _me(client, player.access_token)).status_code == 200  # now cached
    await services.tokens.revoke_user(player.id)
    assert (await _me(client, player.access_token)).status_code == 401


async def test_revoking_the_current_token_signs_out_that_sign_in_only(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    """DELETE oauth/tokens/current (osu-web's "Revoke current token"): 204, then neither
    the access token nor its refresh token works; another sign-in of the user survives."""
    other = await sign_in(client, player.account)
    assert (await _me(client, player.access_token)).status_code == 200  # now cached
    anonymous = await client.delete("/api/v2/oauth/tokens/current")
    assert anonymous.status_code == 401
    revoked = await client.delete("/api/v2/oauth/tokens/current", headers=player.headers)
    assert revoked.status_code == 204 and revoked.content == b""
    assert (await _me(client, player.access_token)).status_code == 401
    assert (await refresh_grant(client, player.refresh_token)).status_code == 401
    assert (await _me(client, other.access_token)).status_code == 200
    again = await client.delete("/api/v2/oauth/tokens/current/", headers=player.headers)
    assert again.status_code == 401


async def _third_party_client(services, password_client: bool = False) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from server.repositories.oauth import OAuthRepository

    repo = OAuthRepository(services.db)
    client_id = await repo.add_client(
        name="bot",
        owner_user_id=None,
        password_client=password_client,
        now=datetime.now(UTC).replace(tzinfo=None),
    )
    secret = "bot-secret-" + str(client_id)
    await repo.add_secret(client_id, hashlib.sha256(secret.encode()).hexdigest())
    return str(client_id), secret


async def test_refresh_token_is_bound_to_its_client(
    client: httpx.AsyncClient, player: SignedIn, services
) -> None:  # type: ignore[no-untyped-def]
    """S-TOK-5."""
    client_id, secret = await _third_party_client(services)
    response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": player.refresh_token,
            "client_id": client_id,
            "client_secret": secret,
        },
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_grant"
    assert (await refresh_grant(client, player.refresh_token)).status_code == 200


async def test_password_grant_only_for_the_first_party_client(
    client: httpx.AsyncClient, services
) -> None:  # type: ignore[no-untyped-def]
    """S-TOK-8."""
    account = await signup(client)
    client_id, secret = await _third_party_client(services)
    response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": client_id,
            "client_secret": secret,
            "username": account.username,
            "password": account.password,
        },
    )
    assert response.status_code == 400 and response.json()["error"] == "unauthorized_client"


async def test_client_credentials_never_get_all_access(client: httpx.AsyncClient, services) -> None:  # type: ignore[no-untyped-def]
    """S-TOK-4: client credentials get `public` by default, never `*`; they have no user."""
    client_id, secret = await _third_party_client(services)
    star = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "*",
        },
    )
    assert star.status_code == 400 and star.json()["error"] == "invalid_scope"
    mixed = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "* public",
        },
    )
    assert mixed.status_code == 400
    ok = await client.post(
        "/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": int(client_id),
            "client_secret": secret,
            "scope": "public",
        },
    )
    assert ok.status_code == 200
    token = ok.json()["access_token"]
    assert "refresh_token" not in ok.json()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "" and claims["scopes"] == ["public"]
    assert (await _me(client, token)).status_code == 401
    account = await signup(client)
    user = await client.get(
        f"/api/v2/users/{account.id}/osu", headers={"Authorization": f"Bearer {token}"}
    )
    assert user.status_code == 200 and user.json()["id"] == account.id


async def test_malformed_token_requests_are_4xx(client: httpx.AsyncClient) -> None:
    cases = [
        dict(content=b"{not json", headers={"Content-Type": "application/json"}),
        dict(content=b"[1,2]", headers={"Content-Type": "application/json"}),
        dict(data={"grant_type": "password"}),
        dict(data={"grant_type": "implicit", "client_id": "5", "client_secret": LAZER_SECRET}),
        dict(data={"grant_type": "password", "client_id": "abc", "client_secret": "x"}),
        dict(content=b"--x\r\nbroken", headers={"Content-Type": "multipart/form-data; boundary=x"}),
        dict(data={}),
    ]
    for kwargs in cases:
        response = await client.post("/oauth/token", **kwargs)  # type: ignore[arg-type]
        assert 400 <= response.status_code < 500, (kwargs, response.text)
        assert "error" in json.loads(response.text)


async def test_checked_tokens_are_served_from_the_cache(
    client: httpx.AsyncClient,
    player: SignedIn,
    services,  # type: ignore[no-untyped-def]
) -> None:
    """The database is not hit per request: once checked, a token is answered from the
    process's near cache and Redis (deleting its row behind the caches' back does not log
    the user out until the TTL); with both layers dropped, storage answers again."""
    assert (await _me(client, player.access_token)).status_code == 200
    digest = hashlib.sha256(player.access_token.encode()).hexdigest()
    await services.db.execute_raw(
        "DELETE FROM oauth_access_tokens WHERE token_sha256 = :d", d=digest
    )
    assert (await _me(client, player.access_token)).status_code == 200
    await services.redis.delete(f"oauth:access:{digest}")
    assert (await _me(client, player.access_token)).status_code == 200  # the near cache
    services.near.region_drop("oauth-token", [digest])
    assert (await _me(client, player.access_token)).status_code == 401


async def test_a_revocation_between_the_rate_limit_and_authentication_is_honoured(
    client: httpx.AsyncClient, services: Any
) -> None:
    """S-TOK-1: the rate limiter's near-cache lookup is reused by authentication only while
    no invalidation came between; a token revoked in that gap is refused."""
    signed = await sign_in(client, await signup(client))
    for _ in range(2):  # checked once, then answered from the near cache
        assert (await _me(client, signed.access_token)).status_code == 200
    tokens = services.tokens
    bearer = tokens.rate_key(signed.access_token)
    assert bearer is not None and bearer.seen is not None  # the near cache held it
    session = await tokens.authenticate(signed.access_token, bearer)
    assert session is not None and session.user_id == signed.id

    bearer = tokens.rate_key(signed.access_token)
    assert bearer is not None and bearer.seen is not None
    await tokens.revoke_user(signed.id)  # lands while the request awaits its rate limit
    assert await tokens.authenticate(signed.access_token, bearer) is None
    assert (await _me(client, signed.access_token)).status_code == 401
