"""The whole route table, and nothing else.

Every route also answers with a trailing slash, directly: lazer requests `me/`,
`users/1/?key=id` and `beatmaps/?ids[]=`, and a slash-normalising redirect would drop its
Authorization header and log it out (lazer-protocol.md §8.2 #1).

The API routes are dispatched by their first path segment: Starlette tries routes in
order, and a scan of every API route cost more than the whole of a cached leaderboard read.
"""

from __future__ import annotations

import inspect
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from starlette.datastructures import URLPath
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import (
    BaseRoute,
    Match,
    NoMatchFound,
    Route,
    Router,
    WebSocketRoute,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from server.api import (
    admin,
    api_keys,
    auth,
    authorize,
    beatmaps,
    chat,
    content,
    hubs,
    notification_socket,
    oauth_clients,
    packs,
    password,
    profile_pages,
    rankings,
    relations,
    replays,
    rooms,
    score_feed,
    scores,
    search,
    session,
    spotlights,
    tags,
    users,
    v1,
    verification,
)

Endpoint = Callable[..., Any]


# Scope key under which the matched route's path template is left for the access log (the
# part below the API prefix, which is in the scope's root_path).
ROUTE_TEMPLATE = "osu.route"


def _endpoint_app(endpoint: Endpoint) -> ASGIApp:
    """The ASGI app of an async endpoint: Starlette's `request_response` without its own
    exception wrapper. The app's ExceptionMiddleware maps the same exceptions with the same
    handlers one layer out (the scope is the same dict), so the second wrapper, with its
    send wrapper on every message, bought nothing."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)

    return app


class _Route(Route):
    """A route that tells the access log which template matched."""

    def __init__(self, path: str, endpoint: Endpoint, methods: list[str]) -> None:
        super().__init__(path, endpoint, methods=methods)
        if inspect.iscoroutinefunction(endpoint):
            self.app = _endpoint_app(endpoint)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE:
            child[ROUTE_TEMPLATE] = self.path
        return match, child


class _WebSocketRoute(WebSocketRoute):
    """A WebSocket route that tells the access log which template matched."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE:
            child[ROUTE_TEMPLATE] = self.path
        return match, child


class _SlashRoute(_Route):
    """A route that also matches its path with one trailing slash."""

    def __init__(self, path: str, endpoint: Endpoint, methods: list[str]) -> None:
        super().__init__(path, endpoint, methods=methods)
        self.path_regex = re.compile(self.path_regex.pattern.removesuffix("$") + "/?$")


def both(path: str, endpoint: Endpoint, methods: list[str]) -> list[BaseRoute]:
    """The route at `path` and at `path/`."""
    return [_SlashRoute(path, endpoint, methods)]


class _Pattern:
    """One route's path template as segments, matched against a request's segments directly:
    what the route's regex does for a template with a literal first segment and plain
    `{name}` parameters (each one non-empty segment), without the regex, Starlette's
    route-path and parameter-copy work on every request."""

    __slots__ = ("app", "literals", "methods", "params", "route", "slash", "template", "type")

    def __init__(self, route: BaseRoute) -> None:
        assert isinstance(route, Route | WebSocketRoute)
        segments = route.path.split("/")[1:]
        for segment in segments:
            assert ":" not in segment, f"{route.path}: convertors are not dispatched by segment"
        self.route = route
        # What a full match runs: the endpoint's app, past Route.handle's method check.
        self.app: ASGIApp = route.app
        self.template = route.path
        self.type = "websocket" if isinstance(route, WebSocketRoute) else "http"
        self.methods = route.methods if isinstance(route, Route) else None
        self.slash = isinstance(route, _SlashRoute)
        # The first segment is the group's key: every candidate of a group has it already.
        self.literals = tuple(
            (i, s) for i, s in enumerate(segments) if i > 0 and not s.startswith("{")
        )
        self.params = tuple((i, s[1:-1]) for i, s in enumerate(segments) if s.startswith("{"))

    def match(self, scope_type: str, segments: list[str], slash: bool) -> dict[str, str] | None:
        """The path parameters when the path matches (`slash`: it ended with one slash)."""
        if scope_type != self.type or (slash and not self.slash):
            return None
        for index, literal in self.literals:
            if segments[index] != literal:
                return None
        params: dict[str, str] = {}
        for index, name in self.params:
            value = segments[index]
            if not value:
                return None
            params[name] = value
        return params


class _BySegment:
    """Routes grouped by literal first path segment and segment count, so a request is
    matched against its few candidates (one to four), in table order, as a Router would,
    segment by segment (`_Pattern`).

    Only the route path below the API prefix is looked at; a request no group takes, or no
    route of its group matches, is a 404 from an empty Router (the app's HTTPException
    handler shapes it)."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        groups: dict[tuple[str, int], list[_Pattern]] = defaultdict(list)
        for route in routes:
            assert isinstance(route, Route | WebSocketRoute) and ":path}" not in route.path
            segments = route.path.split("/")[1:]
            assert "{" not in segments[0], f"{route.path}: needs a literal first segment"
            groups[segments[0], len(segments)].append(_Pattern(route))
        self._groups = {key: tuple(group) for key, group in groups.items()}
        self._none = Router([], redirect_slashes=False)

    @staticmethod
    def _segments(scope: Scope) -> tuple[list[str], bool]:
        """The path's segments below the root path, and whether it ended with a slash."""
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        trimmed = path.removesuffix("/")
        return trimmed.split("/")[1:], len(trimmed) != len(path)

    def resolve(self, scope: Scope) -> tuple[Match, BaseRoute | None, Scope]:
        """The route a request goes to and the scope it adds: the first full match of its
        group, else the first partial one (the method differs: a 405), else none."""
        match, pattern, child = self.find(scope)
        return match, pattern.route if pattern is not None else None, child

    def find(self, scope: Scope) -> tuple[Match, _Pattern | None, Scope]:
        """`resolve` with the matched route's pattern."""
        segments, slash = self._segments(scope)
        group = self._groups.get((segments[0], len(segments))) if segments else None
        if group is None:
            return Match.NONE, None, {}
        scope_type: str = scope["type"]
        method = scope.get("method")
        partial: tuple[_Pattern, Scope] | None = None
        for pattern in group:
            params = pattern.match(scope_type, segments, slash)
            if params is None:
                continue
            outer = scope.get("path_params")
            child = {
                "endpoint": pattern.route.endpoint,
                "path_params": {**outer, **params} if outer else params,
                ROUTE_TEMPLATE: pattern.template,
            }
            if pattern.methods is None or method in pattern.methods:
                return Match.FULL, pattern, child
            if partial is None:
                partial = (pattern, child)
        if partial is not None:
            return Match.PARTIAL, partial[0], partial[1]
        return Match.NONE, None, {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return
        _, route, child = self.resolve(scope)
        if route is None:
            await self._none(scope, receive, send)
            return
        scope.update(child)
        await route.handle(scope, receive, send)


class _Prefix(BaseRoute):
    """A Mount of `app` at a fixed `prefix` (no path parameters): what Mount's match does
    for such a prefix (root_path extended, app_root_path kept) without its regex and
    parameter copies on every request."""

    def __init__(self, prefix: str, app: ASGIApp) -> None:
        self.prefix = prefix
        self._below = prefix + "/"
        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket"):
            root: str = scope.get("root_path", "")
            if scope["path"].startswith(root + self._below):
                return Match.FULL, {
                    "app_root_path": scope.get("app_root_path", root),
                    "root_path": root + self.prefix,
                }
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)


class _Grouped(BaseRoute):
    """The routes outside the API, dispatched as the API's are (by first segment and segment
    count) as one entry of the app's route list: a request for one of them tries a few
    patterns, not the whole table. A path no route takes does not match, so the app's own
    404 answers as before."""

    def __init__(self, routes: list[BaseRoute]) -> None:
        self.routes = _BySegment(routes)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket"):
            match, route, child = self.routes.resolve(scope)
            if route is not None:
                return match, {**child, _ROUTE: route}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        route: BaseRoute = scope.pop(_ROUTE)
        await route.handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)


