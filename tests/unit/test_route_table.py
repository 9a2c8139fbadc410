"""Every API v2 route is reached by its own handler for representative ids: a path
parameter matches any segment, so a fixed path (users/1/kudosu, beatmaps/packs) must come
before the general pattern it overlaps (users/{user}/{mode}, beatmaps/{beatmap}).

Matching follows the dispatcher: the routes with the request's first segment and segment
count, in table order, first full match wins."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from starlette.routing import BaseRoute, Match, Route, WebSocketRoute

from server.api import (
    beatmaps,
    packs,
    profile_pages,
    rankings,
    replays,
    score_feed,
    scores,
    spotlights,
    users,
    v1,
)
from server.routes import API_V2, DISPATCH, TOP_LEVEL, _BySegment

# Representative values per path parameter, none of them a literal another route uses.
SAMPLES = {
    "hub": "spectator",
    "client": "8",
    "user": "2",
    "mode": "osu",
    "beatmap": "123",
    "beatmapset": "456",
    "score": "789",
    "token": "5",
    "target": "3",
    "type": "best",
    "pack": "S1",
    "tag": "7",
    "ruleset": "taiko",
    "stream": "lazer",
    "build": "2024.1119.0",
    "news": "2024-01-01-post",
    "locale": "en",
    "channel": "11",
    "message": "12",
    "room": "13",
    "item": "14",
    "action": "restrict",
    "role": "moderator",
    **{f"p{i}": f"Page{i}" for i in range(8)},
}


def _key(path: str) -> tuple[str, int]:
    segments = path.removesuffix("/").split("/")[1:]
    return segments[0], len(segments)


def endpoint_for(method: str, path: str) -> Callable[..., Any] | None:
    """The handler the dispatcher picks for a request, or None (404/405)."""
    for route in API_V2:
        assert isinstance(route, Route)
        if _key(route.path) != _key(path):
            continue
        match, _ = route.matches({"type": "http", "path": path, "method": method})
        if match is Match.FULL:
            return route.endpoint
    return None


def _sample(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], path)


def _routes() -> list[BaseRoute]:
    return list(API_V2)


@pytest.mark.parametrize("route", _routes(), ids=lambda r: f"{sorted(r.methods)}{r.path}")  # type: ignore[attr-defined]
def test_every_route_reaches_its_own_handler(route: Route) -> None:
    assert route.methods
    for method in sorted(route.methods - {"HEAD"}):
        for suffix in ("", "/"):
            path = _sample(route.path) + suffix
            assert endpoint_for(method, path) is route.endpoint, (method, path)


@pytest.mark.parametrize(
    ("method", "path", "endpoint"),
    [
        ("GET", "/users/1/kudosu", profile_pages.kudosu),
        ("GET", "/users/1/recent_activity", profile_pages.recent_activity),
        ("GET", "/users/1/beatmaps-passed", profile_pages.beatmaps_passed),
        ("GET", "/users/1/osu", users.show_user),
        ("GET", "/users/1/kudosux", users.show_user),  # an unknown ruleset: that handler's 404
        ("GET", "/users/1/beatmapsets/most_played", profile_pages.user_beatmapsets),
        ("GET", "/users/1/scores/best", scores.user_scores),
        ("GET", "/beatmaps/packs", packs.list_packs),
        ("GET", "/beatmaps/packs/S123", packs.show_pack),
        ("GET", "/beatmaps/lookup", beatmaps.lookup_beatmap),
        ("GET", "/beatmaps/123", beatmaps.show_beatmap),
        ("GET", "/beatmaps/123/scores", scores.beatmap_scores),
        ("GET", "/beatmapsets/search", beatmaps.search_beatmapsets),
        ("GET", "/beatmapsets/lookup", beatmaps.lookup_beatmapset),
        ("GET", "/beatmapsets/123", beatmaps.show_beatmapset),
        ("GET", "/scores", score_feed.scores),
        ("GET", "/scores/123", scores.show_score),
        ("GET", "/scores/123/download", replays.download_replay),
        ("GET", "/scores/osu/123", score_feed.legacy_score),
        ("GET", "/rankings/kudosu", spotlights.kudosu_ranking),
        ("GET", "/rankings/osu/charts", spotlights.charts),
        ("GET", "/rankings/osu/performance", rankings.rankings),
        ("GET", "/rankings/osu/country", rankings.rankings),
        ("GET", "/me/osu", users.me),
    ],
)
def test_overlapping_paths(method: str, path: str, endpoint: Callable[..., Any]) -> None:
    assert endpoint_for(method, path) is endpoint
    assert endpoint_for(method, path + "/") is endpoint


def test_routes_osu_web_lacks_stay_unmatched() -> None:
    assert endpoint_for("GET", "/users/1/osu/extra") is None
    assert endpoint_for("POST", "/beatmaps/packs") is None
    assert endpoint_for("GET", "/wiki/en/" + "/".join(["x"] * 7)) is None


def top_level_endpoint(scope_type: str, method: str, path: str) -> Callable[..., Any] | None:
    """The handler the app's dispatch picks for a path outside the API, or None."""
    scope = {"type": scope_type, "path": path, "method": method, "root_path": ""}
    for entry in DISPATCH:
        match, child = entry.matches(scope)
        if match is Match.NONE:
            continue
        assert "osu.matched_route" in child, f"{path} matched the API prefix"
        return child["endpoint"] if match is Match.FULL else None  # type: ignore[no-any-return]
    return None


