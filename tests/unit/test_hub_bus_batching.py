"""The bus publishing what queued up to Redis in batches, in order (a connection's own send
queue is tests/unit/test_hub_connection.py's)."""

from __future__ import annotations

import asyncio

import fakeredis

from server import hub_bus
from server.hub_bus import BusMessage, HubBus


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
