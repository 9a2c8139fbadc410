"""A `databases` SQLite backend that keeps its connections open.

The stock backend opens a new aiosqlite connection (a new OS thread and a new SQLite
handle) for every query made outside a held connection, and closes it right after: that
cost dominated every request of the embedded default. This backend keeps up to
`_MAX_IDLE` connections open and hands them out again. Per-connection pragmas are set
once, when a connection is created.

Its transactions take the write lock when they begin (`BEGIN IMMEDIATE`). A deferred
transaction starts as a reader, and in WAL mode a reader that then writes after another
connection committed gets SQLITE_BUSY at once: busy_timeout is not waited out, since waiting
cannot refresh its snapshot. Under concurrent submissions that was a 503 "database is locked";
taking the lock first makes the second transaction wait (up to busy_timeout) instead.
"""

from __future__ import annotations

from typing import Any

import aiosqlite
from databases.backends.sqlite import (
    SQLiteBackend,
    SQLiteConnection,
    SQLitePool,
    SQLiteTransaction,
)
from databases.core import DatabaseURL

_MAX_IDLE = 8
# busy_timeout and foreign_keys belong to a connection, not to the database file.
_CONNECTION_PRAGMAS = ("PRAGMA busy_timeout=10000", "PRAGMA foreign_keys=ON")


class _PersistentPool(SQLitePool):
    """SQLitePool that hands connections out again instead of closing them."""

    def __init__(self, url: DatabaseURL, **options: Any) -> None:
        super().__init__(url, **options)
        self._idle: list[aiosqlite.Connection] = []

    async def acquire(self) -> aiosqlite.Connection:
        if self._idle:
            return self._idle.pop()
        connection = await super().acquire()
        for pragma in _CONNECTION_PRAGMAS:
            await connection.execute(pragma)
        return connection

    async def release(self, connection: aiosqlite.Connection) -> None:
        # `databases` commits or rolls back before releasing; a connection still inside a
        # transaction (a cancelled task) is closed rather than handed to someone else.
        if len(self._idle) < _MAX_IDLE and not connection.in_transaction:
            self._idle.append(connection)
        else:
            await super().release(connection)

    async def close(self) -> None:
        while self._idle:
            await super().release(self._idle.pop())


class _ImmediateTransaction(SQLiteTransaction):
    """A root transaction that holds the write lock from its BEGIN (savepoints as before)."""

    async def start(self, is_root: bool, extra_options: dict[Any, Any]) -> None:
        if not is_root:
            await super().start(is_root, extra_options)
            return
        connection = self._connection._connection
        assert connection is not None, "Connection is not acquired"
        self._is_root = True
        async with connection.execute("BEGIN IMMEDIATE") as cursor:
            await cursor.close()


class _Connection(SQLiteConnection):
    def transaction(self) -> _ImmediateTransaction:
        return _ImmediateTransaction(self)


class PersistentSQLiteBackend(SQLiteBackend):
    """SQLiteBackend with connections that outlive a single query."""

    def __init__(self, database_url: DatabaseURL | str, **options: Any) -> None:
        super().__init__(database_url, **options)
        self._persistent = _PersistentPool(self._database_url, **self._options)
        self._pool = self._persistent

    def connection(self) -> _Connection:
        return _Connection(self._pool, self._dialect)

    async def disconnect(self) -> None:
        await self._persistent.close()
        await super().disconnect()
