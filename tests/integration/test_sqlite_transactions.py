"""Embedded SQLite: concurrent transactions that read before they write wait for each other
instead of failing with "database is locked".

In WAL mode a deferred transaction starts as a reader; when it then writes after another
connection committed (or while another holds the write lock), SQLite answers SQLITE_BUSY at
once, without waiting out busy_timeout, since waiting could not help a stale snapshot. Under
load that surfaced as 503s from score-token and submission requests. Transactions on the
embedded default therefore take the write lock when they begin (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from server.db import Database

QUERIES = """\
-- name: counter_value(id)$
-- The counter's value.
SELECT value FROM counters WHERE id = :id;

-- name: set_counter(id, value)!
-- Set the counter.
UPDATE counters SET value = :value WHERE id = :id;
"""


async def test_read_then_write_transactions_serialise(tmp_path: Path) -> None:
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "counters.sql").write_text(QUERIES)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", "sqlite", query_dir=queries)
    await db.connect()
    try:
        await db.execute_raw("CREATE TABLE counters (id INTEGER PRIMARY KEY, value INTEGER)")
        await db.execute_raw("INSERT INTO counters (id, value) VALUES (1, 0)")
        both_read = asyncio.Barrier(2)

        async def increment() -> None:
            async with db.transaction():
                value = await db.value("counter_value", id=1)
                # Let the other transaction start too before either writes.
                try:
                    async with asyncio.timeout(0.2):
                        await both_read.wait()
                except TimeoutError:
                    pass  # IMMEDIATE: the other one waits for this commit
                await db.execute("set_counter", id=1, value=value + 1)

        await asyncio.gather(*(increment() for _ in range(2)))
        # No lost update either: each increment saw the other's commit.
        assert await db.value("counter_value", id=1) == 2
    finally:
        await db.disconnect()
