"""Playlist plays as lazer makes them (RoomSubmittingPlayer): a token for the item, the
SoloScoreInfo PUT through the solo submission path, the results screen's position and
scores_around, the item board and the room leaderboard, checked against a hand computation;
and every refusal of osu-web's Room::startPlay / completePlay / ScoreLink::complete."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.helpers import SignedIn, lazer_multipart, sign_in, signup
from tests.integration.test_rooms import create, lazer_item, lazer_room
from tests.score_play import VERSION_HASH, StoredMap, age_token, play_body, stored_map


@pytest.fixture
async def room_map(services: Any) -> StoredMap:
    return await stored_map(services)


async def _player(client: httpx.AsyncClient) -> SignedIn:
    return await sign_in(client, await signup(client))


async def _room(
    client: httpx.AsyncClient, host: SignedIn, items: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    response = await create(client, host, lazer_room(host, items, **extra))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def request_token(
    client: httpx.AsyncClient,
    player: SignedIn,
    room_id: int,
    item_id: int,
    beatmap: StoredMap,
    **fields: str,
) -> httpx.Response:
    """CreateRoomScoreRequest: multipart version_hash, beatmap_id, beatmap_hash, ruleset_id."""
    form = {
        "version_hash": VERSION_HASH,
        "beatmap_id": str(beatmap.id),
        "beatmap_hash": beatmap.checksum,
        "ruleset_id": str(beatmap.ruleset_id),
    }
    form.update(fields)
    body, headers = lazer_multipart(form)
    return await client.post(
        f"/api/v2/rooms/{room_id}/playlist/{item_id}/scores",
        content=body,
        headers={**headers, **player.headers},
    )


async def submit(
    client: httpx.AsyncClient,
    player: SignedIn,
    room_id: int,
    item_id: int,
    beatmap: StoredMap,
    token: int,
    body: dict[str, Any],
) -> httpx.Response:
    """SubmitRoomScoreRequest: the SoloScoreInfo JSON, after the map was played through."""
    await age_token(beatmap.db, token, beatmap.total_length * 2 + 5)
    return await client.put(
        f"/api/v2/rooms/{room_id}/playlist/{item_id}/scores/{token}",
        content=json.dumps(body).encode(),
        headers={**player.headers, "Content-Type": "application/json"},
    )


async def play(
    client: httpx.AsyncClient,
    player: SignedIn,
    room: dict[str, Any],
    beatmap: StoredMap,
    item: int = 0,
    **kwargs: Any,
) -> dict[str, Any]:
    item_id = room["playlist"][item]["id"]
    token = await request_token(client, player, room["id"], item_id, beatmap)
    assert token.status_code == 200, token.text
    assert list(token.json()) == ["id"]
    response = await submit(
        client,
        player,
        room["id"],
        item_id,
        beatmap,
        token.json()["id"],
        play_body(beatmap, **kwargs),
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_full_playlist_flow(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap
) -> None:
    host, a, b, c, d = [await _player(client) for _ in range(5)]
    room = await _room(
        client, host, [lazer_item(room_map.id, allowed_mods=[{"acronym": "HD"}])], max_attempts=2
    )
    rid, item = room["id"], room["playlist"][0]["id"]
    a1 = await play(client, a, room, room_map, total_score_without_mods=800_000)
    assert a1["total_score"] == 800_000 and a1["position"] == 1
    assert a1["room_id"] == rid and a1["playlist_item_id"] == item
    assert a1["solo_score_id"] == a1["id"] and a1["rank"] and a1["ended_at"]
    assert a1["user"]["id"] == a.id
    assert a1["scores_around"]["higher"]["scores"] == []
    assert a1["scores_around"]["lower"]["params"] == {"limit": 10, "sort": "score_desc"}
    a2 = await play(client, a, room, room_map, total_score_without_mods=900_000)
    # HD is allowed: osu!'s 1.04 multiplier applies (lazer's OsuModHidden).
    b1 = await play(
        client, b, room, room_map, total_score_without_mods=800_000, mods=[{"acronym": "HD"}]
    )
    assert b1["total_score"] == 832_000
    # A failed playlist play is stored but is nobody's best.
    c1 = await play(client, c, room, room_map, total_score_without_mods=990_000, passed=False)
    d1 = await play(client, d, room, room_map, total_score_without_mods=900_000)

    # Hand computation of the item board: each user's best by total, ties to the earlier score.
    # a: best 900,000 (a2); d: 900,000 (d1, later than a2); b: 832,000; c: no passing play.
    expected = [(a.id, a2["id"]), (d.id, d1["id"]), (b.id, b1["id"])]
    assert a2["id"] < d1["id"]
    assert d1["position"] == 2
    assert [s["id"] for s in d1["scores_around"]["higher"]["scores"]] == [a2["id"]]
    assert [s["id"] for s in d1["scores_around"]["lower"]["scores"]] == [b1["id"]]
    assert c1["position"] == 1  # where 990,000 would stand, though it is not on the board

    base = f"/api/v2/rooms/{rid}/playlist/{item}/scores"
    board = (await client.get(base, headers=b.headers)).json()
    assert [(s["user_id"], s["id"]) for s in board["scores"]] == expected
    assert board["total"] == 3 and board["params"] == {"limit": 50, "sort": "score_desc"}
    assert board["cursor"] is None and board["cursor_string"] is None
    assert board["user_score"]["id"] == b1["id"] and board["user_score"]["position"] == 3
    # Paging as lazer does: params and cursor echoed back.
    first = (await client.get(f"{base}?limit=2", headers=b.headers)).json()
    assert [s["id"] for s in first["scores"]] == [a2["id"], d1["id"]]
    assert first["cursor"] == {"total_score": 900_000, "score_id": d1["id"]}
    cursor = first["cursor"]
    second = await client.get(
        f"{base}?limit=2&sort=score_desc&cursor[total_score]={cursor['total_score']}"
        f"&cursor[score_id]={cursor['score_id']}",
        headers=b.headers,
    )
    assert [s["id"] for s in second.json()["scores"]] == [b1["id"]]
    by_string = await client.get(
        f"{base}?limit=2&cursor_string={first['cursor_string']}", headers=b.headers
    )
    assert [s["id"] for s in by_string.json()["scores"]] == [b1["id"]]
    ascending = (await client.get(f"{base}?sort=score_asc", headers=b.headers)).json()
    assert [s["id"] for s in ascending["scores"]] == [b1["id"], d1["id"], a2["id"]]

    # The results screens' reads.
    shown = (await client.get(f"{base}/{b1['id']}", headers=a.headers)).json()
    assert shown["position"] == 3
    assert [s["id"] for s in shown["scores_around"]["higher"]["scores"]] == [d1["id"], a2["id"]]
    assert shown["scores_around"]["higher"]["params"] == {"limit": 10, "sort": "score_asc"}
    mine = (await client.get(f"{base}/users/{a.id}", headers=a.headers)).json()
    assert mine["id"] == a2["id"] and mine["position"] == 1
    none = await client.get(f"{base}/users/{c.id}", headers=a.headers)
    assert none.status_code == 404 and none.json() == {"error": None}
    stranger = await client.get(f"{base}/users/{host.id}", headers=a.headers)
    assert stranger.json() == {
        "error": "Specified Multiplayer\\PlaylistItemUserHighScore couldn't be found."
    }

    # The room leaderboard: totals over the item bests; c tried but completed nothing.
    ranking = (await client.get(f"/api/v2/rooms/{rid}/leaderboard", headers=a.headers)).json()
    assert [
        (e["user_id"], e["total_score"], e["attempts"], e["completed"])
        for e in ranking["leaderboard"]
    ] == [
        (a.id, 900_000, 2, 1),
        (d.id, 900_000, 1, 1),
        (b.id, 832_000, 1, 1),
    ]
    assert ranking["user_score"]["position"] == 1
    assert ranking["leaderboard"][0]["accuracy"] == pytest.approx(a2["accuracy"])
    shown_room = (await client.get(f"/api/v2/rooms/{rid}", headers=c.headers)).json()
    assert shown_room["participant_count"] == 4
    assert shown_room["current_user_score"]["playlist_item_attempts"] == [
        {"attempts": 1, "id": item, "passed": False}
    ]
    assert sorted(u["id"] for u in shown_room["recent_participants"]) == sorted(
        [a.id, b.id, c.id, d.id]
    )
    # max_attempts 2: a's third try is refused.
    third = await request_token(client, a, rid, item, room_map)
    assert third.status_code == 422
    assert third.json() == {"error": "You have reached the maximum number of tries allowed."}

    # The plays are ordinary scores too: the solo board and the player's statistics count them.
    solo = (await client.get(f"/api/v2/beatmaps/{room_map.id}/scores", headers=a.headers)).json()
    assert a2["id"] in [s["id"] for s in solo["scores"]]


async def test_submission_is_exactly_once_per_token(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap
) -> None:
    host = await _player(client)
    room = await _room(client, host, [lazer_item(room_map.id)])
    rid, item = room["id"], room["playlist"][0]["id"]
    token = (await request_token(client, host, rid, item, room_map)).json()["id"]
    body = play_body(room_map)
    first = await submit(client, host, rid, item, room_map, token, body)
    again = await submit(client, host, rid, item, room_map, token, body)
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    rows = await services.db.fetch_raw(
        "SELECT COUNT(*) AS n FROM room_scores WHERE playlist_item_id = :i", i=item
    )
    assert int(rows[0]["n"]) == 1
    # A room token is not a solo token, nor a token of another item or user.
    solo = await client.put(
        f"/api/v2/beatmaps/{room_map.id}/solo/scores/{token}",
        content=json.dumps(body).encode(),
        headers={**host.headers, "Content-Type": "application/json"},
    )
    assert solo.status_code == 404
    other = await _player(client)
    foreign = await submit(client, other, rid, item, room_map, token, body)
    assert foreign.status_code == 404
    assert foreign.json() == {"error": "Specified ScoreToken couldn't be found."}


async def test_token_refusals(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap
) -> None:
    host = await _player(client)
    player = await _player(client)
    other_map = await stored_map(services, n_objects=60)
    room = await _room(
        client, host, [lazer_item(room_map.id), lazer_item(room_map.id, max_attempts=1)]
    )
    rid = room["id"]
    item, limited = room["playlist"][0]["id"], room["playlist"][1]["id"]
    wrong_map = await request_token(
        client, player, rid, item, room_map, beatmap_id=str(other_map.id)
    )
    assert wrong_map.json() == {"error": "Specified beatmap_id is not allowed"}
    wrong_ruleset = await request_token(client, player, rid, item, room_map, ruleset_id="1")
    assert wrong_ruleset.json() == {"error": "Specified ruleset_id is not allowed"}
    bad_hash = await request_token(client, player, rid, item, room_map, beatmap_hash="0" * 32)
    assert bad_hash.status_code == 422
    assert bad_hash.json() == {"error": "invalid or missing beatmap_hash"}
    assert (await request_token(client, player, rid, limited, room_map)).status_code == 200
    again = await request_token(client, player, rid, limited, room_map)
    assert again.json() == {"error": "You have reached the maximum number of tries allowed."}
    missing_item = await request_token(client, player, rid, 987654321, room_map)
    assert missing_item.status_code == 404
    assert missing_item.json() == {
        "error": "Specified Multiplayer\\PlaylistItem couldn't be found."
    }
    missing_room = await request_token(client, player, 987654321, item, room_map)
    assert missing_room.status_code == 404
    await services.db.execute_raw(
        "UPDATE room_playlist_items SET expired = 1 WHERE id = :i", i=item
    )
    expired = await request_token(client, player, rid, item, room_map)
    assert expired.json() == {"error": "Cannot play an expired playlist item."}
    await services.db.execute_raw(
        "UPDATE room_playlist_items SET expired = 0, played_at = :t WHERE id = :i",
        t=datetime.now(UTC).replace(tzinfo=None),
        i=item,
    )
    played = await request_token(client, player, rid, item, room_map)
    assert played.json() == {"error": "Cannot play a playlist item that has already been played."}
    # A token taken before the end may be submitted up to 5 minutes after it, not later.
    await services.db.execute_raw(
        "UPDATE room_playlist_items SET played_at = NULL WHERE id = :i", i=item
    )
    late_token = (await request_token(client, player, rid, item, room_map)).json()["id"]
    await services.db.execute_raw(
        "UPDATE rooms SET ends_at = :t WHERE id = :r",
        t=(datetime.now(UTC) - timedelta(minutes=1)).replace(tzinfo=None),
        r=rid,
    )
    ended = await request_token(client, player, rid, item, room_map)
    assert ended.json() == {"error": "Room has already ended."}
    in_grace = await submit(client, player, rid, item, room_map, late_token, play_body(room_map))
    assert in_grace.status_code == 200, in_grace.text
    last_token = await services.scores.create_token(
        player.id, room_map.id, room_map.checksum, 0, VERSION_HASH, playlist_item_id=item
    )
    await services.db.execute_raw(
        "UPDATE rooms SET ends_at = :t WHERE id = :r",
        t=(datetime.now(UTC) - timedelta(minutes=6)).replace(tzinfo=None),
        r=rid,
    )
    too_late = await submit(client, player, rid, item, room_map, last_token, play_body(room_map))
    assert too_late.status_code == 422
    assert too_late.json() == {"error": "Room is no longer accepting scores."}


async def test_mod_rules_on_submission(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap
) -> None:
    host = await _player(client)
    player = await _player(client)
    room = await _room(
        client,
        host,
        [
            lazer_item(room_map.id, required_mods=[{"acronym": "HR"}]),
            lazer_item(room_map.id, allowed_mods=[{"acronym": "HD"}]),
            lazer_item(room_map.id, freestyle=True),
        ],
    )
    rid = room["id"]
    required, allowed, free = (p["id"] for p in room["playlist"])

    async def attempt(item_id: int, mods: list[dict[str, Any]]) -> httpx.Response:
        token = (await request_token(client, player, rid, item_id, room_map)).json()["id"]
        return await submit(
            client, player, rid, item_id, room_map, token, play_body(room_map, mods=mods)
        )

    missing = await attempt(required, [{"acronym": "HD"}])
    assert missing.status_code == 422
    assert missing.json() == {"error": "This play does not include the mods required."}
    extra = await attempt(allowed, [{"acronym": "HD"}, {"acronym": "FL"}])
    assert extra.json() == {"error": "This play includes mods that are not allowed."}
    assert (
        await attempt(
            required,
            [
                {"acronym": "HR"},
            ],
        )
    ).status_code == 200
    assert (await attempt(allowed, [{"acronym": "HD"}])).status_code == 200
    assert (await attempt(free, [{"acronym": "FL"}, {"acronym": "HR"}])).status_code == 200
    # A refused play stored nothing: one link per accepted play.
    rows = await services.db.fetch_raw(
        "SELECT COUNT(*) AS n FROM room_scores WHERE room_id = :r", r=rid
    )
    assert int(rows[0]["n"]) == 3


async def test_freestyle_allows_any_difficulty_of_the_set(
    client: httpx.AsyncClient, services: Any
) -> None:
    from tests.beatmap_data import store_set

    set_id, ids, _ = await store_set(
        services, difficulties=[{"version": "Easy"}, {"version": "Hard", "n_objects": 60}]
    )
    other = await stored_map(services)
    host = await _player(client)
    room = await _room(client, host, [lazer_item(ids[0], freestyle=True)])
    rid, item = room["id"], room["playlist"][0]["id"]
    hard = await services.beatmaps.repo.beatmap(ids[1])
    form = {
        "version_hash": VERSION_HASH,
        "beatmap_id": str(hard.id),
        "beatmap_hash": hard.checksum,
        "ruleset_id": "0",
    }
    body, headers = lazer_multipart(form)
    ok = await client.post(
        f"/api/v2/rooms/{rid}/playlist/{item}/scores",
        content=body,
        headers={**headers, **host.headers},
    )
    assert ok.status_code == 200, ok.text
    refused = await request_token(client, host, rid, item, other)
    assert refused.json() == {"error": "Specified beatmap_id is not allowed"}
    assert set_id


async def test_realtime_plays_count_and_show_in_events(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap
) -> None:
    """In a realtime room a failed play is a best too (osu-web updateWithScoreLink), and the
    room's events carry each mentioned item's scores."""
    host = await _player(client)
    room = await _room(client, host, [lazer_item(room_map.id)], type="head_to_head")
    rid, item = room["id"], room["playlist"][0]["id"]
    failed = await play(
        client, host, room, room_map, total_score_without_mods=500_000, passed=False
    )
    board = (
        await client.get(f"/api/v2/rooms/{rid}/playlist/{item}/scores", headers=host.headers)
    ).json()
    assert [s["id"] for s in board["scores"]] == [failed["id"]]
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    await services.rooms.repo.add_event(rid, "game_started", None, item, None, now)
    events = (await client.get(f"/api/v2/rooms/{rid}/events", headers=host.headers)).json()
    [shown] = events["playlist_items"]
    assert [s["id"] for s in shown["scores"]] == [failed["id"]]
    assert shown["scores"][0]["playlist_item_id"] == item and shown["scores"][0]["room_id"] == rid
    assert shown["details"] == {
        "room_type": "head_to_head",
        "started_at": shown["details"]["started_at"],
    }
