"""Score hot paths under wrk against the real server, as req/s beside GET /health in one run.

    python bench/bench_scores.py --database-url mysql://root@127.0.0.1:3306/bench_scores \\
        --redis-url redis://127.0.0.1:6379/14     # disposable database and Redis db

The script starts `python -m server serve` (bench/_server.py), imports two synthetic ranked
maps with `python -m server beatmaps import`, registers 60 players over HTTP, fills one map's
leaderboard with 50 scores (one per player) and then runs wrk, alternating in rounds:

- `GET /health`: the floor (routing, middleware, one JSON encode);
- `GET /api/v2/beatmaps/{id}/scores`: the 50-score leaderboard lazer asks for after every
  play and on song select (Redis sorted set, cached rendering, the caller's own best);
- `GET /api/v2/users/{id}/osu`: the profile lazer fetches after a play and at login;
- `GET /api/v2/rankings/osu/performance`: a 50-row rankings page;
- `PUT /api/v2/beatmaps/{id}/solo/scores/{token}`: real submissions, each with an unused
  token prepared beforehand (30 players, so per-user row locks do not serialise everything).
  The server refuses a pass that arrives sooner than the map can be played, so the bench
  waits out the map's length (about 35 s) after preparing tokens.

Targets: the leaderboard and profile reads at least half of /health's req/s. Submission is
reported with its p50/p99; it commits a transaction per request, so it is bounded by the
database. Exit status 1 when a request failed or a read target was missed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

import httpx  # noqa: E402
import msgspec  # noqa: E402
from _server import LAZER_CLIENT_ID, LAZER_SECRET, ServerProcess, wrk_refusal  # noqa: E402
from bench_api import WrkResult, median_result, run_wrk  # noqa: E402

from server.core.pp import Beatmap, DifficultyAttributes  # noqa: E402
from tests.beatmap_data import make_osu  # noqa: E402
from tests.helpers import lazer_multipart  # noqa: E402

READ_TARGET = 0.5
PLAYERS = 60
SUBMITTERS = 30


def play_body(great: int, ticks: int, tails: int, combo: int, total: int) -> dict[str, object]:
    maximum = {
        k: v
        for k, v in {"great": great, "large_tick_hit": ticks, "slider_tail_hit": tails}.items()
        if v
    }
    return {
        "ruleset_id": 0,
        "passed": True,
        "total_score": total,
        "total_score_without_mods": total,
        "accuracy": 1.0,
        "max_combo": combo,
        "rank": "X",
        "statistics": maximum,
        "maximum_statistics": maximum,
        "pauses": [],
        "ranked": False,
    }


def full_combo(attrs: DifficultyAttributes, total: int) -> dict[str, object]:
    """`play_body` of a full-combo SS of the map whose difficulty attributes these are."""
    return play_body(
        attrs.n_circles + attrs.n_sliders + attrs.n_spinners,
        attrs.n_large_ticks,
        attrs.n_sliders,
        attrs.max_combo,
        total,
    )


class Client:
    """The lazer calls the bench needs, over HTTP to the bench server."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)

    def register(self, name: str) -> str:
        password = "pw-" + os.urandom(8).hex()
        body, headers = lazer_multipart(
            {
                "user[username]": name,
                "user[user_email]": f"{name}@example.com",
                "user[password]": password,
            }
        )
        r = self.http.post("/users", content=body, headers=headers)
        r.raise_for_status()
        t = self.http.post(
            "/oauth/token",
            data={
                "grant_type": "password",
                "client_id": LAZER_CLIENT_ID,
                "client_secret": LAZER_SECRET,
                "username": name,
                "password": password,
                "scope": "*",
            },
        )
        t.raise_for_status()
        return str(t.json()["access_token"])

    def token(self, bearer: str, beatmap_id: int, checksum: str) -> int:
        body, headers = lazer_multipart(
            {"beatmap_hash": checksum, "ruleset_id": "0", "version_hash": "bench"}
        )
        r = self.http.post(
            f"/api/v2/beatmaps/{beatmap_id}/solo/scores",
            content=body,
            headers={**headers, "Authorization": f"Bearer {bearer}"},
        )
        if r.status_code != 200:
            raise RuntimeError(f"token for {beatmap_id}: {r.status_code} {r.text[:200]}")
        return int(r.json()["id"])

    def submit(
        self, bearer: str, beatmap_id: int, token: int, body: dict[str, object]
    ) -> dict[str, object]:
        r = self.http.put(
            f"/api/v2/beatmaps/{beatmap_id}/solo/scores/{token}",
            headers={"Authorization": f"Bearer {bearer}"},
            json=body,
        )
        r.raise_for_status()
        return dict(r.json())


