"""The SignalR transport shared by every hub (lazer-protocol.md §6; reliability.md S-RT-*)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.core import msgpack as codec
from tests.conftest import make_settings
from tests.helpers import SignedIn, sign_in, signup
from tests.hub_client import HANDSHAKE, AsgiSocket, Closed, HubClient, arguments, invocation
from tests.integration.hubs import connect, lazer_headers


async def test_negotiate_offers_websockets_binary_with_version(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    """§6.1: negotiateVersion echoed, a connection token, WebSockets with Binary only."""
    response = await client.post(
        "/signalr/spectator/negotiate?negotiateVersion=1", headers=player.headers
    )
    assert response.status_code == 200
    body = response.json()
    assert body["negotiateVersion"] == 1
    assert body["connectionToken"] and body["connectionId"]
    assert body["availableTransports"] == [
        {"transport": "WebSockets", "transferFormats": ["Binary"]}
    ]
    # signalrcore sends no version and still needs the key (clients.md §2).
    legacy = (await client.post("/signalr/metadata/negotiate", headers=player.headers)).json()
    assert legacy["negotiateVersion"] == 0 and "connectionToken" not in legacy


async def test_negotiate_requires_a_token_and_a_known_hub(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    """S-RT-1: no bearer, no negotiation; unknown hubs are 404."""
    assert (await client.post("/signalr/spectator/negotiate")).status_code == 401
    bad = {"Authorization": "Bearer nope"}
    assert (await client.post("/signalr/spectator/negotiate", headers=bad)).status_code == 401
    missing = await client.post("/signalr/nothing/negotiate", headers=player.headers)
    assert missing.status_code == 404


async def test_a_negotiated_connection_id_must_be_one_issued_to_the_user(
    app: Starlette, client: httpx.AsyncClient, player: SignedIn
) -> None:
    """§6.1: after negotiating, the client connects with `?id=`: the connectionToken
    (negotiateVersion 1) or the connectionId (version 0) it was given. An id that was never
    issued, was issued to another user or for another hub, is refused before the upgrade;
    a client that skipped negotiation sends none and connects."""
    headers = lazer_headers(player)
    negotiated = await client.post(
        "/signalr/spectator/negotiate?negotiateVersion=1", headers=player.headers
    )
    token = negotiated.json()["connectionToken"]
    socket = AsgiSocket(app, "/signalr/spectator", headers, query=f"id={token}")
    assert await socket.open()
    hub = HubClient(socket)
    await hub.handshake()
    assert (await hub.call("StartWatchingUser", ["int"], [player.id])).error is None
    await socket.close()
    legacy = await client.post("/signalr/metadata/negotiate", headers=player.headers)
    legacy_id = legacy.json()["connectionId"]
    socket = AsgiSocket(app, "/signalr/metadata", headers, query=f"id={legacy_id}")
    assert await socket.open()
    await socket.close()

    other = await sign_in(client, await signup(client))
    forged = token.rsplit(".", 1)[0] + ".AAAAAAAAAAAAAAAAAAAAAAAA"
    for path, who, query in (
        ("/signalr/spectator", headers, "id=made-up"),
        ("/signalr/spectator", headers, f"id={forged}"),
        ("/signalr/spectator", lazer_headers(other), f"id={token}"),  # another user's
        ("/signalr/metadata", headers, f"id={token}"),  # another hub's
    ):
        refused = AsgiSocket(app, path, who, query=query)
        assert not await refused.open(), query
        assert refused.close_code == 1008


async def test_upgrade_is_refused_without_a_valid_token(app: Starlette, player: SignedIn) -> None:
    """S-RT-1: authentication happens before the upgrade."""
    socket = AsgiSocket(app, "/signalr/spectator", {"Authorization": "Bearer wrong"})
    assert not await socket.open()
    assert socket.close_code == 1008
    unknown = AsgiSocket(app, "/signalr/nothing", lazer_headers(player))
    assert not await unknown.open()


async def test_access_token_query_is_accepted(app: Starlette, player: SignedIn) -> None:
    """Browser-style clients put the token in `access_token`."""
    socket = AsgiSocket(app, "/signalr/metadata", query=f"access_token={player.access_token}")
    assert await socket.open()
    hub = HubClient(socket)
    await hub.handshake(text=True)  # the Node client sends the handshake as text
    assert (await hub.call("UpdateStatus", ["UserStatus?"], [2])).completion_kind is (
        codec.CompletionKind.VOID
    )
    await socket.close()


async def test_json_protocol_is_refused(app: Starlette, player: SignedIn) -> None:
    """S-RT-2: MessagePack only; a refused handshake gets an error, then the close."""
    socket = AsgiSocket(app, "/signalr/metadata", lazer_headers(player))
    assert await socket.open()
    await socket.send(b'{"protocol": "json", "version": 1}\x1e')
    reply = await socket.recv()
    assert isinstance(reply, bytes) and reply.startswith(b'{"error":') and reply.endswith(b"\x1e")
    with pytest.raises(Closed):
        await socket.recv()


async def test_messages_after_the_handshake_in_the_same_frame_are_read(
    app: Starlette, player: SignedIn
) -> None:
    """§6.1: bytes after 0x1E are hub messages; several messages may share a frame."""
    socket = AsgiSocket(app, "/signalr/metadata", lazer_headers(player))
    assert await socket.open()
    first = invocation("UpdateStatus", arguments(["UserStatus?"], [2]), "a")
    # A queue id past every update: the answer is fixed, whatever other tests queued.
    second = invocation("GetChangesSince", arguments(["int"], [2_000_000_000]), "b")
    await socket.send(HANDSHAKE + first + second)
    hub = HubClient(socket)
    assert await socket.recv() == b"{}\x1e"
    assert (await hub.completion("a")).completion_kind is codec.CompletionKind.VOID
    done = await hub.completion("b")
    assert done.completion_kind is codec.CompletionKind.RESULT
    assert codec.decode("BeatmapUpdates", done.payload or b"") == {
        "BeatmapSetIDs": [],
        "LastProcessedQueueID": 2_000_000_000,
    }
    await socket.close()


async def test_completion_discipline(app: Starlette, player: SignedIn) -> None:
    """§6.2: one Completion per invocation with an id, none without; 5-element invocations
    (signalrcore, Node) are accepted too."""
    hub = await connect(app, "metadata", player)
    await hub.invoke("UpdateStatus", ["UserStatus?"], [2], blocking=False)
    await hub.wire.send(invocation("UpdateStatus", arguments(["UserStatus?"], [2]), "x", False))
    assert (await hub.completion("x")).completion_kind is codec.CompletionKind.VOID
    # Only the echoes of our own presence came besides: no completion for the nil id.
    seen = []
    while True:
        try:
            seen.append((await hub.next(0.2)).envelope)
        except TimeoutError:
            break
    assert all(e.message_type is codec.MessageType.INVOCATION for e in seen)
    await hub.wire.close()


async def test_unknown_methods_and_bad_arguments_keep_the_connection(
    app: Starlette, player: SignedIn
) -> None:
    """S-RT-4 / §2.7: an error completion in ASP.NET Core's words; the connection stays."""
    hub = await connect(app, "spectator", player)
    unknown = await hub.call("on_disconnected", [], [])
    assert unknown.completion_kind is codec.CompletionKind.ERROR
    assert unknown.error == (
        "Failed to invoke 'on_disconnected' due to an error on the server. "
        "HubException: Method does not exist."
    )
    arity = await hub.call("StartWatchingUser", ["int", "int"], [1, 2])
    assert arity.error is not None and "InvalidDataException" in arity.error
    assert "provides 2 argument(s) but target expects 1" in arity.error
    types = await hub.call("StartWatchingUser", ["string"], ["x"])
    assert types.error is not None and "Error binding arguments" in types.error
    still = await hub.call("EndWatchingUser", ["int"], [player.id + 1000])
    assert still.completion_kind is codec.CompletionKind.VOID
    await hub.wire.close()


