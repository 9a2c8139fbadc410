"""Redis is a cache here (reliability.md §2.1): with it down, a submission still commits and
answers, and leaderboards are answered from SQL. The spectator hub's seam is a pub/sub
message `score:processed` after the commit."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import msgspec

from server.models.scores import ScoreFormat
from server.redis_store import channel_prefix
from server.services.score_reads import BoardQuery
from server.services.scores import SCORE_PROCESSED_CHANNEL, build_score_service
from tests.helpers import sign_in, signup
from tests.score_play import age_token, play, play_body, stored_map, token_for


def _plain(board: Any) -> Any:
    """The leaderboard as the client would read it (cached pages are raw JSON)."""
    return msgspec.json.decode(msgspec.json.encode(board))


async def _global_board(svc: Any, beatmap_id: int, account: Any) -> Any:
    """The global osu! board as lazer asks for it, read through `svc`."""
    query = BoardQuery(
        beatmap_id=beatmap_id,
        ruleset="osu",
        scope="global",
        mods=(),
        limit=50,
        form=ScoreFormat.SOLO,
        raw_query=b"",
    )
    return _plain(await svc.reads.beatmap_scores(query, account))


class _FailingRedis:
    """Every Redis call fails, as with the server gone."""

    def register_script(self, script: str) -> Any:
        async def call(**_: Any) -> Any:
            raise ConnectionError("redis down")

        return call

    def pipeline(self, transaction: bool = False) -> Any:
        raise ConnectionError("redis down")

    def __getattr__(self, name: str) -> Any:
        async def fail(*args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("redis down")

        return fail


async def test_submission_and_leaderboard_without_redis(
    client: httpx.AsyncClient, services: Any
) -> None:
    beatmap = await stored_map(services)
    player = await sign_in(client, await signup(client))
    other = await sign_in(client, await signup(client))
    earlier = await play(client, other, beatmap, total_score_without_mods=700_000)
    token = await token_for(client, player, beatmap)
    await age_token(services.db, token, beatmap.total_length + 5)  # played through
    # The same database and beatmaps, but a Redis that is gone.
    broken = build_score_service(
        services.settings, services.db, _FailingRedis(), services.users, services.beatmaps
    )
    account = await services.users.by_id(player.id)
    body = msgspec.json.encode(play_body(beatmap, total_score_without_mods=950_000))
    outcome = await broken.submit(account, beatmap.id, token, body)
    assert outcome.created
    record = await services.beatmaps.repo.beatmap(beatmap.id)
    board = await _global_board(broken, record.id, account)
    assert [s["id"] for s in board["scores"]] == [outcome.score_id, earlier["id"]]
    assert board["user_score"]["position"] == 1
    # The healthy service agrees (its Redis board was dropped or moved by the update).
    healthy = (
        await client.get(f"/api/v2/beatmaps/{beatmap.id}/scores", headers=player.headers)
    ).json()
    assert [s["id"] for s in healthy["scores"]] == [outcome.score_id, earlier["id"]]
    broken.aclose()


async def test_score_processed_is_published_after_commit(
    client: httpx.AsyncClient, services: Any
) -> None:
    beatmap = await stored_map(services)
    player = await sign_in(client, await signup(client))
    pubsub = services.redis.pubsub()
    await pubsub.subscribe(channel_prefix(services.redis) + SCORE_PROCESSED_CHANNEL)
    try:
        score = await play(client, player, beatmap)
        message = None
        for _ in range(50):
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if message is not None:
                break
            await asyncio.sleep(0.01)
        assert message is not None
        assert msgspec.json.decode(message["data"]) == {
            "user_id": player.id,
            "score_id": score["id"],
        }
    finally:
        await pubsub.unsubscribe(channel_prefix(services.redis) + SCORE_PROCESSED_CHANNEL)
        await pubsub.aclose()


class _FlakyRedis:
    """The real Redis, or failures while `down` is set (an outage that ends)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.down = False
        self.connection_pool = real.connection_pool  # same database, same channel names

    def register_script(self, script: str) -> Any:
        real = self.real.register_script(script)

        async def call(**kwargs: Any) -> Any:
            if self.down:
                raise ConnectionError("redis down")
            return await real(**kwargs)

        return call

    def pipeline(self, transaction: bool = False) -> Any:
        if self.down:
            raise ConnectionError("redis down")
        return self.real.pipeline(transaction=transaction)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.real, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise ConnectionError("redis down")
            return await method(*args, **kwargs)

        return call


async def test_board_missed_during_outage_is_dropped_when_redis_returns(
    client: httpx.AsyncClient, services: Any
) -> None:
    """A commit whose Redis update failed leaves no stale board once Redis answers."""
    beatmap = await stored_map(services)
    record = await services.beatmaps.repo.beatmap(beatmap.id)
    player = await sign_in(client, await signup(client))
    other = await sign_in(client, await signup(client))
    await play(client, other, beatmap, total_score_without_mods=700_000)
    flaky = _FlakyRedis(services.redis)
    svc = build_score_service(
        services.settings, services.db, flaky, services.users, services.beatmaps
    )
    account = await services.users.by_id(player.id)
    built = await _global_board(svc, record.id, account)  # builds it
    assert len(built["scores"]) == 1
    token = await token_for(client, player, beatmap)
    await age_token(services.db, token, beatmap.total_length + 5)  # played through
    flaky.down = True
    body = msgspec.json.encode(play_body(beatmap, total_score_without_mods=950_000))
    outcome = await svc.submit(account, beatmap.id, token, body)
    assert outcome.created
    flaky.down = False
    board = await _global_board(svc, record.id, account)
    assert board["scores"][0]["id"] == outcome.score_id
    svc.aclose()


