"""Replays from spectated plays, end to end (issue 6): score token, BeginPlaySession, frames,
EndPlaySession and the PUT submission in either order give `has_replay: true`, and
GET scores/{id}/download serves an `.osr` that osrparse (an independent reader from PyPI)
reads back with the player, beatmap, counts, mods and frames. Plays that cannot make a
replay (no frames, frames lost, no submission in time, a score without one) leave
`has_replay` false; BeginPlaySession refuses tokens that are not the caller's to use.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import osrparse  # type: ignore[import-untyped]
import pytest
from starlette.applications import Starlette

from server.app import Services, create_app
from tests.conftest import _LifespanStateTransport, make_settings
from tests.helpers import SignedIn, sign_in, signup
from tests.hub_client import HubClient, invocation
from tests.integration.hubs import connect
from tests.integration.test_spectator_hub import (
    PASSED,
    PLAYING,
    begin,
    frame_bundle,
    pack,
    send_frames,
    spectator_state,
)
from tests.score_play import StoredMap, play, play_body, stored_map, submit, token_for

BAD_TOKEN = "InvalidStateException: Incorrect score token supplied."


def end(token: int | None, ident: str = "e") -> bytes:
    return invocation("EndPlaySessionV2", b"\x92" + pack(token) + pack(PASSED), ident)


async def started(hub: HubClient, token: int, beatmap: StoredMap) -> None:
    """BeginPlaySessionV2 under `token`, accepted."""
    await hub.wire.send(begin(token, spectator_state(beatmap.id, PLAYING), "b"))
    done = await hub.completion("b")
    assert done.error is None, done.error


async def ended(hub: HubClient, token: int) -> None:
    await hub.wire.send(end(token))
    done = await hub.completion("e")
    assert done.error is None, done.error


async def show(client: httpx.AsyncClient, user: SignedIn, score_id: int) -> httpx.Response:
    return await client.get(f"/api/v2/scores/{score_id}", headers=user.headers)


async def eventually_has_replay(
    client: httpx.AsyncClient, user: SignedIn, score_id: int, seconds: float = 5.0
) -> dict[str, Any]:
    """The score once it says has_replay (the write is after the response, off the request)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        response = await show(client, user, score_id)
        assert response.status_code == 200, response.text
        shaped: dict[str, Any] = response.json()
        if shaped["has_replay"] or asyncio.get_running_loop().time() > deadline:
            return shaped
        await asyncio.sleep(0.02)


async def settled(services: Services) -> None:
    """Let announcements and replay writes on this instance finish."""
    await asyncio.sleep(0.05)
    await services.realtime.replays.drain()


async def board(
    client: httpx.AsyncClient, user: SignedIn, beatmap: StoredMap
) -> list[dict[str, Any]]:
    """The beatmap's global leaderboard scores."""
    response = await client.get(f"/api/v2/beatmaps/{beatmap.id}/scores", headers=user.headers)
    assert response.status_code == 200, response.text
    scores: list[dict[str, Any]] = response.json()["scores"]
    return scores


async def download(client: httpx.AsyncClient, user: SignedIn, score_id: int) -> httpx.Response:
    return await client.get(f"/api/v2/scores/{score_id}/download", headers=user.headers)


