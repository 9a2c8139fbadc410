"""No input gives a 5xx: the inputs a fuzzing run found (each a 4xx now), and a property-based
fuzz over the whole route table.

FUZZ_EXAMPLES raises the fuzz run's size (CI keeps it small; a long run is
`FUZZ_EXAMPLES=100000 python -m pytest tests/integration/test_no_server_errors.py`)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.routing import Route

from server.hubs.transport import connection_token_valid
from server.routes import API_V2, ROUTES
from tests.helpers import LAZER_CLIENT_ID, LAZER_SECRET, SignedIn, lazer_multipart, unique_name

DEEP = 1000
DEEP_JSON = ("[" * DEEP + "]" * DEEP).encode()
DEEP_OBJECT = ('{"user":' + "[" * DEEP + "]" * DEEP + "}").encode()


def _http_routes() -> list[tuple[str, str]]:
    """(method, path template) of every HTTP route, the API's under /api/v2."""
    found: list[tuple[str, str]] = []
    for prefix, routes in (("/api/v2", API_V2), ("", ROUTES)):
        for route in routes:
            if isinstance(route, Route) and route.methods:
                for method in sorted(route.methods - {"HEAD"}):
                    found.append((method, prefix + route.path))
    return found


HTTP_ROUTES = _http_routes()


def _fill(template: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: value, template)


# --- the inputs the fuzzing run found ---------------------------------------------------


@pytest.mark.parametrize("body", [DEEP_JSON, DEEP_OBJECT], ids=["array", "object"])
async def test_json_nested_1000_deep_is_a_400_everywhere(
    client: httpx.AsyncClient, player: SignedIn, body: bytes
) -> None:
    headers = {**player.headers, "Content-Type": "application/json"}
    for method, template in HTTP_ROUTES:
        if method not in ("POST", "PUT", "DELETE"):
            continue
        path = _fill(template, "1")
        response = await client.request(method, path, content=body, headers=headers)
        assert response.status_code < 500, (method, path, response.text)
    token = await client.post(
        "/oauth/token", content=DEEP_OBJECT, headers={"Content-Type": "application/json"}
    )
    assert token.status_code == 400
    assert token.json() == {"error": "request body is not valid JSON"}


async def test_score_submission_nested_too_deep_is_refused(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    body = ('{"statistics":{"great":' + "[" * DEEP + "]" * DEEP + "}}").encode()
    response = await client.put(
        "/api/v2/beatmaps/1/solo/scores/1",
        content=body,
        headers={**player.headers, "Content-Type": "application/json"},
    )
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("client_id", [str(2**64), str(2**63), "-" + str(2**70), "9" * 40])
async def test_client_id_beyond_64_bits_is_invalid_client(
    client: httpx.AsyncClient, client_id: str
) -> None:
    body, headers = lazer_multipart(
        {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": LAZER_SECRET,
            "scope": "public",
        }
    )
    response = await client.post("/oauth/token", content=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/users/²",
        "/api/v2/users/²/osu",
        "/api/v2/users/²?key=id",
        "/api/v2/users/²/scores/best",
        "/api/v2/beatmaps/1/scores/users/²",
        "/api/v2/beatmaps/1/scores/users/²/all",
        "/api/v2/scores/²",
        "/api/v2/beatmaps/²",
        "/osu/²",
    ],
)
async def test_non_ascii_digits_in_ids_are_not_500(
    client: httpx.AsyncClient, player: SignedIn, path: str
) -> None:
    response = await client.get(path, headers=player.headers)
    assert 400 <= response.status_code < 500, response.text