def cpu_seconds(pid: int | None, kernel_only: bool = False) -> float | None:
    """User plus system (or only system) CPU seconds a process has used so far (Linux
    /proc), or None."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = int(fields[12]) if kernel_only else int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def local_database_pid(database_url: str | None) -> int | None:
    """The MariaDB/MySQL server's pid when it runs on this machine (for its CPU time)."""
    if not database_url or not any(h in database_url for h in ("@127.0.0.1", "@localhost")):
        return None
    for name in ("mariadbd", "mysqld"):
        found = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout
        if found.split():
            return int(found.split()[0])
    return None


class CpuShare(msgspec.Struct):
    """Where a run's CPU went: the server process and the database, per request."""

    wall_seconds: float = 0.0
    server_seconds: float = 0.0
    server_kernel_seconds: float = 0.0  # system time: mostly socket I/O to the database
    database_seconds: float | None = None
    requests: int = 0

    def add(
        self, wall: float, server: float, kernel: float, database: float | None, requests: int
    ) -> None:
        """Accumulate one run."""
        self.wall_seconds += wall
        self.server_seconds += server
        self.server_kernel_seconds += kernel
        if database is not None:
            self.database_seconds = (self.database_seconds or 0.0) + database
        self.requests += requests

    def line(self) -> str:
        """One human line."""
        per = 1000 / max(self.requests, 1)
        text = (
            f"submit CPU: server process {self.server_seconds / self.wall_seconds:.0%} of one "
            f"core, {self.server_seconds * per:.2f} ms per request "
            f"({self.server_kernel_seconds * per:.2f} ms of it in the kernel)"
        )
        if self.database_seconds is not None:
            text += f"; database {self.database_seconds * per:.2f} ms per request"
        return text


def submission_script(path: Path, beatmap_id: int, plan: list[tuple[str, int]], body: str) -> None:
    """A wrk Lua script that PUTs each prepared (bearer, token) once, in order."""
    entries = ",\n".join(f'{{"{bearer}", {token}}}' for bearer, token in plan)
    path.write_text(
        f"local plan = {{\n{entries}\n}}\n"
        f"local body = {json.dumps(body)}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i + 1\n"
        "  local entry = plan[((i - 1) % #plan) + 1]\n"
        f'  return wrk.format("PUT", "/api/v2/beatmaps/{beatmap_id}/solo/scores/" .. entry[2],\n'
        '    {["Authorization"] = "Bearer " .. entry[1], ["Content-Type"] = "application/json"},'
        " body)\n"
        "end\n"
    )


