"""What a serving process loads (issue 17, idle memory): never the test tools, the S3 client
only with S3_BUCKET (aiobotocore with botocore and aiohttp was about 17 MiB of every server's
idle RSS), and of the rest only what start-up needs: each lazy import is held here by a
module that must not be loaded once the server has started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Builds the app and starts it as `serve` does, then lists the top-level packages loaded. The
# embedded default runs the whole lifespan (start-up and shut-down) on a SQLite file of its
# own; with DATABASE_URL and REDIS_URL, nothing answers there, so the probe builds what the
# lifespan builds (database, Redis client, services) without connecting. `cryptography` is
# made unimportable, as in a production install (only the test extras install it, and PyJWT
# and pymysql import it, and it bcrypt, whenever it is there).
_PROBE = """
import asyncio, importlib.abc, json, sys
class NoCryptography(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] == "cryptography":
            raise ModuleNotFoundError("not installed in production", name=name)
sys.meta_path.insert(0, NoCryptography())
from server.__main__ import _parser
from server.settings import load_settings
from server.app import build_services, create_app, open_object_store
from server.db import Database
from server.redis_store import open_redis
_parser().parse_args(["serve"])  # `python -m server serve` builds every command's parser
settings = load_settings()
app = create_app(settings)
open_object_store(settings)
if settings.embedded:
    async def start_and_stop():
        async with app.router.lifespan_context(app):
            pass
    asyncio.run(start_and_stop())
else:
    build_services(settings, Database(settings.database_url, settings.dialect), open_redis(settings))
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""

_NEVER = {"hypothesis", "pytest", "_pytest", "moto", "websockets_test"}
_ONLY_WITH_S3 = {"aiobotocore", "botocore", "aiohttp", "boto3"}
# Loaded on first use, by the feature that needs it: the upstream fetcher's HTTP client
# (upstream is off by default; about 1.5 MiB), bcrypt (the first sign-in or registration),
# pycountry (the first country shown), pyotp (TOTP sessions) and smtplib (mail, with SMTP_HOST).
_ON_FIRST_USE = {"httpx", "httpcore", "bcrypt", "pycountry", "pyotp", "smtplib"}
# One backend's drivers, never loaded by a server on the other: pymysql (which imports
# `cryptography` whenever it is installed, 8 MiB) on the embedded default; sqlite3 (1 MiB) and the in-process Redis stand-in (fakeredis with
# Lua, 2.5 MiB) on MariaDB + Redis.
_NOT_EMBEDDED = {"pymysql", "aiomysql"}
_NOT_EXTERNAL = {"sqlite3", "_sqlite3", "aiosqlite", "fakeredis", "lupa"}


def _loaded(tmp_path: Path, **env: str) -> set[str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV")}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env={**keep, "DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_an_embedded_server_loads_only_what_start_up_needs(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path)
    assert "server" in loaded and "starlette" in loaded  # the probe did build the app
    assert {"aiosqlite", "fakeredis"} <= loaded  # and started it on the embedded backends
    unwanted = _NEVER | _ONLY_WITH_S3 | _ON_FIRST_USE | _NOT_EMBEDDED
    assert not loaded & unwanted, sorted(loaded & unwanted)


def test_a_server_on_mariadb_and_redis_loads_neither_sqlite_nor_the_stand_in(
    tmp_path: Path,
) -> None:
    loaded = _loaded(
        tmp_path,
        # Nothing listens there: the probe does not connect.
        DATABASE_URL="mysql://osu@127.0.0.1:9/osu",
        REDIS_URL="redis://127.0.0.1:9/0",
        SECRET_KEY="footprint-" + "x" * 40,
    )
    assert {"server", "databases", "pymysql", "redis"} <= loaded  # it did build the MySQL pool
    unwanted = _NEVER | _ONLY_WITH_S3 | _ON_FIRST_USE | _NOT_EXTERNAL
    assert not loaded & unwanted, sorted(loaded & unwanted)


def test_a_server_with_a_bucket_loads_the_s3_client(tmp_path: Path) -> None:
    loaded = _loaded(tmp_path, S3_BUCKET="replays", S3_ENDPOINT_URL="http://127.0.0.1:9")
    assert {"aiobotocore", "botocore"} <= loaded
    assert not loaded & _NEVER
