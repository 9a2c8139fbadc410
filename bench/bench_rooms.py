"""Rooms under wrk against the real server, as req/s beside GET /health in one run.

    python bench/bench_rooms.py --database-url mysql://root@127.0.0.1:3306/bench_rooms \\
        --redis-url redis://127.0.0.1:6379/14     # disposable database and Redis db

The script starts `python -m server serve` (bench/_server.py), imports two synthetic ranked
maps, registers 1,000 players over HTTP (`--participants`), opens a playlist with one item on
each map and has every player play the first item once (a playlist token, then the score, as
lazer does), so the room's leaderboard holds 1,000 participants. Then it runs wrk, alternating
in rounds:

- `GET /health`: the floor;
- `GET /api/v2/rooms/{id}/leaderboard`: the room ranking (top 50 and the caller's own entry)
  lazer's playlist and daily challenge screens show, over 1,000 participants;
- `GET /api/v2/rooms/{id}/playlist/{item}/scores`: the item board (50 scores and the caller's);
- `GET /api/v2/rooms/{id}`: the room with its playlist, host and recent participants;
- submissions side by side: `PUT /api/v2/beatmaps/{id}/solo/scores/{token}` and
  `PUT /api/v2/rooms/{id}/playlist/{item}/scores/{token}` on the same map, each with unused
  tokens prepared beforehand for 30 players (the bench waits out the map's length after
  preparing them, as the server refuses a pass that arrives sooner).

The table gives req/s (median over rounds), the ratio to /health and wrk's p50/p99; playlist
submission is also given as a ratio to solo submission. Exit status 1 when a request failed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from _server import ServerProcess, wrk_refusal  # noqa: E402
from bench_api import WrkResult, median_result, run_wrk  # noqa: E402
from bench_scores import Client, full_combo, played_through  # noqa: E402

from server.core.pp import Beatmap  # noqa: E402
from tests.beatmap_data import make_osu  # noqa: E402
from tests.helpers import lazer_multipart  # noqa: E402

SUBMITTERS = 30


def playlist_token(
    client: Client, bearer: str, room: int, item: int, beatmap: int, checksum: str
) -> int:
    """POST rooms/{room}/playlist/{item}/scores as lazer's CreateRoomScoreRequest."""
    body, headers = lazer_multipart(
        {
            "version_hash": "bench",
            "beatmap_id": str(beatmap),
            "beatmap_hash": checksum,
            "ruleset_id": "0",
        }
    )
    r = client.http.post(
        f"/api/v2/rooms/{room}/playlist/{item}/scores",
        content=body,
        headers={**headers, "Authorization": f"Bearer {bearer}"},
    )
    if r.status_code != 200:
        raise RuntimeError(f"playlist token: {r.status_code} {r.text[:200]}")
    return int(r.json()["id"])


