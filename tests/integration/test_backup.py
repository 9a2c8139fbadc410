"""`backup`: the embedded database copied with SQLite's online backup API while the server
holds it open (rows still in the write-ahead log included), and the file store."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.beatmap_data import store_set
from tests.conftest import TEST_DATABASE_URL, TEST_SECRET_KEY
from tests.helpers import signup

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
async def test_backup_while_serving(
    client: httpx.AsyncClient, services: Any, data_dir: Path, tmp_path: Path
) -> None:
    account = await signup(client)  # committed into the WAL of the open database
    await store_set(services)
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
        "DATA_DIR": str(data_dir),
        "SECRET_KEY": TEST_SECRET_KEY,
        "PYTHONPATH": str(ROOT),
    }
    if TEST_DATABASE_URL:
        env["DATABASE_URL"] = TEST_DATABASE_URL
    result = subprocess.run(
        [sys.executable, "-m", "server", "backup", str(tmp_path / "backups")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (target,) = (tmp_path / "backups").iterdir()
    assert target.name.startswith("osu-backup-")
    assert any((target / "beatmaps").rglob("*")), result.stdout
    assert "beatmap file(s)" in result.stdout
    if TEST_DATABASE_URL:
        assert not (target / "osu.db").exists()
        assert "mariadb-dump --single-transaction" in result.stdout
        return
    assert not (target / "osu.db-wal").exists()  # one self-contained file
    with sqlite3.connect(target / "osu.db") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names = {row[0] for row in copy.execute("SELECT username FROM users")}
    copy.close()
    assert account.username in names


def test_backup_refuses_an_unwritable_destination(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = subprocess.run(
        [sys.executable, "-m", "server", "backup", str(blocker / "sub")],
        env={
            **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
            "DATA_DIR": str(tmp_path / "data"),
            "PYTHONPATH": str(ROOT),
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and "cannot create" in result.stderr
