"""Every request-parameter rule of `server.api.params`, through the routes that use it, with
osu-web's status code: path ids, `{user}`, `users/lookup`, rulesets, pagination and bearer
tokens. Non-ASCII digits and ids past 64 bits are 4xx, never a 500 or a database query."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import SignedIn, signup
from tests.score_play import play, stored_map

# Digits `str.isdigit()` accepts: a superscript (int() raises on it) and an Arabic-Indic one
# (int() reads it as 1).
SUPERSCRIPT_TWO = "\u00b2"
ARABIC_ONE = "\u0661"
PAST_64_BITS = "99999999999999999999"
OUT_OF_RANGE = str(2**63)


@pytest.mark.parametrize(
    "raw", [SUPERSCRIPT_TWO, ARABIC_ONE, PAST_64_BITS, OUT_OF_RANGE, "0", "-1", "1e3", "x"]
)
@pytest.mark.parametrize(
    ("method", "template"),
    [
        ("GET", "/api/v2/beatmaps/{}"),
        ("GET", "/api/v2/beatmapsets/{}"),
        ("GET", "/api/v2/beatmapsets/{}/download"),
        ("GET", "/api/v2/scores/{}"),
        ("GET", "/api/v2/scores/{}/download"),
        ("GET", "/api/v2/beatmaps/{}/scores"),
        ("GET", "/api/v2/beatmaps/{}/scores/users/1"),
        ("GET", "/api/v2/beatmaps/1/scores/users/{}"),
        ("POST", "/api/v2/beatmaps/{}/attributes"),
        ("PUT", "/api/v2/score-pins/{}"),
        ("DELETE", "/api/v2/friends/{}"),
        ("GET", "/osu/{}"),
    ],
)
async def test_malformed_path_ids_are_404(
    client: httpx.AsyncClient, player: SignedIn, method: str, template: str, raw: str
) -> None:
    """osu-web's `findOrFail` / `parseIdOrFail`: a path id that is not one is not found."""
    response = await client.request(method, template.format(raw), headers=player.headers)
    assert response.status_code == 404, response.text
    assert "error" in response.json()


@pytest.mark.parametrize(
    "query",
    [
        f"ids[]={SUPERSCRIPT_TWO}",
        f"ids[]={ARABIC_ONE}",
        f"ids[]={PAST_64_BITS}",
        "ids[]=abc",
        "ids[]=-1",
        "ids[]=1&ruleset_id=4",
        f"ids[]=1&ruleset_id={ARABIC_ONE}",
    ],
)
async def test_malformed_query_integers_are_422(
    client: httpx.AsyncClient, player: SignedIn, query: str
) -> None:
    for path in ("/api/v2/users", "/api/v2/beatmaps"):
        if "ruleset_id" in query and path.endswith("beatmaps"):
            continue
        response = await client.get(f"{path}?{query}", headers=player.headers)
        assert response.status_code == 422, (path, response.text)
        assert "error" in response.json()


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v2/chat/updates?since={SUPERSCRIPT_TWO}",
        f"/api/v2/chat/updates?history_since={PAST_64_BITS}",
        f"/api/v2/beatmaps/lookup?id={ARABIC_ONE}",
        f"/api/v2/beatmapsets/lookup?beatmap_id={SUPERSCRIPT_TWO}",
        "/api/v2/users/lookup?ids[]=1&ruleset_id=9",
    ],
)
async def test_other_query_integers_are_422(
    client: httpx.AsyncClient, player: SignedIn, path: str
) -> None:
    response = await client.get(path, headers=player.headers)
    assert response.status_code == 422, response.text


