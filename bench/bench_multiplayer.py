"""Multiplayer hub end to end: the realtime rooms and users one process holds and their
memory (per room with its host, per further connection, per further member of a room), and
the latency of one user's state change fanned out to the 16 users of a room, on one
instance and with the room's users split across two instances.

Run: python bench/bench_multiplayer.py [--rooms N] [--guests N] [--changes N] [--json]
     [--database-url mysql://… --redis-url redis://…]

The two instances share the given database and Redis; without them the bench starts its
own redis-server (when one is installed) and gives both instances one SQLite file.

The servers run as child processes on loopback ports; the clients (websockets, one asyncio
loop) run in this process, so on a small machine they compete with the servers for CPU.
A state change is timed from sending ChangeState until every one of the 16 connections has
received its UserStateChanged.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _server import ServerProcess
from bench_hubs import BEATMAP_ID, SERVER_ENV, call, import_map, make_users, open_hub, rss_kib
from websockets.asyncio.client import ClientConnection

from server.core import msgpack as m
from server.models.multiplayer import (
    MultiplayerPlaylistItem,
    MultiplayerRoom,
    MultiplayerRoomSettings,
)

ROOM_SIZE = 16
STATE_CHANGED = m.encode("string", "UserStateChanged")


def new_room(checksum: str, name: str) -> bytes:
    """CreateRoom's argument: a head-to-head room with the bench map."""
    item = MultiplayerPlaylistItem(beatmap_id=BEATMAP_ID, beatmap_checksum=checksum)
    room = MultiplayerRoom(settings=MultiplayerRoomSettings(name=name), playlist=[item])
    return b"\x91" + m.encode("MultiplayerRoom", room)


async def create_room(ws: ClientConnection, checksum: str, name: str) -> int:
    """Create a room; its id (the completion's result)."""
    message = b"\x96\x01\x80\xa11" + m.encode("string", "CreateRoom") + new_room(checksum, name)
    await ws.send(m.frame(message + b"\x90"))
    splitter = m.FrameSplitter(1 << 20)
    while True:
        for payload in splitter.feed(await ws.recv()):  # type: ignore[arg-type]
            envelope = m.parse_envelope(payload)
            if envelope.message_type is m.MessageType.COMPLETION:
                assert envelope.error is None and envelope.payload is not None, envelope.error
                return int(m.decode("MultiplayerRoom", envelope.payload)["RoomID"])


async def hold_rooms(
    server: ServerProcess,
    hosts: list[tuple[int, str]],
    guests: list[tuple[int, str]],
    checksum: str,
) -> dict[str, Any]:
    """One room per host, its host connected; then the guests connect, then each joins a
    room (in turn). The server's RSS at each step: KiB per room (with its host's
    connection), per further connection, and per further member of a room."""
    await asyncio.sleep(1)
    before = rss_kib(server.pid)
    sockets = []
    room_ids = []
    for index, (_, token) in enumerate(hosts):
        ws = await open_hub(server.url, "multiplayer", token)
        room_ids.append(await create_room(ws, checksum, f"bench {index}"))
        sockets.append(ws)
    await asyncio.sleep(2)
    with_rooms = rss_kib(server.pid)
    guest_sockets = [await open_hub(server.url, "multiplayer", t) for _, t in guests]
    await asyncio.sleep(2)
    connected = rss_kib(server.pid)
    for index, ws in enumerate(guest_sockets):
        await call(ws, "JoinRoom", b"\x91" + m.encode("long", room_ids[index % len(room_ids)]))
    await asyncio.sleep(2)
    joined = rss_kib(server.pid)
    for ws in [*sockets, *guest_sockets]:
        await ws.close()
    await asyncio.sleep(1)
    members = len(hosts) + len(guests)
    return {
        "rooms": len(sockets),
        "members": members,
        "rss_before_kib": before,
        "rss_rooms_kib": with_rooms,
        "rss_connected_kib": connected,
        "rss_joined_kib": joined,
        "kib_per_room": (with_rooms - before) / len(sockets),
        "kib_per_connection": (connected - with_rooms) / max(1, len(guests)),
        "kib_per_member": (joined - connected) / max(1, len(guests)),
    }


