"""`serve --workers N` and WEB_CONCURRENCY run N worker processes, but only with Redis to
share state through; without REDIS_URL an explicit --workers is refused and a buildpack's
WEB_CONCURRENCY falls back to one worker, saying so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_REDIS_URL
from tests.serve_process import ROOT, ServeProcess, child_env

pytestmark = pytest.mark.slow


def test_explicit_workers_without_redis_are_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--workers", "2"],
        cwd=tmp_path,
        env={**child_env(tmp_path / "data"), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--workers 2 needs REDIS_URL" in result.stderr


def test_web_concurrency_without_redis_runs_one_worker(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path, child_env(tmp_path / "data", WEB_CONCURRENCY="3"))
    try:
        server.wait_ready()
        assert httpx.get(server.url + "/health").status_code == 200
    finally:
        assert server.stop() in (0, -15)  # uvicorn re-raises the SIGTERM it handled
    assert "WEB_CONCURRENCY=3 ignored" in server.log
    assert "running one worker" in server.log


@pytest.mark.skipif(not TEST_REDIS_URL, reason="several workers need a real Redis (TEST_REDIS_URL)")
def test_two_workers_share_redis(tmp_path: Path) -> None:
    env = child_env(tmp_path / "data", REDIS_URL=TEST_REDIS_URL, WEB_CONCURRENCY="2")
    server = ServeProcess(tmp_path, env)
    try:
        server.wait_ready()
        # Sign-up in one request and sign-in in later ones, whichever worker takes them.
        with httpx.Client(base_url=server.url) as client:
            for _ in range(8):
                assert client.get("/health").status_code == 200
    finally:
        assert server.stop() in (0, -15)  # uvicorn re-raises the SIGTERM it handled
    assert server.log.count("Started server process") == 2, server.log
