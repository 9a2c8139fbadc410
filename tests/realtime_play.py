"""One realtime multiplayer game played through the hub as two lazer clients play it: a
host creates the room, a guest joins, both ready, load, play with playlist tokens, submit
their scores and reach results. Used in-process and against the live server."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from server.core import msgpack as codec
from server.models.multiplayer import (
    APIMod,
    DownloadState,
    MatchType,
    MultiplayerPlaylistItem,
    MultiplayerRoom,
    MultiplayerRoomSettings,
)
from tests.helpers import SignedIn
from tests.hub_client import HubClient
from tests.integration.test_playlist_scores import request_token, submit
from tests.score_play import StoredMap, play_body

READY, LOADED, READY_FOR_GAMEPLAY, FINISHED_PLAY = 1, 3, 4, 6


class RealtimeGame(msgspec.Struct, frozen=True, kw_only=True):
    """What was played: the room, its item and each player's submitted score."""

    room_id: int
    item_id: int
    scores: dict[int, dict[str, Any]]


async def _call(hub: HubClient, target: str, types: list[str], values: list[Any]) -> Any:
    envelope = await hub.call(target, types, values)
    assert envelope.error is None, envelope.error
    return envelope.payload


async def play_realtime_game(
    client: httpx.AsyncClient,
    players: list[tuple[HubClient, SignedIn]],
    beatmap: StoredMap,
    *,
    team_versus: bool = False,
    required_mods: list[str] | None = None,
    misses: dict[int, int] | None = None,
) -> RealtimeGame:
    """The first player hosts; every player submits a pass (with `misses` by user id)."""
    (host, _), *guests = players
    item = MultiplayerPlaylistItem(
        beatmap_id=beatmap.id,
        beatmap_checksum=beatmap.checksum,
        ruleset_id=beatmap.ruleset_id,
        required_mods=[APIMod(acronym=a) for a in required_mods or []],
    )
    settings = MultiplayerRoomSettings(
        name="v1 match",
        match_type=MatchType.TEAM_VERSUS if team_versus else MatchType.HEAD_TO_HEAD,
    )
    payload = await _call(
        host,
        "CreateRoom",
        ["MultiplayerRoom"],
        [MultiplayerRoom(settings=settings, playlist=[item])],
    )
    room = codec.decode("MultiplayerRoom", payload)
    room_id, item_id = int(room["RoomID"]), int(room["Settings"]["PlaylistItemId"])
    for hub, _ in guests:
        payload = await _call(hub, "JoinRoomWithPassword", ["long", "string"], [room_id, ""])
        assert payload is not None
    availability = {"State": int(DownloadState.LOCALLY_AVAILABLE), "DownloadProgress": None}
    for hub, _ in players:
        await _call(hub, "ChangeBeatmapAvailability", ["BeatmapAvailability"], [availability])
        await _call(hub, "ChangeState", ["MultiplayerUserState"], [READY])
    await _call(host, "StartMatch", [], [])
    for hub, _ in players:
        await hub.call_to("LoadRequested")
    for hub, _ in players:
        await _call(hub, "ChangeState", ["MultiplayerUserState"], [LOADED])
        await _call(hub, "ChangeState", ["MultiplayerUserState"], [READY_FOR_GAMEPLAY])
    for hub, _ in players:
        await hub.call_to("GameplayStarted")
    scores: dict[int, dict[str, Any]] = {}
    for hub, user in players:
        token = await request_token(client, user, room_id, item_id, beatmap)
        assert token.status_code == 200, token.text
        body = play_body(
            beatmap,
            misses=(misses or {}).get(user.id, 0),
            mods=[{"acronym": a} for a in required_mods or []],
        )
        done = await submit(client, user, room_id, item_id, beatmap, int(token.json()["id"]), body)
        assert done.status_code == 200, done.text
        scores[user.id] = done.json()
        await _call(hub, "ChangeState", ["MultiplayerUserState"], [FINISHED_PLAY])
    for hub, _ in players:
        await hub.call_to("ResultsReady")
    return RealtimeGame(room_id=room_id, item_id=item_id, scores=scores)
