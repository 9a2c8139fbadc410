"""POST /users as lazer sends it, with osu-web's validation and form_error bodies."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import lazer_multipart, signup, unique_name


async def _register(
    client: httpx.AsyncClient, username: str, email: str, password: str
) -> httpx.Response:
    body, headers = lazer_multipart(
        {"user[username]": username, "user[user_email]": email, "user[password]": password}
    )
    return await client.post("/users", content=body, headers=headers)


async def test_registration_creates_a_user_who_can_sign_in(client: httpx.AsyncClient) -> None:
    name = unique_name()
    response = await _register(client, name, f"{name}@example.com", "a long passphrase")
    assert response.status_code == 200
    user = response.json()
    assert user["username"] == name and user["id"] >= 2
    from tests.helpers import password_grant

    token = await password_grant(client, name, "a long passphrase")
    assert token.status_code == 200


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("ab", "The requested username is too short."),
        ("a" * 16, "The requested username is too long."),
        ("bad!name", "The requested username contains invalid characters."),
        ("two  spaces", "The requested username contains invalid characters."),
        ("mix_of ab", "Please use either underscores or spaces, not both!"),
        (" lead", "Username can't start or end with spaces!"),
    ],
)
async def test_username_rules_give_form_errors(
    client: httpx.AsyncClient, username: str, message: str
) -> None:
    response = await _register(
        client, username, f"{unique_name()}@example.com", "a long passphrase"
    )
    assert response.status_code == 422
    assert message in response.json()["form_error"]["user"]["username"]


async def test_username_is_unique_ignoring_case_and_space_vs_underscore(
    client: httpx.AsyncClient,
) -> None:
    base = unique_name("u")
    await signup(client, username=f"{base}_x")
    for variant in (f"{base.upper()}_X", f"{base} x"):
        response = await _register(
            client, variant, f"{unique_name()}@example.com", "a long passphrase"
        )
        assert response.status_code == 422, variant
        assert response.json()["form_error"]["user"]["username"] == ["Username is already in use!"]


async def test_password_rules(client: httpx.AsyncClient) -> None:
    name = unique_name()
    short = await _register(client, name, f"{name}@example.com", "short")
    assert "New password is too short." in short.json()["form_error"]["user"]["password"]
    contains = await _register(client, name, f"{name}@example.com", f"xx{name.upper()}xx")
    assert "Password may not contain username." in contains.json()["form_error"]["user"]["password"]
    weak = await _register(client, name, f"{name}@example.com", "password")
    assert any("too common" in m for m in weak.json()["form_error"]["user"]["password"])


async def test_long_passwords_are_allowed(client: httpx.AsyncClient) -> None:
    """S-AUTH-4: at least 64 characters (the MD5 pre-hash lifts bcrypt's 72-byte cut-off)."""
    name = unique_name()
    password = "p" * 100
    response = await _register(client, name, f"{name}@example.com", password)
    assert response.status_code == 200
    from tests.helpers import password_grant

    assert (await password_grant(client, name, password)).status_code == 200
    assert (await password_grant(client, name, "p" * 99)).status_code == 400


async def test_email_must_be_valid_and_unused(client: httpx.AsyncClient) -> None:
    account = await signup(client)
    taken = await _register(client, unique_name(), account.email.upper(), "a long passphrase")
    assert taken.json()["form_error"]["user"]["user_email"] == ["Email address already used."]
    invalid = await _register(client, unique_name(), "not-an-email", "a long passphrase")
    assert invalid.json()["form_error"]["user"]["user_email"] == [
        "Doesn't seem to be a valid email address."
    ]


async def test_rejected_registration_stores_nothing(client: httpx.AsyncClient, services) -> None:  # type: ignore[no-untyped-def]
    name = unique_name()
    response = await _register(client, name, f"{name}@example.com", "short")
    assert response.status_code == 422
    assert await services.users.by_username(name) is None


async def test_missing_fields_are_form_errors_not_server_errors(client: httpx.AsyncClient) -> None:
    response = await client.post("/users", files={"user[username]": (None, "")})
    assert response.status_code == 422
    errors = response.json()["form_error"]["user"]
    assert set(errors) == {"username", "user_email", "password"}
