"""SignalR hubs served in-process: the shared transport, the bus, and one module per hub."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from server.hubs.bus import HubBus
from server.hubs.metadata import MetadataHub
from server.hubs.spectator import SpectatorHub
from server.hubs.transport import HubTransport
from server.repositories.relations import RelationRepository
from server.repositories.users import UserRepository
from server.services.limits import FixedWindowLimiter
from server.services.profiles import ProfileService
from server.services.replays import SUBMITTED_CHANNEL, FileReplaySink, ReplayStore
from server.services.tokens import TokenService
from server.settings import Settings

_SWEEP_SECONDS = 30
# Replay downloads per user per minute: each is a file read, and osu-web throttles them too.
_REPLAY_DOWNLOADS_PER_MINUTE = 30


class Realtime:
    """The hubs of this instance and what they share; started and stopped by the lifespan."""

    def __init__(
        self,
        settings: Settings,
        redis: Any,
        tokens: TokenService,
        users: UserRepository,
        relations: RelationRepository,
        profiles: ProfileService,
    ) -> None:
        self.bus = HubBus(redis)
        self.replay_sink = FileReplaySink(settings.data_dir / "replays")
        self.replays = ReplayStore(
            self.replay_sink,
            idle_seconds=settings.replay_idle_seconds,
            submit_wait_seconds=settings.replay_submit_wait_seconds,
            max_bytes=settings.replay_max_bytes,
        )
        self.spectator = SpectatorHub(self.bus, redis, self.replays)
        self.metadata = MetadataHub(self.bus, redis, relations, profiles)
        self.transport = HubTransport(
            settings, tokens, users, self.bus, [self.spectator, self.metadata]
        )
        self.replay_downloads = FixedWindowLimiter(
            redis, "replay-download", _REPLAY_DOWNLOADS_PER_MINUTE, 60
        )
        self._sweeper: asyncio.Task[None] | None = None

    async def replay_file(self, score_id: int) -> bytes | None:
        """A stored replay's bytes, if there is one."""
        path = self.replay_sink.path(score_id)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def start(self) -> None:
        """Start the bus, the presence refresher and the replay sweeper."""
        await self.bus.start()
        await self.metadata.start()
        self.bus.join(SUBMITTED_CHANNEL, self.replays)
        self._sweeper = asyncio.create_task(self._sweep(), name="replay-sweeper")

    async def stop(self) -> None:
        """Close every connection ("Server is shutting down."), then stop the tasks."""
        await self.transport.stop()
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        await self.replays.drain()
        await self.metadata.stop()
        await self.bus.stop()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(_SWEEP_SECONDS)
            with contextlib.suppress(Exception):
                self.replays.sweep()
