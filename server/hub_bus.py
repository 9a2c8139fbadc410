"""Fan-out of hub messages to groups and users, on this instance and through Redis on others.

It sits beside the near cache and the Redis store, below both the hubs and the services that
publish to hub groups (the replay writer), so no service reaches up into the hub layer.

A message for a channel (a hub group, or one user's connections on one hub) is delivered
to this instance's subscribers at once, then published to Redis for the other instances.
Each instance subscribes in Redis only to the channels its own connections use, and skips
what it published itself. Why local delivery does not round-trip through Redis: a Redis
outage must not stop a player and a watcher on the same instance (reliability.md §2.1),
and publishing goes through a bounded outbox so a slow or dead Redis never stalls the
invoking connection. Realtime messages lost during an outage are not replayed.

An instance publishes to Redis only where another instance may listen. Redis answers each
PUBLISH with how many subscribers received it; a channel that reached none but this
instance's own subscription is marked unheard and later messages for it are not published
(a spectated player whose watchers are all on the player's instance costs no Redis traffic,
and the instance does not hear its own frames back). An instance announces every channel
it has subscribed to, once Redis confirmed the subscription, on `bus:hello`, which every
instance hears; the announcement makes the channel heard again everywhere. A count taken
while anything that changes its meaning happened (a subscription of this instance, an
announcement, a lost connection) is not used, and an instance that cannot hear
announcements (its subscription down) marks nothing unheard and forgets what it marked.

A bus that is not `shared` (the embedded default's in-process Redis stand-in, which no other
process can reach) delivers here only: publishing to it and hearing the message back cost
more than the relay itself (bench/README.md, bench_hubs) and could reach nobody.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any, Protocol

import msgspec

from server.redis_store import REDIS_DOWN, channel_prefix

log = logging.getLogger(__name__)

_PREFIX = "signalr:"
_OUTBOX_SIZE = 10_000
# Messages published to Redis in one pipelined round trip, at most: a busy relay (a frame
# bundle per player every few hundred milliseconds, many players) costs a round trip per
# batch, not per message.
_PUBLISH_BATCH = 256
_POLL_SECONDS = 0.05
_HELLO = "bus:hello"
# Channels remembered as unheard, at most; past it the set starts over (which only costs a
# publish per channel to learn it again).
_UNHEARD_MAX = 100_000
_MAX_BACKOFF_SECONDS = 5.0


class BusMessage(msgspec.Struct, frozen=True, array_like=True):
    """What travels on a channel: framed hub bytes, or a control word for the connections."""

    origin: str
    frame: bytes = b""
    skip: str | None = None  # a connection id that must not receive it (the sender)
    control: str | None = None


class Subscriber(Protocol):
    """A hub connection as the bus sees it."""

    id: str

    def deliver(self, message: BusMessage) -> None:
        """Take a message without blocking."""


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(BusMessage)


class HubBus:
    """Per-process channel registry, Redis publisher and Redis listener."""

    def __init__(self, redis: Any, instance_id: str | None = None, *, shared: bool = True) -> None:
        self._redis = redis
        # Whether other instances can hear this Redis; without them there is nothing to
        # publish, listen for or signal beyond this process.
        self.shared = shared
        self._prefix = channel_prefix(redis) + _PREFIX
        self.instance_id = instance_id or secrets.token_hex(8)
        self._local: dict[str, dict[str, Subscriber]] = {}
        self._outbox: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(_OUTBOX_SIZE)
        self._wanted_changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.dropped = 0  # messages not published (outbox full or Redis down)
        self.unheard_skipped = 0  # messages not published: no other instance listened
        # Channels no other instance listened on when last published to (see the module
        # docstring); the listener connection's subscriptions, and per channel how many
        # (un)subscribe commands Redis has not confirmed yet (Redis confirms them in order,
        # so with none outstanding the subscription is exactly as sent); whether that
        # connection hears announcements; and a counter bumped whenever what a publish
        # count means may have changed while it was in flight.
        self._unheard: set[str] = set()
        self._subscribed: set[str] = set()
        self._unconfirmed: dict[str, int] = {}
        self._hearing = False
        self._epoch = 0
        # What every message this instance publishes starts with (a 4-field array, then the
        # origin): what the listener hears back from itself is skipped before decoding.
        self._own_head = b"\x94" + _encoder.encode(self.instance_id)
        self._hello_channel = (self._prefix + _HELLO).encode()
        self.connected = False  # whether the listener currently holds a Redis subscription
        self._stopping = False

    async def start(self) -> None:
        """Run the publisher and the listener (none when the bus is not shared)."""
        if not self.shared:
            return
        self._tasks = [
            asyncio.create_task(self._publish_loop(), name="hub-bus-publish"),
            asyncio.create_task(self._listen_loop(), name="hub-bus-listen"),
        ]

    async def stop(self) -> None:
        """Stop both tasks."""
        # The listener stops at its next poll: cancelling it inside redis-py's read can be
        # swallowed by the client's own timeout handling and leave the task hanging.
        self._stopping = True
        listener = self._tasks[1:] if len(self._tasks) == 2 else []
        if listener:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(listener[0]), 2 * _POLL_SECONDS + 1)
        for task in self._tasks:
            task.cancel()
        # Bounded: a task stuck in a Redis call that swallowed its cancellation must not
        # hold up shutdown.
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)
        self._tasks = []

    def join(self, channel: str, subscriber: Subscriber) -> None:
        """Deliver `channel` to `subscriber` from now on."""
        members = self._local.setdefault(channel, {})
        if not members:
            self._wanted_changed.set()
        members[subscriber.id] = subscriber

    def leave(self, channel: str, subscriber: Subscriber) -> None:
        """Stop delivering `channel` to `subscriber`."""
        members = self._local.get(channel)
        if members is None:
            return
        members.pop(subscriber.id, None)
        if not members:
            del self._local[channel]
            self._wanted_changed.set()

    def local_count(self, channel: str) -> int:
        """Subscribers of `channel` on this instance."""
        return len(self._local.get(channel, ()))

    def publish(
        self,
        channel: str,
        frame: bytes = b"",
        *,
        skip: str | None = None,
        control: str | None = None,
    ) -> None:
        """Deliver here now and queue for the other instances; never blocks."""
        message = BusMessage(self.instance_id, frame, skip, control)
        self._deliver_local(channel, message)
        if not self.shared:
            return
        if channel in self._unheard:
            self.unheard_skipped += 1
            return
        try:
            self._outbox.put_nowait((channel, _encoder.encode(message)))
        except asyncio.QueueFull:
            self.dropped += 1

    def publish_local(self, channel: str, frame: bytes) -> None:
        """Deliver to this instance's subscribers only: for news every instance learns by
        itself (the daily challenge each one polls for)."""
        self._deliver_local(channel, BusMessage(self.instance_id, frame))

    async def publish_remote(self, channel: str, frame: bytes) -> None:
        """Publish to the other instances through Redis at once, raising when Redis does:
        for a process that serves no connections (the CLI) and has no outbox running."""
        message = BusMessage(self.instance_id, frame)
        await self._redis.publish(self._prefix + channel, _encoder.encode(message))

    async def signal(self, channel: str, control: str) -> None:
        """Deliver a control word to `channel` here now and publish it to the other instances
        at once (moderation: works from a process whose bus never started, like the CLI).
        Raises when Redis does."""
        message = BusMessage(self.instance_id, control=control)
        self._deliver_local(channel, message)
        if self.shared:
            await self._redis.publish(self._prefix + channel, _encoder.encode(message))

    def _deliver_local(self, channel: str, message: BusMessage) -> None:
        members = self._local.get(channel)
        if not members:
            return
        for subscriber in list(members.values()):
            if subscriber.id != message.skip:
                subscriber.deliver(message)

    async def _publish_loop(self) -> None:
        outbox = self._outbox
        while True:
            batch = [await outbox.get()]
            while len(batch) < _PUBLISH_BATCH and not outbox.empty():
                batch.append(outbox.get_nowait())
            try:
                try:
                    await self._publish_batch(batch)
                except REDIS_DOWN:
                    # After a Redis restart the pool still holds dead connections; the one
                    # that failed is discarded, so one retry usually gets a fresh one.
                    await self._publish_batch(batch)
            except REDIS_DOWN as exc:
                self.dropped += len(batch)
                log.warning("hub bus: publish failed (%s); dropping realtime messages", exc)
                await self._drop_for(1.0)

    async def _publish_batch(self, batch: list[tuple[str, bytes]]) -> None:
        """Publish what the outbox held, in order, in one round trip; then mark the channels
        that reached no other instance unheard."""
        epoch = self._epoch
        if len(batch) == 1:
            channel, data = batch[0]
            counts = [await self._redis.publish(self._prefix + channel, data)]
        else:
            async with self._redis.pipeline(transaction=False) as pipe:
                for channel, data in batch:
                    pipe.publish(self._prefix + channel, data)
                counts = await pipe.execute()
        if epoch != self._epoch or not self._hearing:
            return  # the counts may predate a subscription or an announcement
        for (channel, _), count in zip(batch, counts, strict=True):
            if channel in self._unconfirmed:
                continue  # whether this instance's own subscription counted is not known
            # This instance's own subscription, when it has one, is one of the receivers.
            if count <= (channel in self._subscribed):
                if len(self._unheard) >= _UNHEARD_MAX:
                    self._unheard.clear()
                self._unheard.add(channel)

    async def _drop_for(self, seconds: float) -> None:
        # While Redis is failing, drop what queues up rather than deliver it late.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            try:
                await asyncio.wait_for(self._outbox.get(), left)
            except TimeoutError:
                return
            self.dropped += 1

    async def _listen_loop(self) -> None:
        backoff = 0.2
        while not self._stopping:
            pubsub = self._redis.pubsub()
            confirmed: list[str] = []  # subscriptions confirmed, not announced yet
            try:
                # Announcements; also keeps the connection in subscribe mode.
                await pubsub.subscribe(self._hello_channel)
                self.connected = True
                backoff = 0.2
                while not self._stopping:
                    if self._wanted_changed.is_set():
                        self._wanted_changed.clear()
                        await self._sync(pubsub)
                    message = await pubsub.get_message(timeout=_POLL_SECONDS)
                    if message is not None and message["type"] == "unsubscribe":
                        self._on_confirmed(message["channel"])
                    elif message is not None and message["type"] == "subscribe":
                        self._on_confirmed(message["channel"], confirmed)
                        if len(confirmed) < _PUBLISH_BATCH:
                            continue  # a burst of confirmations is announced at once
                    if confirmed:
                        await self._announce(confirmed)
                        confirmed = []
                    if message is not None and message["type"] == "message":
                        self._on_message(message["channel"], message["data"])
            except asyncio.CancelledError:
                raise
            except REDIS_DOWN as exc:  # a dead Redis must never end the listener
                self._forget_subscriptions()
                if self.connected:
                    log.warning("hub bus: Redis subscription lost (%s); reconnecting", exc)
                self.connected = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
                self._wanted_changed.set()  # resubscribe everything on the new connection
            finally:
                self._forget_subscriptions()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _forget_subscriptions(self) -> None:
        """The listener's connection is gone: its subscriptions with it, and announcements
        may be missed from now on, so what was marked unheard is forgotten."""
        self._hearing = False
        self._subscribed.clear()
        self._unconfirmed.clear()
        self._unheard.clear()
        self._epoch += 1

    async def _sync(self, pubsub: Any) -> None:
        wanted = set(self._local)
        added = wanted - self._subscribed
        removed = self._subscribed - wanted
        if not added and not removed:
            return
        self._epoch += 1
        self._subscribed = wanted
        for channel in added | removed:
            self._unconfirmed[channel] = self._unconfirmed.get(channel, 0) + 1
        if added:
            await pubsub.subscribe(*(self._prefix + channel for channel in added))
        if removed:
            await pubsub.unsubscribe(*(self._prefix + channel for channel in removed))

    def _on_confirmed(self, raw_channel: bytes, confirmed: list[str] | None = None) -> None:
        """Redis confirmed a subscribe (with `confirmed`, the list to announce it in) or an
        unsubscribe of the listener's connection."""
        self._epoch += 1
        channel = raw_channel.decode().removeprefix(self._prefix)
        if channel == _HELLO:
            # Announcements are heard from now on; what was marked before may be stale.
            self._hearing = True
            self._unheard.clear()
            return
        left = self._unconfirmed.get(channel, 0) - 1
        if left > 0:
            self._unconfirmed[channel] = left
        else:
            self._unconfirmed.pop(channel, None)
        if confirmed is not None and channel in self._subscribed:
            confirmed.append(channel)

    async def _announce(self, channels: list[str]) -> None:
        """Tell every instance that this one listens on `channels` now."""
        message = BusMessage(self.instance_id, control="\n".join(channels))
        await self._redis.publish(self._hello_channel, _encoder.encode(message))

    def _on_message(self, raw_channel: bytes, data: bytes) -> None:
        if data.startswith(self._own_head):
            return  # published here, and delivered here already
        if raw_channel == self._hello_channel:
            self._on_hello(data)
        else:
            self._on_remote(raw_channel, data)

    def _on_hello(self, data: bytes) -> None:
        try:
            message = _decoder.decode(data)
        except msgspec.DecodeError:
            log.warning("hub bus: undecodable announcement")
            return
        self._epoch += 1
        for channel in (message.control or "").split("\n"):
            self._unheard.discard(channel)

    def _on_remote(self, raw_channel: bytes, data: bytes) -> None:
        try:
            message = _decoder.decode(data)
        except msgspec.DecodeError:
            log.warning("hub bus: undecodable message on %r", raw_channel)
            return
        if message.origin == self.instance_id:
            return
        self._deliver_local(raw_channel.decode().removeprefix(self._prefix), message)
