"""Start `python -m server serve` as a child process on a loopback port, for HTTP benches.

Only the standard library: benches run from any checkout with the server installed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

CHECKOUT = Path(__file__).resolve().parents[1]

# The stock lazer client's public OAuth credentials (server/settings.py).
LAZER_CLIENT_ID = "5"
LAZER_SECRET = "FGc9GAtyHzeQDshWP5Ah7dega8hJACAJpQtw6OXk"

# Variables the server reads; cleared so a developer's shell or .env cannot leak into a run.
_SERVER_VARIABLES = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DATA_DIR", "PORT", "HOST")


def wrk_refusal(
    duration: int, rounds: int, max_duration: int = 60, max_rounds: int = 5
) -> str | None:
    """Why a wrk bench cannot run as asked (wrk missing, or a run past its bounds), else None."""
    if shutil.which("wrk") is None:
        return "wrk not found: apt-get install -y wrk"
    if not 1 <= duration <= max_duration or not 1 <= rounds <= max_rounds:
        return (
            f"duration must be 1-{max_duration} s and rounds 1-{max_rounds} "
            "(the bench stays bounded)"
        )
    return None


def http_scope(
    method: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]], state: dict[str, Any]
) -> dict[str, Any]:
    """The ASGI scope of one HTTP request as uvicorn would pass it, for driving an app in
    process (the profiles): a new one per request, since the app may write into it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": method,
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": headers,
        "state": state.copy(),
    }


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """The server in a child process with its own DATA_DIR; a context manager.

    With no database_url it runs the embedded default (SQLite in a temp dir, in-process
    Redis). With one, that database is migrated first and must be disposable: the bench
    adds a user to it.
    """

    database_url: str | None = None
    redis_url: str | None = None
    port: int = field(default_factory=free_port)
    log_level: str = "warning"
    startup_timeout: float = 30.0
    # What runs the server: `python -m server serve` unless a bench needs a variant.
    command: tuple[str, ...] = ("-m", "server", "serve")
    # The interpreter (and so the installed packages) that runs it: this venv's by default.
    python: str = sys.executable
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="osu-bench-")
        self.data_dir = Path(self._dir.name)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.data_dir / "server.log"
        self._process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        """The child's environment."""
        env = {k: v for k, v in os.environ.items() if k not in _SERVER_VARIABLES}
        env.update(DATA_DIR=str(self.data_dir), LOG_LEVEL=self.log_level, PYTHONUNBUFFERED="1")
        # The server measured is this checkout's, whatever the environment has installed (an
        # editable install of another checkout would otherwise win: the child runs elsewhere).
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CHECKOUT), env.get("PYTHONPATH")]))
        # One bench token goes far past the per-token API limit; the limiter still runs.
        env.setdefault("API_RATE_LIMIT_PER_MINUTE", "1000000000")
        # Every bench account registers and signs in from one address; the per-address
        # account limit counts successful sign-ins too (osu-web's LoginAttempt). Set-up
        # only: no bench measures these limits.
        env.setdefault("LOGIN_MAX_ACCOUNTS", "1000000")
        env.setdefault("REGISTRATION_RATE_LIMIT", "1000000")
        env.setdefault("TOKEN_RATE_LIMIT_PER_MINUTE", "1000000")
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
            env["SECRET_KEY"] = "bench-" + os.urandom(24).hex()
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(self.extra_env)
        return env

    def cli(self, *args: str, timeout: float = 60.0) -> str:
        """Run `python -m server ARGS` against this server's configuration; its stdout."""
        done = subprocess.run(
            [self.python, "-m", "server", *args],
            env=self.env(),
            cwd=self.data_dir,  # no stray ./.env from the caller's directory
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"`server {' '.join(args)}` failed: {done.stderr.strip()}")
        return done.stdout

    def start(self) -> None:
        """Migrate when external, start serving, and wait until /health answers."""
        if self.database_url:
            self.cli("migrate")
        log = self.log_path.open("wb")
        self._process = subprocess.Popen(
            [
                self.python,
                *self.command,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=self.env(),
            cwd=self.data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"server exited at startup:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"server did not answer /health within {self.startup_timeout} s")

    @property
    def pid(self) -> int:
        """The server process's id."""
        assert self._process is not None
        return self._process.pid

    def stop(self) -> None:
        """SIGINT (uvicorn's graceful shutdown), then SIGKILL after 10 s."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._dir.cleanup()

    def add_user(self, username: str, password: str) -> None:
        """Create an account with the CLI (`python -m server user add`)."""
        self.cli(
            "user", "add", username, "--email", f"{username}@example.com", "--password", password
        )

    def password_grant(self, username: str, password: str) -> str:
        """An access token from the lazer password grant."""
        body = urllib.parse.urlencode(
            {
                "grant_type": "password",
                "client_id": LAZER_CLIENT_ID,
                "client_secret": LAZER_SECRET,
                "username": username,
                "password": password,
                "scope": "*",
            }
        ).encode()
        request = urllib.request.Request(f"{self.url}/oauth/token", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(json.load(response)["access_token"])

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        """Status and body of a GET (errors included)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        request = urllib.request.Request(f"{self.url}{path}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
