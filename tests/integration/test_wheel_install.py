"""A deploy as an operator does it: build a wheel, install it into a fresh virtualenv outside
the checkout, and run migrate, import, serve, sign-in and a score submission against it.

The installed server must find its SQL and the Rust core's headers through the package; no
file of the checkout may be reachable (the commands run from an empty directory)."""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from server.core.pp import Beatmap
from tests.beatmap_data import fresh_id, make_osu
from tests.helpers import Account, sign_in
from tests.score_play import StoredMap, play_body, request_token, submit

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ directory of a fresh venv with the project's wheel installed."""
    base = tmp_path_factory.mktemp("wheel-install")
    wheels = base / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(wheels)],
        check=True,
        cwd=base,
    )
    (wheel,) = wheels.glob("osu_lean_server-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([venv / "bin" / "pip", "install", "-q", str(wheel)], check=True, cwd=base)
    return venv / "bin"


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    return {**keep, "DATA_DIR": str(data_dir), "BCRYPT_ROUNDS": "4", **extra}


def _run(
    bin_dir: Path, cwd: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / "osu-server"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """An empty directory to run the installed commands from (no sql/ next to it)."""
    work = tmp_path / "deploy"
    work.mkdir()
    yield work


def test_installed_package_carries_its_resources(installed: Path) -> None:
    """The import path resolves to the venv, and the SQL lives inside the package there."""
    probe = subprocess.run(
        [
            str(installed / "python"),
            "-c",
            "import server, server.db as d; print(server.__file__); print(d.SQL_DIR)",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    )
    package_file, sql_dir = probe.stdout.split()
    assert not package_file.startswith(str(ROOT))
    assert sql_dir == str(Path(package_file).parent / "sql")
    assert sorted(p.name for p in (Path(sql_dir) / "migrations").glob("*.sql")) == sorted(
        p.name for p in (ROOT / "sql" / "migrations").glob("*.sql")
    )


async def test_wheel_deploys_and_serves(installed: Path, workdir: Path) -> None:
    data_dir = workdir / "data"
    env = _env(data_dir)

    migrated = _run(installed, workdir, env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "0001_initial" in migrated.stdout

    set_id, beatmap_id = fresh_id(), fresh_id()
    osu = make_osu(beatmap_id=beatmap_id, beatmapset_id=set_id, n_objects=30)
    (workdir / "map.osu").write_bytes(osu)
    imported = _run(installed, workdir, env, "beatmaps", "import", "map.osu", "--quiet")
    assert imported.returncode == 0, imported.stderr
    added = _run(
        installed,
        workdir,
        env,
        "user",
        "add",
        "wheelplayer",
        "--email",
        "w@example.com",
        "--password",
        "wheel-password-1",
    )
    assert added.returncode == 0, added.stderr
    user_id = int(added.stdout.rsplit(" ", 1)[1])

    port = _free_port()
    log_path = workdir / "server.log"
    with log_path.open("w") as log_file:
        server = subprocess.Popen(
            [str(installed / "osu-server"), "serve", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if (await client.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the installed server did not start"
                time.sleep(0.1)
            player = await sign_in(
                client, Account("wheelplayer", "w@example.com", "wheel-password-1", user_id)
            )
            me = await client.get("/api/v2/me/", headers=player.headers)
            assert me.status_code == 200 and me.json()["id"] == user_id

            with Beatmap.parse(osu) as parsed:
                attrs = parsed.difficulty(0)
            beatmap = StoredMap(beatmap_id, set_id, hashlib.md5(osu).hexdigest(), 0, attrs)
            token_response = await request_token(client, player, beatmap)
            assert token_response.status_code == 200, token_response.text
            token = int(token_response.json()["id"])
            # The play takes the map's length: age the token (and the ranking before it).
            past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
            with sqlite3.connect(data_dir / "osu.db") as db:
                db.execute("UPDATE score_tokens SET created_at = ? WHERE id = ?", (past, token))
                db.execute(
                    "UPDATE beatmapsets SET ranked_date = ? WHERE id = ?",
                    ((datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S"), set_id),
                )
            response = await submit(
                client, player, beatmap, token, play_body(beatmap), played=False
            )
            assert response.status_code == 200, response.text
            score = response.json()
            assert score["user_id"] == user_id and score["beatmap_id"] == beatmap_id
            assert score["passed"] is True and score["pp"] is not None
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_missing_packaged_sql_stops_migrate_and_serve(installed: Path, workdir: Path) -> None:
    """A broken install says what is missing instead of "none (up to date)" and 500s."""
    probe = subprocess.run(
        [str(installed / "python"), "-c", "import server.db as d; print(d.SQL_DIR)"],
        capture_output=True,
        text=True,
        check=True,
        cwd="/",
    )
    migrations = Path(probe.stdout.strip()) / "migrations"
    hidden = migrations.with_name("migrations.hidden")
    migrations.rename(hidden)
    try:
        env = _env(workdir / "data")
        for command in (["migrate"], ["serve", "--port", str(_free_port())]):
            result = _run(installed, workdir, env, *command)
            assert result.returncode == 2, (command, result.stdout, result.stderr)
            assert "installation error" in result.stderr
            assert str(migrations) in result.stderr
    finally:
        hidden.rename(migrations)
