"""aiosu 2.5.1 sweep (the newest aiosu for Python 3.11): every route we serve that aiosu has
a method for, parsed through its pydantic models, on the sweep's data set.

aiosu sends no x-api-version unless a method asks for the new format (user score lists with
`new_format=True`, `get_score_lazer`), so every score list it reads by default is in the
legacy format; both are swept.

aiosu methods whose routes we do not serve: create_chat_channel, *forum*, get_beatmap_pack(s),
get_beatmapset_discussion_*, get_beatmapset_events, get_changelog_*, get_channel,
get_channel_messages, get_comment(s), get_current_token, get_events, get_featured_tracks,
get_multiplayer_*, get_news_*, get_rankings_kudosu, get_score and get_score_replay (the
legacy `scores/{mode}/{id}` routes), get_spotlights, get_user_beatmaps, get_user_kudosu,
get_user_most_played, get_user_recent_activity, get_wiki_page, join_channel, leave_channel,
lookup_changelog_build, mark_read, search, send_message, send_private_message. get_chat_updates
needs the `lazer` scope client-side, which aiosu refuses to hold.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiosu
from aiosu.models import Gamemode, OAuthToken
from aiosu.models.lazer import LazerScore
from aiosu.models.score import Score

from tests.conformance.live_server import LiveServer, ThirdPartyClient
from tests.conformance.sweep_data import SweepData

T = TypeVar("T")
CALL_TIMEOUT = 30.0


def run(live_server: LiveServer, body: Callable[[], Awaitable[T]]) -> T:
    """Run an aiosu session in this thread's own loop, bounded."""

    async def bounded() -> T:
        return await asyncio.wait_for(body(), CALL_TIMEOUT)

    return asyncio.run(bounded())


def _player(live_server: LiveServer, sweep: SweepData, name: str) -> aiosu.v2.Client:
    tokens = sweep.client_scoped_tokens[name]
    token = OAuthToken(
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        expires_in=tokens["expires_in"],
    )
    return aiosu.v2.Client(token=token, base_url=live_server.url, client_id=5)


def test_score_routes_parse_in_both_formats(live_server: LiveServer, sweep: SweepData) -> None:
    alice, bob = sweep.account("alice"), sweep.account("bob")
    osu = sweep.maps["osu"]

    async def body() -> dict[str, Any]:
        async with _player(live_server, sweep, "carol") as client:
            return {
                "board": await client.get_beatmap_scores(osu.id),
                "taiko_board": await client.get_beatmap_scores(
                    sweep.maps["taiko"].id, mode=Gamemode.TAIKO
                ),
                "on_map": await client.get_user_beatmap_scores(alice.id, osu.id),
                "bests": await client.get_user_bests(alice.id, mode=Gamemode.STANDARD),
                "recents": await client.get_user_recents(
                    alice.id, mode=Gamemode.STANDARD, include_fails=True
                ),
                "firsts": await client.get_user_firsts(bob.id, mode=Gamemode.MANIA),
                "pinned": await client.get_user_pinned(alice.id, mode=Gamemode.STANDARD),
                "new_bests": await client.get_user_bests(
                    bob.id, mode=Gamemode.CTB, new_format=True
                ),
                "lazer": await client.get_score_lazer(sweep.scores["alice_osu_hddt"]),
            }

    got = run(live_server, body)
    board = got["board"]
    assert all(isinstance(s, Score) for s in board)
    assert {s.id for s in board} == {
        sweep.scores[k] for k in ("bob_osu", "alice_osu_hddt", "carol_osu_hr")
    }
    hd_dt = next(s for s in board if s.id == sweep.scores["alice_osu_hddt"])
    assert str(hd_dt.mods) == "HDDT" and hd_dt.statistics.count_100 == 2
    assert hd_dt.user is not None and hd_dt.user.username == alice.username
    assert hd_dt.mode is Gamemode.STANDARD and hd_dt.created_at.tzinfo is not None
    assert [s.id for s in got["taiko_board"]] == [
        sweep.scores["bob_taiko_hd"],
        sweep.scores["alice_taiko"],
    ] or {s.id for s in got["taiko_board"]} == {
        sweep.scores["bob_taiko_hd"],
        sweep.scores["alice_taiko"],
    }
    assert [s.id for s in got["on_map"]] == [sweep.scores["alice_osu_hddt"]]
    assert [s.id for s in got["bests"]] == [sweep.scores["alice_osu_hddt"]]
    assert got["bests"][0].weight is not None and got["bests"][0].beatmap.id == osu.id
    recent = {s.id: s for s in got["recents"]}
    assert recent[sweep.scores["alice_osu_fail"]].rank == "F"
    assert [s.id for s in got["pinned"]] == [sweep.scores["alice_osu_hddt"]]
    assert all(s.user_id == bob.id for s in got["firsts"])
    new_bests = got["new_bests"]
    assert [s.id for s in new_bests] == [sweep.scores["bob_catch_hd"]]
    assert all(isinstance(s, LazerScore) for s in new_bests)
    lazer = got["lazer"]
    assert isinstance(lazer, LazerScore) and lazer.id == sweep.scores["alice_osu_hddt"]
    assert {m.acronym for m in lazer.mods} == {"HD", "DT"}


