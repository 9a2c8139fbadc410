"""osu! API v1 against three independent encodings of it (clients.md §1.3): ossapi's
OssapiV1, aiosu's v1 client (mods sent as acronyms) and osuapi (strict per-field models,
which warn on any field they do not know: warnings are errors here). Each parses data
produced through the play loop on the live server.

get_match: a team versus game with HD required, played by two users through the multiplayer
hub over real WebSockets, is fetched and parsed by each client. The unknown match
(`{"match": 0}`, as on osu.ppy.sh) none of the three can parse into a model: each client's
transport fetches it. Each client's match model also parses a two-game match built by
`match_from_events` (free mods on the second game)."""

from __future__ import annotations

import base64
import lzma
import secrets
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec
import pytest
import requests

from server.services.legacy_api import (
    MatchItem,
    MatchRoom,
    MatchScore,
    RoomEvent,
    match_from_events,
)
from server.services.osr import ReplayFrame, ReplayScore, encode_osr
from tests.conformance.conftest import HTTP_TIMEOUT
from tests.conformance.live_server import LiveServer
from tests.conformance.test_ossapi import bounded
from tests.helpers import sign_in, signup
from tests.hub_client import HubClient, RealSocket
from tests.integration.hubs import lazer_headers
from tests.realtime_play import play_realtime_game
from tests.score_play import play, stored_map


def _import_osuapi() -> Any:
    """osuapi 0.0.43 defines its aiohttp connector with `asyncio.coroutine`, gone since
    Python 3.11, whenever aiohttp imports (aiosu brings aiohttp): hide aiohttp while it loads
    so it keeps only its requests connector, as in a venv without aiohttp (clients.md §1.3)."""
    saved = sys.modules.get("aiohttp")
    sys.modules["aiohttp"] = None  # type: ignore[assignment]
    try:
        import osuapi  # type: ignore[import-untyped]
        import osuapi.endpoints  # type: ignore[import-untyped]
        import osuapi.model  # type: ignore[import-untyped]
    finally:
        if saved is None:
            del sys.modules["aiohttp"]
        else:
            sys.modules["aiohttp"] = saved
    return osuapi


osuapi = _import_osuapi()
from aiosu.models.legacy import Match as AiosuMatch  # type: ignore[import-untyped]  # noqa: E402
from aiosu.v1 import Client as AiosuClient  # type: ignore[import-untyped]  # noqa: E402
from ossapi import OssapiV1  # type: ignore[import-untyped]  # noqa: E402
from ossapi.ossapi import MatchInfo  # type: ignore[import-untyped]  # noqa: E402


@pytest.fixture(scope="module")
def played(live_server: LiveServer) -> dict[str, Any]:
    """A player with a v1 key, a ranked map, an HD pass with a stored replay, a no-mod pass
    and a fail, all submitted over HTTP as lazer does; then a realtime team versus game (HD
    required) two other players play over the multiplayer hub."""

    async def setup(svc: Any) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=live_server.url, timeout=HTTP_TIMEOUT) as client:
            player = await sign_in(client, await signup(client))
            beatmap = await stored_map(svc, n_objects=30)
            hd = await play(client, player, beatmap, mods=[{"acronym": "HD"}], oks=2)
            nomod = await play(client, player, beatmap, misses=1, combo=12)
            failed = await play(client, player, beatmap, passed=False, misses=6, rank="D")
            made = await client.post(
                "/api/v2/me/legacy-api-key",
                data={"app_name": "conformance", "app_url": "https://conformance.test"},
                headers=player.headers,
            )
            assert made.status_code == 200, made.text
            # Two other players play it, so the key owner's own plays stay as above.
            red, blue = [await sign_in(client, await signup(client)) for _ in range(2)]
            ws_url = live_server.url.replace("http://", "ws://") + "/signalr/multiplayer"
            hubs = []
            for user in (red, blue):
                hub = HubClient(await RealSocket.connect(ws_url, lazer_headers(user)))
                await hub.handshake()
                hubs.append((hub, user))
            # Its own map: realtime scores are on the map's board too.
            match_map = await stored_map(svc)
            game = await play_realtime_game(
                client, hubs, match_map, team_versus=True, required_mods=["HD"],
                misses={blue.id: 1},
            )  # fmt: skip
            for hub, _ in hubs:
                await hub.wire.close()
        frames = [ReplayFrame(float(t), 64.0 + t, 48.0, 1) for t in range(0, 100, 16)]
        header = ReplayScore(
            score_id=hd["id"], ruleset_id=0, beatmap_md5=beatmap.checksum,
            username=player.account.username, statistics={"great": 28, "ok": 2},
            total_score=hd["total_score"], max_combo=hd["max_combo"], perfect=True,
            mods=["HD"], ended_at=datetime.now(UTC),
        )  # fmt: skip
        await svc.replays.sink.save(hd["id"], encode_osr(header, frames))
        await svc.replays.stored(hd["id"])
        return {
            "key": made.json()["api_key"],
            "user_id": player.id,
            "username": player.account.username,
            "beatmap": beatmap,
            "hd": hd,
            "nomod": nomod,
            "failed": failed,
            "match": game,
            "match_map_id": match_map.id,
            "match_host_id": red.id,
            "match_guest_id": blue.id,
        }

    return live_server.call(setup, timeout=60)


