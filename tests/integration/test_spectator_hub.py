"""The spectator hub (lazer-protocol.md §7.1), with payloads built byte by byte from the key
indices rather than through the server's codec."""

from __future__ import annotations

import asyncio
import struct

import httpx
import msgpack  # type: ignore[import-untyped]
import pytest
from starlette.applications import Starlette

from server.app import Services
from server.core import msgpack as codec
from tests.helpers import SignedIn, sign_in, signup
from tests.hub_client import Closed, HubClient, invocation
from tests.integration.hubs import connect, play_token

PLAYING, PASSED, QUIT = 1, 3, 5


def pack(value: object) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True)
    return packed


def dt_with_speed(rate: float) -> bytes:
    """APIMod DT with settings: the quirk writes array header N, then 2N items (§6.3)."""
    return b"\x92" + pack("DT") + b"\x91" + pack("speed_change") + b"\xcb" + struct.pack(">d", rate)


def hidden() -> bytes:
    return b"\x92" + pack("HD") + b"\x90"


def spectator_state(beatmap_id: int, state: int) -> bytes:
    """SpectatorState: [0] BeatmapID [1] RulesetID [2] Mods [3] State [4] MaximumStatistics."""
    mods = b"\x92" + dt_with_speed(1.5) + hidden()
    return b"\x95" + pack(beatmap_id) + pack(0) + mods + pack(state) + pack({5: 300, 8: 20})


def received_time_default() -> bytes:
    """DateTimeOffset default(0001-01-01): [timestamp96 ext -1, offset 0]."""
    return b"\x92" + b"\xc7\x0c\xff" + struct.pack(">Iq", 0, -62135596800) + b"\x00"


def frame_bundle(start_ms: float, count: int = 3) -> bytes:
    """FrameDataBundle: [0] Header [1] Frames; Header and LegacyReplayFrame by key index."""
    stats = pack({5: 10, 1: 1})
    processor = b"\x95" + b"".join(b"\xcb" + struct.pack(">d", v) for v in (1.0, 2.0)) + pack(3)
    processor += b"\xcb" + struct.pack(">d", 0.5) + b"\xcb" + struct.pack(">d", 0.0)
    header = (
        b"\x9a"
        + pack(123456)
        + b"\xcb"
        + struct.pack(">d", 0.98)
        + pack(10)
        + pack(12)
        + stats
        + processor
        + received_time_default()
        + b"\x91"
        + dt_with_speed(1.5)
        + b"\xc0"
        + b"\xc0"
    )
    frames = bytes([0x90 + count]) + b"".join(
        b"\x94"
        + b"\xcb"
        + struct.pack(">d", start_ms + 16.0 * i)
        + b"\xca"
        + struct.pack(">f", 100.0 + i)
        + b"\xca"
        + struct.pack(">f", 50.5)
        + pack(i % 2)
        for i in range(count)
    )
    return b"\x92" + header + frames


def send_frames(token: int | None, bundle: bytes) -> bytes:
    return invocation("SendFrameDataV2", b"\x92" + pack(token) + bundle, None)


def begin(token: int | None, state: bytes, ident: str) -> bytes:
    return invocation("BeginPlaySessionV2", b"\x92" + pack(token) + state, ident)


def server_call(target: str, args: bytes) -> bytes:
    """What the server must send: `[1, {}, nil, target, args, []]` (6 elements)."""
    return b"\x96\x01\x80\xc0" + pack(target) + args + b"\x90"


async def two_users(client: httpx.AsyncClient) -> tuple[SignedIn, SignedIn]:
    return (
        await sign_in(client, await signup(client)),
        await sign_in(client, await signup(client)),
    )


