"""ossapi 5.3.6 against the live server: its typed Room, RoomPlaylistItem and RoomLeaderboard
models must parse our room responses (a check on the room shapes)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from ossapi.enums import RoomCategory, RoomType  # type: ignore[import-untyped]
from ossapi.models import MultiplayerScores, Room, RoomLeaderboard  # type: ignore[import-untyped]

from tests.beatmap_data import store_set
from tests.conformance.conftest import HTTP_TIMEOUT, register
from tests.conformance.live_server import LiveServer
from tests.conformance.test_ossapi import _lazer_ossapi, _lazer_tokens, bounded
from tests.score_play import VERSION_HASH, age_token, play_body, stored_map


@pytest.fixture(autouse=True)
def _plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def test_room_rooms_and_leaderboard_parse(live_server: LiveServer, tmp_path: Path) -> None:
    """A playlist made as lazer makes it, read back through ossapi's room methods."""
    host = register(live_server)
    player = register(live_server)

    async def store(svc: Any) -> int:
        _, ids, _ = await store_set(svc, difficulties=[{"ruleset": "osu", "version": "Insane"}])
        return ids[0]

    beatmap_id = live_server.call(store)
    tokens = _lazer_tokens(live_server, host)
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "x-api-version": "20251101"}
    item = {"ruleset_id": 0, "beatmap_id": beatmap_id, "required_mods": [{"acronym": "HD"}]}
    created = requests.post(
        f"{live_server.url}/api/v2/rooms",
        json={"name": "ossapi room", "duration": 120, "playlist": [item], "type": "playlists"},
        headers=headers,
        timeout=HTTP_TIMEOUT,
    )
    assert created.status_code == 200, created.text
    room_id = created.json()["id"]

    async def add_total(svc: Any) -> None:
        now = datetime.now(UTC).replace(tzinfo=None)
        await svc.db.execute_raw(
            "INSERT INTO room_user_totals (room_id, user_id, total_score, accuracy, completed, "
            "attempts, last_score_id, created_at, updated_at) "
            "VALUES (:r, :u, 750000, 0.97, 1, 2, 1, :now, :now)",
            r=room_id,
            u=player.id,
            now=now,
        )

    live_server.call(add_total)
    api = _lazer_ossapi(live_server, tokens, tmp_path)

    room = bounded(lambda: api.room(room_id))
    assert isinstance(room, Room)
    assert room.id == room_id and room.name == "ossapi room"
    assert room.category == RoomCategory.NORMAL and room.type == RoomType.PLAYLISTS
    assert room.host.id == host.id and room.channel_id > 0
    assert room.starts_at.tzinfo is not None and room.ends_at is not None
    [playlist_item] = room.playlist
    assert playlist_item.beatmap_id == beatmap_id and playlist_item.beatmap.id == beatmap_id
    assert [m.acronym for m in playlist_item.required_mods] == ["HD"]
    assert [u.id for u in room.recent_participants] == [player.id]

    rooms = bounded(lambda: api.rooms(mode="owned"))
    assert [r.id for r in rooms] == [room_id]
    listed = rooms[0]
    assert listed.current_playlist_item.id == playlist_item.id
    assert listed.playlist_item_stats.count_total == 1
    assert listed.difficulty_range.min == listed.difficulty_range.max > 0

    board = bounded(lambda: api.room_leaderboard(room_id))
    assert isinstance(board, RoomLeaderboard)
    [entry] = board.leaderboard
    assert entry.user_id == player.id and entry.user.id == player.id
    assert entry.total_score == 750000 and entry.accuracy == pytest.approx(0.97)
    assert board.user_score is None  # the host has not played


def test_multiplayer_scores_parse(live_server: LiveServer, tmp_path: Path) -> None:
    """A played playlist item's board through ossapi's MultiplayerScores."""
    host = register(live_server)
    beatmap = live_server.call(stored_map)
    tokens = _lazer_tokens(live_server, host)
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "x-api-version": "20251101"}
    created = requests.post(
        f"{live_server.url}/api/v2/rooms",
        json={
            "name": "scores",
            "duration": 60,
            "playlist": [{"ruleset_id": 0, "beatmap_id": beatmap.id}],
        },
        headers=headers,
        timeout=HTTP_TIMEOUT,
    )
    assert created.status_code == 200, created.text
    room_id, item_id = created.json()["id"], created.json()["playlist"][0]["id"]
    token = requests.post(
        f"{live_server.url}/api/v2/rooms/{room_id}/playlist/{item_id}/scores",
        data={
            "version_hash": VERSION_HASH,
            "beatmap_id": str(beatmap.id),
            "beatmap_hash": beatmap.checksum,
            "ruleset_id": "0",
        },
        headers=headers,
        timeout=HTTP_TIMEOUT,
    )
    assert token.status_code == 200, token.text
    token_id = token.json()["id"]
    live_server.call(lambda svc: age_token(svc.db, token_id, beatmap.total_length * 2 + 5))
    submitted = requests.put(
        f"{live_server.url}/api/v2/rooms/{room_id}/playlist/{item_id}/scores/{token_id}",
        json=play_body(beatmap),
        headers=headers,
        timeout=HTTP_TIMEOUT,
    )
    assert submitted.status_code == 200, submitted.text
    api = _lazer_ossapi(live_server, tokens, tmp_path)
    scores = bounded(lambda: api.multiplayer_scores(room_id, item_id))
    assert isinstance(scores, MultiplayerScores)
    [score] = scores.scores
    assert score.id == submitted.json()["id"] and score.user_id == host.id
    assert score.room_id == room_id and score.playlist_item_id == item_id
    assert scores.total == 1 and scores.user_score.position == 1
