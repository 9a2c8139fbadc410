"""Introspect a database's schema into a comparable structure (tables, columns, indexes)."""

from __future__ import annotations

import re
from typing import Any

from server.db import Database


async def snapshot(db: Database) -> dict[str, Any]:
    """Tables with their columns and indexes, normalised for comparison."""
    if db.dialect == "mysql":
        tables = {}
        for row in await db.fetch_raw("SHOW TABLES"):
            name = next(iter(row.values()))
            if name == "schema_migrations":
                continue
            create = (await db.fetch_raw(f"SHOW CREATE TABLE `{name}`"))[0]
            text = list(create.values())[1]
            tables[name] = re.sub(r" AUTO_INCREMENT=\d+", "", text)
        return tables
    result: dict[str, Any] = {}
    rows = await db.fetch_raw(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) != 'sqlite_' "
        "AND name != 'schema_migrations' ORDER BY name"
    )
    for row in rows:
        name = row["name"]
        columns = await db.fetch_raw(f"PRAGMA table_info('{name}')")
        indexes = await db.fetch_raw(f"PRAGMA index_list('{name}')")
        index_columns = {}
        for index in indexes:
            cols = await db.fetch_raw(f"PRAGMA index_info('{index['name']}')")
            index_columns[index["name"]] = (bool(index["unique"]), [c["name"] for c in cols])
        autoincrement = await db.fetch_raw(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :n", n=name
        )
        result[name] = {
            "columns": [
                (c["name"], c["type"], c["notnull"], c["dflt_value"], c["pk"]) for c in columns
            ],
            "indexes": index_columns,
            "autoincrement": "AUTOINCREMENT" in autoincrement[0]["sql"].upper(),
        }
    return result
