"""The whole route table, and nothing else.

Every route also answers with a trailing slash, directly: lazer requests `me/`,
`users/1/?key=id` and `beatmaps/?ids[]=`, and a slash-normalising redirect would drop its
Authorization header and log it out (lazer-protocol.md §8.2 #1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.routing import BaseRoute, Mount, Route, Router, WebSocketRoute

from server.api import auth, hubs, notification_socket, relations, replays, session, users

Endpoint = Callable[..., Any]


def both(path: str, endpoint: Endpoint, methods: list[str]) -> list[BaseRoute]:
    """The route at `path` and at `path/`."""
    return [Route(path, endpoint, methods=methods), Route(path + "/", endpoint, methods=methods)]


API_V2: list[BaseRoute] = [
    *both("/me/beatmapset-favourites", session.beatmapset_favourites, ["GET"]),
    *both("/me", users.me, ["GET"]),
    *both("/me/{mode}", users.me, ["GET"]),
    *both("/users", users.list_users, ["GET"]),
    *both("/users/lookup", users.lookup_users, ["GET"]),
    *both("/users/{user}", users.show_user, ["GET"]),
    *both("/users/{user}/{mode}", users.show_user, ["GET"]),
    *both("/friends", relations.list_relations, ["GET"]),
    *both("/friends", relations.add_relation, ["POST"]),
    *both("/friends/{target}", relations.remove_relation, ["DELETE"]),
    *both("/blocks", relations.list_relations, ["GET"]),
    *both("/blocks", relations.add_relation, ["POST"]),
    *both("/blocks/{target}", relations.remove_relation, ["DELETE"]),
    *both("/seasonal-backgrounds", session.seasonal_backgrounds, ["GET"]),
    *both("/notifications", session.notifications, ["GET"]),
    *both("/chat/channels", session.chat_channels, ["GET"]),
    *both("/chat/updates", session.chat_updates, ["GET"]),
    *both("/chat/ack", session.chat_ack, ["POST"]),
    *both("/scores/{score}/download", replays.download_replay, ["GET"]),
]

ROUTES: list[BaseRoute] = [
    *both("/oauth/token", auth.issue_token, ["POST"]),
    *both("/users", auth.register, ["POST"]),
    *both("/health", session.health, ["GET"]),
    WebSocketRoute("/notifications", notification_socket.notification_socket),
    Route("/signalr/{hub}/negotiate", hubs.negotiate, methods=["POST"]),
    WebSocketRoute("/signalr/{hub}", hubs.hub_socket),
    Mount("/api/v2", app=Router(API_V2, redirect_slashes=False)),
]
