"""The upstream fetcher against a fake osu! API and fake mirrors on 127.0.0.1: lookups go
upstream once and are then served locally, tokens are cached and refreshed, mirrors fail
over, changed maps are re-synced, and a slow, down or garbage upstream never gives a 500."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from server.settings import Settings
from tests.beatmap_data import fresh_id, make_osz
from tests.conformance.live_server import bind_loopback
from tests.conftest import app_client, make_settings
from tests.fake_upstream import FakeUpstream
from tests.helpers import SignedIn


@pytest.fixture(autouse=True)
def _healthy(fake: FakeUpstream) -> None:
    fake.mode = "ok"
    fake.bad_mirror = "error"


def upstream_settings(settings: Settings, api_url: str, mirror_base: str, **extra: str) -> Settings:
    env = {
        "SECRET_KEY": settings.secret_key,
        "UPSTREAM_API_URL": f"{api_url}/api/v2",
        "UPSTREAM_CLIENT_ID": "17",
        "UPSTREAM_CLIENT_SECRET": "upstream-secret",
        # The first mirror fails (or lies); the fetcher must fail over to the second.
        "BEATMAP_FILE_MIRRORS": f"{mirror_base}/bad/osu/{{id}},{mirror_base}/good/osu/{{id}}",
        "BEATMAPSET_DOWNLOAD_MIRRORS": f"{mirror_base}/d/{{id}}",
        "UPSTREAM_TIMEOUT_SECONDS": "0.5",
        "UPSTREAM_RETRIES": "1",
    }
    return make_settings(settings.data_dir, **{**env, **extra})


@asynccontextmanager
async def fetching_client(
    settings: Settings, fake: FakeUpstream, **extra: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(
        upstream_settings(settings, fake.url, fake.url, **extra), "198.51.100.20"
    ) as c:
        yield c


async def test_unknown_id_goes_upstream_once_then_is_served_locally(
    settings: Settings, services: Any, fake: FakeUpstream, player: SignedIn
) -> None:
    upstream_set = fake.add_set(n_beatmaps=2)
    first_id, second_id = list(upstream_set.beatmaps)
    before = dict(fake.hits)
    async with fetching_client(settings, fake) as client:
        response = await client.get(
            f"/api/v2/beatmaps/lookup?id={first_id}", headers=player.headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["checksum"] == hashlib.md5(upstream_set.beatmaps[first_id]).hexdigest()
        assert body["beatmapset"]["title"] == "Upstream Song"
        assert body["beatmapset"]["genre"] == {"id": 10, "name": "Electronic"}
        assert body["status"] == "ranked" and body["user_id"] == 4242
        # Stars and max combo come from our core, never from upstream's claim.
        assert body["difficulty_rating"] != 99.9 and body["max_combo"] != 123456
        after_first = dict(fake.hits)
        assert after_first.get("lookup", 0) - before.get("lookup", 0) == 1
        assert after_first.get("set", 0) - before.get("set", 0) == 1
        # Served locally from now on: by id, checksum, the set, the sibling difficulty.
        for path in (
            f"/api/v2/beatmaps/lookup?id={first_id}",
            f"/api/v2/beatmaps/lookup?checksum={body['checksum']}",
            f"/api/v2/beatmaps/{second_id}",
            f"/api/v2/beatmapsets/{upstream_set.id}",
            f"/api/v2/beatmapsets/lookup?beatmap_id={second_id}",
        ):
            assert (await client.get(path, headers=player.headers)).status_code == 200, path
        assert dict(fake.hits) == after_first
    # Persisted in SQL and the file store: the stock app (no fetcher) serves it too.
    stored = await services.beatmaps.repo.beatmap(second_id)
    assert (
        stored is not None
        and stored.checksum == hashlib.md5(upstream_set.beatmaps[second_id]).hexdigest()
    )
    assert (
        await services.beatmaps.files.get("osu", stored.checksum)
        == upstream_set.beatmaps[second_id]
    )


async def test_unknown_checksum_and_misses_are_remembered(
    settings: Settings, fake: FakeUpstream, player: SignedIn
) -> None:
    upstream_set = fake.add_set(n_beatmaps=1)
    beatmap_id = next(iter(upstream_set.beatmaps))
    checksum = hashlib.md5(upstream_set.beatmaps[beatmap_id]).hexdigest()
    async with fetching_client(settings, fake) as client:
        found = await client.get(
            f"/api/v2/beatmaps/lookup?checksum={checksum}", headers=player.headers
        )
        assert found.status_code == 200 and found.json()["id"] == beatmap_id
        unknown = "f" * 32
        lookups = fake.hits["lookup"]
        for _ in range(3):
            miss = await client.get(
                f"/api/v2/beatmaps/lookup?checksum={unknown}", headers=player.headers
            )
            assert miss.status_code == 404
        assert fake.hits["lookup"] == lookups + 1  # asked once; the miss is remembered


async def test_concurrent_lookups_share_one_upstream_request(
    settings: Settings, fake: FakeUpstream, player: SignedIn
) -> None:
    upstream_set = fake.add_set(n_beatmaps=1)
    beatmap_id = next(iter(upstream_set.beatmaps))
    lookups = fake.hits["lookup"]
    async with fetching_client(settings, fake) as client:
        responses = await asyncio.gather(
            *(
                client.get(f"/api/v2/beatmaps/{beatmap_id}", headers=player.headers)
                for _ in range(8)
            )
        )
    assert [r.status_code for r in responses] == [200] * 8
    assert fake.hits["lookup"] == lookups + 1


async def test_token_is_cached_and_refreshed_on_401(
    settings: Settings, fake: FakeUpstream, player: SignedIn
) -> None:
    sets = [fake.add_set(n_beatmaps=1) for _ in range(3)]
    async with fetching_client(settings, fake) as client:
        await client.get(f"/api/v2/beatmapsets/{sets[0].id}", headers=player.headers)
        tokens = fake.hits["token"]
        assert (
            await client.get(f"/api/v2/beatmapsets/{sets[1].id}", headers=player.headers)
        ).status_code == 200
        assert fake.hits["token"] == tokens  # cached
        fake.revoke_tokens()
        assert (
            await client.get(f"/api/v2/beatmapsets/{sets[2].id}", headers=player.headers)
        ).status_code == 200
        assert fake.hits["token"] == tokens + 1  # refreshed once after the 401


@pytest.mark.parametrize("bad_mirror", ["error", "wrong_bytes", "not_found"])
async def test_mirror_failover_and_checksum_check(
    settings: Settings, services: Any, fake: FakeUpstream, player: SignedIn, bad_mirror: str
) -> None:
    fake.bad_mirror = bad_mirror
    upstream_set = fake.add_set(n_beatmaps=2)
    good_before, bad_before = fake.hits["good_mirror"], fake.hits["bad_mirror"]
    async with fetching_client(settings, fake) as client:
        response = await client.get(
            f"/api/v2/beatmapsets/{upstream_set.id}", headers=player.headers
        )
    assert response.status_code == 200
    assert fake.hits["bad_mirror"] > bad_before and fake.hits["good_mirror"] == good_before + 2
    for beatmap_id, data in upstream_set.beatmaps.items():
        stored = await services.beatmaps.repo.beatmap(beatmap_id)
        assert await services.beatmaps.files.get("osu", stored.checksum) == data


async def test_set_is_not_stored_when_no_mirror_has_a_file(
    settings: Settings, services: Any, fake: FakeUpstream, player: SignedIn
) -> None:
    upstream_set = fake.add_set(n_beatmaps=1)
    bad_only = make_settings(
        settings.data_dir,
        SECRET_KEY=settings.secret_key,
        UPSTREAM_API_URL=f"{fake.url}/api/v2",
        UPSTREAM_CLIENT_ID="17",
        UPSTREAM_CLIENT_SECRET="upstream-secret",
        BEATMAP_FILE_MIRRORS=f"{fake.url}/bad/osu/{{id}}",
        UPSTREAM_RETRIES="0",
    )
    async with app_client(bad_only, "198.51.100.21") as client:
        response = await client.get(
            f"/api/v2/beatmapsets/{upstream_set.id}", headers=player.headers
        )
    assert response.status_code == 404
    assert await services.beatmaps.repo.beatmapset(upstream_set.id) is None


async def test_map_changed_upstream_is_resynced(
    settings: Settings, services: Any, fake: FakeUpstream, player: SignedIn
) -> None:
    upstream_set = fake.add_set(n_beatmaps=2)
    changed_id = next(iter(upstream_set.beatmaps))
    async with fetching_client(settings, fake) as client:
        assert (
            await client.get(f"/api/v2/beatmapsets/{upstream_set.id}", headers=player.headers)
        ).status_code == 200
        old_checksum = (await services.beatmaps.repo.beatmap(changed_id)).checksum
        fake.change_beatmap(upstream_set, changed_id)
        new_checksum = hashlib.md5(upstream_set.beatmaps[changed_id]).hexdigest()
        # lazer has the new file and looks it up by checksum: unknown here, known upstream.
        response = await client.get(
            f"/api/v2/beatmaps/lookup?checksum={new_checksum}", headers=player.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["id"] == changed_id and response.json()["checksum"] == new_checksum
    stored = await services.beatmaps.repo.beatmap(changed_id)
    assert stored.checksum == new_checksum and stored.checksum != old_checksum
    assert stored.count_circles + stored.count_sliders + stored.count_spinners == 77
    assert await services.beatmaps.repo.beatmap_by_checksum(old_checksum) is None


async def test_unfinished_set_is_resynced_when_stale(
    settings: Settings, services: Any, fake: FakeUpstream, player: SignedIn
) -> None:
    upstream_set = fake.add_set(n_beatmaps=1, status="pending")
    async with fetching_client(settings, fake, UPSTREAM_RESYNC_SECONDS="0") as client:
        first = await client.get(f"/api/v2/beatmapsets/{upstream_set.id}", headers=player.headers)
        assert first.json()["status"] == "pending"
        upstream_set.status = "ranked"
        second = await client.get(f"/api/v2/beatmapsets/{upstream_set.id}", headers=player.headers)
        assert second.json()["status"] == "ranked"
        assert second.json()["ranked_date"] is not None
    stored = await services.beatmaps.repo.beatmapset(upstream_set.id)
    assert stored.status == 1 and stored.synced_at is not None


@pytest.mark.parametrize(
    "mode", ["slow", "garbage", "wrong_shape", "invalid_values", "error", "token_garbage"]
)
async def test_misbehaving_upstream_is_a_miss_never_a_500(
    settings: Settings, services: Any, fake: FakeUpstream, player: SignedIn, mode: str
) -> None:
    upstream_set = fake.add_set(n_beatmaps=1)
    beatmap_id = next(iter(upstream_set.beatmaps))
    fake.mode = mode
    if mode == "token_garbage":
        # Cached tokens (in a shared Redis) stop working, and a new one cannot be had.
        fake.revoke_tokens()
    async with fetching_client(settings, fake) as client:
        started = time.monotonic()
        for path in (
            f"/api/v2/beatmaps/lookup?id={beatmap_id}",
            f"/api/v2/beatmaps/{fresh_id()}",
            f"/api/v2/beatmapsets/{fresh_id()}",
            f"/api/v2/beatmaps?ids[]={fresh_id()}",
        ):
            response = await client.get(path, headers=player.headers)
            assert response.status_code in (200, 404), (path, response.status_code)
            if response.status_code == 404:
                assert "error" in response.json()
        # Bounded: timeouts (0.5 s) and one retry per call, never the fake's 3 s stall per try.
        assert time.monotonic() - started < 12
    assert await services.beatmaps.repo.beatmap(beatmap_id) is None
    fake.mode = "ok"


async def test_upstream_down(settings: Settings, player: SignedIn) -> None:
    closed = bind_loopback()
    host, port = closed.getsockname()[:2]
    closed.close()  # nothing listens there any more
    down = f"http://{host}:{port}"
    async with app_client(upstream_settings(settings, down, down), "198.51.100.22") as client:
        started = time.monotonic()
        response = await client.get(
            f"/api/v2/beatmaps/lookup?id={fresh_id()}", headers=player.headers
        )
        assert response.status_code == 404
        assert time.monotonic() - started < 5


async def test_import_takes_status_and_metadata_from_upstream(
    settings: Settings, services: Any, fake: FakeUpstream, tmp_path: Any
) -> None:
    from server.app import build_beatmap_service
    from server.services.beatmap_import import BeatmapImporter

    upstream_set = fake.add_set(n_beatmaps=1, status="loved", title="Known Upstream")
    (tmp_path / "x.osz").write_bytes(
        make_osz({f"{i}.osu": d for i, d in upstream_set.beatmaps.items()})
    )
    beatmaps = build_beatmap_service(
        upstream_settings(settings, fake.url, fake.url), services.db, services.redis
    )
    try:
        importer = BeatmapImporter(beatmaps.ingest, beatmaps.upstream)
        summary = await importer.run([tmp_path], status=1)
    finally:
        await beatmaps.aclose()
    assert summary.beatmaps_added == 1 and not summary.rejected
    stored = await services.beatmaps.repo.beatmapset(upstream_set.id)
    assert stored.status == 4 and stored.title == "Known Upstream" and stored.genre_id == 10


@pytest.mark.parametrize("bad_mirror", ["error", "wrong_bytes", "not_found"])
async def test_download_proxy_fails_over_verifies_and_stores(
    settings: Settings, services: Any, fake: FakeUpstream, player: SignedIn, bad_mirror: str
) -> None:
    fake.bad_mirror = bad_mirror
    upstream_set = fake.add_set(n_beatmaps=2)
    proxy = make_settings(
        settings.data_dir,
        SECRET_KEY=settings.secret_key,
        UPSTREAM_API_URL=f"{fake.url}/api/v2",
        UPSTREAM_CLIENT_ID="17",
        UPSTREAM_CLIENT_SECRET="upstream-secret",
        BEATMAP_FILE_MIRRORS=f"{fake.url}/good/osu/{{id}}",
        # The first mirror fails or serves another set: the second one's archive is kept.
        BEATMAPSET_DOWNLOAD_MIRRORS=f"{fake.url}/bad/d/{{id}},{fake.url}/d/{{id}}",
        BEATMAPSET_DOWNLOAD_PROXY="true",
        UPSTREAM_RETRIES="0",
    )
    async with app_client(proxy, "198.51.100.23") as client:
        url = f"/api/v2/beatmapsets/{upstream_set.id}/download"
        first = await client.get(url, headers=player.headers)
        assert first.status_code == 200, first.text
        assert first.content[:2] == b"PK"
        assert fake.hits["bad_osz"] >= 1
        served = fake.hits["osz"]
        again = await client.get(url, headers=player.headers)
        assert again.content == first.content
        assert fake.hits["osz"] == served  # stored on first download, served locally after
    stored = await services.beatmaps.repo.beatmapset(upstream_set.id)
    assert stored.osz_checksum == hashlib.md5(first.content).hexdigest()


async def test_download_redirects_to_the_first_mirror_by_default(
    settings: Settings, fake: FakeUpstream, player: SignedIn
) -> None:
    upstream_set = fake.add_set(n_beatmaps=1)
    async with fetching_client(settings, fake) as client:
        response = await client.get(
            f"/api/v2/beatmapsets/{upstream_set.id}/download?noVideo=1", headers=player.headers
        )
    assert response.status_code == 302
    assert response.headers["location"] == f"{fake.url}/d/{upstream_set.id}"


async def test_waiters_take_over_when_the_first_request_is_cancelled(
    settings: Settings, fake: FakeUpstream, player: SignedIn
) -> None:
    """lazer gives up after 10 s: a cancelled first request must not fail the others."""
    upstream_set = fake.add_set(n_beatmaps=1)
    beatmap_id = next(iter(upstream_set.beatmaps))
    fake.mode, fake.delay = "slow", 0.3
    lookups = fake.hits["lookup"]
    async with fetching_client(settings, fake, UPSTREAM_TIMEOUT_SECONDS="5") as client:
        first = asyncio.create_task(
            client.get(f"/api/v2/beatmaps/{beatmap_id}", headers=player.headers)
        )
        await asyncio.sleep(0.1)
        second = asyncio.create_task(
            client.get(f"/api/v2/beatmaps/{beatmap_id}", headers=player.headers)
        )
        await asyncio.sleep(0.05)
        first.cancel()
        response = await second
    assert response.status_code == 200 and response.json()["id"] == beatmap_id
    assert first.cancelled()
    assert fake.hits["lookup"] == lookups + 2  # the waiter redid the cancelled request's work
    fake.delay = 3.0
