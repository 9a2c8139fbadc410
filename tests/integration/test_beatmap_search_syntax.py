"""osu-web's query syntax inside beatmapsets/search's `q`, against a hand-made corpus of four
sets whose difficulty values, dates and names are set by hand; the beat divisor read from a
stored file; and cursor_string paging of a filtered search past its first page."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import httpx
import pytest

from server.services.beatmap_ingest import BeatmapFile, SetInput
from tests.beatmap_data import fresh_id, make_osu, store_set
from tests.helpers import SignedIn

# name -> set columns, and its difficulties' columns (by version).
CORPUS: dict[str, dict[str, Any]] = {
    "A": {
        "set": {"artist": "Camellia", "artist_unicode": "Camellia", "title": "Ghost",
                "title_unicode": "Ghost", "source": "Touhou", "creator": "alpha",
                "status": 1, "favourite_count": 150, "submitted_date": datetime(2023, 5, 10),
                "ranked_date": datetime(2023, 6, 1), "last_updated": datetime(2024, 1, 15)},
        "tags": "jazz",
        "diffs": {"Insane": {"mode": 0, "difficulty_rating": 3.5, "ar": 9, "cs": 4, "od": 8,
                             "hp": 5, "bpm": 180, "total_length": 90, "status": 1,
                             "beat_divisor": 4}},
    },
    "B": {
        "set": {"artist": "Camellia feat. Nanahira", "artist_unicode": "かめりあ",
                "title": "Light", "title_unicode": "Light", "source": "", "creator": "beta",
                "status": 4, "favourite_count": 10, "submitted_date": datetime(2024, 2, 2),
                "ranked_date": datetime(2024, 3, 3), "last_updated": datetime(2024, 3, 3)},
        "tags": "electronic",
        "diffs": {"Another": {"mode": 3, "difficulty_rating": 5.2, "ar": 5, "cs": 7, "od": 8,
                              "hp": 8, "bpm": 220, "total_length": 150, "status": 4,
                              "beat_divisor": 8}},
    },
    "C": {
        "set": {"artist": "Other Artist", "artist_unicode": "Other Artist",
                "title": "Ghost Town", "title_unicode": "Ghost Town", "source": "",
                "creator": "alpha", "status": 0, "favourite_count": 0,
                "submitted_date": datetime(2024, 5, 20), "ranked_date": None,
                "last_updated": datetime(2024, 5, 21)},
        "tags": "lo fi",
        "diffs": {
            "Easy": {"mode": 0, "difficulty_rating": 2.0, "ar": 5, "cs": 5, "od": 4, "hp": 4,
                     "bpm": 140, "total_length": 200, "status": 0, "beat_divisor": 2},
            "Extra": {"mode": 0, "difficulty_rating": 6.5, "ar": 9.5, "cs": 5, "od": 9,
                      "hp": 7, "bpm": 140, "total_length": 200, "status": 0, "beat_divisor": 6},
        },
    },
    "D": {
        "set": {"artist": "Drummer", "artist_unicode": "Drummer", "title": "Don",
                "title_unicode": "Don", "source": "", "creator": "gamma", "status": -2,
                "favourite_count": 3, "submitted_date": datetime(2022, 1, 1),
                "ranked_date": None, "last_updated": datetime(2022, 1, 2)},
        "tags": "",
        "diffs": {"Oni": {"mode": 1, "difficulty_rating": 4.0, "ar": 5, "cs": 5, "od": 6,
                          "hp": 6, "bpm": 120, "total_length": 30, "status": -2,
                          "beat_divisor": 4}},
    },
}  # fmt: skip
_RULESETS = ("osu", "taiko", "catch", "mania")


@pytest.fixture(scope="session")
async def corpus(app: Any) -> dict[str, Any]:
    services = app.state.lifespan_state["services"]
    db = services.db
    token = "syn" + secrets.token_hex(4)
    ids: dict[str, int] = {}
    for name, entry in CORPUS.items():
        diffs = entry["diffs"]
        set_id, beatmap_ids, _ = await store_set(
            services,
            status=entry["set"]["status"],
            tags=f"{token} {entry['tags']}",
            difficulties=[
                {"ruleset": _RULESETS[d["mode"]], "version": version}
                for version, d in diffs.items()
            ],
        )
        ids[name] = set_id
        columns = entry["set"]
        # The denormalised text the keywords search, as ingest writes it for these names.
        words = [columns[k] for k in ("artist", "artist_unicode", "title", "title_unicode")]
        words += [columns["creator"], columns["source"], f"{token} {entry['tags']}", *diffs]
        search_text = " ".join(w.strip().lower() for w in words if w.strip())
        await db.execute_raw(
            "UPDATE beatmapsets SET artist = :artist, artist_unicode = :artist_unicode,"
            " title = :title, title_unicode = :title_unicode, source = :source,"
            " creator = :creator, status = :status, favourite_count = :favourite_count,"
            " submitted_date = :submitted_date, ranked_date = :ranked_date,"
            " last_updated = :last_updated, search_text = :search_text WHERE id = :id",
            id=set_id,
            search_text=search_text,
            **columns,
        )
        for beatmap_id, values in zip(beatmap_ids, diffs.values(), strict=True):
            await db.execute_raw(
                "UPDATE beatmaps SET mode = :mode, difficulty_rating = :difficulty_rating,"
                " ar = :ar, cs = :cs, od = :od, hp = :hp, bpm = :bpm,"
                " total_length = :total_length, status = :status, beat_divisor = :beat_divisor"
                " WHERE id = :id",
                id=beatmap_id,
                **values,
            )
    return {"token": token, "ids": ids}


async def found(
    client: httpx.AsyncClient, player: SignedIn, corpus: dict[str, Any], q: str, **extra: Any
) -> set[str]:
    """Names of the corpus sets a search for `q` (with the corpus token) returns."""
    response = await client.get(
        "/api/v2/beatmapsets/search",
        params={"q": f"{corpus['token']} {q}", "s": "any", **extra},
        headers=player.headers,
    )
    assert response.status_code == 200, response.text
    by_id = {set_id: name for name, set_id in corpus["ids"].items()}
    names = {by_id[s["id"]] for s in response.json()["beatmapsets"] if s["id"] in by_id}
    assert response.json()["total"] == len(names)
    return names


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("", "ABCD"),
        ("stars>3", "ABCD"),
        ("stars>5", "BC"),
        ("stars<3", "C"),
        ("star=3.5", "A"),
        ("stars>5 ar>9", "C"),  # Extra: 6.5 stars, AR 9.5
        ("stars<3 ar>9", ""),  # Easy has the stars, Extra the AR: never the same difficulty
        ("ar=9", "A"),
        ("cs=4", "A"),
        ("od>=8", "ABC"),
        ("od>8", "C"),
        ("hp=6", "D"),
        ("dr>7", "B"),
        ("bpm>200", "B"),
        ("bpm=120", "D"),
        ("keys=7", "B"),
        ("keys=4", ""),
        ("length=1:30", "A"),
        ("length<60", "D"),
        ("length>2m", "BC"),
        ("length=90s", "A"),
        ("divisor=4", "AD"),
        ("divisor>4", "BC"),
        ("divisor=6 stars>5", "C"),
        ("divisor=2 stars>5", ""),  # Easy snaps to 1/2, Extra has the stars
        ("status=r", "A"),
        ("status=lov", "B"),
        ("status=grave", "D"),
        ("status=pending", "C"),
        ("status>=ranked", "AB"),
        ("status>=1", ""),  # a number is no status name: it stays a keyword, as in osu-web
        ("created=2024", "BC"),
        ("created<2024", "AD"),
        ("submitted=2024-02", "B"),
        ("created=2024-02-02", "B"),
        ("created>2024-02", "C"),
        ("ranked=2023", "A"),
        ("ranked>=2024", "B"),
        ("ranked=2024-05", ""),
        ("updated>2024-02", "BC"),
        ("updated<=2022", "D"),
        ("artist=camellia", "AB"),
        ('artist="camellia feat"', "B"),
        ('artist=""Camellia""', "A"),
        ("artist=かめりあ", "B"),
        ("title=ghost", "AC"),
        ('title="ghost town"', "C"),
        ("creator=alpha", "AC"),
        ("source=touhou", "A"),
        ("tag=jazz", "A"),
        ('tag="lo fi"', "C"),
        ("tag=jazz tag=electronic", ""),
        ("difficulty=extra", "C"),
        ("difficulty=insane stars>3", "A"),
        ("difficulty=easy stars>3", ""),
        ("favourites>100", "A"),
        ("favourites<=10", "BCD"),
        ("featured_artist=1", ""),
        ("ghost stars>5", "C"),
        ("stars>abc", ""),  # unreadable: it stays a keyword, which no set contains
    ],
)
async def test_query_syntax(
    client: httpx.AsyncClient, player: SignedIn, corpus: dict[str, Any], q: str, expected: str
) -> None:
    assert await found(client, player, corpus, q) == set(expected), q


async def test_divisor_is_read_from_the_file(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    token = "dv" + secrets.token_hex(4)
    data = make_osu(beatmap_id=None, beatmapset_id=None, tags=token).replace(
        b"[Metadata]", b"[Editor]\nBeatDivisor: 12\n\n[Metadata]", 1
    )
    set_id, beatmap_id = fresh_id(), fresh_id()
    outcome = await services.beatmaps.ingest.store_set(
        SetInput(
            beatmapset_id=set_id,
            status=1,
            files=[BeatmapFile(data=data, filename=f"{set_id}.osu", beatmap_id=beatmap_id)],
        )
    )
    assert not outcome.rejected
    assert (await services.beatmaps.repo.beatmap(beatmap_id)).beat_divisor == 12
    for q, expected in ((f"{token} divisor=12", [set_id]), (f"{token} divisor=4", [])):
        response = await client.get(
            "/api/v2/beatmapsets/search", params={"q": q, "s": "any"}, headers=player.headers
        )
        assert [s["id"] for s in response.json()["beatmapsets"]] == expected, q


async def test_difficulty_options_hold_in_the_searched_ruleset(
    client: httpx.AsyncClient, player: SignedIn, corpus: dict[str, Any]
) -> None:
    assert await found(client, player, corpus, "stars>5", m=3) == {"B"}
    assert await found(client, player, corpus, "stars>5", m=0) == {"C"}
    assert await found(client, player, corpus, "keys=7", m=0) == set()


async def test_ranked_narrows_the_category(
    client: httpx.AsyncClient, player: SignedIn, corpus: dict[str, Any]
) -> None:
    response = await client.get(
        "/api/v2/beatmapsets/search",
        params={"q": f"{corpus['token']} ranked>=2023", "s": "loved"},
        headers=player.headers,
    )
    assert [s["id"] for s in response.json()["beatmapsets"]] == [corpus["ids"]["B"]]


async def test_cursor_string_pages_a_filtered_search(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    """Past the first page with only the `cursor_string` each page hands back: every match
    once, in order, and the total is the filter's."""
    token = "pg" + secrets.token_hex(4)
    wanted: set[int] = set()
    for i in range(56):
        set_id, _, _ = await store_set(
            services, tags=f"{token} n{i}", difficulties=[{"n_objects": 20, "version": f"v{i}"}]
        )
        if i % 8 != 0:  # 49 graveyard-free sets with BPM over 300; 7 below
            wanted.add(set_id)
        await services.db.execute_raw(
            "UPDATE beatmaps SET bpm = :bpm WHERE beatmapset_id = :s",
            bpm=310 + i if i % 8 else 100,
            s=set_id,
        )
    seen: list[int] = []
    cursor_string: str | None = None
    for page_number in range(5):
        params: dict[str, Any] = {"q": f"{token} bpm>300", "sort": "title_asc", "s": "any"}
        if cursor_string:
            params["cursor_string"] = cursor_string
        response = await client.get(
            "/api/v2/beatmapsets/search", params=params, headers=player.headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == len(wanted)
        seen += [s["id"] for s in page["beatmapsets"]]
        cursor_string = page["cursor_string"]
        if cursor_string is None:
            break
        assert page_number == 0 and len(page["beatmapsets"]) == 50
    assert len(seen) == len(set(seen)) and set(seen) == wanted
