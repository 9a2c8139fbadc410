"""Score submission against the database's own rate: the server's submissions at c16 beside a
plain aiomysql client replaying the exact statements a submission runs, in one run.

    python bench/bench_submit.py --database-url mysql://root@127.0.0.1:3306/bench_submit \\
        --redis-url redis://127.0.0.1:6379/14     # disposable database and Redis db

The script starts the server with bench/_recording_server.py (`python -m server serve` plus
a recorder of the first submissions' SQL and Redis round trips), imports one synthetic
ranked map, registers 30 players and submits one best each (the warm-up, unrecorded), then
records `--capture` submissions made one at a time: each is the list of statements the
request ran, in order, with the transaction's BEGIN and COMMIT and the named parameters.
Tokens are inserted directly in SQL, already as old as a play of the map, so no run waits.

Then, alternating in rounds:

- **server**: wrk PUTs `/api/v2/beatmaps/{id}/solo/scores/{token}` at `-c` connections,
  each request with an unused token of one of the 30 players; the server process's CPU time
  (/proc) over the run gives its share of one core;
- **raw**: the same number of concurrent aiomysql connections (uvloop) replay the recorded
  submissions, round robin over the players, for the same duration: every statement with its
  recorded arguments, except that the token is a fresh one of that player and the score id is
  the one the replayed INSERT just made (so the INSERT, the token link and the bests do the
  same work as the server's); statements the server ran outside its transaction run outside
  it here too (autocommit, as `databases` sets it). No Redis, no HTTP, no checks.

Targets (issue 17): server rate >= 0.7 of the raw rate, and the server process below 70% of
one core during its runs. Exit 1 when one is missed or a request failed. The raw client's own
CPU share is printed too: a raw client short of the database's pace would flatter the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import pickle
import shutil
import signal
import statistics
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

import aiomysql  # noqa: E402
import pymysql  # noqa: E402
from _server import ServerProcess, wrk_refusal  # noqa: E402
from bench_api import WrkResult, run_wrk  # noqa: E402
from bench_scores import Client, cpu_seconds, full_combo, local_database_pid  # noqa: E402

from server.core.pp import Beatmap  # noqa: E402
from tests.beatmap_data import make_osu  # noqa: E402

RATE_TARGET = 0.7
CPU_TARGET = 0.7
PLAYERS = 30

Statement = tuple[str, tuple[Any, ...], dict[str, Any] | None, tuple[str, ...]]


@dataclass
class Recorded:
    """One recorded submission."""

    user_id: int
    statements: list[Statement]
    redis_round_trips: int
    redis_commands: list[bytes]


def mysql_options(url: str) -> dict[str, Any]:
    """pymysql/aiomysql connection options of a mysql:// URL."""
    parts = urllib.parse.urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 3306,
        "user": urllib.parse.unquote(parts.username or "root"),
        "password": urllib.parse.unquote(parts.password or ""),
        "database": parts.path.lstrip("/"),
        "charset": "utf8mb4",
    }