async def test_watcher_sees_a_play_byte_for_byte(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """§7.1: a watcher arriving mid-play is told about it, frames are relayed as sent, and
    the end carries the final state; the player hears about watchers coming and going."""
    player_user, watcher_user = await two_users(client)
    token = await play_token(client, services, player_user)
    player = await connect(app, "spectator", player_user)
    watcher = await connect(app, "spectator", watcher_user)
    state = spectator_state(1816113, PLAYING)

    await player.wire.send(begin(token, state, "b"))
    assert (await player.completion("b")).completion_kind is codec.CompletionKind.VOID

    assert (await watcher.call("StartWatchingUser", ["int"], [player_user.id])).error is None
    began = await watcher.call_to("UserBeganPlaying")
    assert began.raw == server_call("UserBeganPlaying", b"\x92" + pack(player_user.id) + state)
    started = await player.call_to("UserStartedWatching")
    watcher_entry = b"\x92" + pack(watcher_user.id) + pack(watcher_user.account.username)
    assert started.raw == server_call("UserStartedWatching", b"\x91\x91" + watcher_entry)

    bundle = frame_bundle(1000.0)
    await player.wire.send(send_frames(token, bundle))
    relayed = await watcher.call_to("UserSentFrames")
    assert relayed.raw == server_call("UserSentFrames", b"\x92" + pack(player_user.id) + bundle)
    decoded = codec.decode("int,FrameDataBundle", b"\x92" + pack(player_user.id) + bundle)
    assert decoded[1]["Header"]["Mods"] == [{"Acronym": "DT", "Settings": {"speed_change": 1.5}}]

    await player.wire.send(
        invocation("EndPlaySessionV2", b"\x92" + pack(token) + pack(PASSED), "e")
    )
    assert (await player.completion("e")).error is None
    finished = await watcher.call_to("UserFinishedPlaying")
    assert finished.raw == server_call(
        "UserFinishedPlaying",
        b"\x92" + pack(player_user.id) + spectator_state(1816113, PASSED),
    )

    assert (await watcher.call("EndWatchingUser", ["int"], [player_user.id])).error is None
    ended = await player.call_to("UserEndedWatching")
    assert ended.raw == server_call("UserEndedWatching", b"\x91" + pack(watcher_user.id))
    await watcher.wire.close()
    await player.wire.close()


async def test_watching_before_the_play_and_v1_aliases(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    """The obsolete V1 names work as aliases (§7.1); a watcher present first gets the start."""
    player_user, watcher_user = await two_users(client)
    player = await connect(app, "spectator", player_user)
    watcher = await connect(app, "spectator", watcher_user)
    await watcher.call("StartWatchingUser", ["int"], [player_user.id])
    state = spectator_state(75, PLAYING)
    await player.wire.send(invocation("BeginPlaySession", b"\x92\xc0" + state, "1"))
    await player.completion("1")
    await watcher.call_to("UserBeganPlaying")
    bundle = frame_bundle(0.0, 1)
    await player.wire.send(invocation("SendFrameData", b"\x91" + bundle, None))
    assert (await watcher.call_to("UserSentFrames")).raw.endswith(bundle + b"\x90")
    await player.wire.send(invocation("EndPlaySession", b"\x91" + spectator_state(75, 4), "2"))
    assert (await player.completion("2")).error is None
    finished = await watcher.args_of("UserFinishedPlaying", "int,SpectatorState")
    assert finished[1]["State"] == 4
    await watcher.wire.close()
    await player.wire.close()


async def test_frames_need_the_players_own_token(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """S-RT-7: frames only for the token this user began; another user's token is refused;
    an invalid bundle never reaches watchers (validated relay)."""
    player_user, watcher_user = await two_users(client)
    token = await play_token(client, services, player_user)
    player = await connect(app, "spectator", player_user)
    watcher = await connect(app, "spectator", watcher_user)
    await watcher.call("StartWatchingUser", ["int"], [player_user.id])
    await player.wire.send(send_frames(1, frame_bundle(0)))  # no play begun
    await player.wire.send(begin(token, spectator_state(1, PLAYING), "b"))
    await player.completion("b")
    await watcher.call_to("UserBeganPlaying")
    await player.wire.send(send_frames(token + 1, frame_bundle(0)))  # wrong token
    await player.wire.send(send_frames(token, b"\x92\x90\x90"))  # header is not a FrameHeader
    await watcher.no_message()

    # Another user cannot begin a play on that token.
    thief = await connect(app, "spectator", watcher_user)
    await thief.wire.send(begin(token, spectator_state(1, PLAYING), "t"))
    refused = await thief.completion("t")
    assert refused.error is not None and refused.error.endswith(
        "InvalidStateException: Incorrect score token supplied."
    )
    assert (await player.call("StartWatchingUser", ["int"], [1])).error is None  # still open
    await thief.wire.close()
    await player.wire.close()


@pytest.mark.parametrize("playing", [True, False])
@pytest.mark.parametrize("tail", [b"\x91\x01", b"\x90\xc1"], ids=["stream_id", "trailing"])
async def test_frame_data_with_a_bad_envelope_closes(
    app: Starlette, client: httpx.AsyncClient, services: Services, playing: bool, tail: bytes
) -> None:
    """§2.7: frame data reaches the relay without a separate envelope parse, yet a message
    whose envelope does not parse (stream ids, bytes after them) still closes with 1002,
    whether a play is under way (the relay refuses it) or not (the token check does)."""
    player_user, _ = await two_users(client)
    token = await play_token(client, services, player_user)
    player = await connect(app, "spectator", player_user)
    if playing:
        await player.wire.send(begin(token, spectator_state(1, PLAYING), "b"))
        assert (await player.completion("b")).error is None
    framed = invocation("SendFrameDataV2", b"\x92" + pack(token) + frame_bundle(0))
    message = codec.FrameSplitter().feed(framed)[0]
    await player.wire.send(codec.frame(message.removesuffix(b"\x90") + tail))
    close = await player.close_message()
    assert close.error is not None
    with pytest.raises(Closed) as closed:
        await player.next()
    assert closed.value.code == 1002


async def test_end_states_are_checked(
    app: Starlette, client: httpx.AsyncClient, player: SignedIn, services: Services
) -> None:
    """S-RT-6: ending while claiming Playing becomes Quit; out-of-range states are refused."""
    token = await play_token(client, services, player)
    hub = await connect(app, "spectator", player)
    await hub.wire.send(begin(token, spectator_state(1, PLAYING), "b"))
    await hub.completion("b")
    await hub.wire.send(invocation("EndPlaySessionV2", b"\x92" + pack(token) + pack(99), "x"))
    assert (await hub.completion("x")).error is not None
    await hub.call("StartWatchingUser", ["int"], [player.id])  # watch ourselves to see the end
    await hub.wire.send(invocation("EndPlaySessionV2", b"\x92" + pack(token) + pack(PLAYING), "e"))
    assert (await hub.completion("e")).error is None
    finished = await hub.args_of("UserFinishedPlaying", "int,SpectatorState")
    assert finished[1]["State"] == QUIT
    await hub.wire.close()


async def test_player_cut_mid_play(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """§2.3: a player's socket dropping ends the play as Quit for watchers, cleans the
    connection's state, and keeps the frames so a reconnect with the same token resumes."""
    player_user, watcher_user = await two_users(client)
    token = await play_token(client, services, player_user)
    realtime = services.realtime
    player = await connect(app, "spectator", player_user, session_id="game")
    watcher = await connect(app, "spectator", watcher_user)
    await watcher.call("StartWatchingUser", ["int"], [player_user.id])
    await player.wire.send(begin(token, spectator_state(9, PLAYING), "b"))
    await player.completion("b")
    await player.wire.send(send_frames(token, frame_bundle(0)))
    await watcher.call_to("UserSentFrames")
    before = len(realtime.transport.connections)

    await player.wire.close()  # no Close message: the network went away
    finished = await watcher.args_of("UserFinishedPlaying", "int,SpectatorState")
    assert finished == [player_user.id, {**finished[1], "State": QUIT}]
    for _ in range(50):
        if len(realtime.transport.connections) == before - 1:
            break
        await asyncio.sleep(0.02)
    assert len(realtime.transport.connections) == before - 1
    assert realtime.bus.local_count(f"spectator:user:{player_user.id}") == 0
    assert realtime.replays.owns(player_user.id, token)

    again = await connect(app, "spectator", player_user, session_id="game")
    await again.wire.send(begin(token, spectator_state(9, PLAYING), "b"))
    await again.completion("b")
    await again.wire.send(send_frames(token, frame_bundle(100)))
    await watcher.call_to("UserSentFrames")
    assert len(realtime.replays._plays[token].bundles) == 2
    await again.wire.close()
    await watcher.wire.close()


async def test_restricted_users_cannot_spectate(
    app: Starlette, player: SignedIn, services: Services
) -> None:
    """S-RT-8."""
    await services.db.execute_raw("UPDATE users SET is_restricted = 1 WHERE id = :id", id=player.id)
    hub = await connect(app, "spectator", player)
    done = await hub.call("StartWatchingUser", ["int"], [2])
    assert done.error is not None
    assert done.error.endswith("InvalidStateException: Can't spectate a user when restricted.")
    await hub.wire.close()


async def test_score_processed_reaches_player_and_watchers(
    app: Starlette,
    client: httpx.AsyncClient,
    services: Services,
) -> None:
    """§7.1 UserScoreProcessed(userId, scoreId), through the seam scoring will call."""
    player_user, watcher_user = await two_users(client)
    player = await connect(app, "spectator", player_user)
    watcher = await connect(app, "spectator", watcher_user)
    await watcher.call("StartWatchingUser", ["int"], [player_user.id])
    services.realtime.spectator.score_processed(player_user.id, 2**40)
    expected = server_call("UserScoreProcessed", b"\x92" + pack(player_user.id) + pack(2**40))
    assert (await player.call_to("UserScoreProcessed")).raw == expected
    assert (await watcher.call_to("UserScoreProcessed")).raw == expected
    await player.wire.close()
    await watcher.wire.close()


@pytest.mark.parametrize("hub_name", ["spectator", "metadata"])
async def test_many_malformed_frames_leave_nothing_behind(
    app: Starlette,
    player: SignedIn,
    services: Services,
    hub_name: str,
) -> None:
    """§2.7: 5,000 malformed frames per hub (10,000 in all) on fresh connections: each
    gets closed, none crashes the server or leaks a connection or a channel."""
    import random

    rng = random.Random(6)
    transport = services.realtime.transport
    before = len(transport.connections)
    channels = len(services.realtime.bus._local)
    sent = 0
    while sent < 5000:
        hub = await connect(app, hub_name, player)
        batch = []
        for _ in range(100):
            body = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 40)))
            batch.append(bytes([len(body)]) + body if rng.random() < 0.8 else body)
        await hub.wire.send(b"".join(batch))
        # Whatever a random length prefix left pending, 0xFF bytes end it in a bad VarInt.
        await hub.wire.send(b"\xff" * (33 * 1024))
        sent += len(batch)
        with pytest.raises(Exception):  # noqa: B017 (Closed or a timeout-free close)
            while True:
                await hub.next(2)
        await hub.wire.close()
    for _ in range(100):
        if len(transport.connections) == before:
            break
        await asyncio.sleep(0.02)
    assert len(transport.connections) == before
    assert len(services.realtime.bus._local) <= channels + 1


async def test_hub_client_is_usable(app: Starlette, player: SignedIn) -> None:
    """The test client itself: an invocation with 6 elements, as lazer sends it."""
    hub = await connect(app, "spectator", player)
    assert isinstance(hub, HubClient)
    assert invocation("X", b"\x90", "1")[1:4] == b"\x96\x01\x80"
    await hub.wire.close()


async def test_replay_downloads_are_rate_limited(client: httpx.AsyncClient) -> None:
    """Downloads are limited per user, 10 a minute as osu-web (S-RL-1)."""
    user = await sign_in(client, await signup(client))
    statuses = [
        (
            await client.get("/api/v2/scores/4611686018427387904/download", headers=user.headers)
        ).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [404] * 10 and statuses[10] == 429
