"""Fixture chain: settings → app (lifespan running) → client → signed-in client.

The suite runs on the embedded default (a SQLite file in a temp dir, in-process Redis) unless
TEST_DATABASE_URL / TEST_REDIS_URL name real servers; .ci/run runs it both ways. The
configured test database is wiped and migrated at the start of the session.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.settings import Settings, load_settings
from tests.helpers import SignedIn, sign_in, signup

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()
# One key per test session, so tokens from one test app are valid on another.
TEST_SECRET_KEY = "test-" + secrets.token_hex(24)


def pytest_report_header() -> str:
    """Say which backends this run uses."""
    db = TEST_DATABASE_URL or "embedded SQLite"
    redis = TEST_REDIS_URL or "in-process Redis stand-in"
    return f"osu-server test backends: database={db}, redis={redis}"


def make_settings(data_dir: Path, **overrides: str) -> Settings:
    """Settings for a test app on the configured backends."""
    env = {
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": TEST_SECRET_KEY,
        "BCRYPT_ROUNDS": "4",
        "SERVER_URL": "http://testserver",
        # The whole suite signs in from one address; the limits have their own tests.
        "TOKEN_RATE_LIMIT_PER_MINUTE": "1000000",
        "REGISTRATION_RATE_LIMIT": "1000000",
        "API_RATE_LIMIT_PER_MINUTE": "1000000",
        "LOGIN_MAX_FAILURES": "1000000",
        "LOGIN_MAX_ACCOUNTS": "1000000",
        # Chat's send window (osu-web: 1 a second) has its own test.
        "CHAT_PUBLIC_LIMIT": "1000000",
        "CHAT_PRIVATE_LIMIT": "1000000",
        # Scheduled jobs run only where a test calls them (tests/integration/test_jobs.py):
        # one firing in the background would race the tests that check their effects.
        "RANK_HISTORY_SNAPSHOT": "false",
        "OUTBOX_RELAY_SECONDS": "0",
        "DAILY_CHALLENGE_JOB": "false",
        # Tests move the daily challenge's clock themselves (tests/integration/test_daily_challenge.py).
        "DAILY_CHALLENGE_POLL_SECONDS": "0",
        # A starting realtime match waits this long for players who do not load.
        "MULTIPLAYER_LOAD_TIMEOUT_SECONDS": "2",
        # A stopping test instance waits this long for its realtime rooms to empty.
        "MULTIPLAYER_SHUTDOWN_SECONDS": "1",
        # The abandoned-room sweep runs where a test calls it (test_multiplayer_lifecycle.py).
        "MULTIPLAYER_SWEEP_SECONDS": "0",
    }
    if TEST_DATABASE_URL:
        env["DATABASE_URL"] = TEST_DATABASE_URL
    if TEST_REDIS_URL:
        env["REDIS_URL"] = TEST_REDIS_URL
    env.update(overrides)
    return load_settings(env, env_file=None)


async def reset_backends(settings: Settings) -> None:
    """Empty the configured test database and Redis, then migrate."""
    from server.db import Database
    from server.db.migrations import migrate
    from server.redis_store import open_redis

    db = Database(settings.database_url, settings.dialect)
    await db.connect()
    try:
        if settings.dialect == "mysql":
            await db.execute_raw("SET FOREIGN_KEY_CHECKS = 0")
            for row in await db.fetch_raw("SHOW TABLES"):
                await db.execute_raw(f"DROP TABLE `{next(iter(row.values()))}`")
            await db.execute_raw("SET FOREIGN_KEY_CHECKS = 1")
        await migrate(db)
    finally:
        await db.disconnect()
    redis = open_redis(settings)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """A test that runs the CLI in-process (`server.__main__.main` configures logging) leaves
    the root logger as it found it, so later tests do not log to that test's captured
    (and by now closed) stream."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers, root.level = handlers, level


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    return make_settings(data_dir)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    await reset_backends(settings)
    application = create_app(settings)
    async with application.router.lifespan_context(application) as state:
        application.state.lifespan_state = state
        yield application


@pytest.fixture(scope="session")
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = _LifespanStateTransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


class _LifespanStateTransport(httpx.ASGITransport):
    """httpx's ASGI transport, plus the lifespan state a server would put in each scope."""

    def __init__(self, app: Starlette, ip: str = "203.0.113.7") -> None:
        state = app.state.lifespan_state

        async def with_state(scope, receive, send):  # type: ignore[no-untyped-def]
            scope["state"] = dict(state)
            await app(scope, receive, send)

        super().__init__(app=with_state, client=(ip, 50000))


@asynccontextmanager
async def app_client(settings: Settings, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    """A separate app (own settings, same database) and a client calling from `ip`."""
    application = create_app(settings)
    async with application.router.lifespan_context(application) as state:
        application.state.lifespan_state = state
        transport = _LifespanStateTransport(application, ip)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
async def player(client: httpx.AsyncClient) -> SignedIn:
    """A freshly registered, signed-in user."""
    user = await signup(client)
    return await sign_in(client, user)


@pytest.fixture
def services(app: Starlette):  # type: ignore[no-untyped-def]
    return app.state.lifespan_state["services"]


@pytest.fixture(scope="session")
def anyio_backend() -> Iterator[str]:
    yield "asyncio"
