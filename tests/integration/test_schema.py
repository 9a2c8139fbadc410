"""schema.sql is exactly what applying every migration to an empty database gives."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from server.db import SQL_DIR, Database
from server.db.migrations import MigrationError, discover, migrate
from server.db.sqlfile import ddl_statements
from tests.conftest import TEST_DATABASE_URL
from tests.schema_snapshot import snapshot

SCHEMA = SQL_DIR.parent / "schema.sql"


@asynccontextmanager
async def empty_database(tmp_path: Path, dialect: str) -> AsyncIterator[Database]:
    """A fresh empty database of the dialect (a new SQLite file, or a new MariaDB schema)."""
    if dialect == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / (secrets.token_hex(4) + '.db')}", "sqlite")
        await db.connect()
        try:
            yield db
        finally:
            await db.disconnect()
        return
    if not TEST_DATABASE_URL:
        pytest.skip("MariaDB not configured (set TEST_DATABASE_URL to run the MariaDB variant)")
    name = f"osu_schema_{secrets.token_hex(4)}"
    admin = Database(TEST_DATABASE_URL.replace("mysql://", "mysql+aiomysql://"), "mysql")
    await admin.connect()
    await admin.execute_raw(f"CREATE DATABASE `{name}`")
    base = TEST_DATABASE_URL.replace("mysql://", "mysql+aiomysql://").rsplit("/", 1)[0]
    db = Database(f"{base}/{name}", "mysql")
    await db.connect()
    try:
        yield db
    finally:
        await db.disconnect()
        await admin.execute_raw(f"DROP DATABASE `{name}`")
        await admin.disconnect()


@pytest.mark.parametrize("dialect", ["sqlite", "mysql"])
async def test_migrations_produce_schema_sql(tmp_path: Path, dialect: str) -> None:
    async with (
        empty_database(tmp_path, dialect) as migrated,
        empty_database(tmp_path, dialect) as bootstrapped,
    ):
        applied = await migrate(migrated)
        assert [m.version for m in applied] == [m.version for m in discover()]
        for statement in ddl_statements(SCHEMA, dialect):
            await bootstrapped.execute_raw(statement)
        ours, truth = await snapshot(migrated), await snapshot(bootstrapped)
        assert sorted(ours) == sorted(truth)
        for table in truth:
            assert ours[table] == truth[table], table
        assert "users" in truth and "oauth_access_tokens" in truth


@pytest.mark.parametrize("dialect", ["sqlite", "mysql"])
async def test_migrate_is_idempotent_and_refuses_edited_history(
    tmp_path: Path, dialect: str
) -> None:
    async with empty_database(tmp_path, dialect) as db:
        await migrate(db)
        assert await migrate(db) == []
        clients = await db.fetch_raw("SELECT id FROM oauth_clients")
        assert [row["id"] for row in clients] == [5]

        edited = tmp_path / f"migrations-{dialect}"
        edited.mkdir()
        for migration in discover():
            (edited / migration.path.name).write_text(migration.path.read_text() + "\n-- edited\n")
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(db, edited)


async def test_first_user_id_is_two(tmp_path: Path) -> None:
    """lazer treats id 1 as 'not logged in' (lazer-protocol.md §4.1)."""
    async with empty_database(tmp_path, "sqlite") as db:
        await migrate(db)
        await db.execute_raw(
            "INSERT INTO users (username, username_safe, email, password_hash, created_at, last_visit_at)"
            " VALUES ('a', 'a', 'a@x.y', 'h', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        )
        assert (await db.fetch_raw("SELECT id FROM users"))[0]["id"] == 2
