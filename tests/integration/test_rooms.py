"""Rooms over REST as lazer and osu-web clients use them: create (lazer's CreateRoomRequest),
list, show, close, join/part, the room leaderboard and realtime events; every limit of
osu-web's Room::startGame with its exact error text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.helpers import SignedIn, sign_in, signup
from tests.score_play import StoredMap, stored_map


@pytest.fixture
async def room_map(services: Any) -> StoredMap:
    return await stored_map(services)


async def _player(client: httpx.AsyncClient, services: Any, supporter: bool = False) -> SignedIn:
    """A signed-in player; registration makes everyone a supporter, osu-web's limits differ."""
    player = await sign_in(client, await signup(client))
    if not supporter:
        await services.db.execute_raw(
            "UPDATE users SET is_supporter = 0 WHERE id = :u", u=player.id
        )
        await services.users.forget(player.id)
    return player


def lazer_item(beatmap_id: int, ruleset_id: int = 0, **extra: Any) -> dict[str, Any]:
    """A PlaylistItem as Newtonsoft writes it on create: declaration order, no `id` or
    `beatmap` (ShouldSerialize* false), APIMod without empty settings."""
    item: dict[str, Any] = {
        "owner_id": 0,
        "ruleset_id": ruleset_id,
        "expired": False,
        "playlist_order": None,
        "played_at": None,
        "allowed_mods": [],
        "required_mods": [],
        "beatmap_id": beatmap_id,
        "freestyle": False,
    }
    item.update(extra)
    return item


def lazer_room(
    host: SignedIn, items: list[dict[str, Any]], duration: int | None = 60, **extra: Any
) -> dict[str, Any]:
    """lazer's Room as JsonConvert.SerializeObject writes it (CreateRoomRequest): every opt-in
    field in declaration order, nulls included, `max_attempts` left out when null."""
    room: dict[str, Any] = {
        "id": None,
        "name": "my playlist",
        "description": None,
        "password": None,
        "host": {"id": host.id, "username": host.account.username, "country_code": "AU"},
        "category": "normal",
        "duration": duration,
        "starts_at": None,
        "ends_at": None,
        "max_participants": None,
        "participant_count": 0,
        "recent_participants": [],
        "playlist": items,
        "playlist_item_stats": None,
        "difficulty_range": None,
        "type": "playlists",
        "queue_mode": "host_only",
        "auto_skip": False,
        "auto_start_duration": 0,
        "current_user_score": None,
        "current_playlist_item": None,
        "channel_id": 0,
        "status": "idle",
        "pinned": False,
    }
    room.update(extra)
    return room


async def create(client: httpx.AsyncClient, host: SignedIn, body: Any) -> httpx.Response:
    return await client.post(
        "/api/v2/rooms",
        content=json.dumps(body).encode(),
        headers={**host.headers, "Content-Type": "application/json"},
    )


async def test_create_room_as_lazer_sends_it(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap
) -> None:
    host = await _player(client, services)
    item = lazer_item(room_map.id, required_mods=[{"acronym": "HD"}])
    item["allowed_mods"] = [{"acronym": "DT", "settings": {"speed_change": 1.3}}]
    response = await create(client, host, lazer_room(host, [item], max_attempts=3))
    assert response.status_code == 200, response.text
    room = response.json()
    assert room["name"] == "my playlist" and room["type"] == "playlists"
    assert room["category"] == "normal" and room["status"] == "idle"
    assert room["queue_mode"] == "host_only" and room["max_attempts"] == 3
    assert room["user_id"] == host.id and room["host"]["id"] == host.id
    assert room["host"]["country"]["code"] and room["has_password"] is False
    assert room["channel_id"] > 0  # the room's chat channel
    assert room["active"] is True and room["participant_count"] == 0
    starts = datetime.fromisoformat(room["starts_at"])
    ends = datetime.fromisoformat(room["ends_at"])
    assert ends - starts == timedelta(minutes=60)
    assert room["recent_participants"] == []
    assert room["current_user_score"] == {
        "accuracy": 0.0,
        "attempts": 0,
        "completed": 0,
        "pp": 0.0,
        "room_id": room["id"],
        "total_score": 0,
        "user_id": host.id,
        "playlist_item_attempts": [],
    }
    [stored] = room["playlist"]
    # lazer's beatmap_id setter resets the beatmap: beatmap_id must come first.
    keys = list(stored)
    assert keys.index("beatmap_id") < keys.index("beatmap")
    assert stored["room_id"] == room["id"] and stored["owner_id"] == host.id
    assert stored["required_mods"] == [{"acronym": "HD", "settings": {}}]
    assert stored["allowed_mods"] == [{"acronym": "DT", "settings": {"speed_change": 1.3}}]
    assert stored["beatmap"]["id"] == room_map.id
    assert stored["beatmap"]["checksum"] == room_map.checksum
    assert stored["beatmap"]["beatmapset"]["id"] == room_map.set_id
    assert stored["freestyle"] is False and stored["expired"] is False
    # The same room is what GET rooms/{id} shows.
    shown = await client.get(f"/api/v2/rooms/{room['id']}", headers=host.headers)
    assert shown.status_code == 200 and shown.json() == room


