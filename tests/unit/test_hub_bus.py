"""The hub bus between two instances on the in-process Redis stand-in: messages queued
together are published together (one pipeline) and all arrive, in order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import fakeredis

from server.hub_bus import BusMessage, HubBus


class _Inbox:
    def __init__(self) -> None:
        self.id = "inbox"
        self.frames: list[bytes] = []

    def deliver(self, message: BusMessage) -> None:
        self.frames.append(message.frame)


class _CountingRedis(fakeredis.FakeAsyncRedis):
    """Counts round trips: single commands and whole pipelines."""

    round_trips = 0

    async def execute_command(self, *args: object, **options: object) -> object:
        type(self).round_trips += 1
        return await super().execute_command(*args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: object = None) -> object:
        type(self).round_trips += 1  # the bus executes each pipeline once
        return super().pipeline(transaction, shard_hint)  # type: ignore[arg-type]


async def test_a_burst_is_published_in_few_round_trips_and_arrives_in_order() -> None:
    server = fakeredis.FakeServer()
    sender = HubBus(_CountingRedis(server=server), "sender")
    receiver = HubBus(fakeredis.FakeAsyncRedis(server=server), "receiver")
    inbox = _Inbox()
    receiver.join("room", inbox)
    await sender.start()
    await receiver.start()
    try:
        deadline = time.monotonic() + 5
        channel = receiver._prefix + "room"
        while (await receiver._redis.pubsub_numsub(channel))[0][1] == 0:
            assert time.monotonic() < deadline, "receiver never subscribed"
            await asyncio.sleep(0.01)
        before = _CountingRedis.round_trips
        frames = [f"frame {i}".encode() for i in range(300)]
        for frame in frames:  # one tick: all queued before the publisher runs
            sender.publish("room", frame)
        while len(inbox.frames) < len(frames):
            assert time.monotonic() < deadline, f"{len(inbox.frames)} of {len(frames)} arrived"
            await asyncio.sleep(0.01)
        assert inbox.frames == frames
        assert sender.dropped == 0
        # 300 messages, batches of at most 256: two pipelines, not 300 PUBLISH calls.
        assert _CountingRedis.round_trips - before <= 2
    finally:
        await sender.stop()
        await receiver.stop()


async def test_a_bus_nobody_else_can_hear_delivers_here_and_sends_nothing_to_redis() -> None:
    redis = _CountingRedis(server=fakeredis.FakeServer())
    bus = HubBus(redis, "alone", shared=False)
    inbox = _Inbox()
    bus.join("room", inbox)
    await bus.start()
    try:
        before = _CountingRedis.round_trips
        bus.publish("room", b"frame")
        await bus.signal("room", "rename:someone")
        await asyncio.sleep(0.1)  # a publisher or listener, if one ran, would have by now
        assert inbox.frames == [b"frame", b""]
        assert _CountingRedis.round_trips == before
        assert await redis.pubsub_numsub(bus._prefix + "room") == [
            (f"{bus._prefix}room".encode(), 0)
        ]
    finally:
        await bus.stop()


async def _until(condition: Callable[[], Awaitable[bool] | bool], what: str) -> None:
    deadline = time.monotonic() + 5
    while True:
        result = condition()
        if result if isinstance(result, bool) else await result:
            return
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.01)


async def test_a_channel_only_this_instance_hears_is_not_published_until_another_subscribes() -> (
    None
):
    server = fakeredis.FakeServer()
    sender = HubBus(_CountingRedis(server=server), "sender")
    receiver = HubBus(fakeredis.FakeAsyncRedis(server=server), "receiver")
    here, there = _Inbox(), _Inbox()
    sender.join("watch", here)  # the player's instance has watchers of its own
    await sender.start()
    await receiver.start()
    try:
        await _until(lambda: sender._hearing and receiver._hearing, "announcements never heard")
        await _until(lambda: "watch" in sender._subscribed and not sender._unconfirmed, "no sub")

        def probe() -> bool:
            sender.publish("watch", b"alone")
            return sender.unheard_skipped > 0

        await _until(probe, "a channel only this instance hears was still published")
        before = _CountingRedis.round_trips
        for _ in range(50):
            sender.publish("watch", b"alone")
        await asyncio.sleep(0.1)
        assert _CountingRedis.round_trips == before  # nothing went to Redis
        # Another instance subscribes and announces it: publishing resumes at once.
        receiver.join("watch", there)
        await _until(lambda: "watch" not in sender._unheard, "the announcement was not heard")
        sender.publish("watch", b"shared")
        await _until(lambda: there.frames == [b"shared"], "the other instance missed it")
        # The other instance leaves: the channel goes quiet again.
        receiver.leave("watch", there)

        def quiet_again() -> bool:
            skipped = sender.unheard_skipped
            sender.publish("watch", b"alone again")
            return sender.unheard_skipped > skipped

        await _until(quiet_again, "still published after the other instance left")
        assert there.frames == [b"shared"]
        # Every message reached this instance's own watcher exactly once (none heard back).
        assert here.frames.count(b"shared") == 1
        assert set(here.frames) == {b"alone", b"shared", b"alone again"}
    finally:
        await sender.stop()
        await receiver.stop()


async def test_a_lost_subscription_forgets_which_channels_were_unheard() -> None:
    server = fakeredis.FakeServer()
    bus = HubBus(fakeredis.FakeAsyncRedis(server=server), "alone")
    await bus.start()
    try:
        await _until(lambda: bus._hearing, "announcements never heard")

        def probe() -> bool:
            bus.publish("watch", b"frame")
            return bus.unheard_skipped > 0

        await _until(probe, "the channel was never marked unheard")
        # Announcements cannot be heard while Redis is away: nothing stays marked.
        server.connected = False
        await _until(lambda: not bus.connected, "the listener never noticed")
        assert "watch" not in bus._unheard and not bus._hearing
        server.connected = True
        await _until(lambda: bus._hearing, "the listener never came back")
        skipped = bus.unheard_skipped
        bus.publish("watch", b"frame")  # published again, to learn afresh
        assert bus.unheard_skipped == skipped
    finally:
        await bus.stop()