def insert_tokens(
    options: dict[str, Any], user_ids: list[int], per_user: int, beatmap_id: int, checksum: str
) -> dict[int, list[int]]:
    """`per_user` unused tokens for each player, issued 10 minutes ago; their ids per user."""
    created = (datetime.now(UTC) - timedelta(minutes=10)).replace(tzinfo=None)
    tag = "bench-" + os.urandom(6).hex()
    connection = pymysql.connect(**options, autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO score_tokens (user_id, beatmap_id, ruleset_id, beatmap_hash, "
                "version_hash, playlist_item_id, created_at) VALUES (%s, %s, 0, %s, %s, NULL, %s)",
                [
                    (user_id, beatmap_id, checksum, tag, created)
                    for _ in range(per_user)
                    for user_id in user_ids
                ],
            )
            cursor.execute(
                "SELECT id, user_id FROM score_tokens WHERE version_hash = %s ORDER BY id", (tag,)
            )
            tokens: dict[int, list[int]] = {user_id: [] for user_id in user_ids}
            for token_id, user_id in cursor.fetchall():
                tokens[int(user_id)].append(int(token_id))
    finally:
        connection.close()
    return tokens


def clear_outbox(options: dict[str, Any]) -> None:
    """Drop every queued outbox row (the bench database is disposable)."""
    connection = pymysql.connect(**options, autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM outbox")
    finally:
        connection.close()


def read_recording(path: Path) -> list[Recorded]:
    """The recorder's submissions."""
    out: list[Recorded] = []
    with path.open("rb") as source:
        while True:
            try:
                entry = pickle.load(source)
            except EOFError:
                break
            statements: list[Statement] = entry["statements"]
            user_id = next(
                int(params["user_id"])
                for sql, _, params, _ in statements
                if params and "user_id" in params and sql.upper().startswith("INSERT INTO SCORES ")
            )
            out.append(
                Recorded(
                    user_id,
                    statements,
                    int(entry["redis_round_trips"]),
                    entry.get("redis_commands", []),
                )
            )
    return out


def round_robin(plan: dict[int, list[Any]]) -> list[tuple[int, Any]]:
    """(user, item) pairs taking one item of each user in turn."""
    width = max(len(items) for items in plan.values())
    return [(u, items[i]) for i in range(width) for u, items in plan.items() if i < len(items)]


async def replay_one(connection: Any, recorded: Recorded, token_id: int) -> None:
    """One submission's statements on one connection, with a fresh token."""
    score_id: int | None = None
    async with connection.cursor() as cursor:
        for sql, args, params, order in recorded.statements:
            if sql == "BEGIN":
                await connection.begin()
                continue
            if sql == "COMMIT":
                await connection.commit()
                continue
            if params is not None:
                values = dict(params)
                if "token_id" in values:
                    values["token_id"] = token_id
                if "score_id" in values and score_id is not None:
                    values["score_id"] = score_id
                args = tuple(values[name] for name in order)
            await cursor.execute(sql, args)
            await cursor.fetchall()
            if sql.upper().startswith("INSERT INTO SCORES "):
                score_id = cursor.lastrowid


class RawResult:
    """What a raw replay run did."""

    def __init__(self) -> None:
        self.done = 0
        self.latencies: list[float] = []
        self.errors = 0
        self.exhausted = False


async def replay(
    url: str,
    recordings: list[Recorded],
    tokens: dict[int, list[int]],
    connections: int,
    duration: float,
) -> tuple[RawResult, float, float]:
    """Replay for `duration` seconds on `connections` connections: result, wall, own CPU."""
    by_user: dict[int, list[Recorded]] = {}
    for recorded in recordings:
        by_user.setdefault(recorded.user_id, []).append(recorded)
    work = iter(
        [
            (by_user[user_id][i % len(by_user[user_id])], token_id)
            for i, (user_id, token_id) in enumerate(
                round_robin({u: t for u, t in tokens.items() if u in by_user})
            )
        ]
    )
    options = mysql_options(url)
    options["db"] = options.pop("database")
    pool = await aiomysql.create_pool(
        **options, autocommit=True, minsize=connections, maxsize=connections
    )
    result = RawResult()
    start = time.monotonic()
    cpu_start = time.process_time()
    deadline = start + duration

    async def worker() -> None:
        async with pool.acquire() as connection:
            while time.monotonic() < deadline:
                item = next(work, None)
                if item is None:
                    result.exhausted = True
                    return
                began = time.monotonic()
                try:
                    await replay_one(connection, *item)
                except pymysql.err.MySQLError:
                    result.errors += 1
                    await connection.rollback()
                    continue
                result.latencies.append(time.monotonic() - began)
                result.done += 1

    try:
        await asyncio.gather(*(worker() for _ in range(connections)))
    finally:
        wall = time.monotonic() - start
        cpu = time.process_time() - cpu_start
        pool.close()
        await pool.wait_closed()
    return result, wall, cpu


def run_replay(
    url: str,
    recordings: list[Recorded],
    tokens: dict[int, list[int]],
    connections: int,
    duration: float,
) -> tuple[RawResult, float, float]:
    """replay() on uvloop."""
    import uvloop

    return uvloop.run(replay(url, recordings, tokens, connections, duration))


def server_counts(pid: int, path: Path) -> dict[str, int]:
    """The recording server's process-wide SQL statement and Redis round-trip counts."""
    path.unlink(missing_ok=True)
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            time.sleep(0.02)
    raise TimeoutError("the recording server did not write its counts")


def percentile(values: list[float], fraction: float) -> float:
    """The value at `fraction` of the sorted values (ms), 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


def describe(recordings: list[Recorded]) -> str:
    """Statements and round trips per recorded submission."""
    statements = [
        sum(1 for s in r.statements if s[0] not in ("BEGIN", "COMMIT")) for r in recordings
    ]
    round_trips = [len(r.statements) for r in recordings]
    redis = [r.redis_round_trips for r in recordings]
    return (
        f"per submission (median of {len(recordings)} recorded): "
        f"{statistics.median(statements):.0f} SQL statements, "
        f"{statistics.median(round_trips):.0f} SQL round trips with BEGIN/COMMIT, "
        f"{statistics.median(redis):.0f} Redis round trips"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--duration", type=int, default=5)
    parser.add_argument("-c", "--connections", type=int, default=16)
    parser.add_argument("-t", "--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--capture", type=int, default=60, help="submissions to record (60)")
    parser.add_argument(
        "--tokens-per-player",
        type=int,
        default=200,
        help="unused tokens per player per run (server and raw runs each)",
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("--print-statements", action="store_true")
    parser.add_argument(
        "--profile", type=Path, help="write a cProfile of the server's submission runs here"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    refusal = wrk_refusal(args.duration, args.rounds)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 2
    if not args.database_url or not args.database_url.startswith("mysql://"):
        print("--database-url mysql://... is required (raw client: aiomysql)", file=sys.stderr)
        return 2
    os.environ.update(BCRYPT_ROUNDS="4")
    one, five, _ = os.getloadavg()
    load = f"load before run {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} CPUs"
    work_dir = Path(tempfile.mkdtemp(prefix="bench-submit-"))
    record_file = work_dir / "recorded.pickle"
    run_id = os.urandom(3).hex()
    beatmap_id = 1_960_000_000 + int(run_id, 16)
    data = make_osu(
        beatmap_id=beatmap_id,
        beatmapset_id=beatmap_id + 100_000_000,
        version="bench submit",
        n_objects=60,
        seed=1,
    )
    (work_dir / "maps").mkdir()
    (work_dir / "maps" / f"{beatmap_id}.osu").write_bytes(data)
    checksum = hashlib.md5(data).hexdigest()
    with Beatmap.parse(data) as parsed:
        attrs = parsed.difficulty(0)
    body = full_combo(attrs, 800_000)
    options = mysql_options(args.database_url)
    extra_env = {
        "BENCH_RECORD_FILE": str(record_file),
        "BENCH_RECORD_LIMIT": str(args.capture),
        "BENCH_RECORD_SKIP": str(PLAYERS),
        "BENCH_COUNTS_FILE": str(work_dir / "counts.json"),
    }
    if args.profile is not None:
        extra_env["BENCH_PROFILE_FILE"] = str(args.profile.resolve())
    server_runs: list[tuple[WrkResult, float, float]] = []
    raw_runs: list[tuple[RawResult, float, float]] = []
    database_pid = local_database_pid(args.database_url)
    database_cpu = {"server": 0.0, "raw": 0.0}
    counts = {"sql": 0, "redis": 0}
    try:
        with ServerProcess(
            database_url=args.database_url,
            redis_url=args.redis_url,
            command=(str(Path(__file__).with_name("_recording_server.py")), "serve"),
            extra_env=extra_env,
        ) as server:
            maps = str(work_dir / "maps")
            server.cli("beatmaps", "import", maps, "--status", "ranked", "--quiet")
            client = Client(server.url)
            bearers = [client.register(f"s{run_id}{i:03d}") for i in range(PLAYERS)]
            user_ids = [
                int(
                    client.http.get(
                        "/api/v2/me", headers={"Authorization": f"Bearer {bearer}"}
                    ).json()["id"]
                )
                for bearer in bearers
            ]
            bearer_of = dict(zip(user_ids, bearers, strict=True))
            # Ranked before the tokens below were issued (S-SC-4 refuses a play whose map was
            # ranked after its token); nothing has read the set yet, so no cache holds it.
            connection = pymysql.connect(**options, autocommit=True)
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE beatmapsets SET ranked_date = %s WHERE id = %s",
                    (
                        (datetime.now(UTC) - timedelta(days=1)).replace(tzinfo=None),
                        beatmap_id + 100_000_000,
                    ),
                )
            connection.close()
            # Warm-up (each player's first best, not recorded); then the board is read, as
            # lazer does after every play, so it is built in Redis as in use; then the
            # recorded submissions.
            for user_id, token in round_robin(
                insert_tokens(options, user_ids, 1, beatmap_id, checksum)
            ):
                client.submit(bearer_of[user_id], beatmap_id, token, body)
            board = client.http.get(
                f"/api/v2/beatmaps/{beatmap_id}/scores?type=global&mode=osu",
                headers={"Authorization": f"Bearer {bearers[0]}"},
            )
            assert len(board.json()["scores"]) == PLAYERS, board.text[:200]
            time.sleep(2)  # the sorted set is rebuilt 0.5 s after the read that missed it
            recorded = insert_tokens(
                options, user_ids, -(-args.capture // PLAYERS), beatmap_id, checksum
            )
            for user_id, token in round_robin(recorded):
                client.submit(bearer_of[user_id], beatmap_id, token, body)
            clear_outbox(options)  # what earlier runs' replays left
            recordings = read_recording(record_file)
            waited = time.monotonic() + 5  # the last request task ends just after its answer
            while len(recordings) < args.capture and time.monotonic() < waited:
                time.sleep(0.1)
                recordings = read_recording(record_file)
            if len(recordings) < args.capture:
                print(f"recorded {len(recordings)} of {args.capture} submissions", file=sys.stderr)
                return 1
            if args.print_statements:
                for sql, *_ in recordings[0].statements:
                    print(" ".join(sql.split())[:150])
                for command in recordings[0].redis_commands:
                    words = command.split(b"\r\n")[2::2]  # RESP: the arguments' texts
                    print("redis:", b" ".join(w[:40] for w in words).decode("utf-8", "replace"))
            for round_number in range(args.rounds):
                plan = round_robin(
                    insert_tokens(options, user_ids, args.tokens_per_player, beatmap_id, checksum)
                )
                script = work_dir / f"submit{round_number}.lua"
                entries = ",\n".join(f'{{"{bearer_of[u]}", {t}}}' for u, t in plan)
                script.write_text(
                    f"local plan = {{\n{entries}\n}}\n"
                    f"local body = {json.dumps(json.dumps(body))}\n"
                    "local i = 0\n"
                    "request = function()\n"
                    "  i = i + 1\n"
                    "  local entry = plan[((i - 1) % #plan) + 1]\n"
                    f'  return wrk.format("PUT", "/api/v2/beatmaps/{beatmap_id}/solo/scores/"'
                    " .. entry[2],\n"
                    '    {["Authorization"] = "Bearer " .. entry[1], '
                    '["Content-Type"] = "application/json"}, body)\n'
                    "end\n"
                )
                counts_before = server_counts(server.pid, work_dir / "counts.json")
                db_before = cpu_seconds(database_pid)
                before = (time.monotonic(), cpu_seconds(server.pid) or 0.0)
                result = run_wrk(server.url + "/", args, {}, script)
                after = (time.monotonic(), cpu_seconds(server.pid) or 0.0)
                db_after = cpu_seconds(database_pid)
                counts_after = server_counts(server.pid, work_dir / "counts.json")
                for key in counts:
                    counts[key] += counts_after[key] - counts_before[key]
                if db_before is not None and db_after is not None:
                    database_cpu["server"] += db_after - db_before
                server_runs.append((result, after[0] - before[0], after[1] - before[1]))
                if result.requests > len(plan):
                    print(
                        f"round {round_number}: {result.requests} PUTs for {len(plan)} tokens "
                        "(raise --tokens-per-player)",
                        file=sys.stderr,
                    )
                tokens = insert_tokens(
                    options, user_ids, args.tokens_per_player, beatmap_id, checksum
                )
                db_before = cpu_seconds(database_pid)
                raw = run_replay(
                    args.database_url, recordings, tokens, args.connections, args.duration
                )
                db_after = cpu_seconds(database_pid)
                if db_before is not None and db_after is not None:
                    database_cpu["raw"] += db_after - db_before
                raw_runs.append(raw)
                # The replay queues score:processed rows like the server but, unlike the
                # server (which publishes and drops them off the request path), leaves them:
                # dropped here, or the server's outbox relay would spend the next server run
                # publishing them.
                clear_outbox(options)
                if raw[0].exhausted:
                    print(
                        f"round {round_number}: the raw replay ran out of tokens "
                        "(raise --tokens-per-player)",
                        file=sys.stderr,
                    )
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)

    server_rate = statistics.median(r.requests_per_second for r, _, _ in server_runs)
    server_cpu = sum(c for _, _, c in server_runs) / sum(w for _, w, _ in server_runs)
    raw_rate = statistics.median(r.done / wall for r, wall, _ in raw_runs)
    raw_cpu = sum(c for _, _, c in raw_runs) / sum(w for _, w, _ in raw_runs)
    ratio = server_rate / raw_rate if raw_rate else 0.0
    server_requests = sum(r.requests for r, _, _ in server_runs)
    raw_done = sum(r.done for r, _, _ in raw_runs)
    failed = any(r.non_2xx or r.socket_errors for r, _, _ in server_runs) or any(
        r.errors for r, _, _ in raw_runs
    )
    latencies = [x for r, _, _ in raw_runs for x in r.latencies]
    settings = f"c{args.connections}, {args.duration}s runs, {args.rounds} rounds"
    db_per = {
        k: 1000 * v / max(server_requests if k == "server" else raw_done, 1)
        for k, v in database_cpu.items()
    }
    missed = []
    if ratio < RATE_TARGET:
        missed.append(f"server/raw {ratio:.2f} < {RATE_TARGET}")
    if server_cpu >= CPU_TARGET:
        missed.append(f"server CPU {server_cpu:.0%} of a core >= {CPU_TARGET:.0%}")
    if args.json:
        print(
            json.dumps(
                {
                    "settings": settings,
                    "load": load,
                    "server_per_s": round(server_rate, 1),
                    "raw_per_s": round(raw_rate, 1),
                    "ratio": round(ratio, 3),
                    "server_cpu_core_share": round(server_cpu, 3),
                    "raw_client_cpu_core_share": round(raw_cpu, 3),
                    "database_cpu_ms_per_submission": {k: round(v, 3) for k, v in db_per.items()},
                    "shape": describe(recordings),
                    "process_counts_per_submission": {
                        k: round(v / max(server_requests, 1), 2) for k, v in counts.items()
                    },
                    "missed": missed,
                },
                indent=2,
            )
        )
    else:
        print(f"MariaDB + {'Redis' if args.redis_url else 'in-process Redis'}; {settings}; {load}")
        print(describe(recordings))
        print(
            f"server runs, whole process: {counts['sql'] / max(server_requests, 1):.1f} SQL "
            f"statements and {counts['redis'] / max(server_requests, 1):.1f} Redis round trips "
            "per submission"
        )
        print(f"{'run':<8}{'subs/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'count':>8}{'errors':>8}  CPU")
        for r, wall, cpu in server_runs:
            print(
                f"{'server':<8}{r.requests_per_second:>9.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}"
                f"{r.requests:>8}{r.non_2xx + r.socket_errors:>8}  server process "
                f"{cpu / wall:.0%} of a core"
            )
        for raw_result, wall, cpu in raw_runs:
            print(
                f"{'raw':<8}{raw_result.done / wall:>9.0f}"
                f"{percentile(raw_result.latencies, 0.5):>9.2f}"
                f"{percentile(raw_result.latencies, 0.99):>9.2f}"
                f"{raw_result.done:>8}{raw_result.errors:>8}  raw client {cpu / wall:.0%} of a core"
            )
        print(
            f"median: server {server_rate:.0f}/s, raw {raw_rate:.0f}/s, ratio {ratio:.2f} "
            f"(target >= {RATE_TARGET}); server process {server_cpu:.0%} of a core "
            f"(target < {CPU_TARGET:.0%}); raw p50 {percentile(latencies, 0.5):.2f} ms"
        )
        if database_pid is not None:
            print(
                f"database CPU per submission: server runs {db_per['server']:.2f} ms, "
                f"raw runs {db_per['raw']:.2f} ms"
            )
    if failed:
        print("some requests failed: the figures above are not valid", file=sys.stderr)
    for miss in missed:
        print(f"target MISSED: {miss}", file=sys.stderr)
    return 1 if failed or missed else 0


if __name__ == "__main__":
    sys.exit(main())
