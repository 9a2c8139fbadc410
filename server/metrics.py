"""Prometheus metrics (prometheus-client), off unless METRICS_PORT is set.

`serve` turns them on before the app is imported: it points PROMETHEUS_MULTIPROC_DIR at a
fresh directory (every worker process writes its samples there), and serves `/metrics` from
the parent process on METRICS_HOST:METRICS_PORT, a port of its own, so the public port never
exposes them. While off, every recording function returns at once (one flag test).

Recorded: HTTP requests by method, route template and status, with latency histograms;
rate-limit refusals; database and Redis errors; hub connections and messages per hub;
score submissions by outcome; pp calculation time; near-cache hits and misses; outbox depth.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

_on = False

# The metric objects exist only once metrics are turned on (prometheus_client decides at
# import whether it writes to the multiprocess directory).
_m: dict[str, Any] = {}

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir(directory: Path | None = None) -> Path:
    """Make an empty directory for every process's samples and name it in the environment
    (read by prometheus_client in each worker at import). Call before importing the app."""
    path = directory or Path(tempfile.mkdtemp(prefix="osu-metrics-"))
    if path.exists():
        shutil.rmtree(path)  # samples of a previous run would be summed in
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def enable() -> None:
    """Create the metrics and start recording (in each worker process)."""
    global _on
    if _on:
        return
    from prometheus_client import Counter, Gauge, Histogram

    _m["requests"] = Counter(
        "osu_http_requests", "HTTP requests answered", ["method", "route", "status"]
    )
    _m["latency"] = Histogram(
        "osu_http_request_duration_seconds",
        "HTTP request latency",
        ["route"],
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    )
    _m["rate_limited"] = Counter(
        "osu_rate_limited", "Requests refused by a rate limit (429)", ["route"]
    )
    _m["dependency_errors"] = Counter(
        "osu_dependency_errors", "Requests failed by an unreachable dependency", ["dependency"]
    )
    _m["hub_connections"] = Gauge(
        "osu_hub_connections", "Open hub connections", ["hub"], multiprocess_mode="livesum"
    )
    _m["hub_messages"] = Counter("osu_hub_messages", "Hub messages received", ["hub"])
    _m["submissions"] = Counter("osu_score_submissions", "Score submissions", ["outcome"])
    _m["pp"] = Histogram(
        "osu_pp_calculation_seconds",
        "Time of one pp (performance) calculation in the core",
        buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5),
    )
    _m["near_cache"] = Counter("osu_near_cache_lookups", "Near-cache lookups", ["region", "result"])
    _m["outbox"] = Gauge(
        "osu_outbox_depth", "Outbox messages waiting to be published", multiprocess_mode="max"
    )
    _on = True


def enabled() -> bool:
    """Whether metrics are recorded in this process."""
    return _on


def request(method: str, route: str, status: int, seconds: float) -> None:
    if _on:
        _m["requests"].labels(method, route, str(status)).inc()
        _m["latency"].labels(route).observe(seconds)


def rate_limited(route: str) -> None:
    if _on:
        _m["rate_limited"].labels(route).inc()


def dependency_error(dependency: str) -> None:
    if _on:
        _m["dependency_errors"].labels(dependency).inc()


def hub_connection(hub: str, delta: int) -> None:
    if _on:
        _m["hub_connections"].labels(hub).inc(delta)


def hub_message(hub: str) -> None:
    if _on:
        _m["hub_messages"].labels(hub).inc()


def submission(outcome: str) -> None:
    if _on:
        _m["submissions"].labels(outcome).inc()


def pp_calculation(seconds: float) -> None:
    if _on:
        _m["pp"].observe(seconds)


def near_cache(region: str, hits: int, misses: int) -> None:
    if _on:
        if hits:
            _m["near_cache"].labels(region, "hit").inc(hits)
        if misses:
            _m["near_cache"].labels(region, "miss").inc(misses)


def outbox_depth(depth: int) -> None:
    if _on:
        _m["outbox"].set(depth)


def start_exporter(host: str, port: int) -> Any:
    """Serve every process's samples on host:port/metrics from a thread of this process."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return start_http_server(port, addr=host, registry=registry)
