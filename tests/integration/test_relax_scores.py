"""Relax and autopilot plays: their own statistics and leaderboards when
ENABLE_RELAX_RULESETS is on, unranked when it is off (as on official osu!)."""

from __future__ import annotations

from typing import Any

import httpx

from server.settings import Settings
from tests.conftest import app_client, make_settings
from tests.helpers import sign_in, signup
from tests.score_play import play, stored_map


async def test_relax_off_makes_rx_unranked(client: httpx.AsyncClient, services: Any) -> None:
    beatmap = await stored_map(services)
    player = await sign_in(client, await signup(client))
    score = await play(client, player, beatmap, mods=[{"acronym": "RX"}])
    assert score["ranked"] is False and score["pp"] is None
    board = (
        await client.get(f"/api/v2/beatmaps/{beatmap.id}/scores", headers=player.headers)
    ).json()
    assert board["scores"] == []


async def test_relax_on_keeps_separate_statistics_and_boards(
    settings: Settings, services: Any
) -> None:
    relax = make_settings(settings.data_dir, ENABLE_RELAX_RULESETS="true")
    beatmap = await stored_map(services)
    async with app_client(relax, "198.51.100.20") as client:
        player = await sign_in(client, await signup(client))
        plain = await play(client, player, beatmap, total_score_without_mods=800_000)
        rx = await play(
            client, player, beatmap, mods=[{"acronym": "RX"}], total_score_without_mods=990_000
        )
        assert rx["ranked"] is True and rx["pp"] is not None
        osu = (await client.get(f"/api/v2/users/{player.id}/osu", headers=player.headers)).json()
        osurx = (
            await client.get(f"/api/v2/users/{player.id}/osurx", headers=player.headers)
        ).json()
        assert osu["statistics"]["ranked_score"] == 800_000
        assert osurx["statistics"]["ranked_score"] == round(990_000 * 0.1)
        assert osurx["statistics"]["pp"] > 0 and osurx["statistics"]["play_count"] == 1
        url = f"/api/v2/beatmaps/{beatmap.id}/scores"
        board = (await client.get(url, headers=player.headers)).json()
        assert [s["id"] for s in board["scores"]] == [plain["id"]]
        rx_board = (await client.get(f"{url}?mods[]=RX", headers=player.headers)).json()
        assert [s["id"] for s in rx_board["scores"]] == [rx["id"]]
        best = (
            await client.get(
                f"/api/v2/users/{player.id}/scores/best?mode=osurx", headers=player.headers
            )
        ).json()
        assert [s["id"] for s in best] == [rx["id"]]
