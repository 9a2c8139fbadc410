"""/health (alive) and /ready (database, Redis, migrations, file store), and what requests get
while the database or Redis is gone: 503 with Retry-After and no detail, and a few log lines
per outage instead of a traceback per request."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import httpx
import pytest

from server import logs
from server.app import create_app
from tests.conftest import (
    TEST_DATABASE_URL,
    TEST_REDIS_URL,
    _LifespanStateTransport,
    app_client,
    make_settings,
)
from tests.helpers import lazer_multipart, sign_in, signup, unique_name
from tests.hub_client import AsgiSocket
from tests.tcp_proxy import TcpProxy


async def test_health_is_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "up"}


async def test_ready_when_everything_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "ok", "migrations": "ok", "files": "ok"},
        "failed": [],
    }
    assert response.headers["cache-control"] == "no-store"


async def test_ready_names_an_unwritable_file_store(data_dir: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store should be")
    settings = make_settings(data_dir, BEATMAPS_DIR=str(blocker / "beatmaps"))
    async with app_client(settings, "192.0.2.61") as other:
        response = await other.get("/ready")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["failed"] == ["files"]
        assert body["checks"]["database"] == "ok"
        # Alive all the same: a liveness probe must not restart it for this.
        assert (await other.get("/health")).status_code == 200


def _register(name: str) -> tuple[bytes, dict[str, str]]:
    return lazer_multipart(
        {
            "user[username]": name,
            "user[user_email]": f"{name}@example.com",
            "user[password]": "a-long-password-1",
        }
    )


async def _outage(
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    dependency: str,
    base_url: str,
    setting: str,
) -> list[int]:
    """Cut `dependency` under a separate app, send requests, restore it; the statuses."""
    proxy = TcpProxy.for_url(base_url)
    await proxy.start()
    settings = make_settings(data_dir, **{setting: proxy.url(base_url)})
    statuses: list[int] = []
    output = io.StringIO()
    production = logs.handler("text", output)  # what an operator's log would show
    logging.getLogger().addHandler(production)
    try:
        application = create_app(settings)
        async with application.router.lifespan_context(application) as state:
            application.state.lifespan_state = state
            transport = _LifespanStateTransport(application, "192.0.2.62")
            other = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            assert (await other.get("/ready")).status_code == 200
            player = await sign_in(other, await signup(other))
            caplog.clear()
            await proxy.cut()
            with caplog.at_level(logging.INFO):
                for _ in range(3):
                    body, headers = _register(unique_name("down"))
                    for response in (
                        await other.post("/users", content=body, headers=headers),
                        await other.get("/api/v2/me/", headers=player.headers),
                    ):
                        statuses.append(response.status_code)
                        if response.status_code >= 500:
                            assert response.status_code == 503, response.text
                            assert response.headers["retry-after"] == "5"
                            assert set(response.json()) == {"error"}  # no detail
                # A hub client reconnecting meanwhile: refused or served, never a traceback.
                hub = AsgiSocket(application, "/signalr/spectator", player.headers)
                opened = await hub.open()
                if dependency == "database":
                    assert not opened and hub.close_code == 1008
                await hub.close()
                ready = await other.get("/ready")
                assert ready.status_code == 503
                assert ready.json()["failed"] == [dependency] + (
                    ["migrations"] if dependency == "database" else []
                )
                await proxy.restore()
                for _ in range(100):  # the probe notices within a few seconds
                    if "available again" in caplog.text:
                        break
                    await asyncio.sleep(0.1)
            lines = [r.getMessage() for r in caplog.records if r.name == "server.health"]
            assert lines[0].startswith(f"{dependency} unavailable: "), lines
            assert len(lines) == 2 and lines[1].startswith(f"{dependency} available again")
            written = output.getvalue()
            assert "Traceback" not in written, written
            warnings = [line for line in written.splitlines() if " INFO " not in line]
            assert len(warnings) <= 6, written  # not a line per request
            assert (await other.get("/ready")).status_code == 200
            await other.aclose()
    finally:
        logging.getLogger().removeHandler(production)
        await proxy.stop()
    return statuses


@pytest.mark.slow
@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs MariaDB (TEST_DATABASE_URL) to cut")
async def test_database_outage_is_503_and_logged_once(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    statuses = await _outage(data_dir, caplog, "database", TEST_DATABASE_URL, "DATABASE_URL")
    assert statuses.count(503) >= 3  # registration needs the database; /me may be cached


@pytest.mark.slow
@pytest.mark.skipif(not TEST_REDIS_URL, reason="needs a real Redis (TEST_REDIS_URL) to cut")
async def test_redis_outage_degrades_or_is_503_and_logged_once(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    statuses = await _outage(data_dir, caplog, "redis", TEST_REDIS_URL, "REDIS_URL")
    assert set(statuses) <= {200, 503}
