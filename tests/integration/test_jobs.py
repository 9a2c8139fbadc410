"""Scheduled jobs (server/jobs.py): the daily rank-history snapshot, run once a day across
instances, and the lifespan that schedules the jobs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from server.app import create_app
from server.jobs import (
    DAILY_CHALLENGE_JOB,
    OUTBOX_RELAY_JOB,
    RANK_HISTORY_JOB,
    open_daily_challenge,
    relay_outbox,
    snapshot_rank_history,
)
from tests.conftest import make_settings
from tests.helpers import sign_in, signup
from tests.score_play import play, stored_map


async def _today_rank(services: Any, user_id: int) -> list[Any]:
    rows = await services.db.fetch_raw(
        "SELECT day, `rank` FROM rank_history WHERE user_id = :u AND ruleset = 'osu'", u=user_id
    )
    today = datetime.now(UTC).date()
    return [r["rank"] for r in rows if str(r["day"])[:10] == today.isoformat()]


async def test_rank_history_job_runs_once_a_day(client: httpx.AsyncClient, services: Any) -> None:
    beatmap = await stored_map(services)
    first = await sign_in(client, await signup(client))
    await play(client, first, beatmap)
    key = f"rank-history:snapshot:osu:{datetime.now(UTC).date()}"
    await services.redis.delete(key, f"{key}:lock")  # a profile view may have taken today's

    assert await snapshot_rank_history(services.rankings, ["osu"]) == ["osu"]
    assert len(await _today_rank(services, first.id)) == 1
    # Done for today: later runs (this instance's next hour, other instances) skip it.
    second = await sign_in(client, await signup(client))
    await play(client, second, beatmap)
    assert await snapshot_rank_history(services.rankings, ["osu"]) == []
    assert await _today_rank(services, second.id) == []

    # Another instance holds the lock: this one does nothing, whatever the marker says.
    await services.redis.delete(key)
    await services.redis.set(f"{key}:lock", b"another instance", ex=60)
    assert await snapshot_rank_history(services.rankings, ["osu"]) == []
    assert await _today_rank(services, second.id) == []
    # Its lock is not ours to release.
    assert await services.redis.get(f"{key}:lock") == b"another instance"
    await services.redis.delete(f"{key}:lock")
    assert await snapshot_rank_history(services.rankings, ["osu"]) == ["osu"]
    assert len(await _today_rank(services, second.id)) == 1
    assert await services.redis.get(f"{key}:lock") is None


async def test_lifespan_schedules_the_jobs(data_dir: Path, services: Any) -> None:
    settings = make_settings(
        data_dir,
        RANK_HISTORY_SNAPSHOT="true",
        OUTBOX_RELAY_SECONDS="7",
        DAILY_CHALLENGE_JOB="true",
        DAILY_CHALLENGE_POLL_SECONDS="60",
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application) as state:
        scheduler = state["scheduler"]
        assert scheduler is not None and scheduler.running
        ranks = scheduler.get_job(RANK_HISTORY_JOB)
        assert ranks.func is snapshot_rank_history
        assert isinstance(ranks.trigger, CronTrigger) and ranks.max_instances == 1
        assert ranks.args[0] is state["services"].rankings
        assert list(ranks.args[1]) == ["osu", "taiko", "fruits", "mania"]
        relay = scheduler.get_job(OUTBOX_RELAY_JOB)
        assert relay.func is relay_outbox and relay.args == (state["services"].scores.outbox,)
        assert isinstance(relay.trigger, IntervalTrigger)
        assert relay.trigger.interval.total_seconds() == 7
        daily = scheduler.get_job(DAILY_CHALLENGE_JOB)
        assert daily.func is open_daily_challenge and daily.max_instances == 1
        assert daily.args == (
            state["services"].daily_challenge,
            state["services"].realtime.metadata,
        )
        # Every ten minutes from 00:00 UTC: the day's room opens at midnight, or soon after
        # an instance that was down comes back.
        fires = daily.trigger.get_next_fire_time(None, datetime(2031, 3, 2, 23, 55, tzinfo=UTC))
        assert fires == datetime(2031, 3, 3, 0, 0, tzinfo=UTC)
    assert not scheduler.running
    # All off: no scheduler at all.
    off = create_app(make_settings(data_dir))
    async with off.router.lifespan_context(off) as state:
        assert state["scheduler"] is None
