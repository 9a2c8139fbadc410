"""The multiplayer Structs over the Rust codec: schema agreement, exact bytes, round trips.

The byte vectors are written by hand from ppy/osu's C# declarations (`[Key(n)]` order,
`[Union(id, …)]` ids, .NET widths), so they check the codec's key table as well as the
Structs' wire names. The property tests draw values from the codec's own schema, with enum
fields limited to their C# members, and hold wire -> Struct -> wire byte-identical.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.core import MsgpackDecodeError, MsgpackEncodeError
from server.core import msgpack as m
from server.models import multiplayer as mp
from tests.unit.test_msgpack_values import SCHEMA, any_values, utc_datetimes

H = bytes.fromhex
_info = msgspec.inspect


# ---- Every Struct agrees with the codec's schema ----


def _struct_types(info: _info.Type) -> list[_info.StructType]:
    """The tagged Structs of a union type (None left out)."""
    types = info.types if isinstance(info, _info.UnionType) else (info,)
    return [t for t in types if isinstance(t, _info.StructType)]


def _strip_none(info: _info.Type) -> tuple[_info.Type, bool]:
    if isinstance(info, _info.UnionType) and any(isinstance(t, _info.NoneType) for t in info.types):
        rest = tuple(t for t in info.types if not isinstance(t, _info.NoneType))
        return (rest[0] if len(rest) == 1 else _info.UnionType(rest)), True
    return info, False


def check_kind(kind: list[Any], info: _info.Type, where: str, *, item: bool = False) -> None:
    """Assert that a Python type reads and writes the plain form of a schema kind.

    A union-typed member is Optional (the codec passes nil through, and C# declares them
    nullable); a list of unions (ActiveCountdowns) holds no nulls.
    """
    tag = kind[0]
    bare, nullable = _strip_none(info)
    if tag == "nullable":
        assert nullable, f"{where}: C# nullable, Python not Optional"
        check_kind(kind[1], bare, where)
        return
    if tag == "union":
        assert nullable or item, f"{where}: a union-typed member must be Optional"
        structs = _struct_types(bare)
        members = SCHEMA["unions"][kind[1]]
        assert {s.tag for s in structs} == {name for _, name, _ in members}, where
        for s in structs:
            assert s.tag_field == "type", where
            obj = next(o for _, n, o in members if n == s.tag)
            if obj is None:
                assert [f.encode_name for f in s.fields] == ["raw"], where
            else:
                check_object(obj, s, f"{where}.{s.tag}")
        return
    assert not nullable, f"{where}: Python Optional, C# not nullable"
    if tag == "int":
        if isinstance(bare, _info.EnumType):
            values = [int(v) for v in bare.cls]
            assert kind[1] <= min(values) and max(values) <= kind[2], where
        else:
            assert isinstance(bare, _info.IntType), where
    elif tag in ("f32", "f64"):
        assert isinstance(bare, _info.FloatType), where
    elif tag == "bool":
        assert isinstance(bare, _info.BoolType), where
    elif tag == "str":
        assert isinstance(bare, _info.StrType), where
    elif tag == "timespan":
        assert isinstance(bare, _info.IntType), f"{where}: TimeSpan is int ticks"
    elif tag == "datetimeoffset":
        assert isinstance(bare, _info.DateTimeType), where
    elif tag == "modsettings":
        assert isinstance(bare, _info.DictType), where
        assert isinstance(bare.key_type, _info.StrType), where
    elif tag == "array":
        assert isinstance(bare, _info.ListType), where
        check_kind(kind[1], bare.item_type, f"{where}[]", item=True)
    elif tag == "object":
        assert isinstance(bare, _info.StructType), where
        check_object(kind[1], bare, where)
    else:
        raise AssertionError(f"{where}: unexpected kind {kind}")


def check_object(name: str, struct: _info.StructType, where: str) -> None:
    fields = {f.encode_name: f for f in struct.fields}
    schema_fields = {field: k for _, field, k in SCHEMA["objects"][name]}
    assert set(fields) == set(schema_fields), f"{where}: fields differ from {name}"
    for field, kind in schema_fields.items():
        check_kind(kind, fields[field].type, f"{where}.{field}")


@pytest.mark.parametrize("type_name", sorted(mp.WIRE_TYPES))
def test_struct_matches_the_codec_schema(type_name: str) -> None:
    kind = SCHEMA["named"][type_name]
    info = _info.type_info(mp.WIRE_TYPES[type_name])
    if kind[0] == "union":
        info = _info.UnionType((*_struct_types(info), _info.NoneType()))
    check_kind(kind, info, type_name)


def test_every_multiplayer_type_of_the_codec_has_a_struct() -> None:
    required = {
        "MultiplayerRoom",
        "MultiplayerRoomSettings",
        "MultiplayerRoomUser",
        "MultiplayerPlaylistItem",
        "BeatmapAvailability",
        "MatchRoomState",
        "MatchUserState",
        "MatchServerEvent",
        "MatchUserRequest",
        "MultiplayerCountdown",
    }
    assert required <= set(mp.WIRE_TYPES)


# ---- Exact bytes, hand-built from the C# layout ----

USER = mp.MultiplayerRoomUser(
    user_id=7,
    state=mp.MultiplayerUserState.READY,
    beatmap_availability=mp.BeatmapAvailability(mp.DownloadState.DOWNLOADING, 0.5),
    mods=[mp.APIMod("HD")],
    match_state=mp.TeamVersusUserState(team_id=1),
    beatmap_id=75,
)
# [UserID, State, [State, float32 progress], [["HD", []]], [0, [TeamID]], RulesetId nil,
#  BeatmapId, VotedToSkipIntro, Role]
USER_WIRE = (
    H("990701") + H("9202ca3f000000") + b"\x91\x92\xa2HD\x90" + H("92009101") + H("c04bc200")
)

ITEM = mp.MultiplayerPlaylistItem(
    id=12,
    owner_id=3,
    beatmap_id=75,
    beatmap_checksum="abc",
    required_mods=[mp.APIMod("DT", {"speed_change": 1.5})],
    expired=True,
    playlist_order=300,
    played_at=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    star_rating=5.25,
)
# APIMod settings: array header N=1, then key and value (not a map); PlayedAt as
# [timestamp32, offset 0]; PlaylistOrder a ushort above 255.
ITEM_WIRE = (
    b"\x9c\x0c\x03\x4b\xa3abc\x00"
    + b"\x91\x92\xa2DT\x91\xacspeed_change"
    + H("cb3ff8000000000000")
    + H("90c3cd012c")
    + H("92d6ff65937d2500")
    + H("cb4015000000000000c2")
)

SETTINGS = mp.MultiplayerRoomSettings(
    name="r",
    playlist_item_id=12,
    password="pw",
    match_type=mp.MatchType.TEAM_VERSUS,
    queue_mode=mp.QueueMode.ALL_PLAYERS_ROUND_ROBIN,
    auto_start_duration=30 * mp.TICKS_PER_SECOND,
    auto_skip=True,
    max_participants=16,
)
SETTINGS_WIRE = b"\x98\xa1r\x0c\xa2pw\x02\x02" + H("ce11e1a300") + H("c310")

THIRTY_SECONDS = H("ce11e1a300")

VECTORS: list[tuple[str, str, Any, bytes]] = [
    (
        "BeatmapAvailability: enum as int, float? as float32",
        "BeatmapAvailability",
        mp.BeatmapAvailability(mp.DownloadState.DOWNLOADING, 0.5),
        H("9202ca3f000000"),
    ),
    (
        "BeatmapAvailability without progress",
        "BeatmapAvailability",
        mp.BeatmapAvailability(mp.DownloadState.LOCALLY_AVAILABLE),
        H("9204c0"),
    ),
    ("MultiplayerRoomUser: nine keys", "MultiplayerRoomUser", USER, USER_WIRE),
    ("MultiplayerPlaylistItem: twelve keys", "MultiplayerPlaylistItem", ITEM, ITEM_WIRE),
    (
        "MultiplayerRoomSettings: ticks and byte?",
        "MultiplayerRoomSettings",
        SETTINGS,
        SETTINGS_WIRE,
    ),
    (
        "MultiplayerRoom: every nested union keeps its envelope",
        "MultiplayerRoom",
        mp.MultiplayerRoom(
            room_id=1000,
            settings=SETTINGS,
            users=[USER],
            host=USER,
            match_state=mp.StandardMatchRoomState(slots=[7, None]),
            playlist=[ITEM],
            active_countdowns=[
                mp.MatchStartCountdown(id=1, time_remaining=30 * mp.TICKS_PER_SECOND)
            ],
            channel_id=55,
        ),
        H("99cd03e800")
        + SETTINGS_WIRE
        + b"\x91"
        + USER_WIRE
        + USER_WIRE
        + H("920393c0c292 07c0".replace(" ", ""))
        + b"\x91"
        + ITEM_WIRE
        + H("91920092 01".replace(" ", ""))
        + THIRTY_SECONDS
        + H("37"),
    ),
    (
        "TeamVersusRoomState: Teams at key 0, inherited Locked and Slots",
        "MatchRoomState",
        mp.TeamVersusRoomState(
            teams=[mp.MultiplayerTeam(0, "Team Red"), mp.MultiplayerTeam(1, "Team Blue")],
            locked=True,
        ),
        b"\x92\x00\x93\x92\x92\x00\xa8Team Red\x92\x01\xa9Team Blue\xc3\xc0",
    ),
    (
        "StandardMatchRoomState: [nil, Locked, Slots]",
        "MatchRoomState",
        mp.StandardMatchRoomState(locked=True, slots=[None, 4]),
        H("920393c0c392c004"),
    ),
    (
        "TeamVersusUserState (MatchUserState 0)",
        "MatchUserState",
        mp.TeamVersusUserState(team_id=1),
        H("92009101"),
    ),
    ("ChangeTeamRequest (0)", "MatchUserRequest", mp.ChangeTeamRequest(team_id=1), H("92009101")),
    (
        "StartMatchCountdownRequest (1): Duration in ticks",
        "MatchUserRequest",
        mp.StartMatchCountdownRequest(duration=30 * mp.TICKS_PER_SECOND),
        H("920191") + THIRTY_SECONDS,
    ),
    ("StopCountdownRequest (2)", "MatchUserRequest", mp.StopCountdownRequest(id=4), H("92029104")),
    (
        "SetLockStateRequest (5)",
        "MatchUserRequest",
        mp.SetLockStateRequest(locked=True),
        H("920591c3"),
    ),
    ("RollRequest (6) without Max", "MatchUserRequest", mp.RollRequest(), H("920691c0")),
    ("RollRequest (6) with Max", "MatchUserRequest", mp.RollRequest(max=100), H("92069164")),
    ("ChangeSlotRequest (7)", "MatchUserRequest", mp.ChangeSlotRequest(slot_id=15), H("9207910f")),
    (
        "MatchmakingAvatarActionRequest (3): payload kept as it came",
        "MatchUserRequest",
        mp.MatchmakingAvatarActionRequest(raw=[1]),
        H("92039101"),
    ),
    (
        "CountdownStartedEvent (0) around ForceGameplayStartCountdown (1)",
        "MatchServerEvent",
        mp.CountdownStartedEvent(
            mp.ForceGameplayStartCountdown(id=2, time_remaining=30 * mp.TICKS_PER_SECOND)
        ),
        H("920091920192 02".replace(" ", "")) + THIRTY_SECONDS,
    ),
    (
        "CountdownStoppedEvent (1)",
        "MatchServerEvent",
        mp.CountdownStoppedEvent(id=4),
        H("92019104"),
    ),
    (
        "RollEvent (4): UserID, uint Max, uint Result",
        "MatchServerEvent",
        mp.RollEvent(user_id=7, max=100, result=42),
        H("920493 07642a".replace(" ", "")),
    ),
    (
        "ServerShuttingDownCountdown (2)",
        "MultiplayerCountdown",
        mp.ServerShuttingDownCountdown(id=9, time_remaining=0),
        H("9202920900"),
    ),
    (
        "MatchStartCountdown (0)",
        "MultiplayerCountdown",
        mp.MatchStartCountdown(id=1, time_remaining=10 * mp.TICKS_PER_SECOND),
        H("92009201ce05f5e100"),
    ),
]


@pytest.mark.parametrize(
    ("why", "type_name", "value", "wire"), VECTORS, ids=[v[0] for v in VECTORS]
)
def test_struct_encodes_exactly(why: str, type_name: str, value: Any, wire: bytes) -> None:
    assert m.encode(type_name, value) == wire, why


@pytest.mark.parametrize(
    ("why", "type_name", "value", "wire"), VECTORS, ids=[v[0] for v in VECTORS]
)
def test_struct_decodes_exactly(why: str, type_name: str, value: Any, wire: bytes) -> None:
    got = m.decode_as(type_name, wire, mp.WIRE_TYPES[type_name])
    assert got == value, why
    assert type(got) is type(value)


def test_hub_arguments_decode_as_structs() -> None:
    # SendMatchRequest(MatchUserRequest) and ChangeBeatmapAvailability as lazer sends them.
    assert m.decode_as("MatchUserRequest", H("9207910f"), mp.MatchUserRequest) == (
        mp.ChangeSlotRequest(slot_id=15)
    )
    args = m.decode_as(
        "int?,int?", H("92c001"), tuple[int | None, int | None]
    )  # ChangeUserStyle(null, 1)
    assert args == (None, 1)


def test_older_clients_short_arrays_take_the_csharp_defaults() -> None:
    # MultiplayerRoomUser before VotedToSkipIntro and Role; settings before AutoSkip.
    user = m.decode_as("MultiplayerRoomUser", H("9707009204c090c0c0c0"), mp.MultiplayerRoomUser)
    assert user == mp.MultiplayerRoomUser(
        user_id=7,
        beatmap_availability=mp.BeatmapAvailability(mp.DownloadState.LOCALLY_AVAILABLE),
    )
    settings_ = m.decode_as("MultiplayerRoomSettings", b"\x92\xa1r\x05", mp.MultiplayerRoomSettings)
    assert settings_ == mp.MultiplayerRoomSettings(name="r", playlist_item_id=5)


def test_out_of_range_enums_are_decode_errors_for_structs() -> None:
    # State 9 is not a MultiplayerUserState: the plain form reads it, the Struct refuses it.
    wire = H("9907099204c090c0c0c0c200")
    assert m.decode("MultiplayerRoomUser", wire)["State"] == 9
    with pytest.raises(MsgpackDecodeError, match=r"Invalid enum value 9 - at `\$.State`"):
        m.decode_as("MultiplayerRoomUser", wire, mp.MultiplayerRoomUser)


def test_struct_values_out_of_dotnet_range_are_refused_on_encode() -> None:
    with pytest.raises(MsgpackEncodeError, match="SlotID"):
        m.encode("MatchUserRequest", mp.ChangeSlotRequest(slot_id=256))
    with pytest.raises(MsgpackEncodeError, match="PlaylistOrder"):
        m.encode("MultiplayerPlaylistItem", mp.MultiplayerPlaylistItem(playlist_order=-1))
    with pytest.raises(MsgpackEncodeError, match="timezone-aware"):
        m.encode(
            "MultiplayerPlaylistItem", mp.MultiplayerPlaylistItem(played_at=datetime(2024, 1, 1))
        )


def test_countdown_inside_the_room_list_needs_its_envelope() -> None:
    # ActiveCountdowns = [[1, 300000000]]: a bare countdown without the union envelope.
    room = mp.MultiplayerRoom()
    wire = bytearray(m.encode("MultiplayerRoom", room))
    assert wire[-2:] == b"\x90\x00"  # empty ActiveCountdowns, ChannelID 0
    bad = bytes(wire[:-2]) + b"\x91\x92\x01" + THIRTY_SECONDS + b"\x00"
    with pytest.raises(MsgpackDecodeError):
        m.decode("MultiplayerRoom", bad)


# ---- Property tests: schema-drawn values through the Structs ----

# Fields whose C# type is an enum: the plain codec accepts any int there, the Structs only
# the enum's members.
ENUM_FIELDS: dict[tuple[str, str], type[enum.IntEnum]] = {
    ("MultiplayerRoom", "State"): mp.MultiplayerRoomState,
    ("MultiplayerRoomUser", "State"): mp.MultiplayerUserState,
    ("MultiplayerRoomUser", "Role"): mp.MultiplayerRoomUserRole,
    ("MultiplayerRoomSettings", "MatchType"): mp.MatchType,
    ("MultiplayerRoomSettings", "QueueMode"): mp.QueueMode,
    ("BeatmapAvailability", "State"): mp.DownloadState,
}


def kind_strategy(
    kind: list[Any], *, item: bool = False, mod_settings: bool = True
) -> st.SearchStrategy[Any]:
    """Plain values of a schema kind; without `mod_settings`, APIMod settings stay empty
    (non-empty ones are not standard msgpack)."""
    tag = kind[0]
    opts = {"mod_settings": mod_settings}
    if tag == "int":
        return st.integers(kind[1], kind[2])
    if tag == "f32":
        return st.floats(width=32, allow_nan=False)
    if tag == "f64":
        return st.floats(allow_nan=False)
    if tag == "bool":
        return st.booleans()
    if tag == "str":
        return st.text(max_size=8)
    if tag == "timespan":
        return st.integers(-(2**63), 2**63 - 1)
    if tag == "datetimeoffset":
        return utc_datetimes
    if tag == "nullable":
        return st.none() | kind_strategy(kind[1], **opts)
    if tag == "array":
        return st.lists(kind_strategy(kind[1], item=True, **opts), max_size=2)
    if tag == "modsettings":
        if not mod_settings:
            return st.just({})
        values = st.one_of(st.booleans(), st.integers(-(2**63), 2**63 - 1), st.text(max_size=4))
        return st.dictionaries(st.text(max_size=8), values, max_size=2)
    if tag == "object":
        return object_values(kind[1], **opts)
    if tag == "union":
        members = []
        for _, member, obj in SCHEMA["unions"][kind[1]]:
            if obj is None:
                members.append(st.fixed_dictionaries({"type": st.just(member), "raw": any_values}))
            else:
                members.append(
                    object_values(obj, **opts).map(
                        lambda fields, member=member: {"type": member, **fields}
                    )
                )
        return st.one_of(members) if item else st.none() | st.one_of(members)
    raise AssertionError(kind)


def object_values(name: str, *, mod_settings: bool = True) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            field: (
                st.sampled_from([int(v) for v in ENUM_FIELDS[(name, field)]])
                if (name, field) in ENUM_FIELDS
                else kind_strategy(kind, mod_settings=mod_settings)
            )
            for _, field, kind in SCHEMA["objects"][name]
        }
    )


@pytest.mark.parametrize("type_name", sorted(mp.WIRE_TYPES))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_wire_to_struct_to_wire_is_identical(type_name: str, data: st.DataObject) -> None:
    plain = data.draw(kind_strategy(SCHEMA["named"][type_name]))
    if plain is None:
        return  # a null union: nothing to hold in a Struct
    wire = m.encode(type_name, plain)
    struct = m.decode_as(type_name, wire, mp.WIRE_TYPES[type_name])
    assert m.encode(type_name, struct) == wire
    assert m.decode_as(type_name, m.encode(type_name, struct), mp.WIRE_TYPES[type_name]) == struct
    # The Struct's plain form is the codec's plain form, key for key.
    assert msgspec.to_builtins(struct) == msgspec.to_builtins(m.decode(type_name, wire))
