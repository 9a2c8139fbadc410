"""CPU per score submission inside one process, without the network or concurrency: what one
`PUT /api/v2/beatmaps/{id}/solo/scores/{token}` costs the server once uvicorn has parsed it.

    python bench/profile_submit.py --database-url mysql://root@127.0.0.1:3306/bench_submit \\
        --redis-url redis://127.0.0.1:6379/14 [-n 300] [--rounds 5] [--profile FILE]

The app (create_app and its lifespan) runs here on uvloop against the given (disposable)
database and Redis. One synthetic ranked map is imported, 30 players register and submit one
best each, the board is read once (so Redis holds it, as in use), and then rounds of `-n`
submissions are driven through ASGI one after another, each with a fresh token of the next
player and the bench_submit body (a non-best repeat, the usual play). Printed: the least
process CPU time per submission over the rounds (the machine is shared: CPU time, least of
several), next to the trivial Starlette app's `/health`. `--profile FILE` adds a cProfile
(CPU-time clock) of one more round, written to FILE and printed by cumulative time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import io
import json
import os
import pstats
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

import httpx  # noqa: E402
import pymysql  # noqa: E402
from _server import ServerProcess, http_scope  # noqa: E402
from _trivial_app import app as trivial_app  # noqa: E402
from bench_scores import full_combo  # noqa: E402
from bench_submit import PLAYERS, insert_tokens, mysql_options, round_robin  # noqa: E402

from server.core.pp import Beatmap  # noqa: E402
from tests.beatmap_data import make_osu  # noqa: E402
from tests.helpers import sign_in, signup  # noqa: E402


async def _put_all(
    app: Any, state: dict[str, Any], plan: list[tuple[bytes, str]], body: bytes
) -> float:
    """Process CPU seconds per submission over the plan: (bearer header, path) each."""
    statuses: list[int] = []
    message = {"type": "http.request", "body": body, "more_body": False}

    async def receive() -> dict[str, Any]:
        return message

    async def send(event: dict[str, Any]) -> None:
        if event["type"] == "http.response.start":
            statuses.append(event["status"])

    start = time.process_time()
    for bearer, path in plan:
        headers = [
            (b"host", b"127.0.0.1:8000"),
            (b"authorization", bearer),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-api-version", b"20251101"),
        ]
        scope = http_scope("PUT", path, b"", headers, state)
        await app(scope, receive, send)
    spent = time.process_time() - start
    bad = [s for s in statuses if s != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} submissions were not answered 200 ({bad[0]})")
    return spent / len(plan)


async def _health(n: int) -> float:
    """The trivial app's CPU per request (the floor of driving an ASGI app here)."""
    message = {"type": "http.request", "body": b"", "more_body": False}

    async def receive() -> dict[str, Any]:
        return message

    async def send(event: dict[str, Any]) -> None:
        pass

    scope = {"type": "http", "method": "GET", "path": "/health", "headers": [], "query_string": b""}
    start = time.process_time()
    for _ in range(n):
        await trivial_app(dict(scope), receive, send)
    return (time.process_time() - start) / n


async def run(args: argparse.Namespace, data: bytes, beatmap_id: int, options: Any) -> None:
    from server.app import create_app
    from server.settings import load_settings

    app = create_app(load_settings(env_file=None))
    checksum = hashlib.md5(data).hexdigest()
    with Beatmap.parse(data) as parsed:
        attrs = parsed.difficulty(0)
    body = full_combo(attrs, 800_000)
    raw_body = json.dumps(body).encode()
    async with app.router.lifespan_context(app) as state:

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            scope["state"] = dict(state)  # what uvicorn passes each request after the lifespan
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            players = [await sign_in(client, await signup(client)) for _ in range(PLAYERS)]
            bearer_of = {p.account.id: f"Bearer {p.access_token}".encode() for p in players}
            ids = list(bearer_of)
            for user_id, token in round_robin(
                insert_tokens(options, ids, 1, beatmap_id, checksum)
            ):  # each player's first best
                r = await client.put(
                    f"/api/v2/beatmaps/{beatmap_id}/solo/scores/{token}",
                    content=raw_body,
                    headers={"Authorization": bearer_of[user_id].decode()},
                )
                r.raise_for_status()
            board = await client.get(
                f"/api/v2/beatmaps/{beatmap_id}/scores?type=global&mode=osu",
                headers={"Authorization": bearer_of[ids[0]].decode()},
            )
            assert len(board.json()["scores"]) == PLAYERS, board.text[:200]
            await asyncio.sleep(1.5)  # the board is rebuilt in Redis 0.5 s after that read

        def plan() -> list[tuple[bytes, str]]:
            tokens = insert_tokens(options, ids, -(-args.requests // PLAYERS), beatmap_id, checksum)
            return [
                (bearer_of[u], f"/api/v2/beatmaps/{beatmap_id}/solo/scores/{t}")
                for u, t in round_robin(tokens)
            ][: args.requests]

        await _put_all(app, dict(state), plan()[:50], raw_body)  # warm
        ours, floor = [], []
        for _ in range(args.rounds):
            floor.append(await _health(args.requests))
            ours.append(await _put_all(app, dict(state), plan(), raw_body))
        spent, trivial = min(ours), min(floor)
        print(
            f"submission {spent * 1e6:8.1f} us CPU (least of {args.rounds} rounds of "
            f"{args.requests}; median {sorted(ours)[len(ours) // 2] * 1e6:.1f}), trivial "
            f"/health {trivial * 1e6:.1f} us"
        )
        if args.profile:
            profiler = cProfile.Profile(time.process_time)
            work = plan()
            profiler.enable()
            await _put_all(app, dict(state), work, raw_body)
            profiler.disable()
            profiler.dump_stats(args.profile)
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(70)
            print(out.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("-n", "--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", type=Path, help="cProfile one more round into this file")
    args = parser.parse_args()
    if not (args.database_url and args.database_url.startswith("mysql://") and args.redis_url):
        print("--database-url mysql://... and --redis-url are needed (disposable ones)")
        return 2
    os.environ.update(BCRYPT_ROUNDS="4")
    one, five, _ = os.getloadavg()
    print(f"load before run {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} CPUs")
    # The environment of a bench server (its data dir keeps the imported map), but the app
    # runs here; the child is used only for its CLI (migrate, import).
    server = ServerProcess(database_url=args.database_url, redis_url=args.redis_url)
    run_id = os.urandom(3).hex()
    beatmap_id = 1_970_000_000 + int(run_id, 16)
    data = make_osu(
        beatmap_id=beatmap_id,
        beatmapset_id=beatmap_id + 100_000_000,
        version="profile submit",
        n_objects=60,
        seed=1,
    )
    maps = server.data_dir / "import"
    maps.mkdir()
    (maps / f"{beatmap_id}.osu").write_bytes(data)
    server.cli("migrate")
    server.cli("beatmaps", "import", str(maps), "--status", "ranked", "--quiet")
    options = mysql_options(args.database_url)
    connection = pymysql.connect(**options, autocommit=True)
    with connection.cursor() as cursor:  # ranked before any token (S-SC-4)
        cursor.execute(
            "UPDATE beatmapsets SET ranked_date = %s WHERE id = %s",
            (
                (datetime.now(UTC) - timedelta(days=1)).replace(tzinfo=None),
                beatmap_id + 100_000_000,
            ),
        )
    connection.close()
    os.environ.update(server.env())
    import uvloop

    uvloop.run(run(args, data, beatmap_id, options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