@pytest.mark.parametrize("route", TOP_LEVEL, ids=lambda r: r.path)  # type: ignore[attr-defined]
def test_every_top_level_route_reaches_its_own_handler(route: BaseRoute) -> None:
    assert isinstance(route, Route | WebSocketRoute)
    if isinstance(route, WebSocketRoute):
        assert top_level_endpoint("websocket", "", _sample(route.path)) is route.endpoint
        return
    assert route.methods
    suffixes = ("", "/") if route.path_regex.pattern.endswith("/?$") else ("",)
    for method in sorted(route.methods - {"HEAD"}):
        for suffix in suffixes:
            path = _sample(route.path) + suffix
            assert top_level_endpoint("http", method, path) is route.endpoint, (method, path)


def test_dispatch_leaves_unknown_paths_and_the_api_to_others() -> None:
    scope = {"type": "http", "path": "/nothing/here", "method": "GET", "root_path": ""}
    assert all(entry.matches(scope)[0] is Match.NONE for entry in DISPATCH)
    api = {"type": "http", "path": "/api/v2/me", "method": "GET", "root_path": ""}
    assert DISPATCH[0].matches(api)[0] is Match.FULL
    assert top_level_endpoint("http", "GET", "/api/get_user") is v1.get_user


def _regex_dispatch(routes: list[BaseRoute], scope: dict[str, Any]) -> tuple[Match, Any]:
    """What a Starlette Router over `routes` picks (each route's own regex match, first full
    match, else first partial): the reference the segment dispatcher must agree with."""
    partial: tuple[Match, Any] | None = None
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            return match, (child["endpoint"], child["path_params"])
        if match is Match.PARTIAL and partial is None:
            partial = (match, (child["endpoint"], child["path_params"]))
    return partial or (Match.NONE, None)


def _probe_paths(routes: list[BaseRoute]) -> list[str]:
    """Each route's sample path, with and without a trailing slash, and bent out of shape:
    an empty parameter, a doubled or tripled trailing slash, a segment too many."""
    paths: list[str] = ["/", "//", "/me//", "/users//osu", "/users/1/osu/extra"]
    for route in routes:
        assert isinstance(route, Route | WebSocketRoute)
        sample = _sample(route.path)
        paths += [sample, sample + "/", sample + "//", sample + "/x", sample + "///"]
        paths.append(re.sub(r"\{\w+\}", "", route.path))  # empty parameters
    return paths


@pytest.mark.parametrize(("prefix", "table"), [("/api/v2", API_V2), ("", TOP_LEVEL)])
def test_segment_dispatch_agrees_with_the_route_regexes(
    prefix: str, table: list[BaseRoute]
) -> None:
    dispatcher = _BySegment(table)
    for path in _probe_paths(table):
        for scope_type in ("http", "websocket"):
            for method in ("GET", "POST", "PUT", "DELETE", "HEAD"):
                scope = {
                    "type": scope_type,
                    "path": prefix + path,
                    "root_path": prefix,
                    "method": method,
                }
                expected = _regex_dispatch(table, scope)
                match, _, child = dispatcher.resolve(scope)
                found = (child["endpoint"], child["path_params"]) if child else None
                assert (match, found) == expected, (scope_type, method, prefix + path)