async def test_ends_at_instead_of_duration(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap
) -> None:
    host = await _player(client, services)
    ends = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    body = lazer_room(host, [lazer_item(room_map.id)], duration=None, ends_at=ends.isoformat())
    response = await create(client, host, body)
    assert response.status_code == 200, response.text
    assert datetime.fromisoformat(response.json()["ends_at"]) == ends


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"name": None}, "field 'name' is required"),
        ({"name": ""}, "'name' is required"),
        ({"name": "x" * 101}, "Room name is too long."),
        ({"duration": None}, "'ends_at' is required"),
        ({"duration": 29}, "'ends_at' must be at least 30 minutes after 'starts_at'"),
        ({"duration": 14 * 24 * 60 + 1}, "Duration is too long."),
        ({"max_attempts": 0}, "field 'max_attempts' must be between 1 and 128"),
        ({"max_attempts": 129}, "field 'max_attempts' must be between 1 and 128"),
        ({"playlist": None}, "field 'playlist' must be an array"),
        ({"playlist": []}, "room must have at least one playlist item"),
        ({"playlist": "many"}, "field 'playlist' must be an array"),
    ],
)
async def test_room_limits(
    client: httpx.AsyncClient,
    services: Any,
    room_map: StoredMap,
    change: dict[str, Any],
    error: str,
) -> None:
    host = await _player(client, services)
    body = lazer_room(host, [lazer_item(room_map.id)])
    body.update(change)
    response = await create(client, host, body)
    assert response.status_code == 422, response.text
    assert response.json() == {"error": error}
    listed = await client.get("/api/v2/rooms?mode=owned", headers=host.headers)
    assert listed.json() == []  # nothing stored


async def test_limits_at_their_bounds_are_accepted(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap
) -> None:
    host = await _player(client, services)
    body = lazer_room(host, [lazer_item(room_map.id)], duration=30, max_attempts=128)
    body["name"] = "n" * 100
    response = await create(client, host, body)
    assert response.status_code == 200, response.text
    # A supporter may hold 5 playlists and 93 days; a player one and 14 days.
    other = await _player(client, services)
    longest = lazer_room(other, [lazer_item(room_map.id)], duration=14 * 24 * 60)
    assert (await create(client, other, longest)).status_code == 200


async def test_too_many_playlist_items(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap
) -> None:
    host = await _player(client, services)
    response = await create(client, host, lazer_room(host, [lazer_item(room_map.id)] * 257))
    assert response.status_code == 422
    assert response.json() == {"error": "Too many playlist items."}
    response = await create(client, host, lazer_room(host, [lazer_item(room_map.id)] * 256))
    assert response.status_code == 200, response.text
    assert len(response.json()["playlist"]) == 256


