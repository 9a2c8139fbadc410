"""The named-query loader refuses malformed files and names the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.db import SQL_DIR
from server.db.sqlfile import Operation, SqlFileError, ddl_statements, load_query_dir, parse_queries


def write(tmp_path: Path, text: str, name: str = "q.sql") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_parses_names_params_operations_and_docstrings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
-- name: fetch_one(a)^
-- Fetch one.
SELECT x FROM t WHERE a = :a;

-- name: list_all()
-- List.
SELECT x FROM t;

-- name: touch(a, b)!
-- Touch.
UPDATE t SET a = :a WHERE b = :b;
""",
    )
    queries = {q.name: q for q in parse_queries(path)}
    assert queries["fetch_one"].operation is Operation.ROW
    assert queries["list_all"].operation is Operation.ROWS
    assert queries["touch"].params == ("a", "b")
    assert queries["fetch_one"].doc == "Fetch one."
    assert queries["fetch_one"].texts["mysql"] == "SELECT x FROM t WHERE a = :a"
    assert queries["touch"].source == f"{path}:10"


def test_unknown_parameter_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "-- name: q(a)^\n-- Doc.\nSELECT 1\nFROM t WHERE a = :a AND b = :b;\n")
    with pytest.raises(SqlFileError, match=rf"^{path}:4: q: unknown parameter :b"):
        parse_queries(path)


def test_unused_declared_parameter(tmp_path: Path) -> None:
    path = write(tmp_path, "-- name: q(a, b)^\n-- Doc.\nSELECT :a;\n")
    with pytest.raises(SqlFileError, match=r":1: q: declared parameter b is not used"):
        parse_queries(path)


def test_missing_dialect_variant(tmp_path: Path) -> None:
    path = write(
        tmp_path, "-- name: up(a)!\n-- Doc.\n-- dialect: mysql\nINSERT IGNORE INTO t VALUES (:a);\n"
    )
    with pytest.raises(SqlFileError, match=r"q.sql:1: up: missing dialect variant sqlite"):
        parse_queries(path)


def test_dialect_variants_are_kept_apart(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "-- name: up(a)!\n-- Doc.\n-- dialect: mysql\nINSERT IGNORE INTO t VALUES (:a);\n"
        "-- dialect: sqlite\nINSERT OR IGNORE INTO t VALUES (:a);\n",
    )
    (query,) = parse_queries(path)
    assert query.texts == {
        "mysql": "INSERT IGNORE INTO t VALUES (:a)",
        "sqlite": "INSERT OR IGNORE INTO t VALUES (:a)",
    }


def test_duplicate_names_across_files(tmp_path: Path) -> None:
    write(tmp_path, "-- name: q()\n-- Doc.\nSELECT 1;\n", "a.sql")
    second = write(tmp_path, "\n-- name: q()\n-- Doc.\nSELECT 2;\n", "b.sql")
    with pytest.raises(
        SqlFileError, match=rf"{second}:2: duplicate query name 'q' \(first defined at .*a.sql:1\)"
    ):
        load_query_dir(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-- name: q()\nSELECT 1;\n", "must be a `-- docstring` comment"),
        ("-- name: Bad-Name()\n-- Doc.\nSELECT 1;\n", "malformed name line"),
        ("SELECT 1;\n-- name: q()\n-- Doc.\nSELECT 1;\n", "SQL before the first"),
        ("-- name: q()\n-- Doc.\nSELECT 1; SELECT 2;\n", "one statement per named query"),
        ("-- name: q()\n-- Doc.\n-- dialect: oracle\nSELECT 1;\n", "unknown dialect 'oracle'"),
        ("-- name: q(a, a)\n-- Doc.\nSELECT :a;\n", "declared twice"),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SqlFileError, match=message):
        parse_queries(write(tmp_path, text))


def test_colons_in_string_literals_are_not_parameters(tmp_path: Path) -> None:
    (query,) = parse_queries(
        write(tmp_path, "-- name: q(a)\n-- Doc.\nSELECT ':x' FROM t WHERE a = :a;\n")
    )
    assert query.params == ("a",)


def test_project_queries_load_and_every_one_is_used() -> None:
    """Every named query in sql/queries is called somewhere in server/, and vice versa."""
    queries = load_query_dir(SQL_DIR / "queries")
    source = "\n".join(p.read_text() for p in (SQL_DIR.parent / "server").rglob("*.py"))
    unused = [name for name in queries if f'"{name}"' not in source]
    assert unused == []


def test_ddl_sections(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "CREATE TABLE a (x INT);\n-- dialect: mysql\nALTER DATABASE x;\n-- dialect: sqlite\n"
        "PRAGMA y;\n-- dialect: all\nCREATE TABLE b (\n  y INT\n);\n",
    )
    assert ddl_statements(path, "mysql") == [
        "CREATE TABLE a (x INT)",
        "ALTER DATABASE x",
        "CREATE TABLE b (\n  y INT\n)",
    ]
    assert ddl_statements(path, "sqlite") == [
        "CREATE TABLE a (x INT)",
        "PRAGMA y",
        "CREATE TABLE b (\n  y INT\n)",
    ]
    with pytest.raises(SqlFileError, match="no `;`"):
        ddl_statements(write(tmp_path, "CREATE TABLE c (x INT)\n", "c.sql"), "mysql")


def test_driver_sql_rewrites_parameters_once_per_dialect() -> None:
    from server.db import driver_sql

    sql = "SELECT ':kept', 'it''s :kept' FROM t WHERE a = :a AND b LIKE '%x%' AND c = :b AND d = :a"
    mysql, order = driver_sql(sql, "mysql")
    assert order == ("a", "b", "a")
    assert mysql == (
        "SELECT ':kept', 'it''s :kept' FROM t WHERE a = %s AND b LIKE '%%x%%' AND c = %s AND d = %s"
    )
    sqlite, sqlite_order = driver_sql(sql, "sqlite")
    assert sqlite_order == order
    assert (
        sqlite
        == "SELECT ':kept', 'it''s :kept' FROM t WHERE a = ? AND b LIKE '%x%' AND c = ? AND d = ?"
    )
    assert driver_sql("SELECT 100 % 7", "mysql") == ("SELECT 100 %% 7", ())
