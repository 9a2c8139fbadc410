"""Beatmap endpoints as lazer calls them: lookups by every key, sets, ids[], shapes, errors,
favourites, download, attributes and the raw file."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from server.settings import Settings
from tests.beatmap_data import fresh_id, make_osu, store_set
from tests.conftest import app_client, make_settings
from tests.helpers import SignedIn, lazer_multipart

NON_NULLABLE_BEATMAP = [
    "id",
    "beatmapset_id",
    "status",
    "checksum",
    "user_id",
    "mode_int",
    "difficulty_rating",
    "total_length",
    "hit_length",
    "cs",
    "ar",
    "drain",
    "accuracy",
    "bpm",
    "count_circles",
    "count_sliders",
    "count_spinners",
    "playcount",
    "passcount",
    "convert",
    "last_updated",
    "max_combo",
]
NON_NULLABLE_SET = [
    "id",
    "status",
    "title",
    "artist",
    "title_unicode",
    "artist_unicode",
    "creator",
    "user_id",
    "covers",
    "bpm",
    "play_count",
    "favourite_count",
    "has_favourited",
    "nsfw",
    "spotlight",
    "video",
    "storyboard",
    "submitted_date",
    "availability",
    "genre",
    "language",
    "ratings",
]
COVER_KEYS = {
    "cover",
    "cover@2x",
    "card",
    "card@2x",
    "list",
    "list@2x",
    "slimcover",
    "slimcover@2x",
}


def assert_beatmap_shape(beatmap: dict[str, Any]) -> None:
    for key in NON_NULLABLE_BEATMAP:
        assert beatmap.get(key) is not None, key
    assert beatmap["status"] in {
        "graveyard",
        "wip",
        "pending",
        "ranked",
        "approved",
        "qualified",
        "loved",
    }
    assert len(beatmap["checksum"]) == 32


def assert_set_shape(beatmapset: dict[str, Any]) -> None:
    for key in NON_NULLABLE_SET:
        assert beatmapset.get(key) is not None, key
    assert "user" not in beatmapset  # never "user": null (lazer-protocol.md §4.4)
    assert set(beatmapset["covers"]) == COVER_KEYS
    assert set(beatmapset["availability"]) == {"download_disabled", "more_information"}
    assert set(beatmapset["genre"]) == {"id", "name"}
    assert set(beatmapset["language"]) == {"id", "name"}


@pytest.fixture
async def ranked_set(services: Any) -> dict[str, Any]:
    """A ranked set with an osu! and a taiko difficulty, stored with its .osz."""
    set_id, ids, _ = await store_set(
        services,
        title="Shape Test",
        artist="Lookup Artist",
        tags="alpha beta",
        osz=True,
        difficulties=[
            {"ruleset": "osu", "version": "Easy"},
            {"ruleset": "taiko", "version": "Oni"},
        ],
    )
    beatmaps = [await services.beatmaps.repo.beatmap(i) for i in ids]
    return {"set_id": set_id, "ids": ids, "beatmaps": beatmaps}


async def test_lookup_by_every_key(
    client: httpx.AsyncClient, player: SignedIn, ranked_set: dict[str, Any]
) -> None:
    beatmap = ranked_set["beatmaps"][0]
    by_id = await client.get(f"/api/v2/beatmaps/lookup?id={beatmap.id}", headers=player.headers)
    by_md5 = await client.get(
        f"/api/v2/beatmaps/lookup?checksum={beatmap.checksum}", headers=player.headers
    )
    by_name = await client.get(
        "/api/v2/beatmaps/lookup", params={"filename": beatmap.filename}, headers=player.headers
    )
    # lazer sends whatever it knows; an unknown id falls through to the checksum.
    cascade = await client.get(
        f"/api/v2/beatmaps/lookup?id={fresh_id()}&checksum={beatmap.checksum}",
        headers=player.headers,
    )
    for response in (by_id, by_md5, by_name, cascade):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["id"] == beatmap.id and body["checksum"] == beatmap.checksum
        assert_beatmap_shape(body)
        # Required in beatmaps/lookup: lazer reads set status and dates from it.
        assert body["beatmapset"]["id"] == ranked_set["set_id"]
        assert_set_shape(body["beatmapset"])
        assert body["beatmapset"]["status"] == "ranked" and body["status"] == "ranked"


async def test_show_beatmap_and_trailing_slash(
    client: httpx.AsyncClient, player: SignedIn, ranked_set: dict[str, Any]
) -> None:
    beatmap = ranked_set["beatmaps"][1]
    for path in (f"/api/v2/beatmaps/{beatmap.id}", f"/api/v2/beatmaps/{beatmap.id}/"):
        response = await client.get(path, headers=player.headers)
        assert response.status_code == 200
        body = response.json()
        assert body["mode"] == "taiko" and body["mode_int"] == 1
        assert body["version"] == "Oni"
        assert len(body["failtimes"]["fail"]) == 100
        assert list(body).index("beatmapset") > list(body).index("id")


async def test_beatmaps_ids_list(
    client: httpx.AsyncClient, player: SignedIn, ranked_set: dict[str, Any]
) -> None:
    a, b = ranked_set["ids"]
    unknown = fresh_id()
    response = await client.get(
        f"/api/v2/beatmaps/?ids[]={b}&ids[]={unknown}&ids[]={a}", headers=player.headers
    )
    assert response.status_code == 200
    beatmaps = response.json()["beatmaps"]
    assert [m["id"] for m in beatmaps] == sorted([a, b])
    for beatmap in beatmaps:
        assert_beatmap_shape(beatmap)
        assert beatmap["beatmapset"]["id"] == ranked_set["set_id"]
    empty = await client.get("/api/v2/beatmaps?ids[]=" + str(unknown), headers=player.headers)
    assert empty.json() == {"beatmaps": []}


async def test_beatmapset_and_lookup(
    client: httpx.AsyncClient, player: SignedIn, ranked_set: dict[str, Any]
) -> None:
    set_id = ranked_set["set_id"]
    direct = await client.get(f"/api/v2/beatmapsets/{set_id}", headers=player.headers)
    lookup = await client.get(
        f"/api/v2/beatmapsets/lookup?beatmap_id={ranked_set['ids'][1]}", headers=player.headers
    )
    for response in (direct, lookup):
        assert response.status_code == 200, response.text
        body = response.json()
        assert_set_shape(body)
        assert body["id"] == set_id and body["title"] == "Shape Test"
        assert sorted(m["id"] for m in body["beatmaps"]) == sorted(ranked_set["ids"])
        for beatmap in body["beatmaps"]:
            assert_beatmap_shape(beatmap)
            assert "beatmapset" not in beatmap
        assert body["bpm"] > 0 and body["has_favourited"] is False


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v2/beatmaps/lookup?id={unknown}", 404),
        ("/api/v2/beatmaps/lookup?checksum=" + "0" * 32, 404),
        ("/api/v2/beatmaps/lookup?filename=nothing.osu", 404),
        ("/api/v2/beatmaps/{unknown}", 404),
        ("/api/v2/beatmapsets/{unknown}", 404),
        ("/api/v2/beatmapsets/lookup?beatmap_id={unknown}", 404),
        ("/api/v2/beatmapsets/{unknown}/download", 404),
        ("/osu/{unknown}", 404),
        ("/api/v2/beatmaps/lookup", 422),
        ("/api/v2/beatmaps/lookup?id=abc", 422),
        ("/api/v2/beatmaps/lookup?id=-5", 422),
        ("/api/v2/beatmaps/lookup?id=99999999999999999999", 422),
        ("/api/v2/beatmaps/lookup?checksum=xyz", 422),
        ("/api/v2/beatmaps/lookup?checksum=" + "g" * 32, 422),
        ("/api/v2/beatmaps/lookup?filename=../../etc/passwd", 422),
        ("/api/v2/beatmaps/lookup?filename=" + "a" * 600, 422),
        ("/api/v2/beatmaps/not-a-number", 404),
        ("/api/v2/beatmaps/0", 404),
        ("/api/v2/beatmaps?ids[]=x", 422),
        ("/api/v2/beatmapsets/1e3", 404),
        ("/api/v2/beatmapsets/lookup", 422),
        ("/osu/abc", 404),
        ("/api/v2/beatmapsets/search?m=9", 422),
        ("/api/v2/beatmapsets/search?cursor[sort_value]=x&cursor[id]=y", 422),
        ("/api/v2/beatmapsets/search?cursor_string=!!!", 422),
    ],
)
async def test_errors_are_4xx_with_osu_web_body(
    client: httpx.AsyncClient, player: SignedIn, path: str, status: int
) -> None:
    response = await client.get(path.format(unknown=fresh_id()), headers=player.headers)
    assert response.status_code == status, response.text
    assert isinstance(response.json()["error"], str)


async def test_endpoints_need_a_token(
    client: httpx.AsyncClient, ranked_set: dict[str, Any]
) -> None:
    response = await client.get(f"/api/v2/beatmaps/{ranked_set['ids'][0]}")
    assert response.status_code == 401
    # The raw file is public, as on osu!, for tools.
    raw = await client.get(f"/osu/{ranked_set['ids'][0]}")
    assert raw.status_code == 200


async def test_raw_osu_file(client: httpx.AsyncClient, ranked_set: dict[str, Any]) -> None:
    beatmap = ranked_set["beatmaps"][0]
    response = await client.get(f"/osu/{beatmap.id}")
    assert response.status_code == 200
    assert hashlib.md5(response.content).hexdigest() == beatmap.checksum
    assert response.content.startswith(b"osu file format v14")


async def test_download_serves_stored_osz(
    client: httpx.AsyncClient, player: SignedIn, ranked_set: dict[str, Any]
) -> None:
    response = await client.get(
        f"/api/v2/beatmapsets/{ranked_set['set_id']}/download?noVideo=1", headers=player.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-osu-beatmap-archive"
    assert response.content[:2] == b"PK"
    assert f"{ranked_set['set_id']} " in response.headers["content-disposition"]


async def test_download_without_osz_redirects_to_a_mirror(
    settings: Settings, services: Any, client: httpx.AsyncClient, player: SignedIn
) -> None:
    set_id, _, _ = await store_set(services, title="No Archive")
    plain = await client.get(f"/api/v2/beatmapsets/{set_id}/download", headers=player.headers)
    assert plain.status_code == 404  # no archive stored, no mirror configured
    mirrored = make_settings(
        settings.data_dir,
        SECRET_KEY=settings.secret_key,
        BEATMAPSET_DOWNLOAD_MIRRORS="https://mirror.invalid/d/{id},https://second.invalid/{id}",
    )
    async with app_client(mirrored, "198.51.100.9") as other:
        response = await other.get(f"/api/v2/beatmapsets/{set_id}/download", headers=player.headers)
    assert response.status_code == 302
    assert response.headers["location"] == f"https://mirror.invalid/d/{set_id}"


async def test_favourites_keep_the_count(
    client: httpx.AsyncClient, player: SignedIn, ranked_set: dict[str, Any]
) -> None:
    set_id = ranked_set["set_id"]

    async def post(action: str, target: int = set_id) -> httpx.Response:
        body, headers = lazer_multipart({"action": action})
        return await client.post(
            f"/api/v2/beatmapsets/{target}/favourites",
            content=body,
            headers={**headers, **player.headers},
        )

    first = await post("favourite")
    assert first.status_code == 200 and first.json() == {"favourite_count": 1}
    again = await post("favourite")  # idempotent
    assert again.json() == {"favourite_count": 1}
    mine = await client.get("/api/v2/me/beatmapset-favourites", headers=player.headers)
    assert set_id in mine.json()["beatmapset_ids"]
    shown = await client.get(f"/api/v2/beatmapsets/{set_id}", headers=player.headers)
    assert shown.json()["has_favourited"] is True and shown.json()["favourite_count"] == 1
    assert (await post("unfavourite")).json() == {"favourite_count": 0}
    assert (await post("unfavourite")).json() == {"favourite_count": 0}
    assert (await post("like")).status_code == 422
    assert (await post("favourite", fresh_id())).status_code == 404
    anonymous = await client.post(
        f"/api/v2/beatmapsets/{set_id}/favourites", data={"action": "favourite"}
    )
    assert anonymous.status_code == 401


async def test_all_statuses_setting_presents_graveyard_as_ranked(
    settings: Settings, services: Any, player: SignedIn
) -> None:
    set_id, ids, _ = await store_set(services, status=-2, title="Graveyard Song")
    async with app_client(settings, "198.51.100.10") as stock:
        body = (await stock.get(f"/api/v2/beatmaps/{ids[0]}", headers=player.headers)).json()
        assert body["status"] == "graveyard" and body["beatmapset"]["ranked"] == -2
        assert body["is_scoreable"] is False
    everything = make_settings(
        settings.data_dir, SECRET_KEY=settings.secret_key, LEADERBOARDS_FOR_ALL_STATUSES="true"
    )
    async with app_client(everything, "198.51.100.11") as generous:
        body = (await generous.get(f"/api/v2/beatmaps/{ids[0]}", headers=player.headers)).json()
        assert body["status"] == "ranked" and body["beatmapset"]["status"] == "ranked"
        assert body["is_scoreable"] is True
    stored = await services.beatmaps.repo.beatmapset(set_id)
    assert stored.status == -2  # the setting changes what is served, not what is stored


async def test_reingest_changes_nothing(services: Any) -> None:
    set_id = fresh_id()
    beatmap_id = fresh_id()
    difficulties = [{"beatmap_id": beatmap_id, "version": "Only"}]
    _, _, first = await store_set(services, beatmapset_id=set_id, difficulties=difficulties)
    before = await services.beatmaps.repo.beatmapset(set_id)
    _, _, second = await store_set(services, beatmapset_id=set_id, difficulties=difficulties)
    after = await services.beatmaps.repo.beatmapset(set_id)
    assert first.set_change.value == "added" and second.set_change.value == "unchanged"
    assert [c.value for c in second.beatmaps.values()] == ["unchanged"]
    assert before == after


async def test_changed_file_updates_the_beatmap(services: Any) -> None:
    set_id, beatmap_id = fresh_id(), fresh_id()
    await store_set(services, beatmapset_id=set_id, difficulties=[{"beatmap_id": beatmap_id}])
    old = await services.beatmaps.repo.beatmap(beatmap_id)
    _, _, outcome = await store_set(
        services, beatmapset_id=set_id, difficulties=[{"beatmap_id": beatmap_id, "n_objects": 80}]
    )
    new = await services.beatmaps.repo.beatmap(beatmap_id)
    assert outcome.beatmaps[beatmap_id].value == "updated"
    assert new.checksum != old.checksum
    assert new.last_updated >= old.last_updated
    assert await services.beatmaps.repo.beatmap_by_checksum(old.checksum) is None
    assert new.count_circles + new.count_sliders + new.count_spinners == 80


async def test_same_file_under_another_id_is_rejected(services: Any) -> None:
    from server.services.beatmap_ingest import BeatmapFile, SetInput

    set_id, ids, _ = await store_set(services)
    data = await services.beatmaps.files.get(
        "osu", (await services.beatmaps.repo.beatmap(ids[0])).checksum
    )
    outcome = await services.beatmaps.ingest.store_set(
        SetInput(
            beatmapset_id=set_id,
            status=1,
            files=[BeatmapFile(data=data, filename="dup.osu", beatmap_id=fresh_id())],
        )
    )
    assert len(outcome.rejected) == 1 and "already stored as beatmap" in outcome.rejected[0].reason


async def test_suspicious_map_is_stored_flagged_without_stars(
    services: Any, client: httpx.AsyncClient, player: SignedIn
) -> None:
    from server.services.beatmap_ingest import BeatmapFile, SetInput
    from tests.synthetic_beatmaps import suspicious_osu

    set_id, beatmap_id = fresh_id(), fresh_id()
    data = suspicious_osu().replace(
        b"[Difficulty]", f"BeatmapID:{beatmap_id}\n\n[Difficulty]".encode()
    )
    outcome = await services.beatmaps.ingest.store_set(
        SetInput(
            beatmapset_id=set_id,
            status=1,
            files=[BeatmapFile(data=data, filename="s.osu", beatmap_id=beatmap_id)],
        )
    )
    assert not outcome.rejected
    stored = await services.beatmaps.repo.beatmap(beatmap_id)
    assert stored.is_suspicious and stored.difficulty_rating == 0
    body, headers = lazer_multipart({"ruleset": "osu"})
    response = await client.post(
        f"/api/v2/beatmaps/{beatmap_id}/attributes",
        content=body,
        headers={**headers, **player.headers},
    )
    assert response.status_code == 422


async def test_garbage_file_is_rejected_with_reason(services: Any) -> None:
    from server.services.beatmap_ingest import BeatmapFile, SetInput

    outcome = await services.beatmaps.ingest.store_set(
        SetInput(
            beatmapset_id=fresh_id(),
            status=1,
            files=[BeatmapFile(data=b"not a beatmap", filename="junk.osu", beatmap_id=fresh_id())],
        )
    )
    assert outcome.rejected[0].name == "junk.osu"
    assert "not a valid .osu" in outcome.rejected[0].reason


async def test_stars_come_from_the_core(services: Any) -> None:
    from server.core import pp

    set_id, ids, _ = await store_set(services, difficulties=[{"ruleset": "osu", "seed": 3}])
    stored = await services.beatmaps.repo.beatmap(ids[0])
    data = make_osu("osu", beatmap_id=ids[0], beatmapset_id=set_id, version="Diff 0", seed=3)
    with pp.Beatmap.parse(data) as parsed:
        expected = parsed.difficulty(0)
        converts = {r: parsed.difficulty(r).stars for r in range(4)}
    assert stored.difficulty_rating == pytest.approx(expected.stars, rel=1e-12)
    assert stored.max_combo == expected.max_combo
    difficulties = await services.beatmaps.repo.difficulties(ids[0])
    assert {d.ruleset_id: d.stars for d in difficulties} == pytest.approx(converts)
    assert all(d.algorithm_version.startswith("rosu-pp") for d in difficulties)


async def test_cached_lookup_follows_changes(
    services: Any, client: httpx.AsyncClient, player: SignedIn
) -> None:
    set_id, beatmap_id = fresh_id(), fresh_id()
    await store_set(services, beatmapset_id=set_id, difficulties=[{"beatmap_id": beatmap_id}])
    old = await services.beatmaps.repo.beatmap(beatmap_id)

    async def lookup(**params: Any) -> httpx.Response:
        return await client.get("/api/v2/beatmaps/lookup", params=params, headers=player.headers)

    # Warm the cache by both keys.
    assert (await lookup(id=beatmap_id)).json()["checksum"] == old.checksum
    assert (await lookup(checksum=old.checksum)).status_code == 200
    keys = [k async for k in services.redis.scan_iter(match=f"beatmaps:lookup:*{beatmap_id}")]
    assert keys, "the lookup is cached"
    # The file changes: the cached answers go with it.
    await store_set(
        services, beatmapset_id=set_id, difficulties=[{"beatmap_id": beatmap_id, "n_objects": 90}]
    )
    new = await services.beatmaps.repo.beatmap(beatmap_id)
    assert (await lookup(id=beatmap_id)).json()["checksum"] == new.checksum
    assert (await lookup(checksum=old.checksum)).status_code == 404
    # Favourites change the nested set's count: also not served stale.
    body, headers = lazer_multipart({"action": "favourite"})
    await client.post(
        f"/api/v2/beatmapsets/{set_id}/favourites",
        content=body,
        headers={**headers, **player.headers},
    )
    assert (await lookup(checksum=new.checksum)).json()["beatmapset"]["favourite_count"] == 1


async def test_lookup_survives_a_redis_outage(
    settings: Settings, services: Any, player: SignedIn
) -> None:
    """Redis holds only caches for beatmaps: without it lookups still answer from SQL."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from server.services.beatmaps import BeatmapService

    _, ids, _ = await store_set(services)

    class _FailingRedis:
        async def get(self, key: str) -> None:
            raise RedisConnectionError("down")

        async def set(self, *args: Any, **kwargs: Any) -> None:
            raise RedisConnectionError("down")

    svc: BeatmapService = services.beatmaps
    broken = BeatmapService(
        services.db,
        svc.repo,
        svc.files,
        svc.ingest,
        svc.upstream,
        _FailingRedis(),
        core_cache(),
        all_statuses_ranked=False,
        resync_seconds=60,
        miss_seconds=60,
    )
    body = await broken.lookup(beatmap_id=ids[0], checksum=None, filename=None)
    assert body is not None and str(ids[0]).encode() in body


