"""Benchmark of the beatmap hot paths, as ratios against the trivial endpoint in one run.

The real app (lifespan, middleware, routes, database, Redis) is called in-process through
httpx's ASGI transport: on loopback TCP in containers a delayed-ACK stall of about 40 ms per
request swamps everything the server does, so the socket is left out and the ratios measure
the server's own work. One client signs in as lazer does and times, alternating in rounds so
drift hits every path alike:

- `GET /health` (the baseline: routing, middleware, JSON);
- `GET /api/v2/beatmaps/lookup?checksum=` (what lazer sends for every map it shows or plays:
  token check, then the Redis lookup cache; on a miss one indexed lookup, the set, the shape);
- `GET /api/v2/beatmaps/lookup?filename=` (not cached: the SQL path of a lookup, reported
  for scale, no target);
- `GET /api/v2/beatmapsets/search?q=...` (a text search over the stored sets, 50 per page,
  with their difficulties).

Ratios are per-request latency over the baseline's. Targets (failing exits 1): lookup at
most 6x the baseline (it is answered from the Redis lookup cache once warm: token check plus
one cache read), search at most 100x (a text filter and a count in SQL every time, then
the page of 50 sets with their difficulties, the difficulty rows cached per set; measured
about 40x on the embedded default and 60x on MariaDB + Redis with 500 sets). The corpus
is synthetic: `--sets` sets of 4 difficulties each, stored through the real ingest path.

Run: `python bench/bench_beatmaps.py [--sets 500] [--rounds 7] [--requests 200]`. The
embedded default is used unless BENCH_DATABASE_URL / BENCH_REDIS_URL name real servers
(the database is wiped).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # for tests.*

from server.app import create_app  # noqa: E402
from server.settings import load_settings  # noqa: E402
from tests.beatmap_data import store_set  # noqa: E402
from tests.conftest import reset_backends  # noqa: E402
from tests.helpers import password_grant, signup  # noqa: E402

LOOKUP_MAX = 6.0
SEARCH_MAX = 100.0
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")


async def seed(services: Any, sets: int) -> tuple[list[str], list[str]]:
    """Store the corpus; returns the checksums and file names of its beatmaps."""
    checksums: list[str] = []
    filenames: list[str] = []
    for i in range(sets):
        _, ids, _ = await store_set(
            services,
            title=f"Bench Song {i}",
            artist=f"Bench Artist {i % 37}",
            tags=f"{WORDS[i % len(WORDS)]} bench",
            difficulties=[
                {"ruleset": r, "version": f"{r} {i}", "n_objects": 30 + (i % 20)}
                for r in ("osu", "taiko", "catch", "mania")
            ],
        )
        for beatmap_id in ids:
            beatmap = await services.beatmaps.repo.beatmap(beatmap_id)
            checksums.append(beatmap.checksum)
            filenames.append(beatmap.filename)
    return checksums, filenames


async def timed(client: httpx.AsyncClient, paths: list[str], headers: dict[str, str]) -> float:
    """Mean seconds per request over the paths (each must answer 200)."""
    started = time.perf_counter()
    for path in paths:
        response = await client.get(path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.text[:200]}")
    return (time.perf_counter() - started) / len(paths)


async def run(args: argparse.Namespace) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-beatmaps-"))
    env = {
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "warning",
        "TOKEN_RATE_LIMIT_PER_MINUTE": "100000",
        "LOGIN_MAX_ACCOUNTS": "1000000",
        "API_RATE_LIMIT_PER_MINUTE": "1000000000",  # one token, far past the per-token limit
    }
    if os.environ.get("BENCH_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        env["SECRET_KEY"] = "bench-" + "x" * 40
    if os.environ.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    settings = load_settings(env, env_file=None)
    await reset_backends(settings)

    app = create_app(settings)
    async with app.router.lifespan_context(app) as lifespan_state:
        state: dict[str, Any] = dict(lifespan_state or {})
        services = state["services"]
        started = time.perf_counter()
        checksums, filenames = await seed(services, args.sets)
        took = time.perf_counter() - started
        print(f"seeded {args.sets} sets / {len(checksums)} beatmaps in {took:.1f} s")

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            scope["state"] = dict(state)
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state, client=("203.0.113.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            account = await signup(client)
            token = (await password_grant(client, account.username, account.password)).json()[
                "access_token"
            ]
            headers = {"Authorization": f"Bearer {token}"}
            n = args.requests
            paths = {
                "health": ["/health"] * n,
                "lookup_checksum": [
                    f"/api/v2/beatmaps/lookup?checksum={checksums[(i * 7919) % len(checksums)]}"
                    for i in range(n)
                ],
                # Not cached (only id and checksum lookups are): the SQL path, for scale.
                "lookup_filename": [
                    "/api/v2/beatmaps/lookup?filename="
                    + quote(filenames[(i * 7919) % len(filenames)])
                    for i in range(n)
                ],
                "search": [
                    f"/api/v2/beatmapsets/search?q={WORDS[i % len(WORDS)]}&s=any&sort=ranked_desc"
                    for i in range(max(1, n // 4))
                ],
            }
            for batch in paths.values():  # warm-up
                await timed(client, batch[: max(1, len(batch) // 10)], headers)
            samples: dict[str, list[float]] = {name: [] for name in paths}
            for _ in range(args.rounds):
                for name, batch in paths.items():
                    samples[name].append(await timed(client, batch, headers))

    best = {name: min(values) for name, values in samples.items()}
    median = {name: statistics.median(values) for name, values in samples.items()}
    baseline = best["health"]
    limits = {"lookup_checksum": LOOKUP_MAX, "search": SEARCH_MAX}
    failed = False
    print(f"{'path':<18}{'best ms':>10}{'median ms':>11}{'req/s':>10}{'x health':>10}{'limit':>8}")
    for name in paths:
        ratio = best[name] / baseline
        limit = limits.get(name)
        ok = limit is None or ratio <= limit
        failed |= not ok
        print(
            f"{name:<18}{best[name] * 1e3:>10.3f}{median[name] * 1e3:>11.3f}{1 / best[name]:>10.0f}"
            f"{ratio:>10.2f}{(f'{limit:.0f}x' if limit else '-'):>8}{'' if ok else '  MISSED'}"
        )
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sets", type=int, default=500, help="beatmapsets in the corpus")
    parser.add_argument("--rounds", type=int, default=7, help="alternating timing rounds")
    parser.add_argument("--requests", type=int, default=200, help="requests per path per round")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
