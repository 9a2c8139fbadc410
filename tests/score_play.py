"""Playing a beatmap as lazer does, for score tests: store a map, get a token, build the
SoloScoreInfo.ForSubmission body from the map's own counts, and PUT it.

Between the token and the PUT lazer plays the map through, and the server refuses a pass that
arrives sooner than that. Tests do not wait: `submit` ages the token by the map's length
instead (as the time passing would), unless told the play did not happen."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from server.core.pp import Beatmap, DifficultyAttributes
from tests.beatmap_data import store_set
from tests.helpers import SignedIn, lazer_multipart

VERSION_HASH = "d41d8cd98f00b204e9800998ecf8427e"
RULESET_NAMES = {"osu": 0, "taiko": 1, "catch": 2, "mania": 3}


@dataclass(frozen=True)
class StoredMap:
    id: int
    set_id: int
    checksum: str
    ruleset_id: int
    attrs: DifficultyAttributes
    total_length: int = 0
    db: Any = None


async def stored_map(
    services: Any, ruleset: str = "osu", status: int = 1, n_objects: int = 40, **extra: Any
) -> StoredMap:
    """Store a one-difficulty set and read back its checksum and difficulty."""
    set_id, ids, _ = await store_set(
        services,
        status=status,
        difficulties=[{"ruleset": ruleset, "n_objects": n_objects, **extra}],
    )
    # Ranked a day ago, not at the moment of import: tokens aged by `submit` must still come
    # after the ranking (a token older than the ranking is refused, S-SC-4).
    await services.db.execute_raw(
        "UPDATE beatmapsets SET ranked_date = :d WHERE id = :s AND ranked_date IS NOT NULL",
        d=(datetime.now(UTC) - timedelta(days=1)).replace(tzinfo=None, microsecond=0),
        s=set_id,
    )
    record = await services.beatmaps.repo.beatmap(ids[0])
    data = await services.beatmaps.files.get("osu", record.checksum)
    with Beatmap.parse(data) as parsed:
        attrs = parsed.difficulty(RULESET_NAMES[ruleset])
    return StoredMap(
        record.id,
        set_id,
        record.checksum,
        RULESET_NAMES[ruleset],
        attrs,
        record.total_length,
        services.db,
    )


def maximum_statistics(attrs: DifficultyAttributes) -> dict[str, int]:
    """What lazer puts in maximum_statistics for a map (the results its judgements top out
    at; bonus results left out)."""
    if attrs.mode == 0:
        counts = {
            "great": attrs.n_circles + attrs.n_sliders + attrs.n_spinners,
            "large_tick_hit": attrs.n_large_ticks,
            "slider_tail_hit": attrs.n_sliders,
        }
    elif attrs.mode == 1:
        counts = {"great": attrs.max_combo}  # one per hit; drum rolls and swells are bonus
    elif attrs.mode == 2:
        counts = {
            "great": attrs.n_fruits,
            "large_tick_hit": attrs.n_droplets,
            "small_tick_hit": attrs.n_tiny_droplets,
        }
    else:
        counts = {"perfect": attrs.n_objects + attrs.n_hold_notes}  # hold notes: head and tail
    return {k: v for k, v in counts.items() if v}


def play_body(
    beatmap: StoredMap,
    *,
    misses: int = 0,
    oks: int = 0,
    passed: bool = True,
    mods: list[dict[str, Any]] | None = None,
    total_score_without_mods: int = 900_000,
    combo: int | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A SoloScoreInfo.ForSubmission body, keys in lazer's order."""
    maximum = maximum_statistics(beatmap.attrs)
    basic = "perfect" if beatmap.ruleset_id == 3 else "great"
    statistics = dict(maximum)
    statistics[basic] = maximum[basic] - misses - oks
    if oks:
        statistics["ok"] = oks
    if misses:
        statistics["miss"] = misses
    body: dict[str, Any] = {
        "ruleset_id": beatmap.ruleset_id,
        "passed": passed,
        "total_score": total_score_without_mods,
        "total_score_without_mods": total_score_without_mods,
        "accuracy": 1.0,
        "max_combo": beatmap.attrs.max_combo if combo is None else combo,
        "rank": "X",
    }
    if mods:
        body["mods"] = mods
    body["statistics"] = {k: v for k, v in statistics.items() if v}
    body["maximum_statistics"] = maximum
    body["pauses"] = []
    body["ranked"] = False
    body.update(overrides)
    return body


async def request_token(
    client: httpx.AsyncClient, player: SignedIn, beatmap: StoredMap, **fields: str
) -> httpx.Response:
    """POST beatmaps/{id}/solo/scores as lazer sends it (multipart)."""
    form = {
        "version_hash": VERSION_HASH,
        "beatmap_hash": beatmap.checksum,
        "ruleset_id": str(beatmap.ruleset_id),
    }
    form.update(fields)
    body, headers = lazer_multipart(form)
    return await client.post(
        f"/api/v2/beatmaps/{beatmap.id}/solo/scores",
        content=body,
        headers={**headers, **player.headers},
    )


async def token_for(client: httpx.AsyncClient, player: SignedIn, beatmap: StoredMap) -> int:
    """A fresh token id."""
    response = await request_token(client, player, beatmap)
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


async def age_token(db: Any, token: int, seconds: float) -> None:
    """Make a token at least `seconds` old (an older one keeps its age)."""
    issued = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=seconds)
    await db.execute_raw(
        "UPDATE score_tokens SET created_at = :t WHERE id = :id AND created_at > :t",
        t=issued.replace(microsecond=0),
        id=token,
    )


async def submit(
    client: httpx.AsyncClient,
    player: SignedIn,
    beatmap: StoredMap,
    token: int,
    body: Any,
    *,
    played: bool = True,
) -> httpx.Response:
    """PUT beatmaps/{id}/solo/scores/{token} with a raw JSON body; a pass comes after the map
    was played through (at half speed, the slowest rate a mod sets) unless `played` is off."""
    if played and isinstance(body, dict) and body.get("passed") and beatmap.db is not None:
        await age_token(beatmap.db, token, beatmap.total_length * 2 + 5)
    return await client.put(
        f"/api/v2/beatmaps/{beatmap.id}/solo/scores/{token}",
        content=json.dumps(body).encode(),
        headers={
            **player.headers,
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )


async def play(
    client: httpx.AsyncClient, player: SignedIn, beatmap: StoredMap, **kwargs: Any
) -> dict[str, Any]:
    """Token then submission; the stored score."""
    token = await token_for(client, player, beatmap)
    response = await submit(client, player, beatmap, token, play_body(beatmap, **kwargs))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]