def built_match() -> dict[str, Any]:
    """A two-game match as match_from_events builds it, as JSON."""
    t0 = datetime(2024, 3, 1, 10, 0)
    items = {
        1: MatchItem(id=1, beatmap_id=100, ruleset_id=0, required_mods=["HD", "DT"]),
        2: MatchItem(id=2, beatmap_id=200, ruleset_id=0, required_mods=[], freestyle=True),
    }

    def score(user: int, minute: int, mods: list[str]) -> MatchScore:
        return MatchScore(
            user_id=user, total_score=500_000 + user, max_combo=300,
            statistics={"great": 290, "ok": 8, "meh": 1, "miss": 1},
            maximum_statistics={"great": 300}, mods=mods, passed=True,
            ended_at=t0 + timedelta(minutes=minute),
        )  # fmt: skip

    events = [
        RoomEvent(id=10, event_type="game_started", created_at=t0, playlist_item_id=1,
                  detail={"team_type": "team_versus", "teams": {"3": "blue", "4": "red"}}),
        RoomEvent(id=11, event_type="game_completed", created_at=t0 + timedelta(minutes=4),
                  playlist_item_id=1),
        RoomEvent(id=12, event_type="game_started", created_at=t0 + timedelta(minutes=5),
                  playlist_item_id=2),
        RoomEvent(id=13, event_type="game_completed", created_at=t0 + timedelta(minutes=9),
                  playlist_item_id=2),
    ]  # fmt: skip
    match = match_from_events(
        MatchRoom(id=99, name="MWC: (A) vs (B)", starts_at=t0, ends_at=t0 + timedelta(hours=1)),
        events,
        items,
        {1: [score(3, 3, ["HD", "DT"]), score(4, 3, ["HD", "DT"])], 2: [score(3, 8, ["HR"])]},
    )
    return msgspec.json.decode(msgspec.json.encode(match))  # type: ignore[no-any-return]


# -- ossapi ------------------------------------------------------------------------------


@pytest.fixture
def ossapi_v1(live_server: LiveServer, played: dict[str, Any]) -> Any:
    api_class = type("LiveOssapiV1", (OssapiV1,), {"BASE_URL": f"{live_server.url}/api/"})
    return api_class(played["key"])


