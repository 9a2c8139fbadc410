"""Versioned schema migrations: sql/migrations/NNNN_name.sql, forward only.

Applied versions are recorded with a checksum; a released migration whose file changed
afterwards stops the server (migrations are never edited once released). On MySQL a named
lock keeps two instances that start together from migrating at once.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import re
from pathlib import Path

import msgspec

from server.db import SQL_DIR, Database, DatabaseError
from server.db.sqlfile import SqlFileError, ddl_statements

log = logging.getLogger(__name__)

MIGRATIONS_DIR = SQL_DIR / "migrations"
_FILE_RE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
_LOCK_NAME = "osu_server_migrations"

_CREATE_HISTORY = {
    "mysql": (
        "CREATE TABLE schema_migrations ("
        " version INT NOT NULL PRIMARY KEY,"
        " name VARCHAR(255) NOT NULL,"
        " checksum CHAR(64) NOT NULL,"
        " applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP"
        ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
    ),
    "sqlite": (
        "CREATE TABLE schema_migrations ("
        " version INTEGER NOT NULL PRIMARY KEY,"
        " name TEXT NOT NULL,"
        " checksum TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP"
        ")"
    ),
}


class MigrationError(Exception):
    """The migration history and the files disagree, or a migration failed."""


class Migration(msgspec.Struct, frozen=True):
    """One migration file."""

    version: int
    name: str
    path: Path
    checksum: str


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file in version order; gaps and malformed names are errors."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_RE.match(path.name)
        if not match:
            raise SqlFileError(f"{path}:1: migration file names are NNNN_lowercase_name.sql")
        found.append(
            Migration(
                version=int(match.group("version")),
                name=match.group("name"),
                path=path,
                checksum=hashlib.sha256(path.read_bytes()).hexdigest(),
            )
        )
    # Versions must be unique and increasing, not consecutive: branches developed side by side
    # reserve their numbers ahead (0005 may land before 0004), and `migrate` applies whatever
    # is not applied yet, so a late lower number still runs once.
    for previous, migration in itertools.pairwise(found):
        if migration.version == previous.version:
            raise SqlFileError(
                f"{migration.path}:1: migration {migration.version:04d} is also "
                f"{previous.path.name} (versions are unique)"
            )
    if found and found[0].version < 1:
        raise SqlFileError(f"{found[0].path}:1: migration versions start at 0001")
    return found


_HISTORY_EXISTS = {
    "mysql": (
        "SELECT COUNT(*) AS n FROM information_schema.tables "
        "WHERE table_schema = DATABASE() AND table_name = 'schema_migrations'"
    ),
    "sqlite": (
        "SELECT COUNT(*) AS n FROM sqlite_master "
        "WHERE type = 'table' AND name = 'schema_migrations'"
    ),
}


async def _ensure_history(db: Database) -> None:
    # Checked first rather than CREATE ... IF NOT EXISTS, which makes MySQL raise a warning.
    rows = await db.fetch_raw(_HISTORY_EXISTS[db.dialect])
    if not rows or int(rows[0]["n"]) == 0:
        await db.execute_raw(_CREATE_HISTORY[db.dialect])


async def _applied(db: Database) -> dict[int, str]:
    rows = await db.fetch_raw("SELECT version, checksum FROM schema_migrations")
    return {int(r["version"]): str(r["checksum"]) for r in rows}


async def migrate(db: Database, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply every pending migration; returns the ones applied now."""
    migrations = discover(directory)
    # Parse everything before touching the database, so a bad file changes nothing.
    statements = {m.version: ddl_statements(m.path, db.dialect) for m in migrations}
    async with db.connection():
        if db.dialect == "mysql":
            got = await db.fetch_raw("SELECT GET_LOCK(:name, 60) AS got", name=_LOCK_NAME)
            if not got or got[0]["got"] != 1:
                raise MigrationError("another instance is migrating; timed out waiting for it")
        try:
            await _ensure_history(db)
            applied = await _applied(db)
            for migration in migrations:
                known = applied.get(migration.version)
                if known is not None and known != migration.checksum:
                    raise MigrationError(
                        f"{migration.path} was changed after it was applied; migrations are "
                        "forward only: add a new one instead"
                    )
            pending = [m for m in migrations if m.version not in applied]
            for migration in pending:
                log.info("applying migration %04d_%s", migration.version, migration.name)
                if db.dialect == "sqlite":
                    # SQLite DDL is transactional: a failed migration leaves nothing behind.
                    async with db.transaction():
                        await _apply(db, migration, statements[migration.version])
                else:
                    await _apply(db, migration, statements[migration.version])
            return pending
        finally:
            if db.dialect == "mysql":
                await db.fetch_raw("SELECT RELEASE_LOCK(:name) AS released", name=_LOCK_NAME)


async def _apply(db: Database, migration: Migration, statements: list[str]) -> None:
    for statement in statements:
        try:
            await db.execute_raw(statement)
        except DatabaseError as exc:
            raise MigrationError(
                f"{migration.path}: statement failed: {exc}\n{statement[:500]}"
            ) from exc
    await db.execute_raw(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES (:v, :n, :c)",
        v=migration.version,
        n=migration.name,
        c=migration.checksum,
    )


async def pending_count(db: Database, directory: Path = MIGRATIONS_DIR) -> int:
    """How many migrations are not applied yet."""
    await _ensure_history(db)
    applied = await _applied(db)
    return sum(1 for m in discover(directory) if m.version not in applied)
