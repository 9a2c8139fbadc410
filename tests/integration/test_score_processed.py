"""After a submission commits, the player's spectator-hub connection hears
UserScoreProcessed(userId, scoreId) with the submitted score's id (lazer-protocol.md §5.1:
lazer then refetches the user's statistics to show the pp and rank change)."""

from __future__ import annotations

from typing import Any

import httpx
import msgpack  # type: ignore[import-untyped]
from starlette.applications import Starlette

from tests.helpers import SignedIn
from tests.integration.hubs import connect
from tests.score_play import play, stored_map


async def test_submission_tells_the_players_hub_connection(
    app: Starlette, client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    hub = await connect(app, "spectator", player)
    beatmap = await stored_map(services)
    score = await play(client, player, beatmap)
    processed = await hub.call_to("UserScoreProcessed")
    expected_args = msgpack.packb([player.id, score["id"]])
    assert (
        processed.raw
        == b"\x96\x01\x80\xc0" + msgpack.packb("UserScoreProcessed") + expected_args + b"\x90"
    )