def core_cache() -> Any:
    from server.core.pp import PpCache

    return PpCache()


async def test_concurrent_stores_of_one_new_set_both_succeed(
    services: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Two writers racing on one new set (workers syncing it, or an import): no error."""
    import asyncio

    from server.services.beatmap_ingest import BeatmapFile, SetInput

    set_id, beatmap_id = fresh_id(), fresh_id()
    data = make_osu(beatmap_id=beatmap_id, beatmapset_id=set_id)
    entry = SetInput(
        beatmapset_id=set_id,
        status=1,
        files=[BeatmapFile(data=data, filename="race.osu", beatmap_id=beatmap_id)],
    )
    with caplog.at_level("INFO", logger="server.services.beatmap_ingest"):
        outcomes = await asyncio.gather(
            *(services.beatmaps.ingest.store_set(entry) for _ in range(3))
        )
    assert "stored concurrently; retrying" in caplog.text  # the race really happened
    changes = sorted(o.beatmaps[beatmap_id].value for o in outcomes)
    assert changes.count("added") == 1 and changes.count("unchanged") == 2
    assert (await services.beatmaps.repo.beatmap(beatmap_id)).checksum == hashlib.md5(
        data
    ).hexdigest()


async def test_beatmapset_lists_converts_with_core_stars(
    services: Any, client: httpx.AsyncClient, player: SignedIn
) -> None:
    set_id, ids, _ = await store_set(
        services,
        difficulties=[{"ruleset": "osu", "version": "Std"}, {"ruleset": "mania", "version": "7K"}],
    )
    body = (await client.get(f"/api/v2/beatmapsets/{set_id}", headers=player.headers)).json()
    converts = body["converts"]
    assert {(c["id"], c["mode"]) for c in converts} == {
        (ids[0], "taiko"),
        (ids[0], "fruits"),
        (ids[0], "mania"),
    }
    stored = {d.ruleset_id: d for d in await services.beatmaps.repo.difficulties(ids[0])}
    for convert in converts:
        assert convert["convert"] is True
        assert convert["difficulty_rating"] == stored[convert["mode_int"]].stars
        assert convert["max_combo"] == stored[convert["mode_int"]].max_combo
