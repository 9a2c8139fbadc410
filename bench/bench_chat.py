"""Chat fan-out across two instances: messages per second posted to one channel whose 100
members listen on notification sockets split over two server processes sharing a database
and a Redis, and the server's memory per notification socket.

Run: python bench/bench_chat.py [--messages N] [--members N] [--sockets N] [--json]

Both servers run as child processes on loopback ports, on one SQLite file (WAL) and a
redis-server this script starts on a free port (or --redis-url / BENCH_REDIS_URL, which
must be disposable). Messages are posted over HTTP to instance A, one at a time as a chat
client does; a round ends when every member's socket has every message. The clients run in
this process, so on a small machine they compete with the servers for CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _server import LAZER_CLIENT_ID, LAZER_SECRET, ServerProcess, free_port
from bench_hubs import rss_kib

SERVER_ENV = {
    "BCRYPT_ROUNDS": "4",
    "CHAT_PUBLIC_LIMIT": "1000000",
    "CHAT_BOT_ENABLED": "false",
}


def start_redis(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A private redis-server on a free port."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is needed (apt-get install redis-server), or --redis-url")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(0.5)
    return process, f"redis://127.0.0.1:{port}/0"


async def make_users(url: str, count: int) -> list[tuple[int, str]]:
    """Register `count` accounts and sign each in; (id, token) pairs."""
    limit = asyncio.Semaphore(8)

    async def one(http: httpx.AsyncClient) -> tuple[int, str]:
        async with limit:
            name = "c" + secrets.token_hex(6)
            password = "bench-" + secrets.token_hex(8)
            created = await http.post(
                "/users",
                files={
                    "user[username]": (None, name),
                    "user[user_email]": (None, f"{name}@example.com"),
                    "user[password]": (None, password),
                },
            )
            created.raise_for_status()
            grant = await http.post(
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
            grant.raise_for_status()
            return int(created.json()["id"]), str(grant.json()["access_token"])

    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        return list(await asyncio.gather(*(one(http) for _ in range(count))))


async def open_socket(url: str, token: str) -> ClientConnection:
    """A notification socket that has sent chat.start."""
    ws = await connect(
        url.replace("http", "ws", 1) + "/notifications",
        additional_headers={"Authorization": f"Bearer {token}"},
        max_queue=None,
        open_timeout=30,
    )
    await ws.send('{"event":"chat.start"}')
    return ws


async def fan_out(
    a: str, b: str, speaker: tuple[int, str], members: list[tuple[int, str]], messages: int
) -> dict[str, float]:
    """Members split over both instances; the speaker posts on A; wait for every delivery."""
    async with httpx.AsyncClient(base_url=a, timeout=60) as http:
        channel = next(
            c["channel_id"]
            for c in (await http.get("/api/v2/chat/channels", headers=_auth(speaker))).json()
            if c["name"] == "#bench"
        )
        for user in [speaker, *members]:
            joined = await http.put(
                f"/api/v2/chat/channels/{channel}/users/{user[0]}", headers=_auth(user)
            )
            joined.raise_for_status()
        sockets = [
            await open_socket(a if i % 2 == 0 else b, token) for i, (_, token) in enumerate(members)
        ]
        await asyncio.sleep(1)  # chat.start taken

        async def drain(ws: ClientConnection) -> None:
            got = 0
            while got < messages:
                event = json.loads(await ws.recv())
                if event.get("event") == "chat.message.new":
                    got += len(event["data"]["messages"])

        drains = [asyncio.create_task(drain(ws)) for ws in sockets]
        started = time.perf_counter()
        for n in range(messages):
            sent = await http.post(
                f"/api/v2/chat/channels/{channel}/messages",
                data={"message": f"bench {n}", "is_action": "false"},
                headers=_auth(speaker),
            )
            sent.raise_for_status()
        posted = time.perf_counter() - started
        await asyncio.wait_for(asyncio.gather(*drains), 300)
        elapsed = time.perf_counter() - started
        for ws in sockets:
            await ws.close()
    return {
        "members": len(members),
        "messages": messages,
        "post_seconds": posted,
        "seconds": elapsed,
        "messages_per_second": messages / elapsed,
        "deliveries_per_second": messages * len(members) / elapsed,
    }


def _auth(user: tuple[int, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {user[1]}"}


async def hold_sockets(server: ServerProcess, users: list[tuple[int, str]]) -> dict[str, Any]:
    """Open one chat-started notification socket per user and measure the server's RSS."""
    await asyncio.sleep(1)
    before = rss_kib(server.pid)
    sockets = [await open_socket(server.url, token) for _, token in users]
    await asyncio.sleep(2)
    after = rss_kib(server.pid)
    for ws in sockets:
        await ws.close()
    return {
        "sockets": len(sockets),
        "rss_before_kib": before,
        "rss_after_kib": after,
        "kib_per_socket": (after - before) / len(sockets),
    }


async def run(args: argparse.Namespace, database_url: str, redis_url: str) -> dict[str, Any]:
    env = {**SERVER_ENV, "SECRET_KEY": "bench-" + secrets.token_hex(24)}
    a = ServerProcess(database_url=database_url, redis_url=redis_url, extra_env=env)
    b = ServerProcess(database_url=database_url, redis_url=redis_url, extra_env=env)
    with a, b:
        a.cli("channels", "add", "#bench", "--description", "bench")
        users = await make_users(a.url, max(args.members + 1, args.sockets))
        fan = await fan_out(a.url, b.url, users[0], users[1 : 1 + args.members], args.messages)
        held = await hold_sockets(b, users[: args.sockets])
    return {"fan_out": fan, "held": held}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200, help="messages posted")
    parser.add_argument("--members", type=int, default=100, help="listening members")
    parser.add_argument("--sockets", type=int, default=300, help="idle sockets held")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="osu-bench-chat-") as directory:
        redis_process = None
        redis_url = args.redis_url
        if redis_url is None:
            redis_process, redis_url = start_redis(Path(directory))
        try:
            database_url = f"sqlite:///{Path(directory) / 'chat.db'}"
            result = asyncio.run(run(args, database_url, redis_url))
        finally:
            if redis_process is not None:
                redis_process.kill()
                redis_process.wait(10)
    if args.json:
        print(json.dumps({"loadavg_before": load, **result}))
        return 0
    fan, held = result["fan_out"], result["held"]
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(
        f"{fan['messages']} messages to {fan['members']} members on 2 instances: "
        f"{fan['messages_per_second']:.0f} messages/s, "
        f"{fan['deliveries_per_second']:.0f} deliveries/s "
        f"(posting took {fan['post_seconds']:.2f} s of {fan['seconds']:.2f} s)"
    )
    print(
        f"{held['sockets']} chat-started sockets: RSS {held['rss_before_kib'] / 1024:.1f} -> "
        f"{held['rss_after_kib'] / 1024:.1f} MiB, {held['kib_per_socket']:.1f} KiB per socket"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
