"""`python -m server serve` as a child process, for tests of what only a real process shows:
worker processes, signals, the log lines uvicorn itself writes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A loopback port nobody listens on (the child binds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment: the embedded default under `data_dir` unless told otherwise."""
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k in keep}
    return {**env, "DATA_DIR": str(data_dir), "BCRYPT_ROUNDS": "4", **extra}


class ServeProcess:
    """`python -m server serve ARGS` on a free port, output in `log_path`."""

    def __init__(self, workdir: Path, env: dict[str, str], *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"serve-{self.port}.log"
        with self.log_path.open("w") as log_file:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server", "serve", "--port", str(self.port), *args],
                cwd=workdir,
                env={**env, "PYTHONPATH": str(ROOT)},
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Return once /health answers 200; fail with the log if the child exits first."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.log}")
            if time.monotonic() > deadline:
                raise AssertionError(f"serve did not answer within {timeout} s:\n{self.log}")
            time.sleep(0.1)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
