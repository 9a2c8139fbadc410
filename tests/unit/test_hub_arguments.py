"""Hub argument binding: plain values by default, msgspec types when a method names them."""

from __future__ import annotations

from typing import Any

import pytest

from server.hubs.protocol import BadArguments, HubMethod, bind_arguments
from server.models import multiplayer as mp


async def _handler(connection: Any, args: list[Any]) -> None:
    return None


def test_plain_binding_gives_dicts() -> None:
    method = HubMethod(("MatchUserRequest",), _handler)
    assert bind_arguments(method, bytes.fromhex("9192009101")) == [
        {"type": "ChangeTeamRequest", "TeamID": 1}
    ]


def test_models_bind_one_argument_to_a_struct() -> None:
    method = HubMethod(("MatchUserRequest",), _handler, models=(mp.MatchUserRequest,))
    assert bind_arguments(method, bytes.fromhex("9192009101")) == [mp.ChangeTeamRequest(1)]


def test_models_bind_several_arguments() -> None:
    # ChangeUserStyle(int? beatmapId, int? rulesetId) and ChangeBeatmapAvailability.
    method = HubMethod(("int?", "int?"), _handler, models=(int | None, int | None))
    assert bind_arguments(method, bytes.fromhex("92c001")) == [None, 1]
    method = HubMethod(("BeatmapAvailability",), _handler, models=(mp.BeatmapAvailability,))
    assert bind_arguments(method, bytes.fromhex("919204c0")) == [
        mp.BeatmapAvailability(mp.DownloadState.LOCALLY_AVAILABLE)
    ]


def test_a_value_outside_the_model_is_a_binding_error() -> None:
    # MultiplayerUserState 9 does not exist: the plain codec reads it, the enum does not.
    method = HubMethod(("MultiplayerUserState",), _handler, models=(mp.MultiplayerUserState,))
    assert bind_arguments(method, b"\x91\x08") == [mp.MultiplayerUserState.SPECTATING]
    with pytest.raises(BadArguments, match="Error binding arguments"):
        bind_arguments(method, b"\x91\x09")
    with pytest.raises(BadArguments, match="expects 1"):
        bind_arguments(method, b"\x92\x01\x02")


def test_models_must_match_the_argument_count() -> None:
    with pytest.raises(ValueError, match="one model per argument"):
        HubMethod(("int", "int"), _handler, models=(int,))