async def test_active_playlists_per_host(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap
) -> None:
    host = await _player(client, services)
    assert (
        await create(client, host, lazer_room(host, [lazer_item(room_map.id)]))
    ).status_code == 200
    second = await create(client, host, lazer_room(host, [lazer_item(room_map.id)]))
    assert second.status_code == 422
    assert second.json() == {"error": "number of simultaneously active rooms reached"}
    # Supporters may keep five open (osu-web max_playlists_supporter) and run 93 days.
    await services.db.execute_raw("UPDATE users SET is_supporter = 1 WHERE id = :u", u=host.id)
    await services.users.forget(host.id)
    long_room = lazer_room(host, [lazer_item(room_map.id)], duration=93 * 24 * 60)
    for _ in range(4):
        assert (await create(client, host, long_room)).status_code == 200
    sixth = await create(client, host, long_room)
    assert sixth.json() == {"error": "number of simultaneously active rooms reached"}


@pytest.mark.parametrize(
    ("item", "error"),
    [
        ({"beatmap_id": None}, "beatmap_id is required."),
        ({"ruleset_id": None}, "ruleset_id is required."),
        ({"ruleset_id": 7}, "invalid ruleset"),
        ({"required_mods": [{"acronym": "ZZ"}]}, "invalid mod for ruleset: ZZ"),
        ({"required_mods": [{"settings": {}}]}, "invalid mod array"),
        (
            {"required_mods": [{"acronym": "HD", "settings": {"bogus": 1}}]},
            "unknown setting for HD (bogus)",
        ),
        (
            {"required_mods": [{"acronym": "HD"}], "allowed_mods": [{"acronym": "HD"}]},
            "mod cannot be listed as both allowed and required: HD",
        ),
        ({"required_mods": [{"acronym": "AT"}]}, "mod cannot be set as required: AT"),
        ({"allowed_mods": [{"acronym": "CN"}]}, "mod cannot be set as allowed: CN"),
        (
            {"required_mods": [{"acronym": "HR"}, {"acronym": "EZ"}]},
            "incompatible mods: EZ, HR",
        ),
        (
            {"required_mods": [{"acronym": "HR"}], "allowed_mods": [{"acronym": "EZ"}]},
            "allowed mods conflict with required mods: EZ",
        ),
        (
            {"freestyle": True, "allowed_mods": [{"acronym": "HD"}]},
            "allowed mods cannot be specified on freestyle items",
        ),
        (
            {"freestyle": True, "required_mods": [{"acronym": "HD"}]},
            "mod cannot be set as required on freestyle items: HD",
        ),
        ({"max_attempts": 0}, "field 'max_attempts' must be between 1 and 128"),
    ],
)
async def test_playlist_item_rules(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap, item: dict[str, Any], error: str
) -> None:
    host = await _player(client, services)
    playlist_item = lazer_item(room_map.id)
    playlist_item.update(item)
    body = lazer_room(host, [playlist_item])
    response = await create(client, host, body)
    assert response.status_code == 422, response.text
    assert response.json() == {"error": error}


async def test_missing_beatmaps_and_unconvertible_rulesets(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap
) -> None:
    host = await _player(client, services)
    body = lazer_room(host, [lazer_item(room_map.id), lazer_item(999_999_001), lazer_item(7)])
    response = await create(client, host, body)
    assert response.json() == {"error": "beatmaps not found: 999999001, 7"}
    # A taiko map plays as taiko only; osu! maps convert to every ruleset.
    taiko = await stored_map(services, "taiko")
    body = lazer_room(host, [lazer_item(taiko.id, ruleset_id=0)])
    assert (await create(client, host, body)).json() == {
        "error": f"invalid ruleset_id for beatmap {taiko.id}"
    }
    body = lazer_room(host, [lazer_item(room_map.id, ruleset_id=3)])
    assert (await create(client, host, body)).status_code == 200


async def test_restricted_host_cannot_create(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap
) -> None:
    host = await _player(client, services)
    await services.db.execute_raw("UPDATE users SET is_restricted = 1 WHERE id = :u", u=host.id)
    await services.users.forget(host.id)
    response = await create(client, host, lazer_room(host, [lazer_item(room_map.id)]))
    assert response.status_code == 403
    assert response.json() == {"error": "Can't do that while restricted."}