_ROUTE = "osu.matched_route"


API_V2: list[BaseRoute] = [
    *both("/me/beatmapset-favourites", session.beatmapset_favourites, ["GET"]),
    *both("/me", users.me, ["GET"]),
    *both("/me/legacy-api-key", api_keys.create_key, ["POST"]),
    *both("/me/legacy-api-key", api_keys.revoke_key, ["DELETE"]),
    *both("/me/{mode}", users.me, ["GET"]),
    *both("/me/password", password.change_password, ["PUT"]),
    *both("/users", users.list_users, ["GET"]),
    *both("/users/lookup", users.lookup_users, ["GET"]),
    *both("/users/{user}", users.show_user, ["GET"]),
    # Fixed third segments before `{mode}` (a path parameter matches any segment).
    *both("/users/{user}/kudosu", profile_pages.kudosu, ["GET"]),
    *both("/users/{user}/recent_activity", profile_pages.recent_activity, ["GET"]),
    *both("/users/{user}/beatmaps-passed", profile_pages.beatmaps_passed, ["GET"]),
    *both("/users/{user}/{mode}", users.show_user, ["GET"]),
    *both("/users/{user}/beatmapsets/{type}", profile_pages.user_beatmapsets, ["GET"]),
    *both("/friends", relations.list_relations, ["GET"]),
    *both("/friends", relations.add_relation, ["POST"]),
    *both("/friends/{target}", relations.remove_relation, ["DELETE"]),
    *both("/blocks", relations.list_relations, ["GET"]),
    *both("/blocks", relations.add_relation, ["POST"]),
    *both("/blocks/{target}", relations.remove_relation, ["DELETE"]),
    *both("/seasonal-backgrounds", session.seasonal_backgrounds, ["GET"]),
    *both("/notifications", session.notifications, ["GET"]),
    *both("/notifications/mark-read", session.mark_notifications_read, ["POST"]),
    *both("/chat/channels", chat.list_channels, ["GET"]),
    *both("/chat/channels", chat.create_channel, ["POST"]),
    *both("/chat/channels/{channel}", chat.show_channel, ["GET"]),
    *both("/chat/channels/{channel}/users/{user}", chat.join_channel, ["PUT"]),
    *both("/chat/channels/{channel}/users/{user}", chat.part_channel, ["DELETE"]),
    *both("/chat/channels/{channel}/messages", chat.list_messages, ["GET"]),
    *both("/chat/channels/{channel}/messages", chat.post_message, ["POST"]),
    *both("/chat/channels/{channel}/mark-as-read/{message}", chat.mark_as_read, ["PUT"]),
    *both("/chat/new", chat.new_conversation, ["POST"]),
    *both("/chat/updates", chat.updates, ["GET"]),
    *both("/chat/presence", chat.presence, ["GET"]),
    *both("/chat/ack", chat.ack, ["POST"]),
    *both("/reports", chat.report, ["POST"]),
    # Beatmaps: fixed paths before `{id}` ones (a path parameter matches any segment).
    *both("/beatmaps", beatmaps.list_beatmaps, ["GET"]),
    *both("/beatmaps/lookup", beatmaps.lookup_beatmap, ["GET"]),
    *both("/beatmaps/packs", packs.list_packs, ["GET"]),
    *both("/beatmaps/packs/{pack}", packs.show_pack, ["GET"]),
    *both("/beatmaps/{beatmap}", beatmaps.show_beatmap, ["GET"]),
    *both("/beatmaps/{beatmap}/attributes", beatmaps.beatmap_attributes, ["POST"]),
    *both("/beatmaps/{beatmap}/tags/{tag}", tags.vote, ["PUT"]),
    *both("/beatmaps/{beatmap}/tags/{tag}", tags.unvote, ["DELETE"]),
    *both("/beatmaps/{beatmap}/solo/scores", scores.create_solo_token, ["POST"]),
    *both("/beatmaps/{beatmap}/solo/scores/{token}", scores.submit_solo_score, ["PUT"]),
    *both("/beatmaps/{beatmap}/scores", scores.beatmap_scores, ["GET"]),
    *both("/beatmaps/{beatmap}/scores/users/{user}", scores.beatmap_user_score, ["GET"]),
    *both("/beatmaps/{beatmap}/scores/users/{user}/all", scores.beatmap_user_scores, ["GET"]),
    *both("/scores", score_feed.scores, ["GET"]),
    *both("/scores/{score}", scores.show_score, ["GET"]),
    *both("/users/{user}/scores/{type}", scores.user_scores, ["GET"]),
    *both("/score-pins/{score}", scores.pin_score, ["PUT"]),
    *both("/score-pins/{score}", scores.unpin_score, ["DELETE"]),
    *both("/score-pins/{score}/reorder", scores.reorder_pin, ["POST"]),
    *both("/rankings/kudosu", spotlights.kudosu_ranking, ["GET"]),
    *both("/rankings/{mode}/charts", spotlights.charts, ["GET"]),
    *both("/rankings/{mode}/{type}", rankings.rankings, ["GET"]),
    *both("/spotlights", spotlights.spotlights, ["GET"]),
    *both("/search", search.search, ["GET"]),
    *both("/tags", tags.list_tags, ["GET"]),
    *both("/beatmapsets/search", beatmaps.search_beatmapsets, ["GET"]),
    *both("/beatmapsets/lookup", beatmaps.lookup_beatmapset, ["GET"]),
    *both("/beatmapsets/{beatmapset}", beatmaps.show_beatmapset, ["GET"]),
    *both("/beatmapsets/{beatmapset}/download", beatmaps.download_beatmapset, ["GET"]),
    *both("/beatmapsets/{beatmapset}/favourites", beatmaps.favourite_beatmapset, ["POST"]),
    *both("/scores/{score}/download", replays.download_replay, ["GET"]),
    *both("/scores/{ruleset}/{score}", score_feed.legacy_score, ["GET"]),
    *both("/oauth/tokens/current", auth.revoke_current_token, ["DELETE"]),
    *both("/rooms", rooms.list_rooms, ["GET"]),
    *both("/rooms", rooms.create_room, ["POST"]),
    *both("/rooms/{room}", rooms.show_room, ["GET"]),
    *both("/rooms/{room}", rooms.close_room, ["DELETE"]),
    *both("/rooms/{room}/leaderboard", rooms.room_leaderboard, ["GET"]),
    *both("/rooms/{room}/events", rooms.room_events, ["GET"]),
    *both("/rooms/{room}/users/{user}", rooms.join_room, ["PUT"]),
    *both("/rooms/{room}/users/{user}", rooms.part_room, ["DELETE"]),
    *both("/rooms/{room}/playlist/{item}/scores", rooms.playlist_scores, ["GET"]),
    *both("/rooms/{room}/playlist/{item}/scores", rooms.create_playlist_token, ["POST"]),
    *both("/rooms/{room}/playlist/{item}/scores/{token}", rooms.submit_playlist_score, ["PUT"]),
    *both("/rooms/{room}/playlist/{item}/scores/{score}", rooms.playlist_score, ["GET"]),
    *both("/rooms/{room}/playlist/{item}/scores/users/{user}", rooms.playlist_user_score, ["GET"]),
    *both("/session/verify", verification.verify, ["POST"]),
    *both("/session/verify/reissue", verification.reissue, ["POST"]),
    *both("/session/verify/mail-fallback", verification.mail_fallback, ["POST"]),
    # Our admin API (README "Moderation"); osu-web has no public one.
    *both("/admin/users/{user}/history", admin.account_history, ["GET"]),
    *both("/admin/users/{user}/{action}", admin.moderate, ["POST"]),
    *both("/admin/users/{user}/roles/{role}", admin.set_role, ["PUT", "DELETE"]),
    *both("/news", content.news, ["GET"]),
    *both("/news/{news}", content.news_post, ["GET"]),
    *both("/changelog", content.changelog, ["GET"]),
    *both("/changelog/{stream}/{build}", content.changelog_build, ["GET"]),
    *both("/comments", content.comments, ["GET"]),
    # A wiki path has one route per depth (the segment dispatcher takes no `:path`).
    *[
        route
        for depth in range(1, content.WIKI_MAX_DEPTH + 1)
        for route in both(
            "/wiki/{locale}/" + "/".join(f"{{p{i}}}" for i in range(depth)),
            content.wiki_page,
            ["GET"],
        )
    ],
]

