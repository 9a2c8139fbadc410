"""The database: the only importer of `databases`, and the named queries it runs.

Callers name a query from sql/queries/ and pass its declared parameters; rows come back as
plain dicts that repositories turn into frozen Structs. Database records never leave this
package.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import databases
from sqlalchemy import TextClause, text

from server.db.sqlfile import NamedQuery, Operation, load_query_dir

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"

Row = dict[str, Any]


def _parse_sqlite_datetime(raw: bytes) -> datetime:
    return datetime.fromisoformat(raw.decode())


# SQLite keeps DATETIME columns as text; with PARSE_DECLTYPES the driver turns them back into
# datetimes, so rows look the same on both dialects.
sqlite3.register_converter("DATETIME", _parse_sqlite_datetime)


def _row(mapping: Mapping[str, Any]) -> Row:
    """A plain dict of a record; stored times are UTC, so make that explicit."""
    row = dict(mapping)
    for key, value in row.items():
        if isinstance(value, datetime) and value.tzinfo is None:
            row[key] = value.replace(tzinfo=UTC)
    return row


class _Prepared:
    """A named query with its dialect text parsed once into a SQLAlchemy text clause."""

    __slots__ = ("clause", "query")

    def __init__(self, query: NamedQuery, dialect: str) -> None:
        self.query = query
        self.clause: TextClause = text(query.texts[dialect])

    def bind(self, params: dict[str, Any]) -> TextClause:
        if set(params) != set(self.query.params):
            missing = set(self.query.params) - set(params)
            extra = set(params) - set(self.query.params)
            raise TypeError(
                f"query {self.query.name} ({self.query.source}) takes "
                f"({', '.join(self.query.params)}); missing {sorted(missing)}, "
                f"unexpected {sorted(extra)}"
            )
        return self.clause.bindparams(**params) if params else self.clause


class _Databases(databases.Database):
    # SQLite through a backend that keeps connections open (server/db/sqlite_pool.py).
    SUPPORTED_BACKENDS = {  # noqa: RUF012 - overrides the library's class attribute
        **databases.Database.SUPPORTED_BACKENDS,
        "sqlite+aiosqlite": "server.db.sqlite_pool:PersistentSQLiteBackend",
    }


class Database:
    """A connection pool plus the named queries for its dialect."""

    def __init__(self, url: str, dialect: str, query_dir: Path = SQL_DIR / "queries") -> None:
        self.dialect = dialect
        self.url = url
        self._queries = {
            name: _Prepared(query, dialect) for name, query in load_query_dir(query_dir).items()
        }
        options: dict[str, Any] = {"detect_types": sqlite3.PARSE_DECLTYPES}
        if dialect == "mysql":
            # Recycle pooled connections before MariaDB's wait_timeout drops them
            # (aio-libs/aiomysql#132), and keep the pool small: one process, few workers.
            options = {"pool_recycle": 1800, "min_size": 1, "max_size": 10, "charset": "utf8mb4"}
        self._db = _Databases(url, **options)

    @property
    def query_names(self) -> frozenset[str]:
        """Every loaded query name."""
        return frozenset(self._queries)

    async def connect(self) -> None:
        """Open the pool; SQLite also switches the file to WAL for concurrent readers."""
        await self._db.connect()
        if self.dialect == "sqlite":
            await self._db.execute("PRAGMA journal_mode=WAL")

    async def disconnect(self) -> None:
        """Close the pool."""
        await self._db.disconnect()

    def _prepared(self, name: str, expected: Operation) -> _Prepared:
        prepared = self._queries.get(name)
        if prepared is None:
            raise KeyError(f"no query named {name!r} in sql/queries")
        if prepared.query.operation is not expected:
            raise TypeError(
                f"query {name} ({prepared.query.source}) is declared "
                f"{prepared.query.operation.name}, called as {expected.name}"
            )
        return prepared

    async def one(self, name: str, /, **params: Any) -> Row | None:
        """Run a `^` query: one row or None."""
        clause = self._prepared(name, Operation.ROW).bind(params)
        record = await self._db.fetch_one(clause)
        return None if record is None else _row(record._mapping)

    async def all(self, name: str, /, **params: Any) -> list[Row]:
        """Run a row-list query."""
        clause = self._prepared(name, Operation.ROWS).bind(params)
        return [_row(record._mapping) for record in await self._db.fetch_all(clause)]

    async def value(self, name: str, /, **params: Any) -> Any:
        """Run a `$` query: the first column of the first row, or None."""
        clause = self._prepared(name, Operation.VALUE).bind(params)
        return await self._db.fetch_val(clause)

    async def execute(self, name: str, /, **params: Any) -> int:
        """Run a `!` query; returns the last inserted row id where there is one."""
        clause = self._prepared(name, Operation.EXECUTE).bind(params)
        result = await self._db.execute(clause)
        return int(result or 0)

    async def rowcount(self, name: str, /, **params: Any) -> int:
        """Run a `!` query and return how many rows it changed."""
        clause = self._prepared(name, Operation.EXECUTE).bind(params)
        async with self._db.connection() as connection:
            # `databases` returns only lastrowid from execute(); a compare-and-set (claim a
            # token once) needs the affected-row count, so run the compiled statement on the
            # driver connection. Inside a transaction this is the transaction's connection.
            raw = connection.raw_connection
            query, args = connection._connection._compile(clause)[:2]  # type: ignore[attr-defined]
            if self.dialect == "sqlite":
                cursor = await raw.execute(query, args)
                return int(cursor.rowcount)
            async with raw.cursor() as cursor:
                await cursor.execute(query, args)
                return int(cursor.rowcount)

    async def all_dynamic(self, sql: str, **params: Any) -> list[Row]:
        """Run a row-list query built with pypika (bound parameters only, never values)."""
        clause = text(sql).bindparams(**params) if params else text(sql)
        return [_row(record._mapping) for record in await self._db.fetch_all(clause)]

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """A transaction on this task's connection (no fan-out inside it: STYLE habit 5)."""
        async with self._db.transaction():
            yield

    async def execute_raw(self, statement: str, **params: Any) -> None:
        """Run one trusted DDL or bookkeeping statement (migrations only)."""
        await self._db.execute(text(statement).bindparams(**params) if params else statement)

    async def fetch_raw(self, statement: str, **params: Any) -> list[Row]:
        """Run one trusted introspection query (migrations and schema checks only)."""
        clause = text(statement).bindparams(**params) if params else text(statement)
        return [_row(r._mapping) for r in await self._db.fetch_all(clause)]

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A dedicated connection for this task (used for MySQL's migration lock)."""
        async with self._db.connection() as connection:
            yield connection
