"""Beatmap files, archives and replays in an S3-compatible object store, tested against moto's
S3 server on a loopback port: a second host (its own local directories) serves what the first
stored, and /ready names a store that is gone."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from server.app import create_app
from server.services.beatmap_files import md5_hex
from server.services.object_store import ObjectFileStore, ObjectReplaySink, ObjectStore
from server.settings import Settings
from tests.beatmap_data import store_set
from tests.conftest import _LifespanStateTransport, make_settings
from tests.helpers import sign_in, signup
from tests.serve_process import free_port


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _bucket(endpoint: str) -> str:
    name = f"osu-{secrets.token_hex(6)}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    ).create_bucket(Bucket=name)
    return name


def _settings(data_dir: Path, beatmaps_dir: Path, endpoint: str, bucket: str) -> Settings:
    return make_settings(
        data_dir,
        BEATMAPS_DIR=str(beatmaps_dir),
        S3_BUCKET=bucket,
        S3_ENDPOINT_URL=endpoint,
        S3_ACCESS_KEY_ID="test",
        S3_SECRET_ACCESS_KEY="test",
        S3_PREFIX="osu",
    )


@asynccontextmanager
async def _host(settings: Settings, ip: str) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    application = create_app(settings)
    async with application.router.lifespan_context(application) as state:
        application.state.lifespan_state = state
        transport = _LifespanStateTransport(application, ip)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, state["services"]


async def test_a_second_host_serves_what_the_first_stored(
    data_dir: Path, tmp_path: Path, s3_endpoint: str
) -> None:
    bucket = _bucket(s3_endpoint)
    first = _settings(data_dir, tmp_path / "host-a", s3_endpoint, bucket)
    second = _settings(data_dir, tmp_path / "host-b", s3_endpoint, bucket)
    async with _host(first, "192.0.2.71") as (_, services_a):
        _, ids, _ = await store_set(services_a, osz=True)
        record = await services_a.beatmaps.repo.beatmap(ids[0])
    async with _host(second, "192.0.2.72") as (client_b, _):
        osu = await client_b.get(f"/osu/{ids[0]}")
        assert osu.status_code == 200
        assert md5_hex(osu.content) == record.checksum
        player = await sign_in(client_b, await signup(client_b))
        attributes = await client_b.post(
            f"/api/v2/beatmaps/{ids[0]}/attributes", json={}, headers=player.headers
        )
        assert attributes.status_code == 200, attributes.text
        assert attributes.json()["attributes"]["star_rating"] > 0
        assert (await client_b.get("/ready")).json()["checks"]["files"] == "ok"
    # Neither host wrote the files to its own directory.
    assert not any((tmp_path / "host-a").rglob("*.osu*"))
    assert not list((tmp_path / "host-b").rglob("*"))


async def test_object_file_store_checks_bytes_and_replays_round_trip(
    data_dir: Path, tmp_path: Path, s3_endpoint: str
) -> None:
    bucket = _bucket(s3_endpoint)
    store = ObjectStore(_settings(data_dir, tmp_path, s3_endpoint, bucket))
    try:
        files = ObjectFileStore(store)
        data = b"osu file format v14\n"
        checksum = await files.put("osu", data)
        assert await files.exists("osu", checksum) and await files.get("osu", checksum) == data
        # An object whose bytes no longer hash to its name is reported missing, not served.
        await store.put(f"beatmaps/osu/{checksum[:2]}/{checksum}", b"corrupted")
        assert await files.get("osu", checksum) is None
        await files.delete("osu", checksum)
        assert not await files.exists("osu", checksum)
        with pytest.raises(ValueError):
            await files.get("osu", "../../etc/passwd")

        replays = ObjectReplaySink(store)
        await replays.save(42, b"replay bytes")
        assert await replays.load(42) == b"replay bytes"
        assert await replays.load(43) is None
    finally:
        await store.aclose()


async def test_ready_names_an_unreachable_object_store(data_dir: Path, tmp_path: Path) -> None:
    gone = f"http://127.0.0.1:{free_port()}"
    settings = _settings(data_dir, tmp_path, gone, "nowhere")
    async with _host(settings, "192.0.2.73") as (client, _):
        response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["failed"] == ["files"]
