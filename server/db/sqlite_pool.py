"""A `databases` SQLite backend that keeps its connections open.

The stock backend opens a new aiosqlite connection (a new OS thread and a new SQLite
handle) for every query made outside a held connection, and closes it right after: that
cost dominated every request of the embedded default. This backend keeps up to
`_MAX_IDLE` connections open and hands them out again. Per-connection pragmas are set
once, when a connection is created.
"""

from __future__ import annotations

from typing import Any

import aiosqlite
from databases.backends.sqlite import SQLiteBackend, SQLitePool
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


class PersistentSQLiteBackend(SQLiteBackend):
    """SQLiteBackend with connections that outlive a single query."""

    def __init__(self, database_url: DatabaseURL | str, **options: Any) -> None:
        super().__init__(database_url, **options)
        self._persistent = _PersistentPool(self._database_url, **self._options)
        self._pool = self._persistent

    async def disconnect(self) -> None:
        await self._persistent.close()
        await super().disconnect()
