"""Prometheus metrics on their own port (METRICS_PORT), gathered from every worker process."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_REDIS_URL
from tests.serve_process import ServeProcess, child_env, free_port

pytestmark = pytest.mark.slow


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in the exposition text (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            head, _, value = line.rpartition(" ")
            if all(f'{k}="{v}"' in head for k, v in labels.items()):
                return float(value)
    return 0.0


def _run(tmp_path: Path, workers: int, **extra: str) -> None:
    metrics_port = free_port()
    env = child_env(
        tmp_path / "data", METRICS_PORT=str(metrics_port), WEB_CONCURRENCY=str(workers), **extra
    )
    server = ServeProcess(tmp_path, env)
    try:
        server.wait_ready()
        with httpx.Client(base_url=server.url) as client:
            for _ in range(20):
                assert client.get("/health").status_code == 200
            assert client.get("/api/v2/nothing-here").status_code in (401, 404)
            # Never on the public port.
            assert client.get("/metrics").status_code == 404
        text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
    finally:
        server.stop()
    # wait_ready's probes count too: at least the 20 here, from every worker.
    assert (
        _sample(text, "osu_http_requests_total", method="GET", route="/health", status="200") >= 20
    )
    assert _sample(text, "osu_http_request_duration_seconds_count", route="/health") >= 20
    # The unknown API path and /metrics on the public port: no route matched either.
    assert _sample(text, "osu_http_requests_total", route="unmatched", status="404") == 2


def test_metrics_port_single_worker(tmp_path: Path) -> None:
    _run(tmp_path, 1)


@pytest.mark.skipif(not TEST_REDIS_URL, reason="several workers need a real Redis (TEST_REDIS_URL)")
def test_metrics_port_two_workers(tmp_path: Path) -> None:
    _run(tmp_path, 2, REDIS_URL=TEST_REDIS_URL)


async def test_submissions_and_pp_time_are_counted(client: httpx.AsyncClient, services) -> None:  # type: ignore[no-untyped-def]
    """In process (prometheus_client's default registry once metrics are on)."""
    from prometheus_client import REGISTRY

    from server import metrics
    from tests.helpers import sign_in, signup
    from tests.score_play import play, stored_map

    metrics.enable()

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    stored, pp_count = (
        value("osu_score_submissions_total", outcome="stored"),
        value("osu_pp_calculation_seconds_count"),
    )
    beatmap = await stored_map(services)
    player = await sign_in(client, await signup(client))
    await play(client, player, beatmap)
    assert value("osu_score_submissions_total", outcome="stored") == stored + 1
    assert value("osu_pp_calculation_seconds_count") > pp_count
