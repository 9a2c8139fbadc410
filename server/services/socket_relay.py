"""One Redis subscription per process for every notification socket it holds.

Events for a user are published to that user's Redis channel (`user_channel`) by whichever
instance or command produced them. Each process subscribes, on one pub/sub connection, to
the channels of the users it has sockets for, and hands each message to each of that user's
local sockets once: a socket hears an event exactly once, wherever it was published. (A
Redis connection per socket, as before, ran into redis-py's pool limit of 100 and cost a
connection's memory per socket.)

When the subscription breaks, every socket of the process is closed (the caller answers
1011): lazer reconnects, sends chat.start again and catches up over REST, so nothing is
lost or doubled. While it is down, new sockets are refused the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from server.redis_store import REDIS_DOWN, channel_prefix

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.05
_MAX_BACKOFF_SECONDS = 2.0
# Events queued for one socket beyond which its client is too slow and is dropped.
_MAX_QUEUED = 1000
_CHANNEL = "notifications:user:"


def user_channel(redis: Any, user_id: int) -> str:
    """The Redis pub/sub channel carrying one user's socket events."""
    return f"{channel_prefix(redis)}{_CHANNEL}{user_id}"


class SocketInbox:
    """The events waiting for one socket; None in the queue means: close it."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def deliver(self, payload: bytes) -> None:
        """Queue an event without blocking; a client this far behind is dropped."""
        if self.queue.qsize() >= _MAX_QUEUED:
            self.close()
            return
        self.queue.put_nowait(payload)

    def close(self) -> None:
        """Ask the socket to close."""
        self.queue.put_nowait(None)


class SocketRelay:
    """The process's subscription and its local sockets, by user."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self._prefix = channel_prefix(redis) + _CHANNEL
        self._inboxes: dict[int, set[SocketInbox]] = {}
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.connected = False  # whether the subscription is up

    async def start(self, wait_seconds: float = 1.0) -> None:
        """Run the listener, giving it a moment to subscribe (sockets are refused until it
        has; a Redis that is down does not hold up the start)."""
        self._stopping = False
        self._task = asyncio.create_task(self._listen(), name="notification-socket-relay")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while not self.connected and loop.time() < deadline:
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop the listener (it ends at its next poll) and close every socket."""
        self._stopping = True
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), 2 * _POLL_SECONDS + 1)
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=2)
            self._task = None
        self._close_all()

    def attach(self, user_id: int) -> SocketInbox | None:
        """An inbox for a new socket of `user_id`; None while the subscription is down."""
        if not self.connected:
            return None
        inbox = SocketInbox(user_id)
        inboxes = self._inboxes.setdefault(user_id, set())
        if not inboxes:
            self._changed.set()
        inboxes.add(inbox)
        return inbox

    def detach(self, inbox: SocketInbox) -> None:
        """Forget a closed socket's inbox."""
        inboxes = self._inboxes.get(inbox.user_id)
        if inboxes is None:
            return
        inboxes.discard(inbox)
        if not inboxes:
            del self._inboxes[inbox.user_id]
            self._changed.set()

    def subscribed_users(self) -> int:
        """Users with a socket on this process."""
        return len(self._inboxes)

    def _close_all(self) -> None:
        for inboxes in self._inboxes.values():
            for inbox in inboxes:
                inbox.close()
        self._inboxes.clear()

    def _dispatch(self, raw_channel: bytes, payload: bytes) -> None:
        user = raw_channel.decode().removeprefix(self._prefix)
        if not user.isdigit():
            return
        for inbox in list(self._inboxes.get(int(user), ())):
            inbox.deliver(payload)

    async def _sync(self, pubsub: Any, subscribed: set[str]) -> set[str]:
        wanted = {f"{self._prefix}{user_id}" for user_id in self._inboxes}
        if added := wanted - subscribed:
            await pubsub.subscribe(*added)
        if removed := subscribed - wanted:
            await pubsub.unsubscribe(*removed)
        return wanted

    async def _listen(self) -> None:
        backoff = 0.1
        while not self._stopping:
            pubsub = self._redis.pubsub()
            subscribed: set[str] = set()
            try:
                # A standing subscription keeps the connection in subscribe mode.
                await pubsub.subscribe(self._prefix + "relay")
                self.connected = True
                backoff = 0.1
                while not self._stopping:
                    if self._changed.is_set():
                        self._changed.clear()
                        subscribed = await self._sync(pubsub, subscribed)
                    message = await pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=_POLL_SECONDS
                    )
                    if message is not None and message.get("type") == "message":
                        self._dispatch(message["channel"], message["data"])
            except REDIS_DOWN as exc:
                if self.connected:
                    log.warning("notification sockets: Redis subscription lost (%s)", exc)
            finally:
                self.connected = False
                # Whatever was published meanwhile is lost for these sockets: close them,
                # so their clients reconnect and catch up over REST.
                self._close_all()
                with contextlib.suppress(*REDIS_DOWN):
                    await pubsub.aclose()
            if not self._stopping:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