# Every route outside the API (each with a literal first segment).
TOP_LEVEL: list[BaseRoute] = [
    *both("/oauth/token", auth.issue_token, ["POST"]),
    *both("/oauth/authorize", authorize.authorize, ["GET"]),
    *both("/oauth/authorize", authorize.decide, ["POST", "DELETE"]),
    *both("/oauth/clients", oauth_clients.list_clients, ["GET"]),
    *both("/oauth/clients", oauth_clients.create_client, ["POST"]),
    *both("/oauth/clients/{client}", oauth_clients.update_client, ["PUT"]),
    *both("/oauth/clients/{client}", oauth_clients.delete_client, ["DELETE"]),
    *both("/oauth/clients/{client}/reset-secret", oauth_clients.reset_secret, ["POST"]),
    *both("/oauth/authorized-clients", oauth_clients.list_authorized, ["GET"]),
    *both("/oauth/authorized-clients/{client}", oauth_clients.revoke_authorized, ["DELETE"]),
    *both("/users", auth.register, ["POST"]),
    *both("/password-reset", password.request_reset, ["POST"]),
    *both("/password-reset/reset", password.reset_password, ["POST"]),
    *both("/health", session.health, ["GET"]),
    *both("/ready", session.ready, ["GET"]),
    _Route("/osu/{beatmap}", beatmaps.osu_file, methods=["GET"]),
    # osu! API v1 (clients.md §3).
    *both("/api/get_beatmaps", v1.get_beatmaps, ["GET"]),
    *both("/api/get_user", v1.get_user, ["GET"]),
    *both("/api/get_scores", v1.get_scores, ["GET"]),
    *both("/api/get_user_best", v1.get_user_best, ["GET"]),
    *both("/api/get_user_recent", v1.get_user_recent, ["GET"]),
    *both("/api/get_replay", v1.get_replay, ["GET"]),
    *both("/api/get_match", v1.get_match, ["GET"]),
    _WebSocketRoute("/notifications", notification_socket.notification_socket),
    _Route("/signalr/{hub}/negotiate", hubs.negotiate, methods=["POST"]),
    _WebSocketRoute("/signalr/{hub}", hubs.hub_socket),
]

