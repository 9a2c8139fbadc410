"""HubConnection's send queue: bounded (a slow client is cut, S-RT-9), drained oldest first in
batches, and the writer's and the transport's waits wake on a frame or on close."""

from __future__ import annotations

import asyncio

from server.hub_bus import HubBus
from server.hubs.connection import HubConnection


def _connection(send_queue: int = 4) -> HubConnection:
    # The bus is only used to join channels, which these tests do not.
    return HubConnection("spectator", 1, "player", False, "session", HubBus(None), send_queue)


def test_a_full_send_queue_closes_the_connection_and_queues_nothing_more() -> None:
    connection = _connection(send_queue=2)
    connection.send(b"a")
    connection.send(b"b")
    assert connection.close_request is None
    connection.send(b"c")
    request = connection.close_request
    assert request is not None and (request.reason, request.code) == ("Send queue overflow.", 1008)
    connection.send(b"d")  # after close: dropped
    assert connection.take_frames(1 << 20) == [b"a", b"b"]


def test_take_frames_batches_oldest_first_up_to_the_batch_size() -> None:
    connection = _connection(send_queue=16)
    for frame in (b"x" * 40, b"y" * 40, b"z" * 40, b"w"):
        connection.send(frame)
    # The first frame always, then more while the batch is under 64 bytes: 40, then 80.
    assert connection.take_frames(64) == [b"x" * 40, b"y" * 40]
    assert connection.take_frames(1000) == [b"z" * 40, b"w"]
    assert connection.take_frames(1000) == []
    connection.send(b"q" * 100)  # larger than a batch: still sent, alone
    connection.send(b"r")
    assert connection.take_frames(64) == [b"q" * 100]


async def test_waits_wake_on_a_frame_and_on_close() -> None:
    connection = _connection()
    waiting = asyncio.create_task(connection.wait_for_frames())
    closing = asyncio.create_task(connection.wait_closing())
    await asyncio.sleep(0.01)
    assert not waiting.done() and not closing.done()
    connection.send(b"frame")
    await asyncio.wait_for(waiting, 1)
    assert not closing.done()
    # Frames still queued: no wait at all.
    await asyncio.wait_for(connection.wait_for_frames(), 1)
    assert connection.take_frames(1000) == [b"frame"]
    waiting = asyncio.create_task(connection.wait_for_frames())
    await asyncio.sleep(0.01)
    connection.close("bye", 1000)
    await asyncio.wait_for(asyncio.gather(waiting, closing), 1)
    # Once closed, both return at once.
    await asyncio.wait_for(connection.wait_closing(), 1)
    await asyncio.wait_for(connection.wait_for_frames(), 1)


async def test_a_cancelled_wait_for_closing_leaves_a_later_wait_working() -> None:
    connection = _connection()
    first = asyncio.create_task(connection.wait_closing())
    await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    second = asyncio.create_task(connection.wait_closing())
    await asyncio.sleep(0.01)
    connection.close(None)
    await asyncio.wait_for(second, 1)
