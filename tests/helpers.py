"""Test helpers that speak to the server as lazer does."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx

LAZER_CLIENT_ID = "5"
LAZER_SECRET = "FGc9GAtyHzeQDshWP5Ah7dega8hJACAJpQtw6OXk"
# osu-framework's WebRequest always uses this boundary (lazer-protocol.md §2.1).
LAZER_BOUNDARY = "-----------------------------28947758029299"


def lazer_multipart(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """A body and headers encoded exactly as osu-framework's WebRequest sends form fields."""
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{LAZER_BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    body = ("".join(parts) + f"--{LAZER_BOUNDARY}--\r\n").encode()
    headers = {
        "Content-Type": f"multipart/form-data; boundary={LAZER_BOUNDARY}",
        "Accept": "application/json",
        "User-Agent": "osu!",
    }
    return body, headers


@dataclass(frozen=True)
class Account:
    username: str
    email: str
    password: str
    id: int


@dataclass(frozen=True)
class SignedIn:
    account: Account
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}", "x-api-version": "20251101"}

    @property
    def id(self) -> int:
        return self.account.id


def unique_name(prefix: str = "p") -> str:
    """A valid, unused username (3-15 chars)."""
    return f"{prefix}{secrets.token_hex(5)}"[:15]


async def signup(
    client: httpx.AsyncClient, username: str | None = None, password: str | None = None
) -> Account:
    """Register as lazer does (multipart POST /users)."""
    username = username or unique_name()
    password = password or f"pw-{secrets.token_hex(8)}"
    email = f"{username}@example.com"
    body, headers = lazer_multipart(
        {"user[username]": username, "user[user_email]": email, "user[password]": password}
    )
    response = await client.post("/users", content=body, headers=headers)
    assert response.status_code == 200, response.text
    return Account(username, email, password, response.json()["id"])


async def password_grant(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    """The lazer password grant, multipart with the fixed boundary."""
    body, headers = lazer_multipart(
        {
            "username": username,
            "password": password,
            "grant_type": "password",
            "client_id": LAZER_CLIENT_ID,
            "client_secret": LAZER_SECRET,
            "scope": "*",
        }
    )
    return await client.post("/oauth/token", content=body, headers=headers)


async def refresh_grant(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    """The lazer refresh grant."""
    body, headers = lazer_multipart(
        {
            "refresh_token": refresh_token,
            "grant_type": "refresh_token",
            "client_id": LAZER_CLIENT_ID,
            "client_secret": LAZER_SECRET,
            "scope": "*",
        }
    )
    return await client.post("/oauth/token", content=body, headers=headers)


async def sign_in(client: httpx.AsyncClient, account: Account) -> SignedIn:
    """Sign in with the password grant."""
    response = await password_grant(client, account.username, account.password)
    assert response.status_code == 200, response.text
    data = response.json()
    return SignedIn(account, data["access_token"], data["refresh_token"])


async def client_credentials(
    client: httpx.AsyncClient, services: object, scope: str = "public"
) -> dict[str, str]:
    """Headers with a client-credentials token (no user) of a newly made third-party client,
    as a bot or a website would send them."""
    import hashlib
    from datetime import UTC, datetime

    from server.repositories.oauth import OAuthRepository

    repo = OAuthRepository(services.db)  # type: ignore[attr-defined]
    client_id = await repo.add_client(
        name="bot",
        owner_user_id=None,
        password_client=False,
        now=datetime.now(UTC).replace(tzinfo=None),
    )
    secret = f"bot-secret-{secrets.token_hex(8)}"
    await repo.add_secret(client_id, hashlib.sha256(secret.encode()).hexdigest())
    response = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": str(client_id),
            "client_secret": secret,
            "scope": scope,
        },
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
