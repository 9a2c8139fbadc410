"""CPU per request of the hot reads inside one process, without the network: where a
request's time goes once uvicorn has parsed it.

    python bench/profile_hot.py --database-url mysql://root@127.0.0.1:3306/bench \\
        --redis-url redis://127.0.0.1:6379/14 [--profile me]

A `serve` child fills a leaderboard as bench_targets.py does and stops; then the app
(create_app, its lifespan, LOG_LEVEL=info with the access line going to a file) and the
trivial Starlette app are driven here through ASGI directly, request after request, and
the least process CPU time per request over alternating rounds is printed for each
endpoint next to the trivial app's.
The machine is shared: process CPU time, not wall-clock, and the same run for both apps.
`--profile NAME` prints a cProfile of that endpoint's requests (cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from _server import ServerProcess, http_scope  # noqa: E402
from _trivial_app import app as trivial_app  # noqa: E402
from bench_targets import fill_board  # noqa: E402


async def _drive(app: Any, state: dict[str, Any], path: str, headers: list[Any], n: int) -> float:
    """Process CPU seconds per request over `n` sequential requests of `path`."""
    raw_path, _, query = path.partition("?")
    body = {"type": "http.request", "body": b"", "more_body": False}

    async def receive() -> dict[str, Any]:
        return body

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    def scope() -> dict[str, Any]:
        return http_scope("GET", raw_path, query.encode(), headers, state)

    for _ in range(50):  # warm caches
        await app(scope(), receive, send)
    statuses.clear()
    start = time.process_time()
    for _ in range(n):
        await app(scope(), receive, send)
    spent = time.process_time() - start
    bad = [s for s in statuses if s != 200]
    if bad:
        raise RuntimeError(f"{path}: {len(bad)} answers were not 200 ({bad[0]})")
    return spent / n


async def run(args: argparse.Namespace, viewer: str, viewer_id: int, beatmap_id: int) -> None:
    from server.app import create_app
    from server.logs import configure
    from server.settings import load_settings

    configure(os.environ.get("PROFILE_LOG_LEVEL", "info"), "text")
    settings = load_settings(env_file=None)
    app = create_app(settings)
    headers = [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", b"wrk"),
        (b"authorization", f"Bearer {viewer}".encode()),
        (b"x-api-version", b"20251101"),
    ]
    paths = {
        "health": "/health",
        "me": "/api/v2/me/",
        "profile": f"/api/v2/users/{viewer_id}/osu",
        "leaderboard": f"/api/v2/beatmaps/{beatmap_id}/scores?type=global&mode=osu",
    }
    async with app.router.lifespan_context(app) as state:
        if args.only is not None:
            await _drive(app, dict(state), paths[args.only], headers, args.requests)
            return
        for name, path in paths.items():
            if args.profile == name:
                profiler = cProfile.Profile()
                profiler.enable()
                await _drive(app, dict(state), path, headers, args.requests)
                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(45)
                print(out.getvalue())
            # Alternating runs, the least of each: the machine is shared.
            ours, floor = [], []
            for _ in range(args.rounds):
                floor.append(await _drive(trivial_app, {}, "/health", headers, args.requests))
                ours.append(await _drive(app, dict(state), path, headers, args.requests))
            spent, trivial = min(ours), min(floor)
            print(
                f"{name:<13}{spent * 1e6:>8.1f} us/request, trivial {trivial * 1e6:5.1f}"
                f"  ({spent / trivial:.2f}x trivial)"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("-n", "--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", choices=("health", "me", "profile", "leaderboard"))
    parser.add_argument(
        "--only", choices=("health", "me", "profile", "leaderboard"), help="one endpoint, once"
    )
    parser.add_argument(
        "--state",
        type=Path,
        help="keep the filled board's ids and secret in this file and reuse them (for runs "
        "under valgrind: the difference of two -n counts is the cost of the extra requests)",
    )
    args = parser.parse_args()
    if not (args.database_url and args.redis_url):
        print("--database-url and --redis-url are needed (a disposable database)")
        return 2
    os.environ.update(BCRYPT_ROUNDS="4")
    maps_dir = Path(tempfile.mkdtemp(prefix="profile-hot-maps-"))
    data_dir = Path(tempfile.mkdtemp(prefix="profile-hot-data-"))
    try:
        if args.state is not None and args.state.exists():
            kept = json.loads(args.state.read_text())
        else:
            kept = {"secret": "bench-" + os.urandom(24).hex()}
            server = ServerProcess(
                database_url=args.database_url,
                redis_url=args.redis_url,
                log_level="warning",
                extra_env={"SECRET_KEY": kept["secret"]},
            )
            with server:
                board = fill_board(server, os.urandom(3).hex(), maps_dir)
            kept.update(zip(("viewer", "viewer_id", "beatmap_id"), board, strict=True))
            if args.state is not None:
                args.state.write_text(json.dumps(kept))
        viewer, viewer_id, beatmap_id = kept["viewer"], kept["viewer_id"], kept["beatmap_id"]
        os.environ.update(
            ServerProcess(
                database_url=args.database_url,
                redis_url=args.redis_url,
                extra_env={"SECRET_KEY": kept["secret"]},
            ).env()
        )
        os.environ.update(DATA_DIR=str(data_dir), LOG_LEVEL="info")
        log_file = (data_dir / "access.log").open("w")
        os.dup2(log_file.fileno(), 2)  # the access lines go to a file, as to a pipe in serve
        import uvloop

        uvloop.run(run(args, viewer, viewer_id, beatmap_id))
    finally:
        shutil.rmtree(maps_dir, ignore_errors=True)
        shutil.rmtree(data_dir, ignore_errors=True)
        logging.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