async def test_malformed_frame_closes_only_that_connection(
    app: Starlette, player: SignedIn, client: httpx.AsyncClient
) -> None:
    """§2.7: garbage gets a Close with an error and close code 1002; others carry on."""
    other_user = await sign_in(client, await signup(client))
    bystander = await connect(app, "metadata", other_user)
    hub = await connect(app, "spectator", player)
    await hub.wire.send(b"\x03\xc1\xc1\xc1")  # a framed message that is not msgpack
    close = await hub.close_message()
    assert close.error is not None and close.allow_reconnect
    with pytest.raises(Closed) as closed:
        await hub.next()
    assert closed.value.code == 1002
    assert (await bystander.call("UpdateStatus", ["UserStatus?"], [2])).error is None
    await bystander.wire.close()


async def test_oversized_message_is_refused_with_1009(app: Starlette, player: SignedIn) -> None:
    """S-RT-9: the length prefix is checked before buffering (32 KiB cap)."""
    hub = await connect(app, "spectator", player)
    await hub.wire.send(b"\x80\x80\x04")  # a VarInt length of 64 KiB, nothing more
    await hub.close_message()
    with pytest.raises(Closed) as closed:
        await hub.next()
    assert closed.value.code == 1009


@pytest.fixture
async def quick_app(data_dir: Path, app: Starlette) -> AsyncIterator[Starlette]:
    """An app whose keep-alive and idle timeout are short enough to watch."""
    settings = make_settings(
        data_dir,
        HUB_KEEPALIVE_SECONDS="1",
        HUB_CLIENT_TIMEOUT_SECONDS="2",
        HUB_HANDSHAKE_TIMEOUT_SECONDS="1",
        HUB_MESSAGES_PER_SECOND="5",
        HUB_MESSAGE_BURST="10",
    )
    quick = create_app(settings)
    async with quick.router.lifespan_context(quick) as state:
        quick.state.lifespan_state = state
        yield quick


