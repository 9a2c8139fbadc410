"""Importing the real maps in ../shared/testdata/beatmaps (zipped into .osz here, plus loose
.osu files with an operator id mapping), then serving and calculating them: star ratings and
max combo against the rosu-pp 4.0.1 values recorded there."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.services.beatmap_import import BeatmapImporter, IdMapping
from tests.beatmap_data import fresh_id, make_osu, make_osz
from tests.helpers import SignedIn, lazer_multipart
from tests.shared_data import beatmaps_dir

RULESET_KEYS = ("osu", "taiko", "catch", "mania")
MOD_SETS = ("NM", "EZ", "HD", "HR", "DT", "HT", "FL", "HDHR", "HDDT")
# Files with BeatmapID/BeatmapSetID in them; the rest get ids from the mapping.
WITH_IDS = {
    "ppy-osu-soleily-renatus-insane.osu": (557821, 241526),
    "rosu-osu-2785319.osu": (2785319, 1344871),
    "rosu-catch-2118524.osu": (2118524, 994994),
}


@pytest.fixture(scope="session")
async def shared_import(app: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Import the shared maps once: .osz archives for the files with ids, two mapped files in
    an .osz named by its set id, and the rest loose in nested folders with a mapping."""
    source = beatmaps_dir()
    services = app.state.lifespan_state["services"]
    root = tmp_path_factory.mktemp("import")
    expected = json.loads((source / "expected_rosu-pp-4.0.1.json").read_text())["maps"]
    files = sorted(expected)
    ids: dict[str, tuple[int, int]] = dict(WITH_IDS)
    for name in files:
        if name not in ids:
            ids[name] = (fresh_id(), fresh_id())
    # The two taiko tests share one set, as difficulties of one song would.
    taiko_set = ids["ppy-taiko-diffcalc-test.osu"][1]
    ids["ppy-taiko-diffcalc-test-strong.osu"] = (
        ids["ppy-taiko-diffcalc-test-strong.osu"][0],
        taiko_set,
    )

    for name, (_, set_id) in WITH_IDS.items():
        (root / f"{set_id} {name[:-4]}.osz").write_bytes(
            make_osz(
                {name: (source / name).read_bytes()},
                {"audio.mp3": b"\0" * 64, "bg.jpg": b"\0" * 64},
            )
        )
    mapping: dict[str, IdMapping] = {}
    import hashlib

    archived = ("ppy-mania-diffcalc-test.osu", "ppy-mania-4869637.osu")
    mania_set = fresh_id()
    (root / f"{mania_set} mania pack.osz").write_bytes(
        make_osz({name: (source / name).read_bytes() for name in archived})
    )
    for name in archived:
        data = (source / name).read_bytes()
        # Keyed by MD5; no set id: it comes from the archive's name.
        mapping[hashlib.md5(data).hexdigest()] = IdMapping(beatmap_id=ids[name][0])
        ids[name] = (ids[name][0], mania_set)
    nested = root / "loose" / "deeper"
    nested.mkdir(parents=True)
    for name in files:
        if name in WITH_IDS or name in archived:
            continue
        shutil.copyfile(source / name, nested / name)
        mapping[name] = IdMapping(beatmap_id=ids[name][0], beatmapset_id=ids[name][1])

    importer = BeatmapImporter(services.beatmaps.ingest, services.beatmaps.upstream)
    first = await importer.run([root], status=1, mapping=mapping)
    second = await importer.run([root], status=1, mapping=mapping)
    return {"first": first, "second": second, "ids": ids, "expected": expected, "source": source}


async def test_import_adds_every_file_then_changes_nothing(shared_import: dict[str, Any]) -> None:
    first, second = shared_import["first"], shared_import["second"]
    assert first.rejected == []
    assert first.beatmaps_added == 16 and first.beatmaps_updated == 0
    assert first.sets_added == 14  # 16 maps; the taiko pair and the mania pair share sets
    assert second.beatmaps_added == second.beatmaps_updated == 0
    assert second.beatmaps_unchanged == 16 and second.sets_unchanged == 14
    assert second.sets_added == second.sets_updated == 0