def test_user_routes_parse(
    live_server: LiveServer, third_party_client: ThirdPartyClient, sweep: SweepData
) -> None:
    alice = sweep.account("alice")

    async def guest() -> dict[str, Any]:
        async with aiosu.v2.Client(
            client_id=third_party_client.id,
            client_secret=third_party_client.secret,
            base_url=live_server.url,
        ) as client:
            return {
                "user": await client.get_user(alice.id, mode=Gamemode.STANDARD),
                "by_name": await client.get_user(alice.username, qtype="username"),
                "users": await client.get_users([p.id for p in sweep.players.values()]),
                "performance": await client.get_rankings(Gamemode.MANIA, "performance"),
                "score": await client.get_rankings(Gamemode.STANDARD, "score"),
                "backgrounds": await client.get_seasonal_backgrounds(),
            }

    async def own() -> dict[str, Any]:
        async with _player(live_server, sweep, "alice") as client:
            return {
                "me": await client.get_me(),
                "taiko_me": await client.get_me(mode=Gamemode.TAIKO),
                "friends": await client.get_own_friends(),
                "ack": await client.get_chat_ack(),
            }

    got = run(live_server, guest) | run(live_server, own)
    user = got["user"]
    assert user.id == alice.id and user.statistics is not None
    assert user.statistics.count_miss == 20
    assert user.cover is not None and user.cover.url.startswith("https://osu.ppy.sh/")
    assert got["by_name"].id == alice.id
    assert sorted(u.id for u in got["users"]) == sorted(p.id for p in sweep.players.values())
    assert sweep.account("bob").id in [r.user.id for r in got["performance"].ranking]
    assert got["score"].ranking
    assert got["me"].id == alice.id and got["taiko_me"].id == alice.id
    assert {r.target_id for r in got["friends"]} == {
        sweep.account("bob").id,
        sweep.account("carol").id,
    }
    assert got["ack"] == []
    assert got["backgrounds"].backgrounds == []


def test_beatmap_routes_parse_for_every_ruleset(
    live_server: LiveServer, third_party_client: ThirdPartyClient, sweep: SweepData
) -> None:
    async def body() -> dict[str, Any]:
        async with aiosu.v2.Client(
            client_id=third_party_client.id,
            client_secret=third_party_client.secret,
            base_url=live_server.url,
        ) as client:
            found: dict[str, Any] = {}
            for ruleset, beatmap in sweep.maps.items():
                found[ruleset] = {
                    "beatmap": await client.get_beatmap(beatmap.id),
                    "set": await client.get_beatmapset(beatmap.set_id),
                    "lookup": await client.lookup_beatmap(checksum=beatmap.checksum),
                    "lookup_set": await client.lookup_beatmapset(beatmap.id),
                    "attributes": await client.get_beatmap_attributes(beatmap.id),
                }
            found["listed"] = await client.get_beatmaps([m.id for m in sweep.maps.values()])
            found["search"] = await client.search_beatmapsets(
                query=sweep.search_tag, category="any"
            )
            return found

    got = run(live_server, body)
    for ruleset, beatmap in sweep.maps.items():
        parsed = got[ruleset]
        assert parsed["beatmap"].id == beatmap.id == parsed["lookup"].id
        assert parsed["set"].id == beatmap.set_id == parsed["lookup_set"].id
        assert parsed["attributes"].star_rating >= 0
    assert got["mania"]["beatmap"].count_spinners == 0
    assert got["mania"]["beatmap"].count_sliders > 0
    assert len(got["listed"]) == 4
    assert {s.id for s in got["search"].beatmapsets} == {m.set_id for m in sweep.maps.values()}


def test_chat_channels_parse(live_server: LiveServer, sweep: SweepData) -> None:
    async def body() -> Any:
        async with _player(live_server, sweep, "bob") as client:
            return await client.get_channels()

    channels = run(live_server, body)
    assert isinstance(channels, list)
    assert channels and all(c.id > 0 and c.type == "PUBLIC" for c in channels)
