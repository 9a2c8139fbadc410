"""Moderation (issue 16): restriction, silence, notes, renames and roles, through our admin
API and the CLI, with their live effect on tokens, sockets, hubs, boards and profiles."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.app import create_app
from server.services.moderation import is_silenced, parse_duration
from tests.conftest import TEST_DATABASE_URL, TEST_SECRET_KEY, make_settings
from tests.helpers import SignedIn, sign_in, signup
from tests.integration.hubs import connect
from tests.integration.test_hub_scale_out import (
    PrivateRedis,
    _subscribed,
    instance,
    private_redis,
)
from tests.integration.test_near_cache_instances import _client, _eventually
from tests.integration.test_notification_socket import _signed_in
from tests.score_play import play, stored_map

__all__ = ["private_redis"]  # the fixture, used by name


async def _admin(client: httpx.AsyncClient, services: Any, role: str = "admin") -> SignedIn:
    account = await signup(client)
    stored = await services.users.by_id(account.id)
    await services.moderation.set_role(stored, None, role, True)
    return await sign_in(client, account)


async def _act(
    client: httpx.AsyncClient, admin: SignedIn, user: int | str, action: str, **fields: str
) -> httpx.Response:
    return await client.post(
        f"/api/v2/admin/users/{user}/{action}", data=fields, headers=admin.headers
    )


async def test_restriction_hides_everything_and_unrestriction_brings_it_back(
    app: Starlette, client: httpx.AsyncClient, services: Any
) -> None:
    admin = await _admin(client, services)
    player = await sign_in(client, await signup(client))
    viewer = await sign_in(client, await signup(client))
    beatmap = await stored_map(services)
    await play(client, player, beatmap)
    board = f"/api/v2/beatmaps/{beatmap.id}/scores"
    own = f"/api/v2/beatmaps/{beatmap.id}/scores/users/{player.id}"

    async def on_board() -> list[int]:
        scores = (await client.get(board, headers=viewer.headers)).json()["scores"]
        return [s["user_id"] for s in scores]

    async def ranked_ids() -> list[int]:
        page = await client.get("/api/v2/rankings/osu/performance", headers=viewer.headers)
        return [entry["user"]["id"] for entry in page.json()["ranking"]]

    # Cached everywhere first: the board, the player's profile and the rankings page.
    for _ in range(2):
        assert await on_board() == [player.id]
        assert (await client.get(own, headers=viewer.headers)).status_code == 200
        assert (await client.get(f"/api/v2/users/{player.id}", headers=viewer.headers)).is_success
    assert player.id in await ranked_ids()
    hub = await connect(app, "spectator", player)

    restricted = await _act(client, admin, player.id, "restrict", reason="cheating")
    assert restricted.status_code == 200, restricted.text
    assert restricted.json()["is_restricted"] is True

    # Sessions end: the token is refused, the hub is told to log out and closed.
    assert (await client.get("/api/v2/me", headers=player.headers)).status_code == 401
    await hub.call_to("DisconnectRequested")
    assert (await hub.close_message()).allow_reconnect is False
    # The scores are gone from every read.
    assert await on_board() == []
    assert (await client.get(own, headers=viewer.headers)).status_code == 404
    assert (await client.get(f"{own}/all", headers=viewer.headers)).json() == {"scores": []}
    assert (
        await client.get(f"/api/v2/users/{player.id}", headers=viewer.headers)
    ).status_code == 404
    assert (
        await client.get(f"/api/v2/users/{player.id}/scores/best", headers=viewer.headers)
    ).status_code == 404
    assert player.id not in await ranked_ids()
    # A restricted player may still sign in and sees that they are restricted.
    again = await sign_in(client, player.account)
    me = (await client.get("/api/v2/me", headers=again.headers)).json()
    assert me["is_restricted"] is True

    assert (await _act(client, admin, player.id, "restrict")).status_code == 422  # already
    lifted = await _act(client, admin, player.id, "unrestrict", reason="appeal")
    assert lifted.status_code == 200 and lifted.json()["is_restricted"] is False
    assert await on_board() == [player.id]
    found = (await client.get(own, headers=viewer.headers)).json()
    assert found["position"] == 1 and found["score"]["user_id"] == player.id
    assert player.id in await ranked_ids()
    profile = (await client.get(f"/api/v2/users/{player.id}/osu", headers=viewer.headers)).json()
    assert profile["statistics"]["pp"] > 0 and profile["statistics"]["global_rank"] >= 1

    history = await client.get(f"/api/v2/admin/users/{player.id}/history", headers=admin.headers)
    entries = history.json()["account_history"]
    assert [e["action"] for e in entries] == ["unrestriction", "restriction"]
    assert entries[1]["reason"] == "cheating" and entries[1]["actor_id"] == admin.id


async def test_silence_reaches_chat_and_ends(client: httpx.AsyncClient, services: Any) -> None:
    moderator = await _admin(client, services, "moderator")
    player = await sign_in(client, await signup(client))
    before = (await client.post("/api/v2/chat/ack", headers=player.headers)).json()
    last = max([s["id"] for s in before["silences"]], default=0)

    bad = await _act(client, moderator, player.id, "silence", duration="soon")
    assert bad.status_code == 422
    silenced = await _act(client, moderator, player.id, "silence", duration="1h", reason="spam")
    assert silenced.status_code == 200, silenced.text
    assert silenced.json()["silence_end_at"] is not None
    assert is_silenced(await services.users.by_id(player.id))
    ack = await client.post(
        "/api/v2/chat/ack", data={"history_since": str(last)}, headers=player.headers
    )
    assert player.id in [s["user_id"] for s in ack.json()["silences"]]
    updates = await client.get(
        f"/api/v2/chat/updates?since=0&history_since={last}", headers=player.headers
    )
    assert player.id in [s["user_id"] for s in updates.json()["silences"]]

    assert (await _act(client, moderator, player.id, "unsilence")).status_code == 200
    assert not is_silenced(await services.users.by_id(player.id))
    assert (await _act(client, moderator, player.id, "unsilence")).status_code == 422


async def test_rename_keeps_the_old_name_resolvable(
    app: Starlette, client: httpx.AsyncClient, services: Any
) -> None:
    admin = await _admin(client, services)
    player = await sign_in(client, await signup(client))
    other = await signup(client)
    old = player.account.username
    hub = await connect(app, "metadata", player)
    await asyncio.sleep(0.05)

    taken = await _act(client, admin, player.id, "rename", username=other.username.upper())
    assert taken.status_code == 422 and "already in use" in taken.json()["error"]
    assert (await _act(client, admin, player.id, "rename", username="a")).status_code == 422
    new = f"n{old[1:]}"[:15]
    renamed = await _act(client, admin, f"@{old}", "rename", username=new)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["previous_usernames"] == [old]

    by_old = await client.get(f"/api/v2/users/@{old}", headers=player.headers)
    assert by_old.status_code == 200
    assert by_old.json()["username"] == new and by_old.json()["previous_usernames"] == [old]
    looked_up = await client.get(f"/api/v2/users/lookup?ids[]=@{old}", headers=player.headers)
    assert [u["id"] for u in looked_up.json()["users"]] == [player.id]
    # Live hub connections show the new name.
    connections = services.realtime.transport.connections.values()
    assert {c.username for c in connections if c.user_id == player.id} == {new}
    await hub.wire.close()
    # The profile's recent activity shows the change (osu-web's usernameChange event).
    activity = await client.get(
        f"/api/v2/users/{player.id}/recent_activity", headers=player.headers
    )
    [event] = [e for e in activity.json() if e["type"] == "usernameChange"]
    assert event["user"]["username"] == new and event["user"]["previousUsername"] == old


async def test_roles_show_as_groups_and_gate_the_admin_api(
    client: httpx.AsyncClient, services: Any
) -> None:
    admin = await _admin(client, services)
    moderator = await _admin(client, services, "moderator")
    player = await sign_in(client, await signup(client))

    shown = (await client.get(f"/api/v2/users/{moderator.id}", headers=player.headers)).json()
    assert [g["identifier"] for g in shown["groups"]] == ["gmt"]
    assert shown["default_group"] == "gmt"
    granted = await client.put(f"/api/v2/admin/users/{player.id}/roles/bot", headers=admin.headers)
    assert granted.status_code == 200 and granted.json()["roles"] == ["bot"]
    shown = (await client.get(f"/api/v2/users/{player.id}", headers=admin.headers)).json()
    assert shown["is_bot"] is True and [g["identifier"] for g in shown["groups"]] == ["bot"]
    removed = await client.delete(
        f"/api/v2/admin/users/{player.id}/roles/bot", headers=admin.headers
    )
    assert removed.json()["roles"] == []

    # Players may do nothing; moderators restrict, silence and note but not rename or roles.
    assert (await _act(client, player, admin.id, "note", reason="x")).status_code == 403
    assert (await _act(client, moderator, player.id, "note", reason="watch")).status_code == 200
    assert (await _act(client, moderator, player.id, "rename", username="zz")).status_code == 403
    role = await client.put(
        f"/api/v2/admin/users/{player.id}/roles/admin", headers=moderator.headers
    )
    assert role.status_code == 403
    assert (await _act(client, admin, 999_999_999, "note", reason="x")).status_code == 404
    assert (await _act(client, admin, player.id, "explode")).status_code == 404
    assert (await _act(client, admin, player.id, "note")).status_code == 422  # no reason
    unknown_role = await client.put(
        f"/api/v2/admin/users/{player.id}/roles/god", headers=admin.headers
    )
    assert unknown_role.status_code == 404
    assert (await client.post(f"/api/v2/admin/users/{player.id}/note")).status_code == 401


def test_the_notification_socket_gets_logout_and_closes(data_dir: Path) -> None:
    import secrets

    from starlette.websockets import WebSocketDisconnect

    with TestClient(create_app(make_settings(data_dir)), client=("192.0.2.60", 1)) as tc:
        services = tc.app_state["services"]
        user_id, token = _signed_in(tc, f"rs{secrets.token_hex(4)}")
        with tc.websocket_connect(
            "/notifications", headers={"Authorization": f"Bearer {token}"}
        ) as ws:
            account = tc.portal.call(services.users.by_id, user_id)
            deadline = time.monotonic() + 5
            # Wait until the socket listens, then restrict.
            while not tc.portal.call(_listening, services, user_id):
                assert time.monotonic() < deadline
                time.sleep(0.02)
            tc.portal.call(services.moderation.restrict, account, None, "test")
            assert ws.receive_json()["event"] == "logout"
            with pytest.raises(WebSocketDisconnect):
                ws.receive_json()
        me = tc.get("/api/v2/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401


async def _listening(services: Any, user_id: int) -> bool:
    from server.services.notifications import user_channel

    channel = user_channel(services.redis, user_id)
    counts = await services.redis.pubsub_numsub(channel)
    return bool(counts and counts[0][1])


def test_durations() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("15m") == 900
    assert parse_duration("7d") == 7 * 86_400
    assert parse_duration("2w") == 14 * 86_400
    for bad in ("", "m", "1.5h", "-3", "3y", "9" * 20):
        assert parse_duration(bad) is None


@pytest.mark.slow
async def test_a_restriction_locks_the_token_out_of_every_instance(
    client: httpx.AsyncClient, data_dir: Path, private_redis: PrivateRedis
) -> None:
    """Two instances sharing Redis: restricted through A's admin API, the token B checked
    and cached is refused on B within a second (S-TOK-7, WP4)."""
    account = await signup(client)
    async with (
        instance(data_dir, private_redis.url) as a,
        instance(data_dir, private_redis.url) as b,
        _client(a) as on_a,
        _client(b) as on_b,
    ):
        services_a = a.state.lifespan_state["services"]
        admin = await _admin(on_a, services_a)
        signed = await sign_in(on_b, account)
        for _ in range(2):
            assert (await on_b.get("/api/v2/me", headers=signed.headers)).status_code == 200
        hub = await connect(b, "metadata", signed)
        await _subscribed(b)
        assert (await _act(on_a, admin, account.id, "restrict")).status_code == 200

        async def refused() -> bool:
            return (await on_b.get("/api/v2/me", headers=signed.headers)).status_code == 401

        assert await _eventually(refused) < 1.0
        await hub.call_to("DisconnectRequested")


@pytest.mark.slow
@pytest.mark.skipif(
    not TEST_DATABASE_URL,
    reason="the embedded default's Redis is in-process: a CLI process cannot reach a server",
)
async def test_a_cli_restriction_reaches_a_running_server(
    client: httpx.AsyncClient, data_dir: Path, private_redis: PrivateRedis
) -> None:
    account = await signup(client)
    async with instance(data_dir, private_redis.url) as a, _client(a) as on_a:
        signed = await sign_in(on_a, account)
        for _ in range(2):
            assert (await on_a.get("/api/v2/me", headers=signed.headers)).status_code == 200
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "server", "user", "restrict", account.username],
            env={
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "DATA_DIR": str(data_dir),
                "DATABASE_URL": TEST_DATABASE_URL,
                "REDIS_URL": private_redis.url,
                "SECRET_KEY": TEST_SECRET_KEY,
                "LOG_LEVEL": "warning",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "restrict: done" in done.stdout and "no shared Redis" not in done.stdout

        async def refused() -> bool:
            return (await on_a.get("/api/v2/me", headers=signed.headers)).status_code == 401

        assert await _eventually(refused) < 1.0


def test_cli_moderation_on_the_embedded_default(tmp_path: Path) -> None:
    """Without a shared Redis the CLI acts on the database and says running servers see it
    only when their caches expire."""
    from tests.integration.test_relax_and_cli import _cli

    created = _cli(
        "user",
        "add",
        "modme",
        "--email",
        "m@example.com",
        "--password",
        "a long passphrase",
        data_dir=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    restricted = _cli("user", "restrict", "modme", "--reason", "bad", data_dir=tmp_path)
    assert restricted.returncode == 0, restricted.stderr
    assert "no shared Redis" in restricted.stdout
    assert _cli("user", "restrict", "modme", data_dir=tmp_path).returncode == 1
    assert _cli("user", "silence", "modme", "2d", data_dir=tmp_path).returncode == 0
    assert _cli("user", "note", "modme", "watch them", data_dir=tmp_path).returncode == 0
    assert _cli("user", "role", "modme", "moderator", data_dir=tmp_path).returncode == 0
    assert _cli("user", "rename", "modme", "renamed", data_dir=tmp_path).returncode == 0
    history = _cli("user", "history", "@modme", data_dir=tmp_path)
    assert history.returncode == 0
    actions = [line.split()[2].rstrip(":") for line in history.stdout.strip().splitlines()]
    assert actions == ["rename", "role", "note", "silence", "restriction"]
    assert _cli("user", "note", "nobody", "x", data_dir=tmp_path).returncode == 1
    enrolled = _cli("user", "totp", "renamed", data_dir=tmp_path)
    assert enrolled.returncode == 0 and "uri: otpauth://totp/" in enrolled.stdout
    assert _cli("user", "totp", "renamed", "--disable", data_dir=tmp_path).returncode == 0