def submit_script(path: Path, prefix: str, plan: list[tuple[str, int]], body: str) -> None:
    """A wrk Lua script that PUTs `prefix .. token` for each prepared (bearer, token) once."""
    entries = ",\n".join(f'{{"{bearer}", {token}}}' for bearer, token in plan)
    path.write_text(
        f"local plan = {{\n{entries}\n}}\n"
        f"local body = {json.dumps(body)}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i + 1\n"
        "  local entry = plan[((i - 1) % #plan) + 1]\n"
        f'  return wrk.format("PUT", "{prefix}" .. entry[2],\n'
        '    {["Authorization"] = "Bearer " .. entry[1], ["Content-Type"] = "application/json"},'
        " body)\n"
        "end\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--duration", type=int, default=5)
    parser.add_argument("-c", "--connections", type=int, default=16)
    parser.add_argument("-t", "--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument(
        "--tokens-per-player",
        type=int,
        default=60,
        help="prepared tokens per submitting player, per round and kind of submission",
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    refusal = wrk_refusal(args.duration, args.rounds)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 2
    if not SUBMITTERS <= args.participants <= 2000:
        print(f"participants must be {SUBMITTERS}-2000", file=sys.stderr)
        return 2
    os.environ.update(
        API_RATE_LIMIT_PER_MINUTE="1000000",
        BCRYPT_ROUNDS="4",
    )
    one, five, _ = os.getloadavg()
    load = f"load before run {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} CPUs"
    maps_dir = Path(tempfile.mkdtemp(prefix="bench-rooms-maps-"))
    run_id = os.urandom(3).hex()
    ids = [1_960_000_000 + int(run_id, 16) * 4 + i for i in range(2)]
    maps = []
    for i, beatmap_id in enumerate(ids):
        data = make_osu(
            beatmap_id=beatmap_id,
            beatmapset_id=beatmap_id + 100_000_000,
            version=f"rooms bench {i}",
            n_objects=60,
            seed=i,
        )
        (maps_dir / f"{beatmap_id}.osu").write_bytes(data)
        with Beatmap.parse(data) as parsed:
            maps.append(
                (
                    hashlib.md5(data).hexdigest(),
                    parsed.difficulty(0),
                    parsed.info().length_ms / 1000,
                )
            )
    results: dict[str, list[WrkResult]] = {}
    try:
        with ServerProcess(database_url=args.database_url, redis_url=args.redis_url) as server:
            server.cli("beatmaps", "import", str(maps_dir), "--status", "ranked", "--quiet")
            client = Client(server.url)
            started = time.monotonic()
            bearers = [client.register(f"r{run_id}{i:04d}") for i in range(args.participants)]
            host = bearers[0]
            auth = {"Authorization": f"Bearer {host}", "x-api-version": "20251101"}
            created = client.http.post(
                "/api/v2/rooms",
                json={
                    "name": "bench room",
                    "duration": 1440,
                    "type": "playlists",
                    "playlist": [{"ruleset_id": 0, "beatmap_id": b} for b in ids],
                },
                headers=auth,
            )
            if created.status_code != 200:
                print(
                    f"POST rooms answered {created.status_code}: {created.text[:200]}",
                    file=sys.stderr,
                )
                return 1
            room = created.json()
            room_id = room["id"]
            board_item, submit_item = (item["id"] for item in room["playlist"])
            (board_sum, a, board_length), (submit_sum, b, submit_length) = maps

            issued = time.monotonic()
            tokens = [
                playlist_token(client, bearer, room_id, board_item, ids[0], board_sum)
                for bearer in bearers
            ]
            played_through(issued, board_length)
            for i, (bearer, token) in enumerate(zip(bearers, tokens, strict=True)):
                r = client.http.put(
                    f"/api/v2/rooms/{room_id}/playlist/{board_item}/scores/{token}",
                    headers={"Authorization": f"Bearer {bearer}"},
                    json=full_combo(a, 900_000 - i * 10),
                )
                r.raise_for_status()
            setup_seconds = time.monotonic() - started
            reads = {
                "health": "/health",
                "room board": f"/api/v2/rooms/{room_id}/leaderboard",
                "item board": f"/api/v2/rooms/{room_id}/playlist/{board_item}/scores",
                "room": f"/api/v2/rooms/{room_id}",
            }
            viewer = {"Authorization": f"Bearer {bearers[-1]}", "x-api-version": "20251101"}
            for name, path in reads.items():
                r = client.http.get(path, headers=viewer)
                if r.status_code != 200:
                    print(f"GET {path} answered {r.status_code}: {r.text[:200]}", file=sys.stderr)
                    return 1
                if name == "room board":
                    shown = r.json()
                    assert len(shown["leaderboard"]) == 50
                    assert shown["user_score"]["position"] == args.participants
            results = {name: [] for name in [*reads, "solo submit", "playlist submit"]}
            body = json.dumps(full_combo(b, 800_000))
            for round_number in range(args.rounds):
                for name, path in reads.items():
                    results[name].append(run_wrk(server.url + path, args, viewer))
                issued = time.monotonic()
                submitters = bearers[1 : SUBMITTERS + 1]
                solo = [
                    (bearer, client.token(bearer, ids[1], submit_sum))
                    for _ in range(args.tokens_per_player)
                    for bearer in submitters
                ]
                playlist = [
                    (
                        bearer,
                        playlist_token(client, bearer, room_id, submit_item, ids[1], submit_sum),
                    )
                    for _ in range(args.tokens_per_player)
                    for bearer in submitters
                ]
                played_through(issued, submit_length)
                for name, prefix, plan in (
                    ("solo submit", f"/api/v2/beatmaps/{ids[1]}/solo/scores/", solo),
                    (
                        "playlist submit",
                        f"/api/v2/rooms/{room_id}/playlist/{submit_item}/scores/",
                        playlist,
                    ),
                ):
                    script = maps_dir / f"{name.replace(' ', '-')}{round_number}.lua"
                    submit_script(script, prefix, plan, body)
                    result = run_wrk(server.url + "/", args, {}, script)
                    results[name].append(result)
                    if result.requests > len(plan):
                        print(
                            f"round {round_number} {name}: {result.requests} PUTs for "
                            f"{len(plan)} tokens; the rest were idempotent repeats "
                            "(raise --tokens-per-player)",
                            file=sys.stderr,
                        )
    finally:
        shutil.rmtree(maps_dir, ignore_errors=True)

    summary = {name: median_result(values) for name, values in results.items()}
    floor = summary["health"].requests_per_second
    playlist_vs_solo = summary["playlist submit"].requests_per_second / max(
        summary["solo submit"].requests_per_second, 1e-9
    )
    backend = (
        f"database={'external' if args.database_url else 'embedded SQLite'}, "
        f"redis={'external' if args.redis_url else 'in-process'}"
    )
    settings = (
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.rounds} rounds, "
        f"{args.participants} participants (set-up {setup_seconds:.0f} s)"
    )
    failed = any(r.non_2xx or r.socket_errors for rs in results.values() for r in rs)
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
                    "playlist_vs_solo_submit": round(playlist_vs_solo, 3),
                },
                indent=2,
            )
        )
    else:
        print(f"{backend}; {settings}; {load}")
        print(
            f"{'endpoint':<16}{'req/s':>9}{'x health':>10}{'p50 ms':>9}{'p99 ms':>9}"
            f"{'requests':>10}{'errors':>8}"
        )
        for name, r in summary.items():
            print(
                f"{name:<16}{r.requests_per_second:>9.0f}{r.requests_per_second / floor:>10.2f}"
                f"{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.requests:>10}{r.non_2xx + r.socket_errors:>8}"
            )
        print(f"playlist submission / solo submission (req/s): {playlist_vs_solo:.2f}")
    if failed:
        print("some requests failed: the figures above are not valid", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