async def test_non_ascii_digit_ruleset_in_attributes_is_not_500(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    response = await client.post(
        "/api/v2/beatmaps/1/attributes",
        json={"ruleset": "²", "mods": ["²"]},
        headers=player.headers,
    )
    assert 400 <= response.status_code < 500, response.text


def test_hub_connection_token_with_non_ascii_digits_is_invalid() -> None:
    assert not connection_token_valid(b"k" * 32, "²²²²²²²²²².abc.def", "spectator", 1, 0.0)


async def test_concurrent_registrations_of_one_name_and_email(client: httpx.AsyncClient) -> None:
    """Both pass the checks before either inserts: the loser gets the form error, not a 500."""

    async def register(username: str, email: str) -> httpx.Response:
        body, headers = lazer_multipart(
            {
                "user[username]": username,
                "user[user_email]": email,
                "user[password]": f"pw-{secrets.token_hex(8)}",
            }
        )
        return await client.post("/users", content=body, headers=headers)

    name = unique_name("race")
    same_name = await asyncio.gather(*(register(name, f"{name}{i}@example.com") for i in range(4)))
    assert sorted(r.status_code for r in same_name) == [200, 422, 422, 422]
    for response in same_name:
        if response.status_code == 422:
            assert response.json() == {
                "form_error": {"user": {"username": ["Username is already in use!"]}}
            }

    email = f"{unique_name('mail')}@example.com"
    same_email = await asyncio.gather(*(register(unique_name("race"), email) for _ in range(4)))
    assert sorted(r.status_code for r in same_email) == [200, 422, 422, 422]
    for response in same_email:
        if response.status_code == 422:
            assert response.json() == {
                "form_error": {"user": {"user_email": ["Email address already used."]}}
            }


async def test_every_route_with_every_tricky_id(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    """Each path parameter of each route, and `?key=id`, with each id the fuzzing run found
    troublesome (signed in, so the handler gets past authentication)."""
    for method, template in HTTP_ROUTES:
        if "{" not in template:
            continue
        for raw in TRICKY_IDS:
            path = _fill(template, quote(raw, safe=""))
            response = await client.request(
                method, path, params={"key": "id"}, headers=player.headers
            )
            assert response.status_code < 500, (method, path, response.text)


# --- the property: any request to any route is answered below 500 -----------------------

TRICKY_IDS = ["²", "١٢", "0", "-1", "1e3", "0x10", " 1", "1 ", "@", "%00", "..", "NaN", "@²"]
TRICKY_IDS += [str(2**63), str(2**64), "9" * 30, "-" + "9" * 30]

_ids = st.one_of(
    st.sampled_from(TRICKY_IDS),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.text(
        st.characters(blacklist_categories=["Cs"], blacklist_characters="/?#"),
        min_size=1,
        max_size=30,
    ),
)
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False),
    st.text(max_size=40),
)
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
_param_names = st.sampled_from(
    [
        "ids[]",
        "id",
        "key",
        "mode",
        "limit",
        "offset",
        "page",
        "cursor_string",
        "cursor[page]",
        "type",
        "q",
        "s",
        "m",
        "sort",
        "checksum",
        "filename",
        "ruleset",
        "ruleset_id",
        "mods[]",
        "legacy_only",
        "include[]",
        "since",
        "order",
        "country",
        "access_token",
        "noVideo",
        "negotiateVersion",
    ]
)
_query = st.dictionaries(_param_names, st.one_of(_ids, st.text(max_size=20)), max_size=4)


@st.composite
def _requests(draw: st.DrawFn) -> dict[str, Any]:
    method, template = draw(st.sampled_from(HTTP_ROUTES))
    path = re.sub(
        r"\{[^}]+\}",
        lambda _: quote(draw(_ids), safe=""),
        template,
    )
    if draw(st.booleans()):
        path += "/"
    request: dict[str, Any] = {
        "method": method,
        "path": path,
        "params": draw(_query),
        "authorized": draw(st.integers(0, 4)) > 0,
    }
    body_kind = draw(st.sampled_from(["none", "json", "form", "multipart", "raw"]))
    if body_kind == "json":
        request["content"] = json.dumps(draw(_json)).encode()
        request["content_type"] = "application/json"
    elif body_kind == "form":
        fields = draw(st.dictionaries(_param_names, st.text(max_size=20), max_size=4))
        request["content"] = httpx.QueryParams(fields).__str__().encode()
        request["content_type"] = "application/x-www-form-urlencoded"
    elif body_kind == "multipart":
        fields = draw(st.dictionaries(_param_names, st.text(max_size=20), max_size=4))
        body, headers = lazer_multipart(fields)
        request["content"] = body
        request["content_type"] = headers["Content-Type"]
    elif body_kind == "raw":
        request["content"] = draw(st.binary(max_size=64))
        request["content_type"] = draw(
            st.sampled_from(["application/json", "multipart/form-data; boundary=x", "text/plain"])
        )
    return request


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(request=_requests())
async def test_no_route_answers_5xx(
    client: httpx.AsyncClient, player: SignedIn, request: dict[str, Any]
) -> None:
    headers = {"Accept": "application/json"}
    if request["authorized"]:
        headers.update(player.headers)
    if "content_type" in request:
        headers["Content-Type"] = request["content_type"]
    response = await client.request(
        request["method"],
        request["path"],
        params=request["params"],
        content=request.get("content"),
        headers=headers,
    )
    assert response.status_code < 500, (request, response.status_code, response.text)


def test_fuzz_covers_the_route_table() -> None:
    templates = {template for _, template in HTTP_ROUTES}
    assert "/api/v2/beatmaps/{beatmap}/solo/scores/{token}" in templates
    assert "/oauth/token" in templates and "/users" in templates
    assert len(HTTP_ROUTES) >= 40
    assert LAZER_CLIENT_ID == "5"
