"""Multiplayer hub end to end: how many realtime rooms (each with its host connected) one
process holds and their memory, and the latency of one user's state change fanned out to
the 16 users of a room, on one instance and, given a shared database and Redis, with the
room's users split across two instances.

Run: python bench/bench_multiplayer.py [--rooms N] [--changes N] [--json]
     [--database-url mysql://… --redis-url redis://…]   # adds the two-instance variant

The servers run as child processes on loopback ports; the clients (websockets, one asyncio
loop) run in this process, so on a small machine they compete with the servers for CPU.
A state change is timed from sending ChangeState until every one of the 16 connections has
received its UserStateChanged.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
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
    server: ServerProcess, users: list[tuple[int, str]], checksum: str
) -> dict[str, Any]:
    """One room per user, its host connected; the server's RSS before and after."""
    await asyncio.sleep(1)
    before = rss_kib(server.pid)
    sockets = []
    for index, (_, token) in enumerate(users):
        ws = await open_hub(server.url, "multiplayer", token)
        await create_room(ws, checksum, f"bench {index}")
        sockets.append(ws)
    await asyncio.sleep(2)
    after = rss_kib(server.pid)
    for ws in sockets:
        await ws.close()
    await asyncio.sleep(1)
    return {
        "rooms": len(sockets),
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_room": (after - before) / len(sockets),
    }


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
        users = await make_users(server.url, args.rooms + ROOM_SIZE)
        results["held"] = await hold_rooms(server, users[: args.rooms], checksum)
        results["fan_out"] = [
            await fan_out([server.url], users[args.rooms :], checksum, args.changes)
        ]
    if args.database_url and args.redis_url:
        shared = {"database_url": args.database_url, "redis_url": args.redis_url}
        with (
            ServerProcess(extra_env=env, **shared) as a,
            ServerProcess(extra_env=env, **shared) as b,
        ):
            checksum = import_map(a)
            users = await make_users(a.url, ROOM_SIZE)
            results["fan_out"].append(await fan_out([a.url, b.url], users, checksum, args.changes))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=200, help="rooms held at once")
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
    before, after = held["rss_before_kib"] / 1024, held["rss_after_kib"] / 1024
    print(f"{held['rooms']} rooms with their hosts: RSS {before:.1f} -> {after:.1f} MiB, "
          f"{held['kib_per_room']:.1f} KiB per room")  # fmt: skip
    for r in results["fan_out"]:
        where = f"{r['users']} users on {r['instances']} instance(s)"
        print(f"state change to {where}: median {r['median_ms']:.2f} ms, "
              f"p95 {r['p95_ms']:.2f} ms over {r['changes']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
