"""The notification WebSocket advertised by GET notifications (lazer-protocol.md §4.9)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from server.app import create_app
from tests.conftest import make_settings
from tests.helpers import LAZER_SECRET


def _signed_in(tc: TestClient, name: str) -> tuple[int, str]:
    user = tc.post(
        "/users",
        files={
            "user[username]": (None, name),
            "user[user_email]": (None, f"{name}@example.com"),
            "user[password]": (None, "a long passphrase"),
        },
    )
    assert user.status_code == 200, user.text
    token = tc.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": "5",
            "client_secret": LAZER_SECRET,
            "username": name,
            "password": "a long passphrase",
            "scope": "*",
        },
    )
    return user.json()["id"], token.json()["access_token"]


def _push_until_heard(tc: TestClient, user_id: int, event: str, data: object) -> None:
    services = tc.app_state["services"]
    deadline = time.monotonic() + 5
    while tc.portal.call(services.notifications.push, user_id, event, data) == 0:
        assert time.monotonic() < deadline, "socket never subscribed"
        time.sleep(0.02)


@pytest.fixture
def socket_app(app: Starlette, data_dir: Path) -> Starlette:
    # A separate app instance: TestClient runs its lifespan on its own event loop.
    return create_app(make_settings(data_dir))


def test_socket_relays_events_and_gates_chat_on_chat_start(socket_app: Starlette) -> None:
    import secrets

    with TestClient(socket_app, client=("192.0.2.10", 1)) as tc:
        user_id, token = _signed_in(tc, f"ws{secrets.token_hex(4)}")
        with tc.websocket_connect(
            "/notifications", headers={"Authorization": f"Bearer {token}"}
        ) as ws:
            # Before chat.start, chat events are held back; other events pass.
            _push_until_heard(tc, user_id, "chat.message.new", {"messages": [], "users": []})
            _push_until_heard(tc, user_id, "new", {"id": 1, "name": "user_achievement_unlock"})
            first = ws.receive_json()
            assert first == {"event": "new", "data": {"id": 1, "name": "user_achievement_unlock"}}
            ws.send_text('{"event":"chat.start"}')
            ws.send_text("not json at all")  # ignored, connection stays up
            time.sleep(0.1)
            _push_until_heard(
                tc, user_id, "chat.message.new", {"messages": [{"message_id": 9}], "users": []}
            )
            chat = ws.receive_json()
            assert (
                chat["event"] == "chat.message.new"
                and chat["data"]["messages"][0]["message_id"] == 9
            )


def test_socket_refuses_missing_or_bad_tokens(socket_app: Starlette) -> None:
    with TestClient(socket_app, client=("192.0.2.11", 1)) as tc:
        for headers in ({}, {"Authorization": "Bearer nope"}):
            with (
                pytest.raises(WebSocketDisconnect) as refused,
                tc.websocket_connect("/notifications", headers=headers),
            ):
                pass
            assert refused.value.code == 1008


def test_access_token_query_parameter_also_works(socket_app: Starlette) -> None:
    import secrets

    with TestClient(socket_app, client=("192.0.2.12", 1)) as tc:
        user_id, token = _signed_in(tc, f"wq{secrets.token_hex(4)}")
        with tc.websocket_connect(f"/notifications?access_token={token}") as ws:
            _push_until_heard(tc, user_id, "logout", None)
            assert ws.receive_json()["event"] == "logout"
