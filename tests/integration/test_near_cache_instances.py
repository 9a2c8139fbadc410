"""Two server instances sharing a database and a Redis, each with its near cache: a change
made through one never leaves the other serving the old answer (S-TOK-1 for revocation),
and on the instance that made the change it shows at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server.near_cache import NearCache
from tests.beatmap_data import make_osu
from tests.conftest import TEST_DATABASE_URL, TEST_SECRET_KEY, _LifespanStateTransport
from tests.helpers import SignedIn, refresh_grant, sign_in, signup
from tests.integration.test_hub_scale_out import PrivateRedis, instance, private_redis
from tests.score_play import play, stored_map

__all__ = ["private_redis"]  # the fixture, used by name


@asynccontextmanager
async def _client(application: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = _LifespanStateTransport(application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def _near(application: Starlette) -> NearCache:
    near: NearCache = application.state.lifespan_state["services"].near
    return near


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = 2.0) -> float:
    """Seconds until `check` held (fails after `seconds`)."""
    start = time.monotonic()
    while not await check():
        assert time.monotonic() - start < seconds, "never converged"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def test_revoking_on_one_instance_locks_the_token_out_of_the_other(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path, private_redis: PrivateRedis
) -> None:
    """S-TOK-1: the token was checked and cached on B; reusing its refresh token on A
    revokes the sign-in family, and B refuses the access token from then on, long before
    TOKEN_CACHE_SECONDS would have expired it."""
    account = await signup(client)
    async with (
        instance(data_dir, private_redis.url) as a,
        instance(data_dir, private_redis.url) as b,
        _client(a) as on_a,
        _client(b) as on_b,
    ):
        signed = await sign_in(on_a, account)
        for _ in range(2):
            assert (await on_b.get("/api/v2/me", headers=signed.headers)).status_code == 200
        tokens = _near(b).region("oauth-token", 0)
        assert tokens.hits >= 1  # B answered from its near cache

        assert (await refresh_grant(on_a, signed.refresh_token)).status_code == 200
        # Reusing the rotated refresh token is theft detection: the family is revoked.
        assert (await refresh_grant(on_a, signed.refresh_token)).status_code in (400, 401)

        async def refused() -> bool:
            response = await on_b.get("/api/v2/me", headers=signed.headers)
            return response.status_code == 401

        assert await _eventually(refused) < 1.0


async def test_leaderboards_and_profiles_follow_a_submission_on_either_instance(
    app: Starlette,
    client: httpx.AsyncClient,
    services: Any,
    data_dir: Path,
    private_redis: PrivateRedis,
) -> None:
    beatmap = await stored_map(services)
    async with (
        instance(data_dir, private_redis.url) as a,
        instance(data_dir, private_redis.url) as b,
        _client(a) as on_a,
        _client(b) as on_b,
    ):
        first = await sign_in(on_a, await signup(on_a))
        second = await sign_in(on_a, await signup(on_a))
        await play(on_a, first, beatmap, total_score_without_mods=500_000)

        async def board(c: httpx.AsyncClient, viewer: SignedIn) -> dict[str, Any]:
            response = await c.get(f"/api/v2/beatmaps/{beatmap.id}/scores", headers=viewer.headers)
            assert response.status_code == 200, response.text
            return response.json()  # type: ignore[no-any-return]

        async def profile(c: httpx.AsyncClient, user: SignedIn) -> dict[str, Any]:
            response = await c.get(f"/api/v2/users/{user.id}/osu", headers=user.headers)
            assert response.status_code == 200, response.text
            return response.json()  # type: ignore[no-any-return]

        # Both instances render and keep the one-score board and the profiles.
        for c in (on_a, on_b):
            for _ in range(2):
                assert [s["user_id"] for s in (await board(c, second))["scores"]] == [first.id]
                assert (await board(c, second))["user_score"] is None
                assert (await profile(c, second))["statistics"]["play_count"] == 0
        rendered = _near(b).region("leaderboard", 0)
        assert rendered.hits >= 2

        await play(on_a, second, beatmap, total_score_without_mods=800_000)

        # The instance that took the submission shows it at once: board, own entry, profile.
        now_a = await board(on_a, second)
        assert [s["user_id"] for s in now_a["scores"]] == [second.id, first.id]
        assert now_a["user_score"]["position"] == 1
        assert (await profile(on_a, second))["statistics"]["play_count"] == 1

        # The other instance as soon as the invalidation arrives (pub/sub delivery).
        async def b_converged() -> bool:
            now_b = await board(on_b, second)
            return (
                [s["user_id"] for s in now_b["scores"]] == [second.id, first.id]
                and now_b["user_score"] is not None
                and (await profile(on_b, second))["statistics"]["play_count"] == 1
            )

        assert await _eventually(b_converged) < 1.0
        # And the first player's own entry on B moved to second place.
        assert (await board(on_b, first))["user_score"]["position"] == 2


async def test_a_redis_outage_bypasses_the_near_cache(
    app: Starlette, client: httpx.AsyncClient, data_dir: Path, private_redis: PrivateRedis
) -> None:
    """While an instance cannot hear invalidations it must not answer from memory: Redis
    killed, the near cache goes dark and empty; Redis back, it fills again."""
    account = await signup(client)
    async with instance(data_dir, private_redis.url) as a, _client(a) as on_a:
        signed = await sign_in(on_a, account)
        assert (await on_a.get("/api/v2/me", headers=signed.headers)).status_code == 200
        near = _near(a)
        assert near.live
        private_redis.stop()

        async def dark() -> bool:
            return not near.live

        await _eventually(dark, seconds=10)
        tokens = near.region("oauth-token", 0)
        hits = tokens.hits
        # Storage still answers (the token check falls back to SQL), nothing from memory.
        assert (await on_a.get("/api/v2/me", headers=signed.headers)).status_code == 200
        assert tokens.hits == hits
        private_redis.start()

        async def back() -> bool:
            return near.live

        await _eventually(back, seconds=15)
        for _ in range(2):
            assert (await on_a.get("/api/v2/me", headers=signed.headers)).status_code == 200
        assert tokens.hits > hits


async def test_a_status_change_is_not_hidden_by_a_kept_leaderboard_response(
    client: httpx.AsyncClient, services: Any
) -> None:
    """The whole global board response is kept per request and viewer; a map that leaves
    ranked status (re-imported as graveyard) answers an empty board at once."""
    from tests.beatmap_data import store_set

    beatmap = await stored_map(services, n_objects=40)
    player = await sign_in(client, await signup(client))
    await play(client, player, beatmap)
    path = f"/api/v2/beatmaps/{beatmap.id}/scores?type=global"
    for _ in range(2):  # the second answer is the kept one
        assert len((await client.get(path, headers=player.headers)).json()["scores"]) == 1
    rendered = services.near.region("leaderboard", 0)
    hits = rendered.hits
    assert len((await client.get(path, headers=player.headers)).json()["scores"]) == 1
    assert rendered.hits > hits

    await store_set(
        services,
        beatmapset_id=beatmap.set_id,
        status=-2,
        difficulties=[{"beatmap_id": beatmap.id, "n_objects": 40}],
    )
    after = (await client.get(path, headers=player.headers)).json()
    assert after == {"scores": [], "user_score": None, "score_count": 0}


_GRAVEYARD = ("--status", "graveyard", "--quiet")


@pytest.mark.skipif(
    not TEST_DATABASE_URL,
    reason="the embedded default's Redis is in-process: a CLI process cannot reach a server",
)
async def test_a_cli_import_reaches_a_running_server(
    services: Any, data_dir: Path, tmp_path: Path, private_redis: PrivateRedis
) -> None:
    """`python -m server beatmaps import` in another process publishes its invalidations: a
    running instance stops showing the board of a map the import sent to the graveyard."""
    beatmap = await stored_map(services, n_objects=40)
    maps = tmp_path / "maps"
    maps.mkdir()
    data = make_osu(
        beatmap_id=beatmap.id, beatmapset_id=beatmap.set_id, version="Diff 0", n_objects=40
    )
    (maps / f"{beatmap.id}.osu").write_bytes(data)
    async with instance(data_dir, private_redis.url) as a, _client(a) as on_a:
        player = await sign_in(on_a, await signup(on_a))
        await play(on_a, player, beatmap)
        path = f"/api/v2/beatmaps/{beatmap.id}/scores"
        for _ in range(2):
            assert len((await on_a.get(path, headers=player.headers)).json()["scores"]) == 1
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DATA_DIR": str(data_dir),
            "DATABASE_URL": TEST_DATABASE_URL,
            "REDIS_URL": private_redis.url,
            "SECRET_KEY": TEST_SECRET_KEY,
            "LOG_LEVEL": "warning",
        }
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "server", "beatmaps", "import", str(maps), *_GRAVEYARD],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "1 updated" in done.stdout, done.stdout

        async def emptied() -> bool:
            response = await on_a.get(path, headers=player.headers)
            return response.json()["scores"] == []

        assert await _eventually(emptied) < 1.0