@pytest.mark.parametrize("order", ["end-then-submit", "submit-then-end"])
async def test_full_loop_stores_a_replay_osrparse_reads(
    app: Starlette, client: httpx.AsyncClient, services: Services, order: str
) -> None:
    user = await sign_in(client, await signup(client))
    beatmap = await stored_map(services)
    token = await token_for(client, user, beatmap)
    hub = await connect(app, "spectator", user)
    await started(hub, token, beatmap)
    # Three bundles of three frames; the third comes right after the second but 20 s later
    # in gameplay time: the client skipping the intro, which a replay keeps.
    for start in (0.0, 48.0, 20_000.0):
        await hub.wire.send(send_frames(token, frame_bundle(start)))
    body = play_body(beatmap, oks=2, misses=1, mods=[{"acronym": "HD"}])
    if order == "end-then-submit":
        await ended(hub, token)
        response = await submit(client, user, beatmap, token, body)
    else:
        response = await submit(client, user, beatmap, token, body)
        assert response.status_code == 200, response.text
        assert response.json()["has_replay"] is False  # the play has not ended yet
        assert (await board(client, user, beatmap))[0]["has_replay"] is False  # now cached
        await ended(hub, token)
    assert response.status_code == 200, response.text
    score_id = response.json()["id"]

    shaped = await eventually_has_replay(client, user, score_id)
    assert shaped["has_replay"] is True and shaped["replay"] is True
    # The leaderboard page cached before the replay was stored does not outlive it.
    assert (await board(client, user, beatmap))[0]["has_replay"] is True
    got = await download(client, user, score_id)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/x-osu-replay"
    assert got.headers["content-disposition"] == (
        f'attachment; filename="solo-replay-osu_{beatmap.id}_{score_id}.osr"'
    )
    replay = osrparse.Replay.from_string(got.content)
    assert replay.replay_id == score_id
    assert replay.username == user.account.username
    assert replay.beatmap_hash == beatmap.checksum
    assert replay.mode is osrparse.GameMode.STD
    statistics = body["statistics"]
    assert (replay.count_300, replay.count_100, replay.count_50, replay.count_miss) == (
        statistics["great"],
        2,
        0,
        1,
    )
    assert replay.score == shaped["total_score"] and replay.max_combo == shaped["max_combo"]
    assert replay.mods == osrparse.Mod.Hidden
    assert len(replay.replay_data) == 9
    assert [frame.x for frame in replay.replay_data[:3]] == [100.0, 101.0, 102.0]
    assert sum(frame.time_delta for frame in replay.replay_data) == 20_032
    # Another player reads it too (a replay is as visible as its score).
    other = await sign_in(client, await signup(client))
    assert (await download(client, other, score_id)).content == got.content
    await hub.wire.close()


async def test_download_is_404_without_a_visible_stored_replay(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """Unknown score, a score that has no replay (no spectator stream), and the replay of a
    restricted player (hidden from score reads, as osu-web's visibleUsers())."""
    viewer = await sign_in(client, await signup(client))
    assert (await download(client, viewer, 2**62)).status_code == 404

    plain = await sign_in(client, await signup(client))
    score = await play(client, plain, await stored_map(services))
    assert score["has_replay"] is False
    # Even with a file in place (one whose flag was never set): the flag decides.
    orphan = services.replays.sink.path(score["id"])
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"not flagged")
    assert (await download(client, viewer, score["id"])).status_code == 404

    hidden = await sign_in(client, await signup(client))
    beatmap = await stored_map(services)
    token = await token_for(client, hidden, beatmap)
    hub = await connect(app, "spectator", hidden)
    await started(hub, token, beatmap)
    await hub.wire.send(send_frames(token, frame_bundle(0.0)))
    await ended(hub, token)
    response = await submit(client, hidden, beatmap, token, play_body(beatmap))
    score_id = response.json()["id"]
    assert (await eventually_has_replay(client, viewer, score_id))["has_replay"] is True
    assert (await download(client, viewer, score_id)).status_code == 200
    await services.db.execute_raw("UPDATE users SET is_restricted = 1 WHERE id = :id", id=hidden.id)
    assert (await show(client, viewer, score_id)).status_code == 404
    assert (await download(client, viewer, score_id)).status_code == 404
    await hub.wire.close()