async def _messages(pubsub: Any, want: int, rounds: int = 50) -> list[Any]:
    """Decoded messages until one is for score `want` (or the rounds run out)."""
    seen = []
    for _ in range(rounds):
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if message is not None:
            seen.append(msgspec.json.decode(message["data"]))
            if seen[-1]["score_id"] == want:
                break
    return seen


async def _outbox_rows(services: Any, score_id: int) -> list[Any]:
    payload = msgspec.json.encode({"user_id": 0, "score_id": score_id}).decode()
    prefix = payload.split(",")[1]  # '"score_id":N}'
    rows = await services.db.fetch_raw("SELECT id, payload FROM outbox")
    return [r for r in rows if r["payload"].endswith(prefix)]


async def test_lost_score_processed_is_published_by_the_outbox_relay(
    client: httpx.AsyncClient, services: Any
) -> None:
    """reliability.md §2.1: the message is queued in the submission's transaction; Redis down
    at the commit leaves it queued, and the relay publishes it once Redis is back."""
    beatmap = await stored_map(services)
    player = await sign_in(client, await signup(client))
    flaky = _FlakyRedis(services.redis)
    svc = build_score_service(
        services.settings, services.db, flaky, services.users, services.beatmaps
    )
    account = await services.users.by_id(player.id)
    token = await token_for(client, player, beatmap)
    await age_token(services.db, token, beatmap.total_length + 5)
    flaky.down = True
    outcome = await svc.submit(account, beatmap.id, token, msgspec.json.encode(play_body(beatmap)))
    assert outcome.created
    await svc.outbox.drain()  # its publish failed off the request path
    assert len(await _outbox_rows(services, outcome.score_id)) == 1
    # Still down: the relay publishes nothing and keeps the message.
    assert await svc.outbox.relay(older_than=0) == 0
    assert len(await _outbox_rows(services, outcome.score_id)) == 1

    pubsub = services.redis.pubsub()
    await pubsub.subscribe(channel_prefix(services.redis) + SCORE_PROCESSED_CHANNEL)
    try:
        flaky.down = False
        # Another instance's relay holds the lock: this one leaves the work to it.
        await services.redis.set("outbox:relay", b"elsewhere", ex=60)
        assert await svc.outbox.relay(older_than=0) == 0
        await services.redis.delete("outbox:relay")
        # A message younger than the grace is left to its writer.
        assert await svc.outbox.relay(older_than=3600) == 0
        assert await svc.outbox.relay(older_than=0) >= 1
        seen = await _messages(pubsub, outcome.score_id)
        assert {"user_id": player.id, "score_id": outcome.score_id} in seen
    finally:
        await pubsub.unsubscribe(channel_prefix(services.redis) + SCORE_PROCESSED_CHANNEL)
        await pubsub.aclose()
    assert await _outbox_rows(services, outcome.score_id) == []
    assert await services.redis.get("outbox:relay") is None  # the relay released its lock
    svc.aclose()


async def test_published_message_leaves_no_outbox_row(
    client: httpx.AsyncClient, services: Any
) -> None:
    beatmap = await stored_map(services)
    player = await sign_in(client, await signup(client))
    score = await play(client, player, beatmap)
    await services.scores.outbox.drain()  # published and dropped off the request path
    assert await _outbox_rows(services, score["id"]) == []
    # A repeated PUT of the same token queues nothing more.
    rows = await services.db.fetch_raw("SELECT COUNT(*) AS n FROM outbox")
    token = (
        await services.db.fetch_raw("SELECT token_id FROM scores WHERE id = :i", i=score["id"])
    )[0]["token_id"]
    from tests.score_play import submit

    again = await submit(client, player, beatmap, int(token), play_body(beatmap))
    assert again.json()["id"] == score["id"]
    assert await services.db.fetch_raw("SELECT COUNT(*) AS n FROM outbox") == rows


async def test_messages_delivered_soon_go_together_and_leave_no_rows(services: Any) -> None:
    """deliver_soon: messages queued while a send is in flight are published in order and
    their rows deleted together."""
    outbox = services.scores.outbox
    channel = "test:outbox-batch"
    pubsub = services.redis.pubsub()
    await pubsub.subscribe(channel_prefix(services.redis) + channel)
    try:
        payloads = [msgspec.json.encode({"n": i}) for i in range(5)]
        ids = [await outbox.add(channel, payload) for payload in payloads]
        for entry_id, payload in zip(ids, payloads, strict=True):
            outbox.deliver_soon(entry_id, channel, payload)
        await outbox.drain()
        received = []
        deadline = asyncio.get_running_loop().time() + 5
        while len(received) < len(payloads):
            assert asyncio.get_running_loop().time() < deadline, f"only {received} arrived"
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if message is not None:
                received.append(message["data"])
        assert received == payloads
    finally:
        await pubsub.unsubscribe(channel_prefix(services.redis) + channel)
        await pubsub.aclose()
    rows = await services.db.fetch_raw("SELECT id FROM outbox")
    assert not {r["id"] for r in rows} & set(ids)
