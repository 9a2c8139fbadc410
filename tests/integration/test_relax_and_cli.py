"""Relax/autopilot statistics behind their setting, and the command line."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
from starlette.applications import Starlette

from tests.conftest import app_client, make_settings
from tests.helpers import sign_in, signup

ROOT = Path(__file__).resolve().parents[2]


async def test_relax_rulesets_only_when_enabled(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path
) -> None:
    account = await signup(client)
    session = await sign_in(client, account)
    assert (
        await client.get(f"/api/v2/users/{account.id}/osurx", headers=session.headers)
    ).status_code == 404
    async with app_client(
        make_settings(data_dir, ENABLE_RELAX_RULESETS="true"), "192.0.2.40"
    ) as relax:
        for mode in ("osurx", "osuap", "taikorx", "fruitsrx"):
            response = await relax.get(
                f"/api/v2/users/{account.id}/{mode}", headers=session.headers
            )
            assert response.status_code == 200, mode
            assert response.json()["statistics"]["play_count"] == 0
        assert (await relax.get("/api/v2/me/osurx", headers=session.headers)).status_code == 200
        assert (
            await relax.get(f"/api/v2/users/{account.id}/maniarx", headers=session.headers)
        ).status_code == 404


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}
    }
    env.update({"DATA_DIR": str(data_dir), "BCRYPT_ROUNDS": "4"})
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=data_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_on_the_embedded_default(tmp_path: Path) -> None:
    """`python -m server`: help, migrate, user add (with registration's rules), oauth-client add."""
    help_text = _cli("--help", data_dir=tmp_path)
    assert help_text.returncode == 0
    for command in ("serve", "migrate", "user", "oauth-client"):
        assert command in help_text.stdout
    assert "$PORT" in _cli("serve", "--help", data_dir=tmp_path).stdout

    migrated = _cli("migrate", data_dir=tmp_path)
    assert migrated.returncode == 0 and "0001_initial" in migrated.stdout
    assert "up to date" in _cli("migrate", data_dir=tmp_path).stdout
    assert (tmp_path / "osu.db").is_file() and (tmp_path / "secret_key").is_file()

    name = f"cli{secrets.token_hex(3)}"
    created = _cli(
        "user",
        "add",
        name,
        "--email",
        f"{name}@example.com",
        "--password",
        "a long passphrase",
        "--country",
        "jp",
        data_dir=tmp_path,
    )
    assert created.returncode == 0 and "with id 2" in created.stdout
    refused = _cli(
        "user",
        "add",
        name.upper(),
        "--email",
        "x@example.com",
        "--password",
        "short",
        data_dir=tmp_path,
    )
    assert refused.returncode == 1
    assert "Username is already in use!" in refused.stderr and "too short" in refused.stderr

    client = _cli("oauth-client", "add", "my bot", data_dir=tmp_path)
    assert client.returncode == 0
    lines = dict(line.split(": ", 1) for line in client.stdout.strip().splitlines())
    assert int(lines["client_id"]) >= 6 and len(lines["client_secret"]) >= 30


def test_cli_refuses_bad_configuration(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("DATABASE_URL=mysql://root@127.0.0.1/x\n")
    result = _cli("migrate", data_dir=tmp_path)
    assert result.returncode == 2 and "SECRET_KEY" in result.stderr


def test_cli_refuses_to_start_on_a_malformed_query_file(tmp_path: Path) -> None:
    """The server refuses to start and names the file and line."""
    import shutil

    project = tmp_path / "project"
    shutil.copytree(
        ROOT / "server", project / "server", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "sql", project / "sql")
    broken = project / "sql" / "queries" / "broken.sql"
    broken.write_text("-- name: broken(a)^\n-- Doc.\nSELECT :b;\n")
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"}
    }
    env.update({"DATA_DIR": str(tmp_path), "PYTHONPATH": str(project)})
    result = subprocess.run(
        [sys.executable, "-m", "server", "migrate"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert f"{broken}:3: broken: unknown parameter :b" in result.stderr
    assert not (tmp_path / "osu.db").exists()
