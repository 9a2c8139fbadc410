"""APScheduler wiring: the scheduled jobs, each a plain async function, and the scheduler the
app's lifespan starts.

Every instance runs the scheduler; the jobs themselves take Redis locks, so with several
instances each job's work is done once (reliability.md §2.5: APScheduler 3 has no
cross-process coordination of its own). Each job has max_instances=1, coalesces missed runs
and has an explicit misfire grace.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from server import metrics
from server.db import DB_UNAVAILABLE_ERRORS
from server.hubs.metadata import MetadataHub
from server.models.rulesets import known_rulesets
from server.redis_store import REDIS_DOWN
from server.services.daily_challenge import DailyChallengeService, DailyRun
from server.services.multiplayer.hosting import RealtimeRooms
from server.services.outbox import Outbox
from server.services.rankings import RankingService
from server.settings import Settings

if TYPE_CHECKING:
    from server.app import Services

log = logging.getLogger(__name__)

RANK_HISTORY_JOB: Final = "rank-history-snapshot"
OUTBOX_RELAY_JOB: Final = "outbox-relay"
METRICS_JOB: Final = "metrics-sync"
METRICS_SYNC_SECONDS: Final = 15


class _CacheCounts:
    """Near-cache counts already reported, so each sync adds only what is new."""

    def __init__(self) -> None:
        self.reported: dict[str, tuple[int, int]] = {}


async def sync_metrics(services: Services, counts: _CacheCounts) -> None:
    """Copy what is cheaper to count locally than to record per call into the metrics: the
    near cache's hits and misses (a lookup is a dict read) and the outbox depth (a query)."""
    for region, (hits, misses) in services.near.lookup_counts().items():
        old_hits, old_misses = counts.reported.get(region, (0, 0))
        metrics.near_cache(region, hits - old_hits, misses - old_misses)
        counts.reported[region] = (hits, misses)
    # The dependency monitor and /ready report a database that is down.
    with contextlib.suppress(*DB_UNAVAILABLE_ERRORS):
        metrics.outbox_depth(await services.scores.outbox.depth())


DAILY_CHALLENGE_JOB: Final = "daily-challenge"
ABANDONED_ROOMS_JOB: Final = "multiplayer-abandoned-rooms"


async def snapshot_rank_history(rankings: RankingService, rulesets: Sequence[str]) -> list[str]:
    """Record today's global ranks of every ruleset that no instance has recorded yet;
    returns the rulesets this run recorded. Scheduled hourly: the first run of a UTC day
    takes the snapshot, the later ones (and other instances) find it done, and an instance
    that was down at midnight still catches up."""
    taken = [ruleset for ruleset in rulesets if await rankings.snapshot_once_today(ruleset)]
    if taken:
        log.info("rank history recorded for %s", ", ".join(taken))
    return taken


async def relay_outbox(outbox: Outbox) -> int:
    """Publish outbox messages whose writer could not (server/services/outbox.py)."""
    return await outbox.relay()


async def open_daily_challenge(
    daily: DailyChallengeService, metadata: MetadataHub, now: datetime | None = None
) -> DailyRun:
    """At 00:00 UTC (and every 10 minutes after, so an instance that was down catches up):
    compute the user stats of the days that ended and open today's queued room, under a
    Redis lock so one instance does it; then this instance's metadata clients hear of the
    new room at once (the others' within DAILY_CHALLENGE_POLL_SECONDS)."""
    done = await daily.run(now or datetime.now(UTC))
    if done.opened is not None:
        await metadata.refresh_daily_challenge(now)
    return done


async def close_abandoned_rooms(rooms: RealtimeRooms) -> list[int]:
    """Close realtime rooms that are open in the database but held by no instance: their
    owner died and nobody on another instance was there to notice (the owner watch of
    server/hubs/multiplayer.py covers rooms with members elsewhere). Any instance may run
    it; a Redis key per room makes one of them close each room."""
    try:
        closed = await rooms.close_abandoned()
    except REDIS_DOWN as exc:
        log.warning("multiplayer: abandoned-room sweep skipped (%s)", exc)
        return []
    if closed:
        log.info("closed %d abandoned realtime room(s): %s", len(closed), closed)
    return closed


def start_scheduler(settings: Settings, services: Services) -> AsyncIOScheduler | None:
    """Start the jobs these settings enable (None when there are none)."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    if settings.rank_history_snapshot:
        scheduler.add_job(
            snapshot_rank_history,
            CronTrigger(minute=5, timezone=UTC),
            args=[services.rankings, known_rulesets(settings.enable_relax_rulesets)],
            id=RANK_HISTORY_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3000,
        )
    if settings.outbox_relay_seconds > 0:
        scheduler.add_job(
            relay_outbox,
            IntervalTrigger(seconds=settings.outbox_relay_seconds, timezone=UTC),
            args=[services.scores.outbox],
            id=OUTBOX_RELAY_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, settings.outbox_relay_seconds),
        )
    if metrics.enabled():
        scheduler.add_job(
            sync_metrics,
            IntervalTrigger(seconds=METRICS_SYNC_SECONDS, timezone=UTC),
            args=[services, _CacheCounts()],
            id=METRICS_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=METRICS_SYNC_SECONDS,
        )
    if settings.daily_challenge_job:
        scheduler.add_job(
            open_daily_challenge,
            CronTrigger(minute="*/10", timezone=UTC),
            args=[services.daily_challenge, services.realtime.metadata],
            id=DAILY_CHALLENGE_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=600,
        )
    if settings.multiplayer_sweep_seconds > 0:
        scheduler.add_job(
            close_abandoned_rooms,
            IntervalTrigger(seconds=settings.multiplayer_sweep_seconds, timezone=UTC),
            args=[services.realtime.multiplayer.rooms],
            id=ABANDONED_ROOMS_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=settings.multiplayer_sweep_seconds,
        )
    if not scheduler.get_jobs():
        return None
    scheduler.start()
    return scheduler