@contextmanager
def private_redis() -> Iterator[str | None]:
    """A throwaway redis-server on a free loopback port (None when none is installed)."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="osu-bench-redis-") as directory:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", directory],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), 0.2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(10)


async def fan_out(
    urls: list[str], users: list[tuple[int, str]], checksum: str, changes: int
) -> dict[str, Any]:
    """16 users in one room (spread over `urls` in turn); one of them changes state
    `changes` times; latency until all 16 heard each change."""
    sockets = [
        await open_hub(urls[i % len(urls)], "multiplayer", t) for i, (_, t) in enumerate(users)
    ]
    room_id = await create_room(sockets[0], checksum, "fan-out")
    for ws in sockets[1:]:
        await call(ws, "JoinRoom", b"\x91" + m.encode("long", room_id))
    await asyncio.sleep(0.5)  # group subscriptions on every instance
    counts = [0] * len(sockets)
    progress = asyncio.Event()

    async def read(index: int, ws: ClientConnection) -> None:
        while True:
            data = await ws.recv()
            if isinstance(data, bytes):
                counts[index] += data.count(STATE_CHANGED)
                progress.set()

    readers = [asyncio.create_task(read(i, ws)) for i, ws in enumerate(sockets)]
    await asyncio.sleep(0.5)  # what joining sent is read and counted first
    base = list(counts)
    latencies = []
    sender = sockets[-1]
    for n in range(changes):
        state = 1 if n % 2 == 0 else 0  # Ready, Idle, ...
        args = b"\x91" + m.encode("MultiplayerUserState", state)
        message = b"\x96\x01\x80\xc0" + m.encode("string", "ChangeState") + args
        started = time.perf_counter()
        await sender.send(m.frame(message + b"\x90"))
        while any(c - b < n + 1 for c, b in zip(counts, base, strict=True)):
            progress.clear()
            await asyncio.wait_for(progress.wait(), 10)
        latencies.append((time.perf_counter() - started) * 1000)
    for task in readers:
        task.cancel()
    for ws in sockets:
        await ws.close()
    latencies.sort()
    return {
        "instances": len(urls),
        "users": len(sockets),
        "changes": changes,
        "median_ms": statistics.median(latencies),
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1],
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    env = dict(SERVER_ENV, SECRET_KEY="bench-multiplayer-" + os.urandom(8).hex())
    results: dict[str, Any] = {}
    with ServerProcess(extra_env=env) as server:
        checksum = import_map(server)
        users = await make_users(server.url, args.rooms + args.guests + ROOM_SIZE)
        hosts, rest = users[: args.rooms], users[args.rooms :]
        guests, fan_users = rest[: args.guests], rest[args.guests :]
        results["held"] = await hold_rooms(server, hosts, guests, checksum)
        results["fan_out"] = [await fan_out([server.url], fan_users, checksum, args.changes)]
    with contextlib.ExitStack() as stack:
        database_url, redis_url = args.database_url, args.redis_url
        if not (database_url and redis_url):
            redis_url = stack.enter_context(private_redis())
            shared_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            database_url = f"sqlite+aiosqlite:///{shared_dir / 'shared.db'}"
        if redis_url is None:
            results["two_instances"] = "skipped: no redis-server and no --redis-url"
            return results
        shared = {"database_url": database_url, "redis_url": redis_url}
        a = stack.enter_context(ServerProcess(extra_env=env, **shared))
        b = stack.enter_context(ServerProcess(extra_env=env, **shared))
        checksum = import_map(a)
        users = await make_users(a.url, ROOM_SIZE)
        results["fan_out"].append(await fan_out([a.url, b.url], users, checksum, args.changes))
    one, two = results["fan_out"]
    results["two_over_one_median"] = two["median_ms"] / one["median_ms"]
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=200, help="rooms held at once")
    parser.add_argument(
        "--guests", type=int, default=200, help="further users, each joining one of the rooms"
    )
    parser.add_argument("--changes", type=int, default=200, help="state changes timed")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if m.is_debug_build():
        print("refusing to bench a debug build of rust_core (pip install -e . builds release)")
        return 2
    load = os.getloadavg()
    results = asyncio.run(run(args))
    if args.json:
        print(json.dumps({"loadavg_before": load, **results}))
        return 0
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    held = results["held"]
    before, after = held["rss_before_kib"] / 1024, held["rss_joined_kib"] / 1024
    print(f"{held['rooms']} rooms and {held['members']} users in them: RSS {before:.1f} -> "
          f"{after:.1f} MiB; {held['kib_per_room']:.1f} KiB per room with its host, "
          f"{held['kib_per_connection']:.1f} KiB per further connection, "
          f"{held['kib_per_member']:.1f} KiB per further member of a room")  # fmt: skip
    for r in results["fan_out"]:
        where = f"{r['users']} users on {r['instances']} instance(s)"
        print(f"state change to {where}: median {r['median_ms']:.2f} ms, "
              f"p95 {r['p95_ms']:.2f} ms over {r['changes']}")  # fmt: skip
    if "two_over_one_median" in results:
        print(f"two instances over one (median): {results['two_over_one_median']:.2f}x")
    else:
        print(f"two instances: {results.get('two_instances')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
