"""v1 get_match from a realtime room played through the multiplayer hub: the room's
game_started / game_completed events bound each game, its playlist item gives the beatmap,
ruleset and required mods, and the scores submitted for the item are the game's scores
(teams from game_started's detail). A playlists room is no v1 match."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from starlette.applications import Starlette

from server.app import Services
from server.models.multiplayer import DownloadState, TeamVersusUserState
from server.repositories.rooms import NewRoom
from tests.helpers import SignedIn, sign_in, signup
from tests.integration.hubs import connect
from tests.integration.test_api_v1 import make_key, v1
from tests.realtime_play import play_realtime_game
from tests.score_play import stored_map

DATE_LAYOUT = "%Y-%m-%d %H:%M:%S"


async def _user(client: httpx.AsyncClient) -> SignedIn:
    return await sign_in(client, await signup(client))


async def test_get_match_shows_a_played_realtime_room(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    beatmap = await stored_map(services)
    host_user, guest_user = await _user(client), await _user(client)
    host = await connect(app, "multiplayer", host_user)
    guest = await connect(app, "multiplayer", guest_user)
    key = await make_key(client, host_user)

    game = await play_realtime_game(
        client,
        [(host, host_user), (guest, guest_user)],
        beatmap,
        team_versus=True,
        required_mods=["HD"],
        misses={guest_user.id: 1},
    )
    live = services.realtime.multiplayer.rooms.live_room(game.room_id)
    assert live is not None
    teams = {
        u.user_id: u.match_state.team_id
        for u in live.users
        if isinstance(u.match_state, TeamVersusUserState)
    }
    assert sorted(teams.values()) == [0, 1]

    response = await v1(client, "get_match", key, mp=game.room_id)
    assert response.status_code == 200, response.text
    body = response.json()
    match = body["match"]
    assert match["match_id"] == str(game.room_id) and match["name"] == "v1 match"
    assert match["end_time"] is None  # the room is still open
    datetime.strptime(match["start_time"], DATE_LAYOUT)

    (played,) = body["games"]
    assert played["beatmap_id"] == str(beatmap.id)
    assert played["play_mode"] == str(beatmap.ruleset_id)
    assert (played["match_type"], played["scoring_type"], played["team_type"]) == ("0", "3", "2")
    assert played["mods"] == "8"  # HD, required for everyone
    started = datetime.strptime(played["start_time"], DATE_LAYOUT)
    ended = datetime.strptime(played["end_time"], DATE_LAYOUT)
    assert started <= ended < started + timedelta(minutes=5)

    by_user = {int(s["user_id"]): s for s in played["scores"]}
    assert set(by_user) == {host_user.id, guest_user.id}
    assert sorted(s["slot"] for s in played["scores"]) == ["0", "1"]
    for user_id, shown in by_user.items():
        submitted = game.scores[user_id]
        assert shown["score"] == str(submitted["total_score"])
        assert shown["maxcombo"] == str(submitted["max_combo"])
        assert shown["team"] == ("2" if teams[user_id] == 0 else "1")  # red 2, blue 1
        assert shown["pass"] == "1" and shown["enabled_mods"] == "0"
    assert by_user[guest_user.id]["countmiss"] == "1"
    assert by_user[host_user.id]["countmiss"] == "0"
    assert by_user[host_user.id]["perfect"] == "1"


async def test_get_match_aborted_game_and_non_matches(
    app: Starlette, client: httpx.AsyncClient, services: Services
) -> None:
    """An aborted game has no end time and no scores; a playlists room and a missing room
    are v1's unknown match."""
    beatmap = await stored_map(services)
    host_user = await _user(client)
    key = await make_key(client, host_user)
    host = await connect(app, "multiplayer", host_user)
    game = await play_realtime_game(client, [(host, host_user)], beatmap)
    availability = {"State": int(DownloadState.LOCALLY_AVAILABLE), "DownloadProgress": None}
    for target, types, values in (
        ("ChangeState", ["MultiplayerUserState"], [0]),  # back from results
        ("ChangeBeatmapAvailability", ["BeatmapAvailability"], [availability]),
        ("ChangeState", ["MultiplayerUserState"], [1]),
        ("StartMatch", [], []),
        ("AbortMatch", [], []),
    ):
        envelope = await host.call(target, types, values)
        assert envelope.error is None, (target, envelope.error)

    body = (await v1(client, "get_match", key, mp=game.room_id)).json()
    first, aborted = body["games"]
    assert first["end_time"] is not None and len(first["scores"]) == 1
    assert first["team_type"] == "0" and first["scores"][0]["team"] == "0"
    assert aborted["end_time"] is None and aborted["scores"] == []
    assert int(aborted["game_id"]) > int(first["game_id"])

    now = datetime.now()
    playlists = await services.rooms.repo.insert_room(
        NewRoom(
            user_id=host_user.id, name="a playlist", description=None, type="playlists",
            category="normal", queue_mode="host_only", password=None, starts_at=now,
            ends_at=now + timedelta(days=1), max_attempts=None, max_participants=None,
            auto_start_duration=0, auto_skip=False,
        ),
        now,
    )  # fmt: skip
    for unknown in (playlists, game.room_id + 1000):
        response = await v1(client, "get_match", key, mp=unknown)
        assert response.status_code == 200 and response.json() == {"match": 0, "games": []}
