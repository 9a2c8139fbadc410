"""Migration file discovery: versions are unique and increasing; a gap is allowed (branches
reserve numbers ahead), a repeated version is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.db.migrations import discover
from server.db.sqlfile import SqlFileError


def _write(directory: Path, *names: str) -> None:
    for name in names:
        (directory / name).write_text("-- dialect: all\nCREATE TABLE t (id INT);\n")


def test_gaps_are_allowed(tmp_path: Path) -> None:
    _write(tmp_path, "0001_first.sql", "0002_second.sql", "0005_later.sql")
    assert [m.version for m in discover(tmp_path)] == [1, 2, 5]


def test_repeated_versions_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "0001_first.sql", "0002_mine.sql", "0002_theirs.sql")
    with pytest.raises(SqlFileError, match=r"0002_theirs\.sql:1: migration 0002 is also"):
        discover(tmp_path)


def test_versions_start_at_one(tmp_path: Path) -> None:
    _write(tmp_path, "0000_zero.sql")
    with pytest.raises(SqlFileError, match="start at 0001"):
        discover(tmp_path)
