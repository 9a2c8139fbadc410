"""The first leaderboard page after a restart and after a write, at 50, 5,000 and 100,000
scores: issue 17's "cold reads flat in size" target (each within 2x of the 50-score board).

    python bench/bench_cold_board.py                  # embedded SQLite + in-process Redis
    BENCH_DATABASE_URL=mysql://root@127.0.0.1:3306/bench \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/14 python bench/bench_cold_board.py   # wiped

The real app is called in-process through httpx's ASGI transport (as bench_beatmaps.py
does: loopback TCP's delayed-ACK stalls would hide the server's own work). Three ranked maps
get boards of 50, 5,000 and 100,000 players' bests, seeded directly in SQL (users, scores,
score_bests) for speed; the signed-in viewer has a best in the middle of each board, so every
read also computes the viewer's own position. For each board, `--repeats` times:

- **restart**: the board's Redis keys (sorted set, built marker, rendered pages and entries)
  and this process's near-cache entries are dropped, as after a restart with Redis flushed or
  the board evicted; then one `GET /api/v2/beatmaps/{id}/scores` is timed.
- **write**: one player's best moves (`ScoreRepository.set_best`, then
  `Leaderboards.record_best`, as a submission does before and after its commit); then one
  read is timed.

After each timed read the bench waits for any sorted-set rebuild the read started (not
timed: it runs off the request path). Figures are medians; exit status 1 when the 5,000 or
100,000 board's median is over 2x the 50-score board's.
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

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # for tests.*

from server.app import create_app  # noqa: E402
from server.settings import load_settings  # noqa: E402
from tests.beatmap_data import store_set  # noqa: E402
from tests.conftest import reset_backends  # noqa: E402
from tests.helpers import password_grant, signup  # noqa: E402

SIZES = (50, 5_000, 100_000)
TARGET = 2.0
FIRST_USER = 1_000_000
BATCH = 2_000
_NOW = "2026-01-01 00:00:00"


async def seed_users(db: Any, count: int) -> None:
    """`count` unrestricted players with ids FIRST_USER.. (one multi-row INSERT per batch)."""
    for start in range(0, count, BATCH):
        rows = ", ".join(
            f"({uid}, 'bp{uid}', 'bp{uid}', 'bp{uid}@example.com', 'x', '{_NOW}', '{_NOW}')"
            for uid in range(FIRST_USER + start, FIRST_USER + min(start + BATCH, count))
        )
        await db.execute_raw(
            "INSERT INTO users (id, username, username_safe, email, password_hash, created_at,"
            f" last_visit_at) VALUES {rows}"
        )


async def seed_board(db: Any, beatmap_id: int, players: list[int], first_score: int) -> None:
    """One best per player, totals descending with the player's index (ties every 7th)."""
    for start in range(0, len(players), BATCH):
        chunk = list(enumerate(players[start : start + BATCH], start))
        scores = ", ".join(
            f"({first_score + i}, {uid}, {beatmap_id}, 0, 'osu', {first_score + i}, 1, 1, 1,"
            f" {1_000_000 - i + i % 7}, {1_000_000 - i + i % 7}, 0.98, 100, 'A', '[]', '',"
            f" '{{\"great\": 100}}', '{{\"great\": 100}}', 100.0, '{_NOW}', '{_NOW}')"
            for i, uid in chunk
        )
        await db.execute_raw(
            "INSERT INTO scores (id, user_id, beatmap_id, ruleset_id, ruleset, token_id, passed,"
            " ranked, play_counted, total_score, total_score_without_mods, accuracy, max_combo,"
            " `rank`, mods, mods_key, statistics, maximum_statistics, pp, started_at, ended_at)"
            f" VALUES {scores}"
        )
        bests = ", ".join(
            f"({beatmap_id}, 'osu', {uid}, {first_score + i}, {1_000_000 - i + i % 7})"
            for i, uid in chunk
        )
        await db.execute_raw(
            "INSERT INTO score_bests (beatmap_id, ruleset, user_id, score_id, total_score)"
            f" VALUES {bests}"
        )


async def forget(services: Any, beatmap_id: int) -> None:
    """Drop a board from Redis and from this process's near cache (a restart, a flush)."""
    tag = f"{{lb:osu:{beatmap_id}}}"
    await services.redis.delete(f"{tag}:z", f"{tag}:built", f"{tag}:z:pages", f"{tag}:z:users")
    await services.near.invalidate("leaderboard", [beatmap_id])


async def settle(services: Any) -> None:
    """Wait for sorted-set rebuilds started by the last read (not timed)."""
    settled = getattr(services.scores.leaderboards, "settled", None)
    if settled is not None:  # (absent before rebuilds moved off the request path)
        await settled()


