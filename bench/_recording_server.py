"""`python -m server serve`, recording what the first submissions send to MySQL and Redis.

The capture for bench_submit.py. While BENCH_RECORD_FILE is set, every SQL statement
(driver text and arguments, with the transaction's BEGIN and COMMIT) and every Redis round
trip is noted against the asyncio task that made it; when a request task that inserted a
score ends, its statements are appended to the file (one pickle per submission) until
BENCH_RECORD_LIMIT submissions are written (after BENCH_RECORD_SKIP unrecorded ones). After
that the wrappers only count, so the measured runs pay one function call per statement.
With BENCH_PROFILE_FILE set, the process is profiled with cProfile (wall time; CPU time with
BENCH_PROFILE_TIMER=cpu) from the first submission after the recording to shutdown. SIGUSR1
writes the process-wide counts of SQL statements (BEGIN and COMMIT not included) and Redis
round trips to BENCH_COUNTS_FILE.

Bench-only: the server itself never does this.
"""

from __future__ import annotations

import asyncio
import atexit
import cProfile
import json
import os
import pickle
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import redis.asyncio.connection as redis_connection

import server.db as db_module

RECORD_FILE = os.environ.get("BENCH_RECORD_FILE")
RECORD_LIMIT = int(os.environ.get("BENCH_RECORD_LIMIT", "0"))
# Submissions let through unrecorded first (the bench's warm-up: each player's first best).
RECORD_SKIP = int(os.environ.get("BENCH_RECORD_SKIP", "0"))
PROFILE_FILE = os.environ.get("BENCH_PROFILE_FILE")
# On SIGUSR1 the process-wide counts (SQL statements, Redis round trips) are written here.
COUNTS_FILE = os.environ.get("BENCH_COUNTS_FILE")


class _Capture:
    """Statements and Redis round trips of one request task. A statement is (driver text,
    arguments, named query's parameters by name or None, their order in the text)."""

    __slots__ = ("named", "redis_commands", "redis_round_trips", "statements")

    def __init__(self) -> None:
        self.statements: list[Statement] = []
        self.named: tuple[dict[str, Any], tuple[str, ...]] | None = None
        self.redis_round_trips = 0
        self.redis_commands: list[bytes] = []


Statement = tuple[str, tuple[Any, ...], dict[str, Any] | None, tuple[str, ...]]


_captures: dict[asyncio.Task[Any], _Capture] = {}
_written = 0
_skipped = 0
_profiler: cProfile.Profile | None = None
_counts = {"sql": 0, "redis": 0}


def _write_counts(signum: int, frame: Any) -> None:
    if COUNTS_FILE is not None:
        Path(COUNTS_FILE).write_text(json.dumps(_counts))


def _recording() -> bool:
    return RECORD_FILE is not None and _written < RECORD_LIMIT


def _finished(task: asyncio.Task[Any]) -> None:
    global _skipped, _written
    capture = _captures.pop(task, None)
    if capture is None or not _recording() or RECORD_FILE is None:
        return
    if not any(_inserts_score(s[0]) for s in capture.statements):
        return
    if _skipped < RECORD_SKIP:
        _skipped += 1
        return
    with open(RECORD_FILE, "ab") as out:
        pickle.dump(
            {
                "statements": capture.statements,
                "redis_round_trips": capture.redis_round_trips,
                "redis_commands": capture.redis_commands,
            },
            out,
        )
    _written += 1


def _capture() -> _Capture | None:
    if not _recording():
        return None
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return None
    if task is None:
        return None
    capture = _captures.get(task)
    if capture is None:
        capture = _captures[task] = _Capture()
        task.add_done_callback(_finished)
    return capture


def _inserts_score(sql: str) -> bool:
    return sql.lstrip().upper().startswith("INSERT INTO SCORES ")


_named = db_module.Database._named


async def _recorded_named(self: Any, name: str, expected: Any, params: dict[str, Any]) -> Any:
    capture = _capture()
    if capture is not None:
        capture.named = (dict(params), self._queries[name].order)
    return await _named(self, name, expected, params)


_run = db_module.Database._run


async def _recorded_run(self: Any, sql: str, args: tuple[Any, ...], fetch: bool) -> Any:
    _counts["sql"] += 1
    capture = _capture()
    if capture is not None:
        params, order = capture.named or (None, ())
        capture.named = None
        capture.statements.append((sql, args, params, order))
    _start_profile(sql)
    return await _run(self, sql, args, fetch)


_transaction = db_module.Database.transaction


@asynccontextmanager
async def _recorded_transaction(self: Any) -> AsyncIterator[None]:
    capture = _capture()
    if capture is not None:
        capture.statements.append(("BEGIN", (), None, ()))
    async with _transaction(self):
        yield
    if capture is not None:
        capture.statements.append(("COMMIT", (), None, ()))


_send = redis_connection.AbstractConnection.send_packed_command


async def _recorded_send(self: Any, command: Any, check_health: bool = True) -> None:
    _counts["redis"] += 1
    capture = _capture()
    if capture is not None:
        capture.redis_round_trips += 1
        packed = command if isinstance(command, bytes | str) else b"".join(command)
        capture.redis_commands.append(bytes(packed, "utf-8") if isinstance(packed, str) else packed)
    await _send(self, command, check_health)


def _start_profile(sql: str) -> None:
    global _profiler
    if PROFILE_FILE is None or _profiler is not None or _recording():
        return
    if not _inserts_score(sql):
        return
    # BENCH_PROFILE_TIMER=cpu: CPU time, not wall time (a process preempted in a socket
    # write that woke the database shows the wait as the write's cost in wall time), at the
    # price of a clock syscall per call, which slows the server several times over.
    cpu = os.environ.get("BENCH_PROFILE_TIMER") == "cpu"
    _profiler = cProfile.Profile(time.process_time) if cpu else cProfile.Profile()
    _profiler.enable()
    atexit.register(_dump_profile)


def _dump_profile() -> None:
    if _profiler is not None and PROFILE_FILE is not None:
        _profiler.disable()
        _profiler.dump_stats(PROFILE_FILE)


db_module.Database._named = _recorded_named  # type: ignore[method-assign]
db_module.Database._run = _recorded_run  # type: ignore[method-assign]
db_module.Database.transaction = _recorded_transaction  # type: ignore[method-assign,assignment]
redis_connection.AbstractConnection.send_packed_command = _recorded_send  # type: ignore[method-assign]

signal.signal(signal.SIGUSR1, _write_counts)

if __name__ == "__main__":
    from server.__main__ import main

    sys.argv[0] = "server"
    sys.exit(main())