def test_ossapi_v1_parses_all_seven(ossapi_v1: Any, played: dict[str, Any]) -> None:
    beatmap, hd = played["beatmap"], played["hd"]
    maps = bounded(lambda: ossapi_v1.get_beatmaps(beatmap_id=beatmap.id))
    assert [m.beatmap_id for m in maps] == [beatmap.id]
    assert maps[0].beatmap_hash == beatmap.checksum and maps[0].mode == 0
    assert maps[0].max_combo == beatmap.attrs.max_combo and maps[0].stars_aim > 0
    assert maps[0].approved_date.tzinfo is not None and maps[0].storyboard is False

    user = bounded(lambda: ossapi_v1.get_user(played["user_id"], user_type="id"))
    assert user.username == played["username"] and len(user.events) == 1
    assert user.events[0].beatmap_id == beatmap.id and user.events[0].epic_factor == 4
    assert user.count_100 >= 2 and user.pp_raw > 0 and user.rank >= 1

    board = bounded(lambda: ossapi_v1.get_scores(beatmap.id))
    assert [s.replay_id for s in board] == [hd["id"]]
    assert board[0].mods.value == 8 and board[0].replay_available is True
    assert board[0].beatmap_id == beatmap.id and board[0].pp == pytest.approx(hd["pp"], abs=1e-3)
    nm = bounded(lambda: ossapi_v1.get_scores(beatmap.id, mods=0))
    assert [s.replay_id for s in nm] == [played["nomod"]["id"]] and nm[0].perfect is False

    best = bounded(lambda: ossapi_v1.get_user_best(played["username"], user_type="string"))
    assert len(best) == 1 and best[0].beatmap_id == beatmap.id
    recent = bounded(lambda: ossapi_v1.get_user_recent(played["user_id"]))
    assert [s.replay_id for s in recent] == [played[k]["id"] for k in ("failed", "nomod", "hd")]
    assert recent[0].rank == "F" and recent[0].pp is None

    content = bounded(lambda: ossapi_v1.get_replay(score_id=hd["id"]))
    frames = lzma.decompress(base64.b64decode(content)).decode()
    assert frames.startswith("0|64|48|1,16|80|48|1,")

    game = played["match"]
    real = bounded(lambda: ossapi_v1.get_match(game.room_id))
    assert real.match.match_id == game.room_id and real.match.name == "v1 match"
    (shown,) = real.games
    assert shown.beatmap_id == played["match_map_id"] and shown.mods.value == 8  # HD required
    assert shown.team_type == 2 and shown.scoring_type == 3 and shown.end_time is not None
    assert {(s.user_id, s.score, s.passed) for s in shown.scores} == {
        (user_id, score["total_score"], True) for user_id, score in game.scores.items()
    }
    assert {s.team for s in shown.scores} == {1, 2}
    by_user = {s.user_id: s for s in shown.scores}
    assert by_user[played["match_guest_id"]].count_miss == 1
    assert by_user[played["match_host_id"]].perfect is True

    raw = bounded(lambda: ossapi_v1._get("get_match", {"mp": 4242}, dict))
    assert raw == {"match": 0, "games": []}
    match = MatchInfo(built_match())
    assert match.match.match_id == 99 and match.match.end_time is not None
    assert [g.mods.value for g in match.games] == [72, 0]
    assert [(s.user_id, s.team, s.passed) for s in match.games[0].scores] == [
        (3, 1, True),
        (4, 2, True),
    ]
    assert match.games[1].scores[0].mods.value == 16


def test_ossapi_v1_sees_v1_errors(live_server: LiveServer, played: dict[str, Any]) -> None:
    from ossapi.ossapi import InvalidKeyException, ReplayUnavailableException

    bad = type("BadKeyV1", (OssapiV1,), {"BASE_URL": f"{live_server.url}/api/"})(
        secrets.token_hex(20)
    )
    with pytest.raises(InvalidKeyException):
        bounded(lambda: bad.get_user(1))
    good = type("GoodKeyV1", (OssapiV1,), {"BASE_URL": f"{live_server.url}/api/"})(played["key"])
    with pytest.raises(ReplayUnavailableException):
        bounded(lambda: good.get_replay(score_id=played["nomod"]["id"]))


# -- aiosu -------------------------------------------------------------------------------


async def test_aiosu_v1_parses_all_seven(live_server: LiveServer, played: dict[str, Any]) -> None:
    from aiosu.exceptions import APIException  # type: ignore[import-untyped]
    from aiosu.models import Mods  # type: ignore[import-untyped]

    beatmap, hd = played["beatmap"], played["hd"]
    async with AiosuClient(played["key"], base_url=live_server.url) as client:
        sets = await client.get_beatmap(beatmap_id=beatmap.id)
        assert [s.id for s in sets] == [beatmap.set_id]
        assert sets[0].beatmaps[0].checksum == beatmap.checksum

        user = await client.get_user(played["user_id"])
        assert user.id == played["user_id"] and user.username == played["username"]
        assert user.statistics.grade_counts is not None

        # aiosu sends mods as acronyms ("HD", "NM").
        hd_board = await client.get_beatmap_scores(beatmap.id, mods=Mods("HD"))
        assert [s.id for s in hd_board] == [hd["id"]]
        assert hd_board[0].mods == Mods("HD") and hd_board[0].replay is True
        nm_board = await client.get_beatmap_scores(beatmap.id, mods=Mods(0))
        assert [s.id for s in nm_board] == [played["nomod"]["id"]]

        best = await client.get_user_bests(played["user_id"])
        assert len(best) == 1 and best[0].beatmap_id == beatmap.id
        recent = await client.get_user_recents(played["username"])
        assert recent[0].id == played["failed"]["id"] and recent[0].passed is False
        assert {s.id for s in recent} >= {hd["id"], played["nomod"]["id"]}

        replay = await client.get_replay(score_id=hd["id"])
        assert replay.encoding == "base64"
        assert lzma.decompress(base64.b64decode(replay.content)).startswith(b"0|64|48|1,")
        with pytest.raises(APIException) as refused:
            await client.get_replay(score_id=played["nomod"]["id"])
        assert refused.value.status == 404

        game = played["match"]
        real = await client.get_match(game.room_id)
        assert real.id == game.room_id
        assert [g.beatmap_id for g in real.games] == [played["match_map_id"]]
        (shown,) = real.games
        assert shown.mods == Mods("HD") and shown.team_type.name == "TEAMVS"
        assert {s.user_id: s.score for s in shown.scores} == {
            user_id: score["total_score"] for user_id, score in game.scores.items()
        }
        with pytest.raises(ValueError, match="Invalid match type"):
            await client.get_match(4242)  # the unknown match: {"match": 0}
    match = AiosuMatch.model_validate(built_match())
    assert match.id == 99 and [g.beatmap_id for g in match.games] == [100, 200]
    assert match.games[0].mods == Mods("HDDT") and match.games[0].team_type.name == "TEAMVS"
    assert match.games[1].scores[0].get_full_mods(match.games[1]) == Mods("HR")