# The route table: the API under /api/v2, then the rest.
ROUTES: list[BaseRoute] = [
    # First: nearly every request is an API call, and no other route starts with /api/v2.
    _Prefix("/api/v2", _BySegment(API_V2)),
    *TOP_LEVEL,
]

# What the app serves: the same table, the routes outside the API grouped as the API's are.
_GROUPED = _Grouped(TOP_LEVEL)
DISPATCH: list[BaseRoute] = [ROUTES[0], _GROUPED]


class _HttpDispatch:
    """HTTP requests straight to their route's endpoint, as Starlette's Router would send
    them through DISPATCH (the API prefix, else the other routes; a 405 for a known path
    with another method, else 404), without the Router's, the prefix's, the group's and
    Route.handle's layers on every request. The app's edge calls this; WebSocket and
    lifespan scopes still go through the Router."""

    def __init__(self, api_prefix: _Prefix, api: _BySegment, others: _BySegment) -> None:
        self._api_prefix = api_prefix
        self._api = api
        self._others = others

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        table = self._others
        prefixed, child = self._api_prefix.matches(scope)
        if prefixed is Match.FULL:
            scope.update(child)
            table = self._api
        match, pattern, child = table.find(scope)
        if pattern is None:
            raise HTTPException(status_code=404)  # the Router's not_found inside an app
        scope.update(child)
        if match is Match.FULL:
            await pattern.app(scope, receive, send)
        else:
            await pattern.route.handle(scope, receive, send)  # the 405


_API = ROUTES[0]
assert isinstance(_API, _Prefix) and isinstance(_API.app, _BySegment)
HTTP_DISPATCH = _HttpDispatch(_API, _API.app, _GROUPED.routes)