async def test_bad_bodies_are_4xx(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap
) -> None:
    host = await _player(client, services)
    bad_json = await client.post(
        "/api/v2/rooms",
        content=b"{not json",
        headers={**host.headers, "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400
    assert (await create(client, host, [1, 2])).status_code == 400
    items_not_objects = await create(client, host, lazer_room(host, [5]))
    assert items_not_objects.json() == {"error": "beatmap_id is required."}
    anonymous = await client.post("/api/v2/rooms", json=lazer_room(host, []))
    assert anonymous.status_code == 401


async def test_listing(client: httpx.AsyncClient, services: Any, room_map: StoredMap) -> None:
    host = await _player(client, services)
    other_map = await stored_map(services, "osu", n_objects=80)
    body = lazer_room(host, [lazer_item(room_map.id), lazer_item(other_map.id, ruleset_id=1)])
    created = (await create(client, host, body)).json()
    response = await client.get("/api/v2/rooms", headers=host.headers)
    assert response.status_code == 200
    rooms = response.json()
    assert isinstance(rooms, list)
    mine = next(r for r in rooms if r["id"] == created["id"])
    assert "playlist" not in mine and "current_user_score" not in mine
    assert mine["current_playlist_item"]["id"] == created["playlist"][0]["id"]
    assert mine["current_playlist_item"]["beatmap"]["beatmapset"]["id"] == room_map.set_id
    ratings = sorted(p["beatmap"]["difficulty_rating"] for p in created["playlist"])
    assert mine["difficulty_range"] == {"max": ratings[-1], "min": ratings[0]}
    assert mine["playlist_item_stats"] == {
        "count_active": 2,
        "count_total": 2,
        "ruleset_ids": [0, 1],
    }
    assert mine["host"]["id"] == host.id and mine["recent_participants"] == []
    # Newest first; limit and the created-sort cursor page through.
    first = (await client.get("/api/v2/rooms?limit=1", headers=host.headers)).json()
    assert len(first) == 1 and first[0]["id"] == max(r["id"] for r in rooms)
    after = await client.get(
        f"/api/v2/rooms?limit=250&cursor[pinned]=0&cursor[id]={created['id']}",
        headers=host.headers,
    )
    assert all(r["id"] < created["id"] for r in after.json())
    # Filters: owned, realtime (lazer's lounge sends category=realtime), ended, participated.
    owned = (await client.get("/api/v2/rooms?mode=owned", headers=host.headers)).json()
    assert [r["id"] for r in owned] == [created["id"]]
    lounge = await client.get("/api/v2/rooms?category=realtime&status=idle", headers=host.headers)
    assert all(r["type"] != "playlists" for r in lounge.json())
    ended = (await client.get("/api/v2/rooms?mode=ended", headers=host.headers)).json()
    assert created["id"] not in [r["id"] for r in ended]
    participated = await client.get("/api/v2/rooms?mode=participated", headers=host.headers)
    assert participated.json() == []
    spotlight = await client.get("/api/v2/rooms?category=spotlight", headers=host.headers)
    assert created["id"] not in [r["id"] for r in spotlight.json()]


async def test_show_unknown_room(
    client: httpx.AsyncClient, services: Any, player: SignedIn
) -> None:
    for path in ("/api/v2/rooms/987654321", "/api/v2/rooms/abc"):
        response = await client.get(path, headers=player.headers)
        assert response.status_code == 404
        assert response.json() == {"error": "Specified Multiplayer\\Room couldn't be found."}


async def test_close_room(client: httpx.AsyncClient, services: Any, room_map: StoredMap) -> None:
    host = await _player(client, services)
    other = await _player(client, services)
    room = (await create(client, host, lazer_room(host, [lazer_item(room_map.id)]))).json()
    not_owner = await client.delete(f"/api/v2/rooms/{room['id']}", headers=other.headers)
    assert not_owner.status_code == 403
    assert not_owner.json() == {"error": "Only room owner can close it."}
    closed = await client.delete(f"/api/v2/rooms/{room['id']}", headers=host.headers)
    assert closed.status_code == 204
    shown = (await client.get(f"/api/v2/rooms/{room['id']}", headers=host.headers)).json()
    assert shown["active"] is False
    # A closed playlist no longer counts against the host's allowance.
    again = (await create(client, host, lazer_room(host, [lazer_item(room_map.id)]))).json()
    await services.db.execute_raw(
        "UPDATE rooms SET starts_at = :t WHERE id = :r",
        t=(datetime.now(UTC) - timedelta(minutes=6)).replace(tzinfo=None),
        r=again["id"],
    )
    late = await client.delete(f"/api/v2/rooms/{again['id']}", headers=host.headers)
    assert late.status_code == 422
    assert late.json() == {"error": "The grace period for closing this room has expired."}


async def _realtime_room(
    client: httpx.AsyncClient, host: SignedIn, beatmap: StoredMap, **extra: Any
) -> dict[str, Any]:
    body = lazer_room(host, [lazer_item(beatmap.id)], type="head_to_head", **extra)
    response = await create(client, host, body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_realtime_rooms(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap
) -> None:
    """osu-web still creates a realtime room over REST: 30 s until the hub takes it, one item,
    one at a time per host, and never closed with DELETE."""
    host = await _player(client, services)
    two = lazer_room(host, [lazer_item(room_map.id)] * 2, type="head_to_head")
    assert (await create(client, host, two)).json() == {
        "error": "realtime room must have exactly one playlist item"
    }
    crowd = lazer_room(host, [lazer_item(room_map.id)], type="team_versus", max_participants=1)
    assert (await create(client, host, crowd)).json() == {
        "error": "field 'max_participants' must be between 2 and 16"
    }
    room = await _realtime_room(client, host, room_map, password="secret", queue_mode="bogus")
    assert room["type"] == "head_to_head" and room["queue_mode"] == "host_only"
    assert room["has_password"] is True and "password" not in room
    ends = datetime.fromisoformat(room["ends_at"]) - datetime.fromisoformat(room["starts_at"])
    assert ends == timedelta(seconds=30)
    second = lazer_room(host, [lazer_item(room_map.id)], type="head_to_head")
    assert (await create(client, host, second)).json() == {
        "error": "number of simultaneously active rooms reached"
    }
    closing = await client.delete(f"/api/v2/rooms/{room['id']}", headers=host.headers)
    assert closing.json() == {"error": "Realtime rooms cannot be closed."}
    lounge = await client.get("/api/v2/rooms?category=realtime", headers=host.headers)
    assert room["id"] in [r["id"] for r in lounge.json()]
    matchmaking = lazer_room(host, [lazer_item(room_map.id)], type="matchmaking")
    assert (await create(client, host, matchmaking)).json() == {
        "error": "matchmaking rooms cannot be created"
    }


async def _is_member(client: httpx.AsyncClient, viewer: SignedIn, channel_id: int) -> bool:
    """Whether `viewer` is in a chat channel: chat/channels/{id} answers members only."""
    response = await client.get(f"/api/v2/chat/channels/{channel_id}", headers=viewer.headers)
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


async def test_join_and_part(client: httpx.AsyncClient, services: Any, room_map: StoredMap) -> None:
    """Joining and leaving a room joins and parts its chat channel, which the room's host is
    put in when the room is made (osu-web createMultiplayer, addUser, removeUser)."""
    host = await _player(client, services)
    guest = await _player(client, services)
    room = await _realtime_room(client, host, room_map, password="secret")
    channel_id = room["channel_id"]
    assert channel_id > 0
    channel = await client.get(f"/api/v2/chat/channels/{channel_id}", headers=host.headers)
    assert channel.json()["channel"]["name"] == f"#lazermp_{room['id']}"
    assert channel.json()["channel"]["type"] == "MULTIPLAYER"
    assert await _is_member(client, host, channel_id)
    assert not await _is_member(client, guest, channel_id)
    base = f"/api/v2/rooms/{room['id']}/users"
    other = await client.put(f"{base}/{host.id}?password=secret", headers=guest.headers)
    assert other.status_code == 403  # only oneself
    wrong = await client.put(f"{base}/{guest.id}?password=nope", headers=guest.headers)
    assert wrong.status_code == 403 and wrong.json() == {"error": "Invalid room password"}
    missing = await client.put(f"{base}/{guest.id}", headers=guest.headers)
    assert missing.status_code == 403
    assert not await _is_member(client, guest, channel_id)  # refusals join nothing
    joined = await client.put(f"{base}/{guest.id}?password=secret", headers=guest.headers)
    assert joined.status_code == 200 and joined.json()["id"] == room["id"]
    assert joined.json()["current_user_score"]["user_id"] == guest.id
    assert await _is_member(client, guest, channel_id)
    left = await client.delete(f"{base}/{guest.id}", headers=guest.headers)
    assert left.status_code == 204
    assert not await _is_member(client, guest, channel_id)
    assert await _is_member(client, host, channel_id)
    unknown = await client.delete(
        f"/api/v2/rooms/987654321/users/{guest.id}", headers=guest.headers
    )
    assert unknown.status_code == 404


async def _total(
    services: Any,
    room_id: int,
    user_id: int,
    total: int,
    accuracy: float,
    completed: int,
    attempts: int,
    last_score_id: int,
    updated_minutes_ago: int = 0,
) -> None:
    now = (datetime.now(UTC) - timedelta(minutes=updated_minutes_ago)).replace(tzinfo=None)
    await services.db.execute_raw(
        "INSERT INTO room_user_totals (room_id, user_id, total_score, accuracy, completed, "
        "attempts, last_score_id, created_at, updated_at) VALUES (:r, :u, :t, :a, :c, :n, :l, "
        ":now, :now)",
        r=room_id,
        u=user_id,
        t=total,
        a=accuracy,
        c=completed,
        n=attempts,
        l=last_score_id,
        now=now,
    )


async def test_leaderboard(client: httpx.AsyncClient, services: Any, room_map: StoredMap) -> None:
    """Totals by score, ties to the earlier last score; averages of summed accuracy; users
    without a completed item and restricted users are not ranked."""
    host = await _player(client, services)
    a, b, c, d, hidden = [await _player(client, services) for _ in range(5)]
    room = (await create(client, host, lazer_room(host, [lazer_item(room_map.id)]))).json()
    rid = room["id"]
    await _total(services, rid, a.id, 1_500_000, 1.9, 2, 3, 50, updated_minutes_ago=4)
    await _total(services, rid, b.id, 1_500_000, 0.95, 1, 1, 40, updated_minutes_ago=3)
    await _total(services, rid, c.id, 2_000_000, 1.8, 2, 5, 60, updated_minutes_ago=2)
    await _total(services, rid, d.id, 0, 0.0, 0, 2, 0, updated_minutes_ago=1)
    await _total(services, rid, hidden.id, 9_000_000, 1.0, 1, 1, 10)
    await services.db.execute_raw("UPDATE users SET is_restricted = 1 WHERE id = :u", u=hidden.id)
    await services.users.forget(hidden.id)
    response = await client.get(f"/api/v2/rooms/{rid}/leaderboard", headers=a.headers)
    assert response.status_code == 200
    board = response.json()
    # Hand order: c (2.0M), then b and a tie at 1.5M and b's last score (40) came first.
    assert [e["user_id"] for e in board["leaderboard"]] == [c.id, b.id, a.id]
    first = board["leaderboard"][0]
    assert first == {
        "accuracy": 0.9,
        "attempts": 5,
        "completed": 2,
        "pp": 0.0,
        "room_id": rid,
        "total_score": 2_000_000,
        "user_id": c.id,
        "user": first["user"],
    }
    assert first["user"]["id"] == c.id and first["user"]["country"]["code"]
    assert board["user_score"]["position"] == 3 and board["user_score"]["user_id"] == a.id
    assert board["user_score"]["accuracy"] == pytest.approx(0.95)
    limited = await client.get(f"/api/v2/rooms/{rid}/leaderboard?limit=1&page=2", headers=a.headers)
    assert [e["user_id"] for e in limited.json()["leaderboard"]] == [b.id]
    unranked = await client.get(f"/api/v2/rooms/{rid}/leaderboard", headers=d.headers)
    assert unranked.json()["user_score"] is None
    # The listing's recent participants: most recently active first (restricted left out).
    listed = (await client.get("/api/v2/rooms?mode=owned", headers=host.headers)).json()
    assert [u["id"] for u in listed[0]["recent_participants"]] == [d.id, c.id, b.id, a.id]
    participated = await client.get("/api/v2/rooms?mode=participated", headers=c.headers)
    assert [r["id"] for r in participated.json()] == [rid]
    missing = await client.get("/api/v2/rooms/987654321/leaderboard", headers=a.headers)
    assert missing.status_code == 404


async def test_events(client: httpx.AsyncClient, services: Any, room_map: StoredMap) -> None:
    host = await _player(client, services)
    playlist = (await create(client, host, lazer_room(host, [lazer_item(room_map.id)]))).json()
    refused = await client.get(f"/api/v2/rooms/{playlist['id']}/events", headers=host.headers)
    assert refused.status_code == 422
    assert refused.json() == {"error": "retrieving events is only supported for realtime rooms"}
    other = await _player(client, services)
    room = await _realtime_room(client, other, room_map)
    rid, item_id = room["id"], room["playlist"][0]["id"]
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    ids = [
        await services.rooms.repo.add_event(rid, "room_created", other.id, None, None, now),
        await services.rooms.repo.add_event(rid, "player_joined", host.id, None, None, now),
        await services.rooms.repo.add_event(
            rid, "game_started", None, item_id, '{"room_type":"head_to_head"}', now
        ),
    ]
    response = await client.get(f"/api/v2/rooms/{rid}/events", headers=host.headers)
    assert response.status_code == 200, response.text
    data = response.json()
    assert [e["id"] for e in data["events"]] == ids
    assert [e["event_type"] for e in data["events"]] == [
        "room_created",
        "player_joined",
        "game_started",
    ]
    assert data["first_event_id"] == ids[0] and data["last_event_id"] == ids[-1]
    assert data["current_playlist_item_id"] == item_id
    assert [p["id"] for p in data["playlist_items"]] == [item_id]
    assert data["playlist_items"][0]["details"]["room_type"] == "head_to_head"
    assert [b["id"] for b in data["beatmaps"]] == [room_map.id]
    assert [s["id"] for s in data["beatmapsets"]] == [room_map.set_id]
    assert sorted(u["id"] for u in data["users"]) == sorted([host.id, other.id])
    assert data["room"]["id"] == rid
    after = await client.get(
        f"/api/v2/rooms/{rid}/events?after={ids[0]}&limit=1", headers=host.headers
    )
    assert [e["id"] for e in after.json()["events"]] == [ids[1]]
    before = await client.get(f"/api/v2/rooms/{rid}/events?before={ids[2]}", headers=host.headers)
    assert [e["id"] for e in before.json()["events"]] == ids[:2]


async def test_hostile_numbers_are_4xx_not_500(
    client: httpx.AsyncClient, services: Any, room_map: StoredMap
) -> None:
    host = await _player(client, services)
    huge = "9" * 30
    for change in (
        {"duration": 10**15},
        {"duration": huge},
        {"max_attempts": 10**15},
        {"ends_at": "9999-12-31T23:59:59Z", "duration": None},
        {"ends_at": "not a time", "duration": None},
    ):
        body = lazer_room(host, [lazer_item(room_map.id)])
        body.update(change)
        response = await create(client, host, body)
        assert response.status_code == 422, (change, response.text)
    big_item = lazer_item(10**25, ruleset_id=10**25)
    response = await create(client, host, lazer_room(host, [big_item]))
    assert response.status_code == 422
    for path in (
        f"/api/v2/rooms?cursor[pinned]=1&cursor[id]={huge}&limit={huge}",
        f"/api/v2/rooms?cursor[pinned]=1&cursor[id]={2**63 + 5}",
        "/api/v2/rooms?mode=ended&cursor[ends_at]=garbage&cursor[id]=5",
        f"/api/v2/rooms/{2**63}",
    ):
        response = await client.get(path, headers=host.headers)
        assert response.status_code in (200, 404), (path, response.text)
    room = (await create(client, host, lazer_room(host, [lazer_item(room_map.id)]))).json()
    for query in (f"limit={huge}&page={huge}", f"page={2**63 + 1}", "limit=-5&page=-1"):
        response = await client.get(
            f"/api/v2/rooms/{room['id']}/leaderboard?{query}", headers=host.headers
        )
        assert response.status_code == 200, (query, response.text)