async def test_keepalive_pings_and_idle_clients_are_dropped(
    quick_app: Starlette, player: SignedIn
) -> None:
    """§6.1 / §2.8: pings on a silent connection; a client silent past the timeout is cut."""
    transport = quick_app.state.lifespan_state["services"].realtime.transport
    hub = await connect(quick_app, "metadata", player)
    close = await hub.close_message(timeout=4)
    assert hub.pings >= 1
    assert close.error is not None and "timeout" in close.error
    await asyncio.sleep(0.1)
    assert transport.connections == {}


async def test_a_socket_that_never_handshakes_is_dropped(
    quick_app: Starlette, player: SignedIn
) -> None:
    """§2.7: handshake deadline."""
    socket = AsgiSocket(quick_app, "/signalr/metadata", lazer_headers(player))
    assert await socket.open()
    reply = await asyncio.wait_for(socket.recv(), 3)
    assert isinstance(reply, bytes) and b"error" in reply


async def test_flood_is_cut(quick_app: Starlette, player: SignedIn) -> None:
    """§2.8: per-connection message rate cap."""
    hub = await connect(quick_app, "metadata", player)
    flood = invocation("GetChangesSince", arguments(["int"], [1]), None) * 50
    await hub.wire.send(flood)
    close = await hub.close_message()
    assert close.error == "Too many messages."


async def test_second_client_instance_takes_over(app: Starlette, client: httpx.AsyncClient) -> None:
    """S-RT-3: a new X-Client-Session-ID logs the old instance out (DisconnectRequested);
    the same session reconnecting just replaces the connection."""
    user = await sign_in(client, await signup(client))
    old = await connect(app, "spectator", user, session_id="first")
    new = await connect(app, "spectator", user, session_id="second")
    await old.call_to("DisconnectRequested")
    close = await old.close_message()
    assert close.allow_reconnect is False
    assert (await new.call("EndWatchingUser", ["int"], [1])).error is None

    again = await connect(app, "spectator", user, session_id="second")
    with pytest.raises(Closed):
        while True:  # closed quietly: no DisconnectRequested, no Close message
            item = await new.next()
            assert item.envelope.target != "DisconnectRequested"
    assert (await again.call("EndWatchingUser", ["int"], [1])).error is None
    await again.wire.close()


async def test_shutdown_tells_clients_to_reconnect(data_dir: Path, player: SignedIn) -> None:
    """§6.2: "Server is shutting down." is the text lazer reconnects on."""
    application = create_app(make_settings(data_dir))
    async with application.router.lifespan_context(application) as state:
        application.state.lifespan_state = state
        hub = await connect(application, "metadata", player)
        assert state is not None
        stopping = asyncio.create_task(state["services"].realtime.stop())
        close = await hub.close_message()
        await stopping
    assert close.error == "Server is shutting down." and close.allow_reconnect