async def run(args: argparse.Namespace) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-cold-board-"))
    env = {
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "warning",
        "TOKEN_RATE_LIMIT_PER_MINUTE": "100000",
        "LOGIN_MAX_ACCOUNTS": "1000000",
        "API_RATE_LIMIT_PER_MINUTE": "1000000000",
    }
    if os.environ.get("BENCH_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        env["SECRET_KEY"] = "bench-" + "x" * 40
    if os.environ.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    settings = load_settings(env, env_file=None)
    await reset_backends(settings)
    one, five, _ = os.getloadavg()
    sizes = [s for s in SIZES if s <= args.max_size]
    app = create_app(settings)
    results: dict[int, dict[str, list[float]]] = {}
    async with app.router.lifespan_context(app) as lifespan_state:
        state: dict[str, Any] = dict(lifespan_state or {})
        services = state["services"]
        db = services.db

        async def with_state(scope: Any, receive: Any, send: Any) -> None:
            scope["state"] = dict(state)
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state, client=("203.0.113.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            account = await signup(client)
            grant = await password_grant(client, account.username, account.password)
            headers = {
                "Authorization": f"Bearer {grant.json()['access_token']}",
                "x-api-version": "20251101",
            }
            viewer = (await client.get("/api/v2/me/", headers=headers)).json()["id"]
            started = time.perf_counter()
            await seed_users(db, max(sizes) - 1)
            boards: dict[int, int] = {}
            for n, size in enumerate(sizes):
                _, (beatmap_id,), _ = await store_set(services, status=1)
                players = list(range(FIRST_USER, FIRST_USER + size - 1))
                players.insert(size // 2, viewer)  # the viewer mid-board
                await seed_board(db, beatmap_id, players, 10_000_000 * (n + 1))
                # Bests written around the repository: their board's counts from scratch.
                await services.scores.repo.recount_board(beatmap_id, "osu")
                boards[size] = beatmap_id
            print(
                f"seeded {sum(sizes)} bests on {len(sizes)} boards in "
                f"{time.perf_counter() - started:.1f} s"
            )

            async def read(beatmap_id: int, expected: int) -> float:
                path = f"/api/v2/beatmaps/{beatmap_id}/scores?type=global&mode=osu"
                began = time.perf_counter()
                response = await client.get(path, headers=headers)
                took = time.perf_counter() - began
                body = response.json()
                if response.status_code != 200 or body.get("score_count") != expected:
                    raise SystemExit(f"{path}: {response.status_code} {str(body)[:200]}")
                if body["user_score"]["position"] != expected // 2 + 1:
                    raise SystemExit(f"{path}: viewer at {body['user_score']['position']}")
                await settle(services)
                return took

            for size, beatmap_id in boards.items():
                await read(beatmap_id, size)  # the beatmap itself cached, as on a live server
                samples: dict[str, list[float]] = {"restart": [], "write": []}
                mover = FIRST_USER + size - 2  # near the bottom; moves up a little each time
                for _ in range(args.repeats):
                    await forget(services, beatmap_id)
                    samples["restart"].append(await read(beatmap_id, size))
                    row = await db.fetch_raw(
                        "SELECT score_id, total_score FROM score_bests WHERE beatmap_id ="
                        f" {beatmap_id} AND user_id = {mover}"
                    )
                    score_id, total = int(row[0]["score_id"]), int(row[0]["total_score"]) + 1
                    await db.execute_raw(
                        f"UPDATE scores SET total_score = {total} WHERE id = {score_id}"
                    )
                    await services.scores.repo.set_best(
                        beatmap_id, "osu", mover, score_id, total, previous_total=total - 1
                    )
                    await services.scores.leaderboards.record_best(
                        beatmap_id, "osu", score_id, score_id, total
                    )
                    samples["write"].append(await read(beatmap_id, size))
                results[size] = samples

    backend = (
        f"database={'external' if settings.dialect == 'mysql' else 'embedded SQLite'}, "
        f"redis={'external' if settings.redis_url else 'in-process'}"
    )
    print(f"{backend}; {args.repeats} repeats, medians; load before run {one:.2f} {five:.2f}")
    print(f"{'scores':>8}{'restart ms':>12}{'x 50':>7}{'write ms':>10}{'x 50':>7}  target")
    base = {k: statistics.median(v) for k, v in results[sizes[0]].items()}
    missed = False
    for size, samples in results.items():
        med = {k: statistics.median(v) for k, v in samples.items()}
        ratios = {k: med[k] / base[k] for k in med}
        ok = size == sizes[0] or all(r <= TARGET for r in ratios.values())
        missed |= not ok
        print(
            f"{size:>8}{med['restart'] * 1e3:>12.2f}{ratios['restart']:>7.2f}"
            f"{med['write'] * 1e3:>10.2f}{ratios['write']:>7.2f}"
            f"  {'-' if size == sizes[0] else f'<= {TARGET:.0f}x ' + ('ok' if ok else 'MISSED')}"
        )
    return 1 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=7, help="timed reads per board and case")
    parser.add_argument(
        "--max-size", type=int, default=100_000, help="leave out boards larger than this"
    )
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
