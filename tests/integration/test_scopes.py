"""Scopes as osu-web's `require-scopes` middleware applies them: a client-credentials token
with `public` reads every route osu-web lets it (leaderboards, scores, replays, users,
beatmaps, rankings, search); routes that act as a user need one; a route that names no
scope needs `*`; `seasonal-backgrounds` needs no token at all."""

from __future__ import annotations

from typing import Any

import httpx

from tests.helpers import (
    LAZER_CLIENT_ID,
    LAZER_SECRET,
    SignedIn,
    client_credentials,
    lazer_multipart,
    signup,
)
from tests.score_play import play, stored_map


async def test_client_credentials_read_what_osu_web_allows(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    beatmap = await stored_map(services)
    score = await play(client, player, beatmap)
    bot = await client_credentials(client, services)
    uid, bid, sid = player.id, beatmap.id, score["id"]
    readable = [
        f"/api/v2/beatmaps/{bid}/scores",
        f"/api/v2/beatmaps/{bid}/scores?mode=osu&limit=5",
        f"/api/v2/beatmaps/{bid}/scores/users/{uid}",
        f"/api/v2/beatmaps/{bid}/scores/users/{uid}/all",
        f"/api/v2/scores/{sid}",
        f"/api/v2/users/{uid}",
        f"/api/v2/users/{uid}/scores/best",
        f"/api/v2/users?ids[]={uid}",
        f"/api/v2/users/lookup?ids[]={uid}",
        f"/api/v2/beatmaps/{bid}",
        f"/api/v2/beatmaps?ids[]={bid}",
        f"/api/v2/beatmaps/lookup?id={bid}",
        f"/api/v2/beatmapsets/{beatmap.set_id}",
        "/api/v2/beatmapsets/search",
        # Not osu/performance: a cached page would hide later players from test_rankings.
        "/api/v2/rankings/taiko/performance",
    ]
    for path in readable:
        response = await client.get(path, headers=bot)
        assert response.status_code == 200, (path, response.text)
    board = (await client.get(f"/api/v2/beatmaps/{bid}/scores", headers=bot)).json()
    assert [s["id"] for s in board["scores"]] == [sid]
    assert board["user_score"] is None and board["score_count"] == 1
    # Asked again: the kept answer for "no viewer" is not another viewer's.
    again = (await client.get(f"/api/v2/beatmaps/{bid}/scores", headers=bot)).json()
    assert again["user_score"] is None
    mine = (await client.get(f"/api/v2/beatmaps/{bid}/scores", headers=player.headers)).json()
    assert mine["user_score"]["score"]["id"] == sid
    # The play has no replay: a 404 from the route, not a 401 from authentication.
    replay = await client.get(f"/api/v2/scores/{sid}/download", headers=bot)
    assert replay.status_code == 404 and replay.json() == {"error": "Not found"}
    attributes = await client.post(f"/api/v2/beatmaps/{bid}/attributes", headers=bot)
    assert attributes.status_code == 200
    # Viewer-relative boards need a viewer (osu-web: the supporter check refuses a guest).
    for kind in ("country", "friend"):
        response = await client.get(f"/api/v2/beatmaps/{bid}/scores?type={kind}", headers=bot)
        assert response.status_code == 422, kind


async def test_client_credentials_cannot_act_as_a_user(
    client: httpx.AsyncClient, services: Any, player: SignedIn
) -> None:
    beatmap = await stored_map(services)
    bot = await client_credentials(client, services)
    for method, path in (
        ("GET", "/api/v2/me"),
        ("GET", "/api/v2/friends"),
        ("POST", f"/api/v2/friends?target={player.id}"),
        ("GET", "/api/v2/notifications"),
        ("GET", "/api/v2/chat/updates"),
        ("POST", f"/api/v2/beatmaps/{beatmap.id}/solo/scores"),
        ("PUT", "/api/v2/score-pins/1"),
        ("POST", f"/api/v2/beatmapsets/{beatmap.set_id}/favourites?action=favourite"),
    ):
        response = await client.request(method, path, headers=bot)
        assert response.status_code == 401, (path, response.text)
        assert response.json() == {"authentication": "basic"}
    # A set download names no scope in osu-web: `*`, which a client token never holds.
    download = await client.get(f"/api/v2/beatmapsets/{beatmap.set_id}/download", headers=bot)
    assert download.status_code == 403


async def test_routes_served_without_a_token(client: httpx.AsyncClient, services: Any) -> None:
    beatmap = await stored_map(services)
    backgrounds = await client.get("/api/v2/seasonal-backgrounds")
    assert backgrounds.status_code == 200 and "backgrounds" in backgrounds.json()
    assert (await client.get(f"/osu/{beatmap.id}")).status_code == 200
    for path in (
        f"/api/v2/beatmaps/{beatmap.id}/scores",
        f"/api/v2/beatmaps/{beatmap.id}",
        "/api/v2/rankings/osu/performance",
        "/api/v2/users/1",
        "/api/v2/scores/1",
    ):
        response = await client.get(path)
        assert response.status_code == 401, path
        assert response.json() == {"authentication": "basic"}


async def _narrow_token(client: httpx.AsyncClient, scope: str) -> dict[str, str]:
    account = await signup(client)
    body, headers = lazer_multipart(
        {
            "username": account.username,
            "password": account.password,
            "grant_type": "password",
            "client_id": LAZER_CLIENT_ID,
            "client_secret": LAZER_SECRET,
            "scope": scope,
        }
    )
    response = await client.post("/oauth/token", content=body, headers=headers)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_a_user_token_gets_what_its_scopes_name(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    beatmap = await stored_map(services)
    narrow = await _narrow_token(client, "public identify")
    assert (await client.get("/api/v2/me", headers=narrow)).status_code == 200
    board = await client.get(f"/api/v2/beatmaps/{beatmap.id}/scores", headers=narrow)
    assert board.status_code == 200
    # `friends.read` is named by osu-web's FriendsController index: a missing named scope.
    listed = await client.get("/api/v2/friends", headers=narrow)
    assert listed.status_code == 403
    assert listed.json() == {"error": "A required scope is missing."}
    # Adding a friend, blocks, notifications and submission name no scope: `*` only.
    for method, path in (
        ("POST", f"/api/v2/friends?target={player.id}"),
        ("GET", "/api/v2/blocks"),
        ("GET", "/api/v2/notifications"),
        ("POST", f"/api/v2/beatmaps/{beatmap.id}/solo/scores"),
    ):
        response = await client.request(method, path, headers=narrow)
        assert response.status_code == 403, path
        assert response.json() == {"error": "Invalid scope(s) provided."}, path
    friends = await _narrow_token(client, "friends.read")
    assert (await client.get("/api/v2/friends", headers=friends)).status_code == 200
    assert (await client.get("/api/v2/me", headers=friends)).status_code == 403
    # Any token may sign itself out.
    revoked = await client.delete("/api/v2/oauth/tokens/current", headers=friends)
    assert revoked.status_code == 204
    assert (await client.get("/api/v2/friends", headers=friends)).status_code == 401