async def test_friend_target_past_64_bits_is_422(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    for target in (PAST_64_BITS, OUT_OF_RANGE, "9" * 5000):
        response = await client.post(f"/api/v2/friends?target={target}", headers=player.headers)
        assert response.json() == {"error": "target is out of range"}, target


# -- {user} ------------------------------------------------------------------------------------


async def test_user_path_forms(client: httpx.AsyncClient, player: SignedIn) -> None:
    """FindForProfilePage: digits are an id, `@name` and a bare name are names; `key`
    narrows the lookup to one kind."""
    other = await signup(client)
    found = {
        f"/api/v2/users/{other.id}": 200,
        f"/api/v2/users/@{other.username}": 200,
        f"/api/v2/users/{other.username}": 200,
        f"/api/v2/users/{other.username}?key=username": 200,
        f"/api/v2/users/@{other.username}?key=username": 200,
        f"/api/v2/users/{other.id}?key=id": 200,
        f"/api/v2/users/{other.username}?key=id": 404,
        f"/api/v2/users/@{other.username}?key=id": 404,
        f"/api/v2/users/{other.id}?key=username": 404,
        "/api/v2/users/@": 404,
        f"/api/v2/users/{SUPERSCRIPT_TWO}": 404,
        f"/api/v2/users/{ARABIC_ONE}": 404,
        f"/api/v2/users/{PAST_64_BITS}": 404,
        f"/api/v2/users/{PAST_64_BITS}?key=id": 404,
    }
    for path, status in found.items():
        response = await client.get(path, headers=player.headers)
        assert response.status_code == status, path
        if status == 200:
            assert response.json()["id"] == other.id, path
        else:
            assert response.json() == {"error": "User not found! ;_;"}, path


async def test_user_score_lists_take_ids_only(client: httpx.AsyncClient, player: SignedIn) -> None:
    """osu-web looks a score list's `{user}` up by id only (`FindForProfilePage::find($id,
    'id')`)."""
    base = f"/api/v2/users/{player.id}/scores/best"
    assert (await client.get(base, headers=player.headers)).status_code == 200
    by_name = f"/api/v2/users/@{player.account.username}/scores/best"
    assert (await client.get(by_name, headers=player.headers)).status_code == 404
    bare = f"/api/v2/users/{player.account.username}/scores/best"
    assert (await client.get(bare, headers=player.headers)).status_code == 404


async def test_lookup_takes_ids_at_names_and_bare_names(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    a, b, c = await signup(client), await signup(client), await signup(client)
    query = "&".join(
        f"ids[]={value}"
        for value in (a.id, f"@{b.username}", c.username, "nobody-here", PAST_64_BITS, "")
    )
    response = await client.get(f"/api/v2/users/lookup?{query}", headers=player.headers)
    assert response.status_code == 200
    assert [u["id"] for u in response.json()["users"]] == sorted([a.id, b.id, c.id])
    with_ruleset = await client.get(
        f"/api/v2/users/lookup?ids[]={c.username}&ruleset_id=3", headers=player.headers
    )
    assert with_ruleset.status_code == 200
    assert [u["id"] for u in with_ruleset.json()["users"]] == [c.id]


async def test_lookup_takes_at_most_fifty(client: httpx.AsyncClient, player: SignedIn) -> None:
    """osu-web's LookupController: more than 50 entries is a 422 (RequestTooLargeException);
    `users?ids[]=` reads the first 50."""
    last = await signup(client)
    fifty = "&".join(["ids[]=999999999"] * 49 + [f"ids[]={last.id}"])
    response = await client.get(f"/api/v2/users/lookup?{fifty}&ids[]=", headers=player.headers)
    assert [u["id"] for u in response.json()["users"]] == [last.id]
    too_many = await client.get(f"/api/v2/users/lookup?{fifty}&ids[]=1", headers=player.headers)
    assert too_many.status_code == 422
    assert too_many.json() == {"error": "ids parameter has a maximum of 50 items"}
    listed = "&".join(["ids[]=999999999"] * 50 + [f"ids[]={last.id}"])
    response = await client.get(f"/api/v2/users?{listed}", headers=player.headers)
    assert response.status_code == 200 and response.json()["users"] == []


# -- rulesets ----------------------------------------------------------------------------------


async def test_ruleset_status_codes_are_the_routes_own(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    """osu-web: 404 on profiles, rankings and score lists; 422 on leaderboards and
    attributes; `beatmaps/{b}/scores/users/{u}/all` 404, its one-score sibling 422."""
    beatmap = await stored_map(services)
    await play(client, player, beatmap)
    uid, bid = player.id, beatmap.id
    expected = {
        ("GET", f"/api/v2/users/{uid}/catch"): 404,
        ("GET", "/api/v2/me/catch"): 404,
        ("GET", "/api/v2/rankings/catch/performance"): 404,
        ("GET", f"/api/v2/users/{uid}/scores/best?mode=catch"): 404,
        ("GET", f"/api/v2/beatmaps/{bid}/scores/users/{uid}/all?ruleset=catch"): 404,
        ("GET", f"/api/v2/beatmaps/{bid}/scores/users/{uid}?mode=catch"): 422,
        ("GET", f"/api/v2/beatmaps/{bid}/scores?mode=catch"): 422,
        ("POST", f"/api/v2/beatmaps/{bid}/attributes?ruleset=catch"): 422,
        ("POST", f"/api/v2/beatmaps/{bid}/attributes?ruleset_id=4"): 422,
        ("POST", f"/api/v2/beatmaps/{bid}/attributes?ruleset_id={SUPERSCRIPT_TWO}"): 422,
        ("GET", f"/api/v2/users/{uid}/fruits"): 200,
        ("GET", f"/api/v2/beatmaps/{bid}/scores/users/{uid}/all?ruleset=osu"): 200,
        ("GET", f"/api/v2/beatmaps/{bid}/scores/users/{uid}?mode=osu"): 200,
        ("GET", f"/api/v2/beatmaps/{bid}/scores?mode=osu"): 200,
    }
    for (method, path), status in expected.items():
        response = await client.request(method, path, headers=player.headers)
        assert response.status_code == status, (path, response.text)


# -- pagination --------------------------------------------------------------------------------


async def test_pagination_is_clamped_and_lenient(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    """`limit` and `offset` never fail (osu-web's get_int + clamp); `cursor_string` that we
    could not have issued is a 422."""
    beatmap = await stored_map(services)
    await play(client, player, beatmap)
    base = f"/api/v2/users/{player.id}/scores/best"
    for query, count in (
        ("", 1),
        ("?limit=abc", 1),
        (f"?limit={ARABIC_ONE}", 1),
        ("?limit=0", 1),
        ("?limit=-4", 1),
        (f"?limit={PAST_64_BITS}", 1),
        ("?offset=-5", 1),
        ("?offset=x", 1),
        ("?offset=1", 0),
        (f"?offset={PAST_64_BITS}", 0),
    ):
        response = await client.get(base + query, headers=player.headers)
        assert response.status_code == 200, query
        assert len(response.json()) == count, query
    board = f"/api/v2/beatmaps/{beatmap.id}/scores"
    for query in ("?limit=abc", "?limit=0", f"?limit={PAST_64_BITS}"):
        response = await client.get(board + query, headers=player.headers)
        assert response.status_code == 200 and len(response.json()["scores"]) == 1, query
    for query in ("?page=abc", "?cursor[page]=-3", f"?page={SUPERSCRIPT_TWO}"):
        response = await client.get(
            "/api/v2/rankings/fruits/performance" + query, headers=player.headers
        )
        assert response.status_code == 200, query
    for cursor in ("!!!", "bm90IGpzb24", "WzEsMl0"):  # not base64; not JSON; a JSON list
        response = await client.get(
            f"/api/v2/beatmapsets/search?cursor_string={cursor}", headers=player.headers
        )
        assert response.status_code == 422, cursor


# -- bearer tokens -----------------------------------------------------------------------------


async def test_bearer_forms(client: httpx.AsyncClient, player: SignedIn) -> None:
    token = player.access_token
    for header, status in (
        (f"Bearer {token}", 200),
        (f"bearer {token}", 200),
        (f"BEARER   {token}  ", 200),
        ("Bearer ", 401),
        ("Bearer", 401),
        (f"Basic {token}", 401),
        (token, 401),
        ("Bearer not-a-token", 401),
    ):
        response = await client.get("/api/v2/me", headers={"Authorization": header})
        assert response.status_code == status, header
        if status == 401:
            assert response.json() == {"authentication": "basic"}
