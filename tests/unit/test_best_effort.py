"""The one best-effort helper: a Redis outage (redis-py errors, socket errors, timeouts) is
logged and marks the attempt failed; anything else is a bug and goes through."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from server.redis_store import REDIS_DOWN, best_effort

log = logging.getLogger("test.best_effort")
SERVER = Path(__file__).resolve().parents[2] / "server"


@pytest.mark.parametrize(
    "error",
    [
        RedisConnectionError("refused"),
        ResponseError("READONLY"),
        ConnectionRefusedError(111, "refused"),
        ConnectionResetError(),
        TimeoutError(),
    ],
)
def test_an_outage_is_caught_logged_and_marked(
    error: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    reached = False
    step = f"cache write for %s after {type(error).__name__}"  # its own step: warned once
    with caplog.at_level(logging.WARNING), best_effort(log, step, 7) as attempt:
        raise error
        reached = True  # pragma: no cover
    assert attempt.failed and not reached
    assert f"cache write for 7 after {type(error).__name__} (Redis unavailable)" in caplog.text


def test_a_step_failing_on_every_request_warns_once_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An outage on the request path is one warning, not a line per request (issue 11)."""
    with caplog.at_level(logging.WARNING):
        for _ in range(5):
            with best_effort(log, "per-request lock") as attempt:
                raise ConnectionRefusedError(111, "refused")
            assert attempt.failed
    assert caplog.text.count("per-request lock (Redis unavailable)") == 1


def test_success_is_not_failed() -> None:
    with best_effort(log, "cache read") as attempt:
        pass
    assert attempt.failed is False


@pytest.mark.parametrize("error", [KeyError("bug"), TypeError("bug"), ValueError("bug")])
def test_a_bug_is_not_an_outage(error: Exception) -> None:
    with pytest.raises(type(error)), best_effort(log, "cache read"):
        raise error


def _caught_names(handler: ast.ExceptHandler) -> set[str]:
    kinds = handler.type
    nodes = kinds.elts if isinstance(kinds, ast.Tuple) else [kinds] if kinds else []
    return {node.id for node in nodes if isinstance(node, ast.Name)}


def test_no_redis_code_catches_every_exception() -> None:
    """Modules that talk to Redis catch REDIS_DOWN (or narrower), never `Exception`, except
    the listed isolation boundaries: hub connections (a failing hub method becomes the
    SignalR completion error), after-commit listeners, replay encoding, the log handler (a
    line that fails to format is reported by handleError, as logging's own handlers do) and
    the edge's exception handling (the app's handlers, else the 500 answer, and the exception
    raised again, as Starlette's two layers it replaces), none of which is a Redis step."""
    boundaries = {
        "logs.py": 2,
        "middleware.py": 2,
        "hubs/transport.py": 6,
        "services/scores.py": 2,
        "services/beatmap_ingest.py": 1,
        "services/replays.py": 1,
    }
    found: dict[str, int] = {}
    for path in SERVER.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler) and "Exception" in _caught_names(node):
                name = path.relative_to(SERVER).as_posix()
                found[name] = found.get(name, 0) + 1
    assert found == boundaries


def test_driver_exceptions_stay_in_the_db_package() -> None:
    """Driver modules and error numbers are imported only under server/db/."""
    for path in SERVER.rglob("*.py"):
        if path.relative_to(SERVER).parts[0] == "db":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [alias.name for alias in node.names]
                for name in names:
                    root = name.split(".")[0]
                    assert root not in {"sqlite3", "pymysql", "aiomysql", "aiosqlite"}, path


def test_redis_down_is_one_definition() -> None:
    assert OSError in REDIS_DOWN and TimeoutError in REDIS_DOWN
    for path in SERVER.rglob("*.py"):
        if path.name == "redis_store.py":
            continue
        assert "RedisError" not in path.read_text(), path
