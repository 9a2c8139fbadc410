"""The database: the only importer of `databases`, and the named queries it runs.

Callers name a query from sql/queries/ and pass its declared parameters; rows come back as
plain dicts that repositories turn into frozen Structs. Database records never leave this
package.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import databases
from sqlalchemy import text

from server.db.sqlfile import NamedQuery, Operation, load_query_dir


def _sql_dir() -> Path:
    """Where the named queries and migrations are: inside the package when installed (setup.py
    copies the top-level `sql/` in at build time), the checkout's `sql/` in an editable
    install. Never the working directory."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "sql"
    return packaged if packaged.is_dir() else package.parent / "sql"


SQL_DIR = _sql_dir()


class MissingResource(Exception):
    """A file the server reads at run time is not where the install put it."""


def check_resources(sql_dir: Path = SQL_DIR) -> None:
    """Stop with a clear message when the install lacks the SQL files (a wheel built without
    them would otherwise migrate nothing and fail every request)."""
    for part in ("queries", "migrations"):
        directory = sql_dir / part
        if not any(directory.glob("*.sql")):
            raise MissingResource(
                f"no SQL files in {directory}: this install of osu-lean-server lacks its packaged "
                "`sql/` resources; reinstall from a complete source tree or wheel"
            )


Row = dict[str, Any]


class DatabaseError(Exception):
    """A statement failed in the database. Driver exception classes and error numbers stay
    in this package: callers see this type, or one of its kinds below (the driver's
    exception is the `__cause__`)."""


class DuplicateKey(DatabaseError):
    """An insert met an existing unique key (MySQL 1062, SQLite UNIQUE/PRIMARY KEY)."""


class TransactionConflict(DatabaseError):
    """InnoDB chose this transaction as a deadlock victim (1213) or a lock wait timed out
    (1205): the whole transaction may be retried."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached or used right now (server down, connection lost,
    SQLite file locked or unreadable): answered 503 with Retry-After, not 500
    (reliability.md)."""


# Every call of Database translates the driver's exceptions (connecting and the readiness
# ping included), so these are the whole list for callers, on either dialect.
DB_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (DatabaseUnavailable,)
# What a query raises when the database is unreachable or refuses it: for a background loop
# that must outlive an outage (the metadata hub's daily challenge poll).
DATABASE_ERRORS: tuple[type[BaseException], ...] = (DatabaseError, OSError)


@dataclass(frozen=True, slots=True)
class _DriverErrors:
    """One driver's exception classes. Only the dialect in use imports its driver: the
    embedded default never loads pymysql (nor `cryptography`, which pymysql imports whenever
    it is installed), and a MariaDB server never loads sqlite3."""

    every: tuple[type[Exception], ...]
    unavailable: tuple[type[Exception], ...]
    integrity: tuple[type[Exception], ...]  # SQLite's, whose extended code tells a duplicate


_MYSQL_DUPLICATE = 1062
_MYSQL_CONFLICTS = frozenset({1205, 1213})
# sqlite3's extended result codes for a violated UNIQUE constraint or primary key.
_SQLITE_DUPLICATES = frozenset({2067, 1555})


def _driver_errors(dialect: str) -> _DriverErrors:
    """The exception classes of the dialect's driver (imported here, on first use)."""
    if dialect == "mysql":
        from pymysql.err import (  # type: ignore[import-untyped]
            InterfaceError,
            MySQLError,
            OperationalError,
        )

        return _DriverErrors((MySQLError,), (OperationalError, InterfaceError), ())
    import sqlite3

    return _DriverErrors((sqlite3.Error,), (sqlite3.OperationalError,), (sqlite3.IntegrityError,))


def _translated(exc: Exception, errors: _DriverErrors) -> DatabaseError:
    """Our error for a driver's exception."""
    if isinstance(exc, errors.integrity):
        if getattr(exc, "sqlite_errorcode", None) in _SQLITE_DUPLICATES:
            return DuplicateKey(str(exc))
        return DatabaseError(str(exc))
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    if code == _MYSQL_DUPLICATE:
        return DuplicateKey(str(exc))
    if code in _MYSQL_CONFLICTS:
        return TransactionConflict(str(exc))
    if isinstance(exc, errors.unavailable):
        return DatabaseUnavailable(str(exc))
    return DatabaseError(str(exc))


@asynccontextmanager
async def _driver_errors_translated(errors: _DriverErrors) -> AsyncIterator[None]:
    try:
        yield
    except errors.every as exc:
        raise _translated(exc, errors) from exc


