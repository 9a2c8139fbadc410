"""GET /health against GET /api/v2/me under wrk, same settings, alternating rounds.

/health is the floor (routing, middleware, one JSON encode); /me adds bearer-token
authentication (JWT check plus the Redis token cache), the account and statistics queries and
the APIMe encode. The ratio me/health says what the authenticated path costs.

    python bench/bench_api.py                    # embedded default, 2 rounds of 5 s each
    python bench/bench_api.py -d 10 -c 32 --rounds 3
    python bench/bench_api.py --database-url mysql://root@127.0.0.1:3306/bench \\
        --redis-url redis://127.0.0.1:6379/14   # disposable database: it gets a user
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from _server import ServerProcess, wrk_refusal

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclass(frozen=True)
class WrkResult:
    """One wrk run, parsed."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unparseable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """Requests/s, p50/p99 latency and error counts from `wrk --latency` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and total):
        raise ValueError(f"unexpected wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkResult(
        requests_per_second=float(rps.group(1)),
        p50_ms=_ms(p50.group(1)),
        p99_ms=_ms(p99.group(1)),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
    )


def run_wrk(
    url: str, args: argparse.Namespace, headers: dict[str, str], script: Path | None = None
) -> WrkResult:
    """One bounded wrk run against `url` (optionally driven by a Lua `script`)."""
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "5s",
        "--latency",
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=args.duration + 30, check=True
    )
    return parse_wrk(done.stdout)


def median_result(results: list[WrkResult]) -> WrkResult:
    """Per-field median over rounds (counts are summed)."""
    return WrkResult(
        requests_per_second=statistics.median(r.requests_per_second for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        requests=sum(r.requests for r in results),
        non_2xx=sum(r.non_2xx for r in results),
        socket_errors=sum(r.socket_errors for r in results),
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--duration", type=int, default=5, help="seconds per wrk run (5)")
    parser.add_argument("-c", "--connections", type=int, default=16, help="open connections (16)")
    parser.add_argument("-t", "--threads", type=int, default=1, help="wrk threads (1)")
    parser.add_argument("--rounds", type=int, default=2, help="health/me pairs to alternate (2)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="use this (disposable) MySQL/MariaDB instead of embedded SQLite "
        "(default: $BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL"),
        help="use this Redis instead of the in-process stand-in (default: $BENCH_REDIS_URL)",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=["debug", "info", "warning", "error"],
        help="server LOG_LEVEL (warning: no per-request access log lines; info logs each one)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the bench and print the table (or JSON)."""
    args = _parser().parse_args(argv)
    refusal = wrk_refusal(args.duration, args.rounds, 120, 10)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 2

    # Other work on the machine skews every figure: note the load from before the run.
    one, five, _ = os.getloadavg()
    load = f"load before run {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} CPUs"
    # Unique per run, so a reused external database does not refuse the name.
    username, password = "bench" + os.urandom(4).hex(), "bench-password-" + os.urandom(6).hex()
    with ServerProcess(
        database_url=args.database_url, redis_url=args.redis_url, log_level=args.log_level
    ) as server:
        server.add_user(username, password)
        token = server.password_grant(username, password)
        # A bench of 401s would measure the wrong path: check both endpoints answer 200 first.
        for path, bearer in (("/health", None), ("/api/v2/me", token)):
            status, body = server.get(path, bearer)
            if status != 200:
                print(f"GET {path} answered {status}: {body[:200]!r}", file=sys.stderr)
                return 1
        auth = {"Authorization": f"Bearer {token}", "x-api-version": "20251101"}
        health: list[WrkResult] = []
        me: list[WrkResult] = []
        for _ in range(args.rounds):
            health.append(run_wrk(f"{server.url}/health", args, {}))
            me.append(run_wrk(f"{server.url}/api/v2/me", args, auth))

    summary = {"health": median_result(health), "me": median_result(me)}
    ratio = summary["me"].requests_per_second / summary["health"].requests_per_second
    backend = (
        f"database={'external' if args.database_url else 'embedded SQLite'}, "
        f"redis={'external' if args.redis_url else 'in-process'}"
    )
    settings = (
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
        f"{args.rounds} alternating rounds, median per endpoint, LOG_LEVEL={args.log_level}"
    )
    if args.json:
        print(
            json.dumps(
                {
                    "backend": backend,
                    "settings": settings,
                    "load": load,
                    "rounds": {
                        "health": [asdict(r) for r in health],
                        "me": [asdict(r) for r in me],
                    },
                    "median": {name: asdict(r) for name, r in summary.items()},
                    "ratio_me_over_health": round(ratio, 3),
                },
                indent=2,
            )
        )
    else:
        print(f"{backend}; {settings}; {load}")
        print(
            f"{'endpoint':<12}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'errors':>8}"
        )
        for name, result in summary.items():
            errors = result.non_2xx + result.socket_errors
            print(
                f"{name:<12}{result.requests_per_second:>10.0f}{result.p50_ms:>9.2f}"
                f"{result.p99_ms:>9.2f}{result.requests:>10}{errors:>8}"
            )
        print(f"ratio me/health (req/s): {ratio:.3f}")
    failed = any(r.non_2xx or r.socket_errors for r in health + me)
    if failed:
        print("some requests failed: the figures above are not valid", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