async def test_stars_and_combo_match_rosu_pp(services: Any, shared_import: dict[str, Any]) -> None:
    for name, (beatmap_id, set_id) in shared_import["ids"].items():
        data = shared_import["expected"][name]
        stored = await services.beatmaps.repo.beatmap(beatmap_id)
        assert stored is not None, name
        assert stored.beatmapset_id == set_id
        assert stored.mode == data["mode"]
        own = data["results"][RULESET_KEYS[data["mode"]]]["NM"]
        assert stored.difficulty_rating == pytest.approx(own["stars"], rel=1e-9, abs=1e-9), name
        assert stored.max_combo == own["max_combo"], name
        assert stored.count_circles == data["n_circles"], name
        assert stored.cs == pytest.approx(data["cs"]) and stored.ar == pytest.approx(data["ar"])
        assert stored.bpm == pytest.approx(data["bpm"])
        for ruleset, key in enumerate(RULESET_KEYS):
            convert = data["results"].get(f"{key}_convert")
            if convert is None:
                continue
            rows = {d.ruleset_id: d for d in await services.beatmaps.repo.difficulties(beatmap_id)}
            assert rows[ruleset].stars == pytest.approx(convert["NM"]["stars"], rel=1e-9), (
                name,
                key,
            )
            assert rows[ruleset].max_combo == convert["NM"]["max_combo"]


async def test_imported_osz_is_served_and_files_are_byte_exact(
    client: httpx.AsyncClient, player: SignedIn, shared_import: dict[str, Any]
) -> None:
    source: Path = shared_import["source"]
    for name, (beatmap_id, _) in shared_import["ids"].items():
        raw = await client.get(f"/osu/{beatmap_id}")
        assert raw.content == (source / name).read_bytes(), name  # CRLF and BOM kept
    download = await client.get("/api/v2/beatmapsets/1344871/download", headers=player.headers)
    assert download.status_code == 200 and download.content[:2] == b"PK"


async def test_imported_maps_by_every_key(
    client: httpx.AsyncClient, player: SignedIn, shared_import: dict[str, Any]
) -> None:
    import hashlib

    source: Path = shared_import["source"]
    for name, (beatmap_id, set_id) in shared_import["ids"].items():
        checksum = hashlib.md5((source / name).read_bytes()).hexdigest()
        for params in ({"id": beatmap_id}, {"checksum": checksum}, {"filename": name}):
            response = await client.get(
                "/api/v2/beatmaps/lookup", params=params, headers=player.headers
            )
            assert response.status_code == 200, (name, params, response.text)
            assert response.json()["id"] == beatmap_id
            assert response.json()["beatmapset"]["id"] == set_id
    renatus = await client.get("/api/v2/beatmapsets/241526", headers=player.headers)
    body = renatus.json()
    assert body["title"] == "Renatus" and body["artist"] == "Soleily" and body["creator"] == "Gamu"
    assert body["beatmaps"][0]["version"] == "Insane" and body["status"] == "ranked"


async def test_attributes_match_rosu_pp_for_every_mod_set(
    client: httpx.AsyncClient, player: SignedIn, shared_import: dict[str, Any]
) -> None:
    for name, (beatmap_id, _) in shared_import["ids"].items():
        data = shared_import["expected"][name]
        key = RULESET_KEYS[data["mode"]]
        for mods, want in data["results"][key].items():
            acronyms = [] if mods == "NM" else [mods[i : i + 2] for i in range(0, len(mods), 2)]
            response = await client.post(
                f"/api/v2/beatmaps/{beatmap_id}/attributes",
                json={"mods": acronyms, "ruleset_id": data["mode"]},
                headers=player.headers,
            )
            assert response.status_code == 200, (name, mods, response.text)
            attributes = response.json()["attributes"]
            assert attributes["star_rating"] == pytest.approx(want["stars"], rel=1e-9, abs=1e-12), (
                name,
                mods,
            )
            assert attributes["max_combo"] == want["max_combo"], (name, mods)


