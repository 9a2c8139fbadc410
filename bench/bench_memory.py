"""Issue 17's memory targets in one command: idle RSS of our server beside the trivial
Starlette app, and the memory of an idle hub connection.

    python bench/bench_memory.py                          # embedded default only
    python bench/bench_memory.py --database-url mysql://root@127.0.0.1:3306/bench \\
        --redis-url redis://127.0.0.1:6379/14              # and MariaDB + Redis (disposable)

Idle RSS: each server (`bench/_trivial_app.py`, then `python -m server serve` on the embedded
default, then on MariaDB + Redis when given) is started alone, answers one `GET /health`, and
its VmRSS is read one second later; the split between anonymous and file-backed pages (shared
libraries, the Rust core) comes from /proc/PID/status. Target: <= 55 MiB for each of ours.

Each idle figure is measured twice: with this venv's interpreter (the development venv, whose
test extras install packages a server imports when present, such as `cryptography`), and with
a venv that holds only setup.py's `install_requires` pinned by constraints.txt, which is what
`pip install .` gives an operator. The targets are judged on the second. That venv is made
once (pip, about 15 s) under the temp directory, keyed by the requirements, and reused;
`--dev-venv-only` skips it.

Hub connections: the embedded server, `--connections` idle hub connections (a spectator and a
metadata connection per user, the websockets library as client, which offers
permessage-deflate), RSS before and two seconds after they are all open. Target: <= 40 KiB per
connection.

Exit status 1 when a target is missed. The server measured is this checkout's
(bench/_server.py puts it first on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import CHECKOUT, ServerProcess, free_port

IDLE_TARGET_MIB = 55.0
CONNECTION_TARGET_KIB = 40.0
TRIVIAL_APP = Path(__file__).with_name("_trivial_app.py")


def memory(pid: int) -> dict[str, float]:
    """VmRSS and its anonymous and file-backed parts, MiB (Linux)."""
    fields = {"VmRSS": "rss", "RssAnon": "anon", "RssFile": "file"}
    found: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in fields:
            found[fields[key]] = int(value.split()[0]) / 1024
    return found


def runtime_requirements() -> list[str]:
    """setup.py's install_requires, read without running setup()."""
    tree = ast.parse((CHECKOUT / "setup.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "install_requires":
            return list(ast.literal_eval(node.value))
    raise RuntimeError("setup.py has no install_requires")


def runtime_python() -> str:
    """The interpreter of a venv holding only the runtime requirements (made once, reused)."""
    requirements = runtime_requirements()
    constraints = CHECKOUT / "constraints.txt"
    key = hashlib.sha256(
        "\n".join([sys.version, *requirements, constraints.read_text()]).encode()
    ).hexdigest()[:16]
    venv = Path(tempfile.gettempdir()) / f"osu-bench-runtime-{key}"
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        return str(python)
    print(f"making the runtime-only venv {venv} (once)", file=sys.stderr)
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-c", str(constraints), *requirements],
        check=True,
        timeout=900,
    )
    (venv / ".complete").touch()
    return str(python)


def idle_trivial(python: str) -> dict[str, float]:
    """The trivial app's RSS after one request."""
    port = free_port()
    process = subprocess.Popen(
        [python, str(TRIVIAL_APP), "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "LOG_LEVEL": "warning"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the trivial app did not start") from None
                time.sleep(0.1)
        time.sleep(1)
        return memory(process.pid)
    finally:
        process.terminate()
        process.wait(10)


def idle_server(python: str, database_url: str | None, redis_url: str | None) -> dict[str, float]:
    """Our server's RSS after start-up and one /health (ServerProcess already asked it)."""
    with ServerProcess(database_url=database_url, redis_url=redis_url, python=python) as server:
        server.get("/health")
        time.sleep(1)
        return memory(server.pid)


async def hub_connections(count: int) -> dict[str, float]:
    """RSS of the embedded server before and after `count` idle hub connections."""
    from bench_hubs import SERVER_ENV, make_users, open_hub, rss_kib

    server = ServerProcess(extra_env=SERVER_ENV)
    with server:
        users = await make_users(server.url, max(1, count // 2))
        await asyncio.sleep(1)
        before = rss_kib(server.pid)
        sockets = []
        for _, token in users:
            sockets.append(await open_hub(server.url, "spectator", token))
            sockets.append(await open_hub(server.url, "metadata", token))
        await asyncio.sleep(2)
        after = rss_kib(server.pid)
        for ws in sockets:
            await ws.close()
    return {
        "connections": len(sockets),
        "rss_before_mib": before / 1024,
        "rss_after_mib": after / 1024,
        "kib_per_connection": (after - before) / len(sockets),
    }


def idle_figures(python: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Idle RSS of the trivial app and of ours on each backend, run by `python`."""
    idle = {"trivial Starlette": idle_trivial(python)}
    idle["ours, embedded"] = idle_server(python, None, None)
    if args.database_url:
        idle["ours, MariaDB + Redis"] = idle_server(python, args.database_url, args.redis_url)
    return idle


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("--connections", type=int, default=1000, help="idle hub connections")
    parser.add_argument(
        "--dev-venv-only",
        action="store_true",
        help="measure with this venv only (no runtime-only venv; targets judged on this one)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 2 <= args.connections <= 4000:
        print("--connections must be 2-4000 (the bench stays bounded)")
        return 2
    if bool(args.database_url) != bool(args.redis_url):
        print("give both --database-url and --redis-url, or neither")
        return 2
    load = os.getloadavg()
    columns = {"dev venv": idle_figures(sys.executable, args)}
    if not args.dev_venv_only:
        columns["runtime venv"] = idle_figures(runtime_python(), args)
    judged = list(columns.values())[-1]
    hubs = asyncio.run(hub_connections(args.connections))
    misses = [name for name, figures in judged.items()
              if name.startswith("ours") and figures["rss"] > IDLE_TARGET_MIB]  # fmt: skip
    if hubs["kib_per_connection"] > CONNECTION_TARGET_KIB:
        misses.append("hub connection")
    if args.json:
        print(
            json.dumps(
                {"loadavg_before": load, "idle_mib": columns, "hubs": hubs, "misses": misses}
            )
        )
        return 1 if misses else 0
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    header = "".join(f" | {name + ' RSS MiB':>20}{'anon':>7}{'file':>7}" for name in columns)
    print(f"{'idle server':<22}{header}  target ({list(columns)[-1]})")
    for name, figures in judged.items():
        cells = "".join(
            f" | {column[name]['rss']:>20.1f}{column[name]['anon']:>7.1f}"
            f"{column[name]['file']:>7.1f}"
            for column in columns.values()
        )
        target = ""
        if name.startswith("ours"):
            verdict = "ok" if figures["rss"] <= IDLE_TARGET_MIB else "MISS"
            target = f"<={IDLE_TARGET_MIB:.0f} {verdict}"
        print(f"{name:<22}{cells}  {target}")
    verdict = "ok" if hubs["kib_per_connection"] <= CONNECTION_TARGET_KIB else "MISS"
    print(f"{hubs['connections']} idle hub connections: RSS {hubs['rss_before_mib']:.1f} -> "
          f"{hubs['rss_after_mib']:.1f} MiB, {hubs['kib_per_connection']:.1f} KiB per "
          f"connection  target <={CONNECTION_TARGET_KIB:.0f} {verdict}")  # fmt: skip
    if misses:
        print("missed: " + ", ".join(misses))
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())
