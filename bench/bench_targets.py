"""Issue 17's comparison in one command: our hot reads against a trivial Starlette app.

    python bench/bench_targets.py --database-url mysql://root@127.0.0.1:3306/bench \\
        --redis-url redis://127.0.0.1:6379/14     # disposable database and Redis db

Two servers run side by side on loopback: `bench/_trivial_app.py` (Starlette answering
`JSONResponse({"ok": True})`, the same uvicorn settings as `python -m server serve`) and our
server at its default settings (LOG_LEVEL=info, default cache lifetimes; only the rate
limits are raised so the bench is not refused). The bench imports one synthetic ranked map,
registers 51 players, submits 50 scores to fill the map's leaderboard, then in each round
runs wrk (`-t1 -c32 -d10s` by default) against the trivial app and, right after, against
one of our endpoints, endpoint by endpoint:

- `GET /health`;
- `GET /api/v2/me/`;
- `GET /api/v2/users/{id}/osu` (the profile lazer fetches);
- `GET /api/v2/beatmaps/{id}/scores` (the 50-score leaderboard, the viewer on it).

Each ratio is our req/s over the trivial app's in the run just before it; the printed
ratio is the median over rounds. Beside it, each server's CPU time per request (from
/proc, user + system, median over rounds) and their ratio: on a shared, noisy machine the
CPU a request costs moves less than the rate wrk reaches.

Targets (issue 17): /health >= 0.85, /me/ and users/{id}/{mode} >= 0.60, the leaderboard
>= 0.50, and p99 <= 5x p50 for /me/, the profile and the leaderboard. Exit status 1 when
a target is missed or a request failed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from _server import ServerProcess, wrk_refusal  # noqa: E402
from bench_api import WrkResult, median_result, run_wrk  # noqa: E402
from bench_scores import Client, full_combo, played_through  # noqa: E402

from server.core.pp import Beatmap  # noqa: E402
from tests.beatmap_data import make_osu  # noqa: E402

BOARD_SIZE = 50
# endpoint -> (minimum ratio to trivial Starlette, whether p99 <= 5x p50 is a target)
TARGETS: dict[str, tuple[float, bool]] = {
    "health": (0.85, False),
    "me": (0.60, True),
    "profile": (0.60, True),
    "leaderboard": (0.50, True),
}
TAIL_FACTOR = 5.0


@dataclass
class Row:
    """One endpoint over all rounds: ours and the trivial run paired with each."""

    ours: list[WrkResult]
    trivial: list[WrkResult]
    ours_cpu: list[float] = field(default_factory=list)  # CPU seconds per request
    trivial_cpu: list[float] = field(default_factory=list)

    def cpu_ratio(self) -> float:
        """Trivial Starlette's CPU per request over ours (median over rounds)."""
        return statistics.median(
            t / o for o, t in zip(self.ours_cpu, self.trivial_cpu, strict=True) if o > 0
        )

    def ratio(self) -> float:
        return statistics.median(
            o.requests_per_second / t.requests_per_second
            for o, t in zip(self.ours, self.trivial, strict=True)
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(
    server: ServerProcess, url: str, args: argparse.Namespace, auth: dict[str, str]
) -> tuple[WrkResult, float]:
    """One wrk run and the server's CPU seconds per request during it."""
    before = cpu_seconds(server.pid)
    result = run_wrk(url, args, auth)
    return result, (cpu_seconds(server.pid) - before) / max(result.requests, 1)


def fill_board(server: ServerProcess, run_id: str, maps_dir: Path) -> tuple[str, int, int]:
    """Import a map, register players, submit BOARD_SIZE scores; (viewer token, viewer id,
    beatmap id)."""
    beatmap_id = 1_960_000_000 + int(run_id, 16) % 10_000_000
    data = make_osu(
        beatmap_id=beatmap_id,
        beatmapset_id=beatmap_id + 10_000_000,
        version="targets",
        n_objects=20,
    )
    (maps_dir / f"{beatmap_id}.osu").write_bytes(data)
    with Beatmap.parse(data) as parsed:
        attrs = parsed.difficulty(0)
        length = parsed.info().length_ms / 1000
    checksum = hashlib.md5(data).hexdigest()
    server.cli("beatmaps", "import", str(maps_dir), "--status", "ranked", "--quiet")
    client = Client(server.url)
    bearers = [client.register(f"t{run_id}{i:03d}") for i in range(BOARD_SIZE + 1)]
    issued = time.monotonic()
    tokens = [client.token(bearer, beatmap_id, checksum) for bearer in bearers[:BOARD_SIZE]]
    played_through(issued, length)
    for i, (bearer, token) in enumerate(zip(bearers[:BOARD_SIZE], tokens, strict=True)):
        client.submit(bearer, beatmap_id, token, full_combo(attrs, 900_000 - i))
    viewer = bearers[1]
    me = client.http.get("/api/v2/me/", headers={"Authorization": f"Bearer {viewer}"})
    me.raise_for_status()
    return viewer, int(me.json()["id"]), beatmap_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument("-t", "--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    args = parser.parse_args()
    refusal = wrk_refusal(args.duration, args.rounds)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 2
    if not (args.database_url and args.redis_url):
        print("note: the issue's figures are on MariaDB + Redis (--database-url, --redis-url)")
    # Cheap password hashes for the set-up's sign-ins (ServerProcess lifts the set-up limits).
    os.environ.update(BCRYPT_ROUNDS="4")
    one, five, _ = os.getloadavg()
    load = f"load before run {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} CPUs"
    maps_dir = Path(tempfile.mkdtemp(prefix="bench-targets-maps-"))
    run_id = os.urandom(3).hex()
    rows = {name: Row([], []) for name in TARGETS}
    trivial = ServerProcess(
        command=(str(Path(__file__).with_name("_trivial_app.py")),), log_level="info"
    )
    ours = ServerProcess(database_url=args.database_url, redis_url=args.redis_url, log_level="info")
    try:
        with trivial, ours:
            viewer, viewer_id, beatmap_id = fill_board(ours, run_id, maps_dir)
            auth = {"Authorization": f"Bearer {viewer}", "x-api-version": "20251101"}
            paths = {
                "health": "/health",
                "me": "/api/v2/me/",
                "profile": f"/api/v2/users/{viewer_id}/osu",
                "leaderboard": f"/api/v2/beatmaps/{beatmap_id}/scores?type=global&mode=osu",
            }
            for path in paths.values():
                status, body = ours.get(path, viewer)
                if status != 200:
                    print(f"GET {path} answered {status}: {body[:200]!r}", file=sys.stderr)
                    return 1
            for _ in range(args.rounds):
                for name, path in paths.items():
                    row = rows[name]
                    result, cpu = measured(trivial, trivial.url + path, args, auth)
                    row.trivial.append(result)
                    row.trivial_cpu.append(cpu)
                    result, cpu = measured(ours, ours.url + path, args, auth)
                    row.ours.append(result)
                    row.ours_cpu.append(cpu)
    finally:
        shutil.rmtree(maps_dir, ignore_errors=True)

    backend = (
        f"database={'external' if args.database_url else 'embedded SQLite'}, "
        f"redis={'external' if args.redis_url else 'in-process'}"
    )
    print(
        f"{backend}; LOG_LEVEL=info, default caches; wrk -t{args.threads} -c{args.connections} "
        f"-d{args.duration}s, {args.rounds} alternating rounds; {load}"
    )
    print(
        f"{'endpoint':<13}{'req/s':>8}{'trivial':>9}{'ratio':>7}  {'target':<11}"
        f"{'p50 ms':>7}{'p99 ms':>8}{'p99/p50':>8}  {'target':<9}{'cpu us':>7}{'trivial':>8}"
        f"{'ratio':>6}"
    )
    missed: list[str] = []
    failed = False
    for name, row in rows.items():
        minimum, tail_checked = TARGETS[name]
        mine, floor = median_result(row.ours), median_result(row.trivial)
        ratio = row.ratio()
        tail = mine.p99_ms / mine.p50_ms if mine.p50_ms else float("inf")
        ok_ratio = ratio >= minimum
        ok_tail = not tail_checked or tail <= TAIL_FACTOR
        if not ok_ratio:
            missed.append(f"{name}: {ratio:.2f} of trivial Starlette, target >= {minimum:.2f}")
        if not ok_tail:
            missed.append(f"{name}: p99 {tail:.1f}x p50, target <= {TAIL_FACTOR:.0f}x")
        failed = failed or bool(mine.non_2xx or mine.socket_errors)
        tail_target = f"<={TAIL_FACTOR:.0f}x {'ok' if ok_tail else 'MISS'}" if tail_checked else ""
        print(
            f"{name:<13}{mine.requests_per_second:>8.0f}{floor.requests_per_second:>9.0f}"
            f"{ratio:>7.2f}  >={minimum:.2f} {'ok' if ok_ratio else 'MISS':<4}"
            f"{mine.p50_ms:>7.2f}{mine.p99_ms:>8.2f}{tail:>8.1f}  {tail_target:<9}"
            f"{statistics.median(row.ours_cpu) * 1e6:>7.0f}"
            f"{statistics.median(row.trivial_cpu) * 1e6:>8.0f}{row.cpu_ratio():>6.2f}"
        )
    if failed:
        print("some requests failed: the figures above are not valid", file=sys.stderr)
    for line in missed:
        print(f"target missed: {line}", file=sys.stderr)
    return 1 if failed or missed else 0


if __name__ == "__main__":
    sys.exit(main())