async def test_attributes_request_forms(
    client: httpx.AsyncClient, player: SignedIn, shared_import: dict[str, Any]
) -> None:
    expected = shared_import["expected"]["rosu-osu-2785319.osu"]["results"]
    dt = expected["osu"]["DT"]["stars"]
    url = "/api/v2/beatmaps/2785319/attributes"

    async def stars(**kwargs: Any) -> float:
        kwargs.setdefault("headers", player.headers)
        response = await client.post(url, **kwargs)
        assert response.status_code == 200, response.text
        return float(response.json()["attributes"]["star_rating"])

    assert await stars(json={"mods": 64}) == pytest.approx(dt)  # legacy bitmask
    assert await stars(json={"mods": [{"acronym": "DT"}]}) == pytest.approx(dt)
    assert await stars(data={"mods[]": ["DT"], "ruleset": "osu"}) == pytest.approx(dt)  # ossapi
    body, headers = lazer_multipart({"mods": "64"})
    assert await stars(content=body, headers={**headers, **player.headers}) == pytest.approx(dt)
    taiko = await stars(json={"ruleset": "taiko"})
    assert taiko == pytest.approx(expected["taiko_convert"]["NM"]["stars"])

    async def status(beatmap: int | str, **kwargs: Any) -> int:
        kwargs.setdefault("headers", player.headers)
        response = await client.post(f"/api/v2/beatmaps/{beatmap}/attributes", **kwargs)
        assert "error" in response.json()
        return response.status_code

    taiko_only = shared_import["ids"]["ppy-taiko-diffcalc-test.osu"][0]
    assert await status(taiko_only, json={"ruleset": "osu"}) == 422  # no taiko -> osu convert
    assert await status(2785319, json={"ruleset": "standard"}) == 422
    assert await status(2785319, json={"ruleset_id": 7}) == 422
    assert await status(2785319, json={"mods": ["ZZ"]}) == 422
    assert await status(2785319, json={"mods": True}) == 422
    assert await status(2785319, json={"mods": [1, "HD"]}) == 422
    assert (
        await status(
            2785319,
            content=b"{not json",
            headers={**player.headers, "content-type": "application/json"},
        )
        == 400
    )
    assert await status(fresh_id(), json={}) == 404
    assert await status("x", json={}) == 404  # not an id: not found (osu-web findOrFail)


async def test_attributes_are_cached_in_redis(
    services: Any, client: httpx.AsyncClient, player: SignedIn, shared_import: dict[str, Any]
) -> None:
    response = await client.post(
        "/api/v2/beatmaps/2118524/attributes", json={"mods": ["HR"]}, headers=player.headers
    )
    assert response.status_code == 200
    keys = [k async for k in services.redis.scan_iter(match="beatmaps:attributes:*")]
    assert any(b'"HR"' in (k if isinstance(k, bytes) else k.encode()) for k in keys)


def test_cli_import_with_progress_summary_and_rejections(tmp_path: Path) -> None:
    """`python -m server beatmaps import` on the embedded default, run twice."""
    set_id, beatmap_id = 1_700_000_001, 1_700_000_002
    good = make_osu(beatmap_id=beatmap_id, beatmapset_id=set_id, title="Cli Song")
    maps = tmp_path / "maps"
    (maps / "sub").mkdir(parents=True)
    (maps / "sub" / f"{set_id} Cli Song.osz").write_bytes(make_osz({"cli.osu": good}))
    (maps / "broken.osz").write_bytes(b"PK\x03\x04 definitely not a zip")
    (maps / "noid.osu").write_bytes(make_osu(beatmap_id=None, beatmapset_id=None, title="No Ids"))
    (maps / "evil.osz").write_bytes(make_osz({"../../escape.osu": good}))
    env = {
        "PATH": "/usr/bin:/bin",
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_LEVEL": "warning",
    }

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "server", "beatmaps", "import", str(maps), *extra],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    first = run("--status", "loved")
    assert first.returncode == 0, first.stderr
    assert "beatmapsets: 1 added, 0 updated, 0 unchanged" in first.stdout
    assert "beatmaps: 1 added, 0 updated, 0 unchanged, 3 rejected" in first.stdout
    assert "broken.osz: bad .osz" in first.stdout
    assert "evil.osz: bad .osz: unsafe entry name" in first.stdout
    assert "noid.osu: no beatmapset id" in first.stdout
    assert "importing" in first.stderr  # the progress bar
    second = run("--quiet", "--status", "loved")
    assert "beatmaps: 0 added, 0 updated, 1 unchanged, 3 rejected" in second.stdout
    assert "importing" not in second.stderr
    # Another --status is a deliberate change: the set and its map are updated.
    ranked = run("--quiet")
    assert "beatmaps: 0 added, 1 updated, 0 unchanged, 3 rejected" in ranked.stdout
    mapping = tmp_path / "ids.json"
    mapping.write_text(
        json.dumps({"noid.osu": {"beatmap_id": 1_700_000_010, "beatmapset_id": 1_700_000_011}})
    )
    third = run("--quiet", "--ids", str(mapping))
    assert "beatmaps: 1 added, 0 updated, 1 unchanged, 2 rejected" in third.stdout
    bad = run("--ids", str(tmp_path / "missing.json"))
    assert bad.returncode == 2 and "not a valid id mapping" in bad.stderr
