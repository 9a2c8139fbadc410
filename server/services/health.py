"""Health: what `/ready` reports (database, Redis, migrations, file store), and the outage
watch that keeps an unavailable database or Redis to a few log lines.

A request that fails because a dependency is unreachable is answered 503 (server/middleware)
and reported to `DependencyMonitor.failed`. The first failure logs one line and starts a
probe; while the dependency stays down a summary line is logged every `summary_seconds`; the
probe's first success logs one line with the outage's length and the requests refused. No
traceback per request (a 120 s Redis outage used to write 1,794 of them).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from server import metrics
from server.db import DB_UNAVAILABLE_ERRORS, Database
from server.db.migrations import pending_count
from server.redis_store import REDIS_UNAVAILABLE_ERRORS

log = logging.getLogger("server.health")

Probe = Callable[[], Awaitable[object]]

# What a check raises when its dependency is down (OSError: the file store, local or an
# object store's ObjectStoreUnavailable).
_DOWN: tuple[type[BaseException], ...] = (
    *DB_UNAVAILABLE_ERRORS,
    *REDIS_UNAVAILABLE_ERRORS,
    TimeoutError,
    OSError,
)

# How long one readiness check may take before it counts as failed.
CHECK_TIMEOUT_SECONDS = 2.0


@dataclass
class _Outage:
    since: float
    refused: int = 0
    refused_since_summary: int = 0
    last_summary: float = 0.0
    watcher: asyncio.Task[None] | None = field(default=None, repr=False)


class DependencyMonitor:
    """Up/down state of the database and Redis as requests see it (one per process)."""

    def __init__(
        self,
        probes: dict[str, Probe],
        *,
        probe_seconds: float = 1.0,
        summary_seconds: float = 30.0,
    ) -> None:
        self._probes = probes
        self._probe_seconds = probe_seconds
        self._summary_seconds = summary_seconds
        self._outages: dict[str, _Outage] = {}

    def is_down(self, name: str) -> bool:
        """Whether `name` is currently considered unavailable."""
        return name in self._outages

    def failed(self, name: str, error: BaseException) -> None:
        """A request failed because `name` is unreachable (no I/O; called from handlers)."""
        outage = self._outages.get(name)
        now = time.monotonic()
        if outage is None:
            outage = self._outages[name] = _Outage(since=now, last_summary=now)
            log.warning("%s unavailable: %s: %s", name, type(error).__name__, error)
            try:
                outage.watcher = asyncio.get_running_loop().create_task(self._watch(name))
            except RuntimeError:  # no loop (a CLI path): nothing to watch with
                outage.watcher = None
        metrics.dependency_error(name)
        outage.refused += 1
        outage.refused_since_summary += 1

    async def _watch(self, name: str) -> None:
        probe = self._probes[name]
        while True:
            await asyncio.sleep(self._probe_seconds)
            outage = self._outages[name]
            try:
                await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
            except _DOWN:
                now = time.monotonic()
                if now - outage.last_summary >= self._summary_seconds:
                    log.warning(
                        "%s still unavailable after %.0f s: %d requests refused in the last %.0f s",
                        name,
                        now - outage.since,
                        outage.refused_since_summary,
                        now - outage.last_summary,
                    )
                    outage.last_summary = now
                    outage.refused_since_summary = 0
                continue
            del self._outages[name]
            log.warning(
                "%s available again after %.1f s (%d requests refused)",
                name,
                time.monotonic() - outage.since,
                outage.refused,
            )
            return

    async def stop(self) -> None:
        """Cancel the probes (server shutdown)."""
        watchers = [o.watcher for o in self._outages.values() if o.watcher is not None]
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)


class Readiness(msgspec.Struct, frozen=True):
    """`/ready`'s body: every check's outcome, and which failed."""

    status: str
    checks: dict[str, str]
    failed: list[str]


class HealthService:
    """The checks behind `/ready`; each is bounded by CHECK_TIMEOUT_SECONDS."""

    def __init__(
        self,
        db: Database,
        redis_ping: Probe,
        writable_dirs: list[Path],
        monitor: DependencyMonitor,
        object_store_probe: Probe | None = None,
    ) -> None:
        self._db = db
        self._redis_ping = redis_ping
        self._dirs = writable_dirs
        self.monitor = monitor
        self._object_store_probe = object_store_probe

    async def _database(self) -> str:
        await self._db.ping()
        return "ok"

    async def _redis(self) -> str:
        await self._redis_ping()
        return "ok"

    async def _migrations(self) -> str:
        pending = await pending_count(self._db)
        return "ok" if pending == 0 else f"{pending} pending"

    async def _files(self) -> str:
        if self._object_store_probe is not None:
            await self._object_store_probe()
        for directory in self._dirs:
            await asyncio.to_thread(_probe_write, directory)
        return "ok"

    async def readiness(self) -> Readiness:
        """Run every check concurrently; a check that raises or times out is "unavailable"."""
        checks: dict[str, Callable[[], Awaitable[str]]] = {
            "database": self._database,
            "redis": self._redis,
            "migrations": self._migrations,
            "files": self._files,
        }

        async def run(name: str, check: Callable[[], Awaitable[str]]) -> str:
            try:
                return await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
            except _DOWN as exc:
                if name in ("database", "redis"):
                    self.monitor.failed(name, exc)  # one log line when the state changes
                return "unavailable"

        outcomes = await asyncio.gather(*(run(name, check) for name, check in checks.items()))
        results = dict(zip(checks, outcomes, strict=True))
        if results["database"] != "ok":
            results["migrations"] = "unknown"  # cannot be read without the database
        failed = [name for name, outcome in results.items() if outcome != "ok"]
        return Readiness("unavailable" if failed else "ready", results, failed)


def _probe_write(directory: Path) -> None:
    """Create, write and remove a file in `directory` (OSError when it cannot)."""
    directory.mkdir(parents=True, exist_ok=True)
    probe = directory / f".ready-{time.monotonic_ns()}"
    try:
        probe.write_bytes(b"ok")
    finally:
        probe.unlink(missing_ok=True)