async def test_scores_that_keep_no_replay(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """As osu-server-spectator: a failed play, and a play on a beatmap without a
    leaderboard, store no replay; their frames are dropped at once."""
    user = await sign_in(client, await signup(client))
    cases: list[tuple[StoredMap, dict[str, Any]]] = [
        (await stored_map(services), {"passed": False, "rank": "F"}),
        (await stored_map(services, status=0), {}),  # pending: no leaderboard
    ]
    for beatmap, body_changes in cases:
        token = await token_for(client, user, beatmap)
        hub = await connect(app, "spectator", user)
        await started(hub, token, beatmap)
        await hub.wire.send(send_frames(token, frame_bundle(0.0)))
        await ended(hub, token)
        body = play_body(beatmap, **body_changes)
        response = await submit(client, user, beatmap, token, body)
        assert response.status_code == 200, response.text
        await settled(services)
        assert not services.realtime.replays.owns(user.id, token)
        assert (await show(client, user, response.json()["id"])).json()["has_replay"] is False
        await hub.wire.close()


async def test_begin_play_refuses_tokens_not_the_callers_to_use(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """S-RT-7: an unknown token, another user's token and an already used token are refused
    (hub error, nothing buffered, nothing broadcast); a null token is relayed unrecorded."""
    player = await sign_in(client, await signup(client))
    owner = await sign_in(client, await signup(client))
    watcher_user = await sign_in(client, await signup(client))
    beatmap = await stored_map(services)
    foreign = await token_for(client, owner, beatmap)
    used = await token_for(client, player, beatmap)
    assert (await submit(client, player, beatmap, used, play_body(beatmap))).status_code == 200
    unknown = used + 10_000_000

    hub = await connect(app, "spectator", player)
    watcher = await connect(app, "spectator", watcher_user)
    await watcher.call("StartWatchingUser", ["int"], [player.id])
    for token in (unknown, foreign, used):
        await hub.wire.send(begin(token, spectator_state(beatmap.id, PLAYING), "b"))
        refused = await hub.completion("b")
        assert refused.error is not None and refused.error.endswith(BAD_TOKEN), refused.error
        assert not services.realtime.replays.owns(player.id, token)
    await watcher.no_message()

    await hub.wire.send(begin(None, spectator_state(beatmap.id, PLAYING), "n"))
    assert (await hub.completion("n")).error is None
    await watcher.call_to("UserBeganPlaying")
    await hub.wire.send(send_frames(None, frame_bundle(0.0)))
    await watcher.call_to("UserSentFrames")
    assert all(p.user_id != player.id for p in services.realtime.replays._plays.values())
    await hub.wire.close()
    await watcher.wire.close()


async def test_a_play_resumed_after_its_score_is_in_still_records(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """The hub connection drops between the submission and the end of play; lazer begins
    the play again on reconnect, with the token its score has now used: the buffer holds
    the play for this user, so it resumes, and the end writes the replay."""
    user = await sign_in(client, await signup(client))
    beatmap = await stored_map(services)
    token = await token_for(client, user, beatmap)
    hub = await connect(app, "spectator", user, session_id="game")
    await started(hub, token, beatmap)
    await hub.wire.send(send_frames(token, frame_bundle(0.0)))
    response = await submit(client, user, beatmap, token, play_body(beatmap))
    score_id = response.json()["id"]
    await hub.wire.close()
    again = await connect(app, "spectator", user, session_id="game")
    await started(again, token, beatmap)
    await ended(again, token)
    assert (await eventually_has_replay(client, user, score_id))["has_replay"] is True
    await again.wire.close()


async def test_a_play_without_frames_stores_no_replay(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    user = await sign_in(client, await signup(client))
    beatmap = await stored_map(services)
    token = await token_for(client, user, beatmap)
    hub = await connect(app, "spectator", user)
    await started(hub, token, beatmap)
    await ended(hub, token)
    response = await submit(client, user, beatmap, token, play_body(beatmap))
    await settled(services)
    assert (await show(client, user, response.json()["id"])).json()["has_replay"] is False
    await hub.wire.close()


async def test_frames_lost_while_disconnected_make_the_replay_incomplete(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """reliability.md §2.3: the player's socket drops, they reconnect and resume the play
    with the same token; the frames sent meanwhile are lost (7 s of gameplay, with a pause
    in arrival): no replay is stored rather than one that jumps."""
    user = await sign_in(client, await signup(client))
    beatmap = await stored_map(services)
    token = await token_for(client, user, beatmap)
    hub = await connect(app, "spectator", user, session_id="game")
    await started(hub, token, beatmap)
    await hub.wire.send(send_frames(token, frame_bundle(0.0)))
    await asyncio.sleep(0.1)
    await hub.wire.close()
    await asyncio.sleep(1.2)
    again = await connect(app, "spectator", user, session_id="game")
    await started(again, token, beatmap)  # resumes: the buffer holds this user's play
    await again.wire.send(send_frames(token, frame_bundle(7_000.0)))
    await ended(again, token)
    incomplete = services.realtime.replays.incomplete
    response = await submit(client, user, beatmap, token, play_body(beatmap))
    await settled(services)
    assert services.realtime.replays.incomplete == incomplete + 1
    assert (await show(client, user, response.json()["id"])).json()["has_replay"] is False
    await again.wire.close()


@asynccontextmanager
async def instance(
    data_dir: Path, **env: str
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient, Services]]:
    """Another server instance with its own data directory (replays, and on the embedded
    default its own database too, so the test signs up and stores maps through it)."""
    application = create_app(make_settings(data_dir, **env))
    async with application.router.lifespan_context(application) as state:
        assert state is not None
        application.state.lifespan_state = state
        transport = _LifespanStateTransport(application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield application, http, state["services"]


async def test_whichever_waits_for_the_other_times_out(tmp_path: Path) -> None:
    """An ended play waits REPLAY_SUBMIT_WAIT_SECONDS for its score, a submitted score waits
    REPLAY_IDLE_SECONDS of silence for the play's end; after that nothing is stored."""
    waits = {"REPLAY_SUBMIT_WAIT_SECONDS": "1", "REPLAY_IDLE_SECONDS": "1"}
    async with instance(tmp_path, **waits) as (other, http, services):
        user = await sign_in(http, await signup(http))
        store = services.realtime.replays
        hub = await connect(other, "spectator", user)

        # Frames and the end, but the submission comes too late.
        late_map = await stored_map(services)
        late = await token_for(http, user, late_map)
        await started(hub, late, late_map)
        await hub.wire.send(send_frames(late, frame_bundle(0.0)))
        await ended(hub, late)
        await asyncio.sleep(1.2)
        assert store.sweep() == 1 and not store.owns(user.id, late)
        response = await submit(http, user, late_map, late, play_body(late_map))
        assert response.status_code == 200
        late_id = response.json()["id"]

        # The submission, but the play never ends.
        open_map = await stored_map(services)
        never = await token_for(http, user, open_map)
        await started(hub, never, open_map)
        await hub.wire.send(send_frames(never, frame_bundle(0.0)))
        response = await submit(http, user, open_map, never, play_body(open_map))
        assert response.status_code == 200
        never_id = response.json()["id"]
        await asyncio.sleep(0.05)
        assert store.owns(user.id, never)  # waiting for the end
        await asyncio.sleep(1.2)
        assert store.sweep() == 1 and len(store) == 0
        await ended(hub, never)  # too late: nothing left to write
        await settled(services)
        for score_id in (late_id, never_id):
            assert (await show(http, user, score_id)).json()["has_replay"] is False
            assert not (tmp_path / "replays" / f"{score_id}.osr").exists()
        await hub.wire.close()


async def test_shutdown_writes_replays_whose_score_came(tmp_path: Path) -> None:
    """reliability.md §3.4 F7: a play whose score is in but whose end never came is written
    when the instance stops, not lost."""
    async with instance(tmp_path) as (other, http, services):
        user = await sign_in(http, await signup(http))
        hub = await connect(other, "spectator", user)
        beatmap = await stored_map(services)
        token = await token_for(http, user, beatmap)
        await started(hub, token, beatmap)
        await hub.wire.send(send_frames(token, frame_bundle(0.0)))
        response = await submit(http, user, beatmap, token, play_body(beatmap))
        score_id = response.json()["id"]
        await asyncio.sleep(0.05)
        assert (await show(http, user, score_id)).json()["has_replay"] is False
    async with instance(tmp_path) as (_, http, _):
        assert (await show(http, user, score_id)).json()["has_replay"] is True
    replay = osrparse.Replay.from_string((tmp_path / "replays" / f"{score_id}.osr").read_bytes())
    assert replay.replay_id == score_id and len(replay.replay_data) == 3


async def test_a_failing_replay_store_never_fails_the_submission(tmp_path: Path) -> None:
    """The replay directory cannot be created: the submission still succeeds, and
    has_replay stays false because nothing durable was written."""
    (tmp_path / "replays").write_text("not a directory")
    async with instance(tmp_path) as (other, http, services):
        user = await sign_in(http, await signup(http))
        hub = await connect(other, "spectator", user)
        beatmap = await stored_map(services)
        token = await token_for(http, user, beatmap)
        await started(hub, token, beatmap)
        await hub.wire.send(send_frames(token, frame_bundle(0.0)))
        await ended(hub, token)
        response = await submit(http, user, beatmap, token, play_body(beatmap))
        assert response.status_code == 200, response.text
        await settled(services)
        assert (await show(http, user, response.json()["id"])).json()["has_replay"] is False
        await hub.wire.close()
