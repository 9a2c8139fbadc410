"""ossapi 5.3.6 against the live server: its typed Beatmap, Beatmapset, search-result and
difficulty-attribute models must parse our responses (a check on our shapes)."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

import pytest
from ossapi import GameMode, Mod, Ossapi  # type: ignore[import-untyped]
from ossapi.enums import RankStatus  # type: ignore[import-untyped]
from ossapi.models import (  # type: ignore[import-untyped]
    Beatmap,
    Beatmapset,
    BeatmapsetSearchResult,
    DifficultyAttributes,
)

from tests.beatmap_data import store_set
from tests.conformance.live_server import LiveServer, ThirdPartyClient
from tests.conformance.test_ossapi import bounded, ossapi_class


@pytest.fixture(autouse=True)
def _plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture(scope="module")
def stored(live_server: LiveServer) -> dict[str, Any]:
    """Two sets on the live server: 55 would page, but two prove the models parse."""
    token = "ossapi" + secrets.token_hex(3)

    async def store(svc: Any) -> dict[str, Any]:
        first = await store_set(
            svc,
            title="Ossapi Song",
            tags=token,
            osz=True,
            difficulties=[
                {"ruleset": "osu", "version": "Hard"},
                {"ruleset": "mania", "version": "4K"},
            ],
        )
        second = await store_set(svc, status=4, title="Ossapi Loved", tags=token)
        beatmap = await svc.beatmaps.repo.beatmap(first[1][0])
        return {"token": token, "first": first, "second": second, "beatmap": beatmap}

    return live_server.call(store)


@pytest.fixture
def api(live_server: LiveServer, third_party_client: ThirdPartyClient, tmp_path: Path) -> Ossapi:
    return bounded(
        lambda: ossapi_class(live_server)(
            str(third_party_client.id), third_party_client.secret, token_directory=str(tmp_path)
        )
    )


def test_beatmap_models_parse_by_every_key(api: Ossapi, stored: dict[str, Any]) -> None:
    beatmap = stored["beatmap"]
    by_id = bounded(lambda: api.beatmap(beatmap.id))
    by_checksum = bounded(lambda: api.beatmap(checksum=beatmap.checksum))
    by_filename = bounded(lambda: api.beatmap(filename=beatmap.filename))
    for model in (by_id, by_checksum, by_filename):
        assert isinstance(model, Beatmap)
        assert model.id == beatmap.id and model.checksum == beatmap.checksum
        assert model.mode is GameMode.OSU and model.status is RankStatus.RANKED
        assert model.version == "Hard" and model.max_combo == beatmap.max_combo
        assert model.difficulty_rating == pytest.approx(beatmap.difficulty_rating, abs=1e-4)
        assert model.beatmapset().title == "Ossapi Song"
        assert model.last_updated is not None


def test_beatmaps_list_parses(api: Ossapi, stored: dict[str, Any]) -> None:
    ids = stored["first"][1]
    models = bounded(lambda: api.beatmaps(ids))
    assert sorted(m.id for m in models) == sorted(ids)
    assert {m.mode for m in models} == {GameMode.OSU, GameMode.MANIA}


def test_beatmapset_models_parse(api: Ossapi, stored: dict[str, Any]) -> None:
    set_id, ids, _ = stored["first"]
    direct = bounded(lambda: api.beatmapset(set_id))
    via_beatmap = bounded(lambda: api.beatmapset(beatmap_id=ids[1]))
    for model in (direct, via_beatmap):
        assert isinstance(model, Beatmapset)
        assert model.id == set_id and model.title == "Ossapi Song"
        assert sorted(b.id for b in model.beatmaps) == sorted(ids)
        assert model.covers.card_2x.startswith("https://assets.ppy.sh/")
        assert model.availability.download_disabled is False
        assert model.status is RankStatus.RANKED and model.ranked_date is not None


def test_search_result_parses_and_pages(api: Ossapi, stored: dict[str, Any]) -> None:
    from ossapi.enums import BeatmapsetSearchCategory  # type: ignore[import-untyped]

    result = bounded(
        lambda: api.search_beatmapsets(query=stored["token"], category=BeatmapsetSearchCategory.ANY)
    )
    assert isinstance(result, BeatmapsetSearchResult)
    assert result.total == 2 and result.cursor is None
    assert {s.title for s in result.beatmapsets} == {"Ossapi Song", "Ossapi Loved"}
    loved = bounded(
        lambda: api.search_beatmapsets(
            query=stored["token"], category=BeatmapsetSearchCategory.LOVED
        )
    )
    assert [s.title for s in loved.beatmapsets] == ["Ossapi Loved"]


def test_difficulty_attributes_parse(
    api: Ossapi, stored: dict[str, Any], live_server: LiveServer
) -> None:
    beatmap = stored["beatmap"]
    nomod = bounded(lambda: api.beatmap_attributes(beatmap.id, ruleset="osu"))
    dt = bounded(lambda: api.beatmap_attributes(beatmap.id, mods=Mod.DT, ruleset="osu"))
    assert isinstance(dt, DifficultyAttributes)
    assert nomod.attributes.star_rating == pytest.approx(beatmap.difficulty_rating)
    assert dt.attributes.star_rating > nomod.attributes.star_rating
    assert dt.attributes.max_combo == beatmap.max_combo
    assert dt.attributes.aim_difficulty is not None and dt.attributes.approach_rate is not None
    mania = bounded(lambda: api.beatmap_attributes(beatmap.id, ruleset_id=3))
    assert mania.attributes.star_rating > 0


def test_unknown_beatmap_is_an_error_not_a_model(api: Ossapi) -> None:
    with pytest.raises(ValueError):
        bounded(lambda: api.beatmap(2_000_000_000 - 7))


def test_raw_file_matches_checksum(live_server: LiveServer, stored: dict[str, Any]) -> None:
    import requests

    beatmap = stored["beatmap"]
    response = requests.get(f"{live_server.url}/osu/{beatmap.id}", timeout=10)
    assert hashlib.md5(response.content).hexdigest() == beatmap.checksum


def test_ossapi_pages_search_with_our_cursor(live_server: LiveServer, api: Ossapi) -> None:
    """55 matching sets: ossapi passes our cursor back (`cursor[key]=value`) for page two."""
    from ossapi.enums import BeatmapsetSearchCategory  # type: ignore[import-untyped]

    token = "paging" + secrets.token_hex(3)

    async def store(svc: Any) -> list[int]:
        return [(await store_set(svc, title=f"Page {i:02d}", tags=token))[0] for i in range(55)]

    ids = live_server.call(store, timeout=120)
    seen: list[int] = []
    cursor = None
    for _ in range(5):
        page = bounded(
            lambda c=cursor: api.search_beatmapsets(
                query=token, category=BeatmapsetSearchCategory.ANY, sort="title_asc", cursor=c
            )
        )
        seen += [s.id for s in page.beatmapsets]
        cursor = page.cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 55