# -- osuapi ------------------------------------------------------------------------------


@pytest.fixture
def osuapi_client(
    live_server: LiveServer, played: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    base = f"{live_server.url}/api"
    for name, endpoint in (
        ("USER", "get_user"),
        ("USER_BEST", "get_user_best"),
        ("USER_RECENT", "get_user_recent"),
        ("SCORES", "get_scores"),
        ("BEATMAPS", "get_beatmaps"),
        ("MATCH", "get_match"),
    ):
        monkeypatch.setattr(osuapi.endpoints, name, f"{base}/{endpoint}")
    client = osuapi.OsuApi(played["key"], connector=osuapi.ReqConnector())
    yield client
    client.close()


def test_osuapi_parses_every_endpoint_it_has(
    osuapi_client: Any, played: dict[str, Any], live_server: LiveServer
) -> None:
    beatmap, hd = played["beatmap"], played["hd"]
    (shown,) = bounded(lambda: osuapi_client.get_beatmaps(beatmap_id=beatmap.id))
    assert shown.beatmap_id == beatmap.id and shown.file_md5 == beatmap.checksum
    assert shown.approved.name == "ranked" and shown.packs is None
    assert isinstance(shown.submit_date, datetime) and shown.diff_aim > 0

    (user,) = bounded(lambda: osuapi_client.get_user(played["user_id"]))
    assert user.username == played["username"] and user.events[0].epicfactor == 4
    assert user.pp_country_rank >= 1 and isinstance(user.join_date, datetime)

    board = bounded(lambda: osuapi_client.get_scores(beatmap.id))
    assert [s.score_id for s in board] == [hd["id"]]
    assert board[0].username == played["username"] and board[0].replay_available is True
    assert board[0].enabled_mods.value == 8

    best = bounded(lambda: osuapi_client.get_user_best(played["username"]))
    assert [s.beatmap_id for s in best] == [beatmap.id]
    # Unlike osuapi (2021), v1 sends get_user_recent's score_id (ossapi reads it), so
    # osuapi warns about that one field and no other.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Unknown attribute score_id")
        recent = bounded(lambda: osuapi_client.get_user_recent(played["user_id"]))
    assert recent[0].rank == "F" and recent[0].beatmap_id == beatmap.id

    game = played["match"]
    real = bounded(lambda: osuapi_client.get_match(game.room_id))
    assert real.match.match_id == game.room_id and real.match.name == "v1 match"
    (shown,) = real.games
    assert shown.beatmap_id == played["match_map_id"] and shown.mods.value == 8
    assert sorted(s.team for s in shown.scores) == [1, 2]
    assert {s.user_id: s.score for s in shown.scores} == {
        user_id: score["total_score"] for user_id, score in game.scores.items()
    }

    unknown = requests.get(
        f"{live_server.url}/api/get_match",
        params={"k": played["key"], "mp": 4242},
        timeout=HTTP_TIMEOUT,
    )
    assert unknown.json() == {"match": 0, "games": []}
    match = osuapi.model.Match(built_match())
    assert match.match.name == "MWC: (A) vs (B)" and len(match.games) == 2
    assert [s.team for s in match.games[0].scores] == [1, 2]
    assert match.games[0].mods.value == 72 and match.games[1].scores[0].enabled_mods.value == 16