def played_through(issued: float, length_seconds: float) -> None:
    """Wait until tokens issued at `issued` are as old as a play of the map."""
    time.sleep(max(0.0, issued + length_seconds + 1 - time.monotonic()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--duration", type=int, default=5)
    parser.add_argument("-c", "--connections", type=int, default=16)
    parser.add_argument("-t", "--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--tokens-per-player",
        type=int,
        default=120,
        help="prepared submission tokens per submitting player per round",
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    refusal = wrk_refusal(args.duration, args.rounds)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 2
    # Cheap password hashes for the set-up's sign-ins (ServerProcess lifts the set-up limits).
    os.environ.update(BCRYPT_ROUNDS="4")
    one, five, _ = os.getloadavg()
    load = f"load before run {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} CPUs"
    maps_dir = Path(tempfile.mkdtemp(prefix="bench-scores-maps-"))
    run_id = os.urandom(3).hex()
    ids = [1_950_000_000 + int(run_id, 16) * 4 + i for i in range(2)]
    checksums = []
    lengths = []
    for i, beatmap_id in enumerate(ids):
        data = make_osu(
            beatmap_id=beatmap_id,
            beatmapset_id=beatmap_id + 100_000_000,
            version=f"bench {i}",
            n_objects=60,
            seed=i,
        )
        (maps_dir / f"{beatmap_id}.osu").write_bytes(data)
        with Beatmap.parse(data) as parsed:
            attrs = parsed.difficulty(0)
            lengths.append(parsed.info().length_ms / 1000)
        checksums.append((hashlib.md5(data).hexdigest(), attrs))
    try:
        with ServerProcess(database_url=args.database_url, redis_url=args.redis_url) as server:
            server.cli("beatmaps", "import", str(maps_dir), "--status", "ranked", "--quiet")
            client = Client(server.url)
            bearers = [client.register(f"b{run_id}{i:03d}") for i in range(PLAYERS)]
            board_map, submit_map = ids
            (board_sum, a), (submit_sum, b) = checksums
            issued = time.monotonic()
            tokens = [client.token(bearer, board_map, board_sum) for bearer in bearers[:50]]
            played_through(issued, lengths[0])
            for i, (bearer, token) in enumerate(zip(bearers[:50], tokens, strict=True)):
                client.submit(bearer, board_map, token, full_combo(a, 900_000 - i))
            viewer = bearers[0]
            auth = {"Authorization": f"Bearer {viewer}", "x-api-version": "20251101"}
            me = client.http.get("/api/v2/me", headers=auth).json()
            reads = {
                "health": "/health",
                "leaderboard": f"/api/v2/beatmaps/{board_map}/scores?type=global&mode=osu",
                "profile": f"/api/v2/users/{me['id']}/osu?key=id",
                "rankings": "/api/v2/rankings/osu/performance",
            }
            for name, path in reads.items():
                r = client.http.get(path, headers=auth)
                if r.status_code != 200:
                    print(f"GET {path} answered {r.status_code}: {r.text[:200]}", file=sys.stderr)
                    return 1
                if name == "leaderboard":
                    assert len(r.json()["scores"]) == 50
            body = full_combo(b, 800_000)
            results: dict[str, list[WrkResult]] = {name: [] for name in [*reads, "submit"]}
            # Is submission bounded by the database or by the server's Python? CPU time of
            # both during the submission runs tells: a server process short of a full core
            # while requests queue is waiting on the database.
            cpu = CpuShare()
            database_pid = local_database_pid(args.database_url)
            created = 0
            for round_number in range(args.rounds):
                for name, path in reads.items():
                    results[name].append(run_wrk(server.url + path, args, auth))
                issued = time.monotonic()
                plan = [
                    (bearer, client.token(bearer, submit_map, submit_sum))
                    for _ in range(args.tokens_per_player)
                    for bearer in bearers[:SUBMITTERS]
                ]
                played_through(issued, lengths[1])
                script = maps_dir / f"submit{round_number}.lua"
                submission_script(script, submit_map, plan, json.dumps(body))
                before = (
                    time.monotonic(),
                    cpu_seconds(server.pid),
                    cpu_seconds(database_pid),
                    cpu_seconds(server.pid, kernel_only=True),
                )
                result = run_wrk(server.url + "/", args, {}, script)
                after = (
                    time.monotonic(),
                    cpu_seconds(server.pid),
                    cpu_seconds(database_pid),
                    cpu_seconds(server.pid, kernel_only=True),
                )
                results["submit"].append(result)
                if before[1] is not None and after[1] is not None:
                    database = (
                        after[2] - before[2]
                        if before[2] is not None and after[2] is not None
                        else None
                    )
                    kernel = (after[3] or 0.0) - (before[3] or 0.0)
                    cpu.add(
                        after[0] - before[0],
                        after[1] - before[1],
                        kernel,
                        database,
                        result.requests,
                    )
                created += min(result.requests, len(plan))
                if result.requests > len(plan):
                    print(
                        f"round {round_number}: {result.requests} PUTs for {len(plan)} tokens; "
                        "the rest were idempotent repeats (raise --tokens-per-player)",
                        file=sys.stderr,
                    )
    finally:
        shutil.rmtree(maps_dir, ignore_errors=True)

    summary = {name: median_result(values) for name, values in results.items()}
    floor = summary["health"].requests_per_second
    backend = (
        f"database={'external' if args.database_url else 'embedded SQLite'}, "
        f"redis={'external' if args.redis_url else 'in-process'}"
    )
    settings = f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.rounds} rounds"
    failed = any(r.non_2xx or r.socket_errors for rs in results.values() for r in rs)
    missed = [
        n
        for n in ("leaderboard", "profile")
        if summary[n].requests_per_second < READ_TARGET * floor
    ]
    if args.json:
        print(
            json.dumps(
                {
                    "backend": backend,
                    "settings": settings,
                    "load": load,
                    "median": {k: v.__dict__ for k, v in summary.items()},
                    "ratio": {
                        k: round(v.requests_per_second / floor, 3) for k, v in summary.items()
                    },
                    "submit_cpu": msgspec.to_builtins(cpu),
                },
                indent=2,
            )
        )
    else:
        print(f"{backend}; {settings}; {load}")
        print(
            f"{'endpoint':<13}{'req/s':>9}{'x health':>10}{'p50 ms':>9}{'p99 ms':>9}"
            f"{'requests':>10}{'errors':>8}"
        )
        for name, r in summary.items():
            print(
                f"{name:<13}{r.requests_per_second:>9.0f}{r.requests_per_second / floor:>10.2f}"
                f"{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.requests:>10}{r.non_2xx + r.socket_errors:>8}"
            )
        print(f"scores created by the submission runs: {created}")
        if cpu.requests:
            print(cpu.line())
    if failed:
        print("some requests failed: the figures above are not valid", file=sys.stderr)
    for name in missed:
        print(f"{name}: below {READ_TARGET:.0%} of /health (target MISSED)", file=sys.stderr)
    return 1 if failed or missed else 0


if __name__ == "__main__":
    sys.exit(main())