def _parse_sqlite_datetime(raw: bytes) -> datetime:
    return datetime.fromisoformat(raw.decode())


def _read(
    description: Any, rows: list[tuple[Any, ...]], rowcount: int, lastrowid: int | None
) -> _Result:
    if not rows:
        return _Result([], rowcount, lastrowid)
    names = [column[0] for column in description]
    return _Result([_record(names, row) for row in rows], rowcount, lastrowid)


def _record(names: Iterable[str], values: Iterable[Any]) -> Row:
    """A row's dict in one pass (stored times are UTC, so made explicit)."""
    row: Row = {}
    for name, value in zip(names, values, strict=True):
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        row[name] = value
    return row


def _row(mapping: Mapping[str, Any]) -> Row:
    """A plain dict of a `databases` record (the migrations' introspection)."""
    return _record(mapping.keys(), mapping.values())


_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_LITERAL = re.compile(r"'(?:[^']|'')*'")


@functools.lru_cache(maxsize=1024)
def driver_sql(sql: str, dialect: str) -> tuple[str, tuple[str, ...]]:
    """`:name` SQL rewritten in the driver's own paramstyle, with the parameter order.

    Done once per statement, so running a query costs only the driver's own work: no
    SQLAlchemy compilation per call. String literals are left alone; MySQL's `%s` style
    needs every other `%` doubled.
    """
    masked = _LITERAL.sub(lambda m: "'" + "x" * (len(m.group()) - 2) + "'", sql)
    placeholder = "%s" if dialect == "mysql" else "?"
    out: list[str] = []
    order: list[str] = []
    last = 0
    for match in _PARAM.finditer(masked):
        chunk = sql[last : match.start()]
        out.append(chunk.replace("%", "%%") if dialect == "mysql" else chunk)
        out.append(placeholder)
        order.append(match.group(1))
        last = match.end()
    tail = sql[last:]
    out.append(tail.replace("%", "%%") if dialect == "mysql" else tail)
    return "".join(out), tuple(order)


class _Prepared:
    """A named query with its dialect text rewritten once for the driver."""

    __slots__ = ("order", "query", "sql")

    def __init__(self, query: NamedQuery, dialect: str) -> None:
        self.query = query
        self.sql, self.order = driver_sql(query.texts[dialect], dialect)

    def args(self, params: dict[str, Any]) -> tuple[Any, ...]:
        if params.keys() != set(self.query.params):
            missing = set(self.query.params) - set(params)
            extra = set(params) - set(self.query.params)
            raise TypeError(
                f"query {self.query.name} ({self.query.source}) takes "
                f"({', '.join(self.query.params)}); missing {sorted(missing)}, "
                f"unexpected {sorted(extra)}"
            )
        return tuple(params[name] for name in self.order)


class _Result:
    """What one statement gave back, read off the driver cursor."""

    __slots__ = ("lastrowid", "rowcount", "rows")

    def __init__(self, rows: list[Row], rowcount: int, lastrowid: int | None) -> None:
        self.rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid


def _sqlite_datetime(value: datetime) -> str:
    # The text form SQLAlchemy's SQLite dialect used, so stored values stay comparable as
    # text: naive UTC with microseconds.
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ", timespec="microseconds")


