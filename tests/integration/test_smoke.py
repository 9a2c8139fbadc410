"""The first thing lazer does: register, sign in, read /me/."""

import httpx

from tests.helpers import SignedIn


async def test_me_with_trailing_slash_answers_directly(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    response = await client.get("/api/v2/me/", headers=player.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == player.id
    assert body["username"] == player.account.username
    assert body["session_verification_method"] is None
    assert body["last_visit"] is not None and body["last_visit"].endswith("Z")
