"""The per-watcher send path: a connection's bounded send queue as the writer drains it, and
the bus publishing what queued up to Redis in batches, in order."""

from __future__ import annotations

import asyncio

import fakeredis

from server import hub_bus
from server.hub_bus import BusMessage, HubBus
from server.hubs.connection import HubConnection


def _connection(send_queue: int) -> HubConnection:
    bus = HubBus(fakeredis.FakeAsyncRedis(server=fakeredis.FakeServer()))
    return HubConnection("spectator", 2, "watcher", False, "session", bus, send_queue)


async def test_writer_batches_by_size_and_waits_for_the_next_message() -> None:
    connection = _connection(100)
    for i in range(10):
        connection.send(bytes([i]) * 40)
    first = await connection.next_batch(100, 5)
    assert first == [bytes([i]) * 40 for i in range(3)]  # stops once 100 bytes are reached
    rest = await connection.next_batch(1000, 5)
    assert rest == [bytes([i]) * 40 for i in range(3, 10)]
    # Empty: the writer waits until a message comes, not for the idle timeout.
    waiting = asyncio.create_task(connection.next_batch(1000, 5))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    connection.send(b"late")
    assert await asyncio.wait_for(waiting, 1) == [b"late"]
    # Idle past the keep-alive interval: an empty batch (the writer sends a Ping).
    assert await connection.next_batch(1000, 0.02) == []


async def test_close_wakes_the_writer_and_leaves_the_rest_for_the_last_flush() -> None:
    connection = _connection(100)
    waiting = asyncio.create_task(connection.next_batch(1000, 5))
    await asyncio.sleep(0.01)
    connection.close("bye")
    assert await asyncio.wait_for(waiting, 1) is None
    connection = _connection(100)
    connection.send(b"a")
    connection.send(b"b")
    connection.close("bye")
    assert await connection.next_batch(1000, 5) is None
    assert connection.take_all() == [b"a", b"b"]
    connection.send(b"after")  # a closing connection takes nothing more
    assert connection.take_all() == []


async def test_a_watcher_past_its_send_queue_is_cut() -> None:
    connection = _connection(3)
    for _ in range(3):
        connection.send(b"x")
    assert connection.close_request is None
    connection.send(b"x")
    assert connection.close_request is not None
    assert (connection.close_request.reason, connection.close_request.code) == (
        "Send queue overflow.",
        1008,
    )


class _Collector:
    id = "collector"

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    def deliver(self, message: BusMessage) -> None:
        self.frames.append(message.frame)


async def test_a_burst_reaches_the_other_instance_whole_and_in_order() -> None:
    server = fakeredis.FakeServer()
    sender = HubBus(fakeredis.FakeAsyncRedis(server=server), "sender")
    receiver = HubBus(fakeredis.FakeAsyncRedis(server=server), "receiver")
    collector = _Collector()
    receiver.join("spectator:group:watch:2", collector)
    await sender.start()
    await receiver.start()
    try:
        for _ in range(100):  # the receiver's subscription is in place
            if receiver.connected and await sender._redis.pubsub_numsub(
                "signalr:spectator:group:watch:2"
            ) == [(b"signalr:spectator:group:watch:2", 1)]:
                break
            await asyncio.sleep(0.02)
        count = hub_bus._PUBLISH_BATCH * 2 + 7  # several batches, the last one partial
        for i in range(count):
            sender.publish("spectator:group:watch:2", i.to_bytes(4, "big"))
        for _ in range(200):
            if len(collector.frames) >= count:
                break
            await asyncio.sleep(0.02)
        assert collector.frames == [i.to_bytes(4, "big") for i in range(count)]
        assert sender.dropped == 0
    finally:
        await sender.stop()
        await receiver.stop()