def _sqlite_options() -> dict[str, Any]:
    """sqlite3's datetime conversions (process-wide, so registering again changes nothing)
    and the connection option that turns them on."""
    import sqlite3

    # SQLite keeps DATETIME columns as text; with PARSE_DECLTYPES the driver turns them back
    # into datetimes, so rows look the same on both dialects.
    sqlite3.register_converter("DATETIME", _parse_sqlite_datetime)
    # Explicit, because sqlite3's implicit datetime adapter is deprecated (Python 3.12).
    sqlite3.register_adapter(datetime, _sqlite_datetime)
    return {"detect_types": sqlite3.PARSE_DECLTYPES}


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
        self._errors = _driver_errors(dialect)
        if dialect == "mysql":
            # Recycle pooled connections before MariaDB's wait_timeout drops them
            # (aio-libs/aiomysql#132), and keep the pool small: one process, few workers.
            options: dict[str, Any] = {
                "pool_recycle": 1800,
                "min_size": 1,
                "max_size": 10,
                "charset": "utf8mb4",
            }
        else:
            options = _sqlite_options()
        self._db = _Databases(url, **options)

    @property
    def query_names(self) -> frozenset[str]:
        """Every loaded query name."""
        return frozenset(self._queries)

    async def connect(self) -> None:
        """Open the pool; SQLite also switches the file to WAL for concurrent readers."""
        async with _driver_errors_translated(self._errors):
            await self._db.connect()
            if self.dialect == "sqlite":
                await self._db.execute("PRAGMA journal_mode=WAL")

    async def ping(self) -> None:
        """One round trip (`SELECT 1`); raises DatabaseUnavailable when unreachable."""
        async with _driver_errors_translated(self._errors):
            await self._db.fetch_one("SELECT 1")

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

    async def _run(self, sql: str, args: tuple[Any, ...], fetch: bool) -> _Result:
        # Run on this task's driver connection: inside a transaction that is the
        # transaction's connection, already held by this task, so entering it again would
        # only count (under a lock); else one taken from the pool for this statement.
        # Driver errors are translated by a plain try, not a context manager: this is every
        # statement's path, and a generator-based one costs more than the rest of it.
        # The task's connection straight from `databases`' map (its `connection()` looks
        # the task up three times); a task without one gets a new one from `connection()`.
        connection = self._db._connection_map.get(asyncio.current_task())  # type: ignore[arg-type]
        if connection is None:
            connection = self._db.connection()
        try:
            if connection._connection_counter:
                return await self._on(connection, sql, args, fetch)
            async with connection:
                return await self._on(connection, sql, args, fetch)
        except self._errors.every as exc:
            raise _translated(exc, self._errors) from exc

    async def _on(self, connection: Any, sql: str, args: tuple[Any, ...], fetch: bool) -> _Result:
        raw = connection.raw_connection
        # `databases`' per-connection lock keeps two coroutines of one task from
        # interleaving on it.
        async with connection._query_lock:
            if self.dialect == "sqlite":
                cursor = await raw.execute(sql, args)
                try:
                    return _read(
                        cursor.description,
                        await cursor.fetchall() if fetch else [],
                        cursor.rowcount,
                        cursor.lastrowid,
                    )
                finally:
                    await cursor.close()
            async with raw.cursor() as cursor:
                await cursor.execute(sql, args)
                rows = await cursor.fetchall() if fetch else []
                return _read(cursor.description, rows, cursor.rowcount, cursor.lastrowid)

    async def _named(self, name: str, expected: Operation, params: dict[str, Any]) -> _Result:
        prepared = self._prepared(name, expected)
        fetch = expected is not Operation.EXECUTE
        return await self._run(prepared.sql, prepared.args(params), fetch)

    async def one(self, name: str, /, **params: Any) -> Row | None:
        """Run a `^` query: one row or None."""
        rows = (await self._named(name, Operation.ROW, params)).rows
        return rows[0] if rows else None

    async def all(self, name: str, /, **params: Any) -> list[Row]:
        """Run a row-list query."""
        return (await self._named(name, Operation.ROWS, params)).rows

    async def value(self, name: str, /, **params: Any) -> Any:
        """Run a `$` query: the first column of the first row, or None."""
        rows = (await self._named(name, Operation.VALUE, params)).rows
        return next(iter(rows[0].values())) if rows else None

    async def execute(self, name: str, /, **params: Any) -> int:
        """Run a `!` query; returns the last inserted row id where there is one."""
        return int((await self._named(name, Operation.EXECUTE, params)).lastrowid or 0)

    async def rowcount(self, name: str, /, **params: Any) -> int:
        """Run a `!` query and return how many rows it changed (for compare-and-set)."""
        return int((await self._named(name, Operation.EXECUTE, params)).rowcount)

    async def all_dynamic(self, sql: str, **params: Any) -> list[Row]:
        """Run a row-list query built with pypika (bound parameters only, never values)."""
        driver_text, order = driver_sql(sql, self.dialect)
        return (await self._run(driver_text, tuple(params[n] for n in order), True)).rows

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """A transaction on this task's connection (no fan-out inside it: STYLE habit 5)."""
        async with _driver_errors_translated(self._errors), self._db.transaction():
            yield

    async def execute_raw(self, statement: str, **params: Any) -> None:
        """Run one trusted DDL or bookkeeping statement (migrations only)."""
        async with _driver_errors_translated(self._errors):
            await self._db.execute(text(statement).bindparams(**params) if params else statement)

    async def fetch_raw(self, statement: str, **params: Any) -> list[Row]:
        """Run one trusted introspection query (migrations and schema checks only)."""
        clause = text(statement).bindparams(**params) if params else text(statement)
        async with _driver_errors_translated(self._errors):
            return [_row(r._mapping) for r in await self._db.fetch_all(clause)]

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        """A dedicated connection for this task (used for MySQL's migration lock)."""
        async with _driver_errors_translated(self._errors), self._db.connection() as connection:
            yield connection
