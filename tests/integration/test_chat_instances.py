"""Chat across two server instances sharing a Redis: a message reaches each member's
sockets exactly once wherever they are connected, and a Redis restart loses or doubles
nothing for a client that reconnects and catches up over REST (as lazer does)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from tests.conftest import _LifespanStateTransport
from tests.helpers import SignedIn, sign_in, signup
from tests.hub_client import Closed
from tests.integration.chat_steps import ChatSocket, channel_id, join, post
from tests.integration.test_hub_scale_out import (
    REDIS_SERVER,
    PrivateRedis,
    instance,
    private_redis,
)

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")
__all__ = ["private_redis"]  # the fixture, imported for this module's tests


@asynccontextmanager
async def http(application: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """A client of one instance."""
    transport = _LifespanStateTransport(application, "198.51.100.77")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _user(client: httpx.AsyncClient) -> SignedIn:
    return await sign_in(client, await signup(client))


async def test_each_socket_hears_a_message_once_on_either_instance(
    app: Starlette,
    client: httpx.AsyncClient,
    services: Any,
    data_dir: Path,
    private_redis: PrivateRedis,
) -> None:
    listener, speaker = await _user(client), await _user(client)
    osu = await channel_id(services, "#osu")
    for user in (listener, speaker):
        assert (await join(client, user, osu)).status_code == 200
    async with (
        instance(data_dir, private_redis.url) as a,
        instance(data_dir, private_redis.url) as b,
        http(a) as on_a,
    ):
        far = await ChatSocket(b, listener).open()
        near = await ChatSocket(a, listener).open()
        try:
            sent = await post(on_a, speaker, osu, "across instances")
            assert sent.status_code == 200, sent.text
            message_id = sent.json()["message_id"]
            for socket in (far, near):
                await socket.drain(0.5)
                assert socket.message_ids() == [message_id]
        finally:
            await far.close()
            await near.close()


@pytest.mark.slow
async def test_redis_restart_loses_and_doubles_nothing_for_a_client_that_catches_up(
    app: Starlette,
    client: httpx.AsyncClient,
    services: Any,
    data_dir: Path,
    private_redis: PrivateRedis,
) -> None:
    first, second, speaker = await _user(client), await _user(client), await _user(client)
    lobby = await channel_id(services, "#lobby")
    for user in (first, second, speaker):
        assert (await join(client, user, lobby)).status_code == 200
    async with (
        instance(data_dir, private_redis.url) as a,
        instance(data_dir, private_redis.url) as b,
        http(a) as on_a,
        http(b) as on_b,
    ):
        sockets = {first.id: await ChatSocket(a, first).open()}
        sockets[second.id] = await ChatSocket(b, second).open()
        sent: list[int] = []

        async def say(text: str) -> None:
            response = await post(on_a, speaker, lobby, text)
            assert response.status_code == 200, response.text
            sent.append(response.json()["message_id"])

        await say("before")
        for socket in sockets.values():
            await socket.wait_for_message("before")

        private_redis.stop()
        for socket in sockets.values():
            # The broken subscription ends the socket (1011): the client reconnects.
            with pytest.raises(Closed) as closed:
                await socket.wait_for("never", timeout=10)
            assert closed.value.code == 1011
        await say("while Redis is down")  # stored; nobody hears it live
        private_redis.start()
        for application in (a, b):
            relay = application.state.lifespan_state["services"].socket_relay
            for _ in range(500):
                if relay.connected:
                    break
                await asyncio.sleep(0.01)
            assert relay.connected, "the notification relay never resubscribed"

        heard: dict[int, list[int]] = {uid: s.message_ids() for uid, s in sockets.items()}
        for user, app_of, api in ((first, a, on_a), (second, b, on_b)):
            socket = await ChatSocket(app_of, user).open()  # reconnect, chat.start again
            sockets[user.id] = socket
            # lazer's catch-up: presence says where the channel is, then messages since
            # the newest it holds.
            presence = (await api.get("/api/v2/chat/presence", headers=user.headers)).json()
            channel = next(c for c in presence if c["channel_id"] == lobby)
            newest = max(heard[user.id])
            if channel["last_message_id"] > newest:
                missed = await api.get(
                    f"/api/v2/chat/channels/{lobby}/messages?since={newest}", headers=user.headers
                )
                heard[user.id] += [m["message_id"] for m in missed.json()]
        await say("after")
        for user in (first, second):
            socket = sockets[user.id]
            await socket.wait_for_message("after")
            await socket.drain(0.3)
            heard[user.id] += socket.message_ids()
            assert heard[user.id] == sent, (user.id, heard[user.id], sent)
            await socket.close()
