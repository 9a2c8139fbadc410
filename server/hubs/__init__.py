"""SignalR hubs served in-process: the shared transport, the bus, and one module per hub."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from server.hub_bus import HubBus
from server.hubs.metadata import MetadataHub
from server.hubs.multiplayer import MultiplayerHub
from server.hubs.spectator import SpectatorHub
from server.hubs.transport import HubTransport
from server.repositories.relations import RelationRepository
from server.repositories.users import UserRepository
from server.services.daily_challenge import DailyChallengeService
from server.services.multiplayer.hosting import RealtimeRooms
from server.services.playlist_scores import PlaylistScores
from server.services.profiles import ProfileService
from server.services.replays import (
    SUBMITTED_CHANNEL,
    ReplayService,
    ReplayStore,
    announce_submission,
    replay_header,
)
from server.services.scores import StoredScore
from server.services.tokens import TokenService
from server.settings import Settings

_SWEEP_SECONDS = 30


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
        replay_service: ReplayService,
        playlists: PlaylistScores,
        daily_challenge: DailyChallengeService,
        realtime_rooms: RealtimeRooms,
        instance_id: str | None = None,
    ) -> None:
        self.bus = HubBus(redis, instance_id, shared=settings.redis_url is not None)
        self.replays = ReplayStore(
            replay_service.sink,
            idle_seconds=settings.replay_idle_seconds,
            submit_wait_seconds=settings.replay_submit_wait_seconds,
            max_bytes=settings.replay_max_bytes,
            on_written=replay_service.stored,
        )
        self.spectator = SpectatorHub(self.bus, redis, self.replays, replay_service)
        self.metadata = MetadataHub(
            self.bus,
            redis,
            relations,
            profiles,
            playlists,
            daily_challenge,
            settings.daily_challenge_poll_seconds,
        )
        self.multiplayer = MultiplayerHub(self.bus, realtime_rooms, users)
        self.transport = HubTransport(
            settings, tokens, users, self.bus, [self.spectator, self.metadata, self.multiplayer]
        )
        self._sweeper: asyncio.Task[None] | None = None
        self._room_notice_seconds = settings.multiplayer_shutdown_seconds

    def score_stored(self, stored: StoredScore) -> None:
        """A score committed (any instance may hold its play's frames): announce it to the
        replay buffers through the bus. Never blocks the submission."""
        announce_submission(self.bus, stored.score.token_id, replay_header(stored))

    async def start(self) -> None:
        """Start the bus, the presence refresher and the replay sweeper."""
        await self.bus.start()
        await self.metadata.start()
        await self.multiplayer.start()
        self.bus.join(SUBMITTED_CHANNEL, self.replays)
        self._sweeper = asyncio.create_task(self._sweep(), name="replay-sweeper")

    async def drain_rooms(self) -> None:
        """The realtime rooms held here hear the server is stopping and are waited out
        (MULTIPLAYER_SHUTDOWN_SECONDS at most), then end; before any connection closes."""
        await self.multiplayer.shutting_down(self._room_notice_seconds)

    async def stop(self) -> None:
        """Drain the realtime rooms, close every connection ("Server is shutting down."),
        write the replays whose scores came (reliability.md §3.4 F7), then stop the tasks."""
        await self.drain_rooms()
        await self.transport.stop()
        await self.multiplayer.stop()
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        await self.replays.flush()
        await self.metadata.stop()
        await self.bus.stop()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(_SWEEP_SECONDS)
            with contextlib.suppress(Exception):
                self.replays.sweep()
