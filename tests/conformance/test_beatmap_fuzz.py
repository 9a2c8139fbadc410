"""Hypothesis over the beatmap endpoints' inputs, against the live server: whatever the query
string, path id or body, the answer is a 2xx or an osu-web-shaped 4xx, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.beatmap_data import store_set
from tests.conformance.conftest import HTTP_TIMEOUT
from tests.conformance.live_server import LiveServer, ThirdPartyClient

PARAM_KEYS = [
    "id", "checksum", "filename", "q", "m", "s", "c", "e", "g", "l", "sort", "nsfw",
    "cursor[sort_value]", "cursor[id]", "cursor_string", "ids[]", "beatmap_id", "noVideo",
]  # fmt: skip
PATHS = [
    "/api/v2/beatmaps/lookup",
    "/api/v2/beatmaps",
    "/api/v2/beatmapsets/search",
    "/api/v2/beatmapsets/lookup",
]
text = st.text(max_size=40) | st.sampled_from(["", "-1", "0", "1e3", "NaN", "t:", "9" * 30])
params = st.dictionaries(st.sampled_from(PARAM_KEYS), text, max_size=6)
path_ids = st.text(max_size=24) | st.integers(-(2**70), 2**70).map(str)


@pytest.fixture(scope="module")
def beatmap_id(live_server: LiveServer) -> int:
    """A stored osu! map, so attribute requests reach the core with whatever mods pass."""

    async def store(svc: Any) -> int:
        return int((await store_set(svc, difficulties=[{"ruleset": "osu"}]))[1][0])

    return live_server.call(store)


@pytest.fixture(scope="module")
def token(live_server: LiveServer, third_party_client: ThirdPartyClient) -> str:
    response = requests.post(
        f"{live_server.url}/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": str(third_party_client.id),
            "client_secret": third_party_client.secret,
            "scope": "public",
        },
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def check(response: requests.Response) -> None:
    assert response.status_code < 500, (response.request.url, response.text[:300])
    if response.status_code >= 400:
        body: Any = response.json()
        assert isinstance(body, dict) and ("error" in body or "authentication" in body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), query=params)
def test_query_strings_never_500(
    live_server: LiveServer, token: str, path: str, query: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    check(requests.get(live_server.url + path, params=query, headers=headers, timeout=HTTP_TIMEOUT))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=path_ids, suffix=st.sampled_from(["", "/", "/download", "/attributes", "/favourites"]))
def test_path_ids_never_500(live_server: LiveServer, token: str, raw: str, suffix: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    quoted = requests.utils.quote(raw, safe="")
    for base in ("/api/v2/beatmaps/", "/api/v2/beatmapsets/", "/osu/"):
        method = "POST" if suffix in ("/attributes", "/favourites") else "GET"
        response = requests.request(
            method,
            f"{live_server.url}{base}{quoted}{suffix}",
            headers=headers,
            timeout=HTTP_TIMEOUT,
        )
        check(response)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.dictionaries(st.sampled_from(["mods", "ruleset", "ruleset_id"]), st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)))  # fmt: skip
def test_attribute_bodies_never_500(
    live_server: LiveServer, token: str, beatmap_id: int, body: dict[str, Any]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{live_server.url}/api/v2/beatmaps/{beatmap_id}/attributes"
    check(requests.post(url, json=body, headers=headers, timeout=HTTP_TIMEOUT))
    # The same values as a form, the way ossapi and lazer send fields.
    form = {k: v if isinstance(v, str) else str(v) for k, v in body.items()}
    check(requests.post(url, data=form, headers=headers, timeout=HTTP_TIMEOUT))
