"""The multiplayer Structs' bytes against msgpack-python and a key table restated from C#.

`KEYS` and `UNION_IDS` below are copied by hand from ppy/osu's `[Key(n)]` and
`[Union(id, …)]` attributes (osu.Game/Online/Multiplayer/**, Online/Rooms/
{MultiplayerPlaylistItem,BeatmapAvailability}.cs), not read from the codec: the expected
MessagePack-CSharp layout is built from them with plain lists, and msgpack-python, an
independent implementation, reads our bytes and writes the bytes we must read. Mod settings
stay empty here (non-empty ones are lazer's non-standard quirk, tested elsewhere).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgpack
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.core import msgpack as m
from server.models import multiplayer as mp
from tests.unit.test_msgpack_values import SCHEMA
from tests.unit.test_multiplayer_models import kind_strategy

# C# class -> its keys in order (None: a gap, written as nil). Inherited keys included.
KEYS: dict[type[msgspec.Struct], list[str | None]] = {
    mp.MultiplayerRoom: [
        "RoomID",
        "State",
        "Settings",
        "Users",
        "Host",
        "MatchState",
        "Playlist",
        "ActiveCountdowns",
        "ChannelID",
    ],
    mp.MultiplayerRoomSettings: [
        "Name",
        "PlaylistItemId",
        "Password",
        "MatchType",
        "QueueMode",
        "AutoStartDuration",
        "AutoSkip",
        "MaxParticipants",
    ],
    mp.MultiplayerRoomUser: [
        "UserID",
        "State",
        "BeatmapAvailability",
        "Mods",
        "MatchState",
        "RulesetId",
        "BeatmapId",
        "VotedToSkipIntro",
        "Role",
    ],
    mp.MultiplayerPlaylistItem: [
        "ID",
        "OwnerID",
        "BeatmapID",
        "BeatmapChecksum",
        "RulesetID",
        "RequiredMods",
        "AllowedMods",
        "Expired",
        "PlaylistOrder",
        "PlayedAt",
        "StarRating",
        "Freestyle",
    ],
    mp.BeatmapAvailability: ["State", "DownloadProgress"],
    mp.APIMod: ["Acronym", "Settings"],
    mp.MultiplayerTeam: ["ID", "Name"],
    mp.StandardMatchRoomState: [None, "Locked", "Slots"],
    mp.TeamVersusRoomState: ["Teams", "Locked", "Slots"],
    mp.TeamVersusUserState: ["TeamID"],
    mp.MatchStartCountdown: ["ID", "TimeRemaining"],
    mp.ForceGameplayStartCountdown: ["ID", "TimeRemaining"],
    mp.ServerShuttingDownCountdown: ["ID", "TimeRemaining"],
    mp.CountdownStartedEvent: ["Countdown"],
    mp.CountdownStoppedEvent: ["ID"],
    mp.RollEvent: ["UserID", "Max", "Result"],
    mp.ChangeTeamRequest: ["TeamID"],
    mp.StartMatchCountdownRequest: ["Duration"],
    mp.StopCountdownRequest: ["ID"],
    mp.SetLockStateRequest: ["Locked"],
    mp.RollRequest: ["Max"],
    mp.ChangeSlotRequest: ["SlotID"],
}

UNION_IDS: dict[type[msgspec.Struct], int] = {
    # MatchRoomState
    mp.TeamVersusRoomState: 0,
    mp.MatchmakingRoomState: 1,
    mp.RankedPlayRoomState: 2,
    mp.StandardMatchRoomState: 3,
    # MatchUserState
    mp.TeamVersusUserState: 0,
    # MatchServerEvent
    mp.CountdownStartedEvent: 0,
    mp.CountdownStoppedEvent: 1,
    mp.MatchmakingAvatarActionEvent: 2,
    mp.RankedPlayCardHandReplayEvent: 3,
    mp.RollEvent: 4,
    # MatchUserRequest
    mp.ChangeTeamRequest: 0,
    mp.StartMatchCountdownRequest: 1,
    mp.StopCountdownRequest: 2,
    mp.MatchmakingAvatarActionRequest: 3,
    mp.RankedPlayCardHandReplayRequest: 4,
    mp.SetLockStateRequest: 5,
    mp.RollRequest: 6,
    mp.ChangeSlotRequest: 7,
    # MultiplayerCountdown
    mp.MatchStartCountdown: 0,
    mp.ForceGameplayStartCountdown: 1,
    mp.ServerShuttingDownCountdown: 2,
    mp.MatchmakingStageCountdown: 3,
    mp.RankedPlayStageCountdown: 4,
}


def csharp_layout(value: Any) -> Any:
    """The MessagePack-CSharp layout of a Struct value, as msgpack-python objects."""
    if isinstance(value, msgspec.Struct):
        cls = type(value)
        by_wire = {f.encode_name: getattr(value, f.name) for f in msgspec.structs.fields(cls)}
        if "raw" in by_wire and cls not in KEYS:
            payload = by_wire["raw"]
        else:
            payload = [None if k is None else csharp_layout(by_wire[k]) for k in KEYS[cls]]
        return [UNION_IDS[cls], payload] if cls in UNION_IDS else payload
    if isinstance(value, datetime):
        return [msgpack.Timestamp.from_datetime(value), 0]
    if isinstance(value, list):
        return [csharp_layout(v) for v in value]
    if isinstance(value, dict):
        assert value == {}, "only empty mod settings are standard msgpack"
        return []
    return value


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, strict_map_key=False, timestamp=0)


def struct_values(type_name: str) -> st.SearchStrategy[Any]:
    """Structs of a wire type, from schema-drawn plain values without mod settings."""
    wire_type = mp.WIRE_TYPES[type_name]
    return (
        kind_strategy(SCHEMA["named"][type_name], item=True, mod_settings=False)
        .map(lambda plain: m.encode(type_name, plain))
        .map(lambda wire: m.decode_as(type_name, wire, wire_type))
    )


TYPES = sorted(set(mp.WIRE_TYPES) - {"APIMod"})


@pytest.mark.parametrize("type_name", TYPES)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_msgpack_python_reads_our_bytes_in_the_csharp_layout(
    type_name: str, data: st.DataObject
) -> None:
    value = data.draw(struct_values(type_name))
    assert unpack(m.encode(type_name, value)) == csharp_layout(value)


@pytest.mark.parametrize("type_name", TYPES)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_we_read_msgpack_python_bytes_into_structs(type_name: str, data: st.DataObject) -> None:
    value = data.draw(struct_values(type_name))
    wire = msgpack.packb(csharp_layout(value))
    assert m.decode_as(type_name, wire, mp.WIRE_TYPES[type_name]) == value


def test_a_lazer_create_room_call_reads_as_lazer_wrote_it() -> None:
    # CreateRoom as the client sends it: RoomID 0, Host [myId…], items with ID 0. Built with
    # msgpack-python from the C# layout, then read through the codec into Structs.
    user = [2, 0, [0, None], [], None, None, None, False, 0]
    item = [0, 2, 75, "abc", 0, [["HD", []]], [], False, 0, None, 4.5, False]
    room = [0, 0, ["room", 0, "", 1, 0, 0, False, None], [], user, None, [item], [], 0]
    args = msgpack.packb([room])
    (got,) = m.decode_as("MultiplayerRoom,", args, tuple[mp.MultiplayerRoom])
    assert got.host == mp.MultiplayerRoomUser(user_id=2)
    assert got.settings.match_type is mp.MatchType.HEAD_TO_HEAD
    assert got.playlist == [
        mp.MultiplayerPlaylistItem(
            owner_id=2,
            beatmap_id=75,
            beatmap_checksum="abc",
            required_mods=[mp.APIMod("HD")],
            star_rating=4.5,
        )
    ]
