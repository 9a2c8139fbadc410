"""Byte-exact vectors for lazer's MessagePack-CSharp quirks, written by hand from the rules.

Each vector is checked both ways: encode(plain) gives exactly these bytes, and decoding
them gives the plain value back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from server.core import MsgpackDecodeError
from server.core import msgpack as m

H = bytes.fromhex

VECTORS: list[tuple[str, str, Any, bytes]] = [
    (
        "APIMod with settings: array header N=2 then 4 items (not a map)",
        "APIMod",
        {"Acronym": "DT", "Settings": {"speed_change": 1.5, "adjust_pitch": True}},
        b"\x92\xa2DT"
        + b"\x92"
        + b"\xacspeed_change"
        + H("cb3ff8000000000000")
        + b"\xacadjust_pitch\xc3",
    ),
    (
        "APIMod without settings: empty array 0x90",
        "APIMod",
        {"Acronym": "HD", "Settings": {}},
        b"\x92\xa2HD\x90",
    ),
    (
        "default(DateTimeOffset): 0001-01-01 as timestamp96 (-62135596800 s), offset 0",
        "DateTimeOffset",
        datetime(1, 1, 1, tzinfo=UTC),
        H("92c70cff00000000fffffff1886e090000"),
    ),
    (
        "DateTimeOffset whole seconds: timestamp32",
        "DateTimeOffset",
        datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        H("92d6ff65937d2500"),
    ),
    (
        "DateTimeOffset with sub-seconds: timestamp64 = nanos << 34 | seconds",
        "DateTimeOffset",
        datetime(2024, 1, 2, 3, 4, 5, 500000, tzinfo=UTC),
        H("92d7ff7735940065937d2500"),
    ),
    (
        "TimeSpan as int64 ticks: 30 s = 300,000,000 ticks (uint32)",
        "MatchUserRequest",
        {"type": "StartMatchCountdownRequest", "Duration": 300_000_000},
        H("920191ce11e1a300"),
    ),
    (
        "Union with a key gap: StandardMatchRoomState is [nil, Locked, Slots]",
        "MatchRoomState",
        {"type": "StandardMatchRoomState", "Locked": False, "Slots": None},
        H("920393c0c2c0"),
    ),
    (
        "TeamVersusRoomState: Teams at key 0, inherited Locked and Slots",
        "MatchRoomState",
        {
            "type": "TeamVersusRoomState",
            "Teams": [{"ID": 0, "Name": "Red"}, {"ID": 1, "Name": "Blue"}],
            "Locked": True,
            "Slots": [1, None],
        },
        b"\x92\x00\x93\x92\x92\x00\xa3Red\x92\x01\xa4Blue\xc3\x92\x01\xc0",
    ),
    (
        "Nested unions: CountdownStartedEvent(MatchStartCountdown(ID 3, 10 s))",
        "MatchServerEvent",
        {
            "type": "CountdownStartedEvent",
            "Countdown": {"type": "MatchStartCountdown", "ID": 3, "TimeRemaining": 100_000_000},
        },
        H("92009192009203ce05f5e100"),
    ),
    (
        "UserActivity InSoloGame (id 12) with the InGame payload",
        "UserActivity",
        {
            "type": "InSoloGame",
            "BeatmapID": 1234,
            "BeatmapDisplayTitle": "Title",
            "RulesetID": 0,
            "RulesetPlayingVerb": "Playing",
        },
        b"\x92\x0c\x94\xcd\x04\xd2\xa5Title\x00\xa7Playing",
    ),
    (
        "UserPresence: empty-payload activity and a status",
        "UserPresence",
        {"Activity": {"type": "ChoosingBeatmap"}, "Status": 2},
        H("92920b9002"),
    ),
    (
        "Opaque union member: payload kept as it came",
        "MatchRoomState",
        {"type": "MatchmakingRoomState", "raw": [1, "x"]},
        b"\x92\x01\x92\x01\xa1x",
    ),
    (
        "SpectatorState: nullable ints, enum as int, Dictionary<HitResult,int> with int keys",
        "SpectatorState",
        {
            "BeatmapID": 75,
            "RulesetID": 0,
            "Mods": [{"Acronym": "HD", "Settings": {}}],
            "State": 1,
            "MaximumStatistics": {5: 300, 99: 1},
        },
        b"\x95\x4b\x00\x91\x92\xa2HD\x90\x01\x82\x05\xcd\x01\x2c\x63\x01",
    ),
    (
        "LegacyReplayFrame: double time, float32 mouse, nil MouseY",
        "LegacyReplayFrame",
        {"Time": 12.5, "MouseX": 256.0, "MouseY": None, "ButtonState": 1},
        H("94cb4029000000000000ca43800000c001"),
    ),
    (
        "MultiplayerRoomSettings: TimeSpan ticks, byte? MaxParticipants",
        "MultiplayerRoomSettings",
        {
            "Name": "r",
            "PlaylistItemId": 7,
            "Password": "",
            "MatchType": 1,
            "QueueMode": 0,
            "AutoStartDuration": 0,
            "AutoSkip": False,
            "MaxParticipants": 16,
        },
        b"\x98\xa1r\x07\xa0\x01\x00\x00\xc2\x10",
    ),
]


@pytest.mark.parametrize(
    ("why", "type_name", "plain", "wire"), VECTORS, ids=[v[0] for v in VECTORS]
)
def test_vector_encodes_exactly(why: str, type_name: str, plain: Any, wire: bytes) -> None:
    assert m.encode(type_name, plain) == wire, why


@pytest.mark.parametrize(
    ("why", "type_name", "plain", "wire"), VECTORS, ids=[v[0] for v in VECTORS]
)
def test_vector_decodes_exactly(why: str, type_name: str, plain: Any, wire: bytes) -> None:
    assert m.decode(type_name, wire) == plain, why


@pytest.mark.parametrize(
    ("wire", "utc"),
    [
        # 05:04:05 wall clock at +02:00 (offset 120 = 0x78) is 03:04:05 UTC.
        (H("92d6ff6593994578"), datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        # 22:04:05 the day before at -05:00 (int16 0xfed4 = -300).
        (H("92d6ff659336d5d1fed4"), datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ],
)
def test_date_time_offset_with_offset_decodes_to_utc(wire: bytes, utc: datetime) -> None:
    assert m.decode("DateTimeOffset", wire) == utc
    # We always emit UTC with offset 0.
    assert m.encode("DateTimeOffset", utc) == H("92d6ff65937d2500")


def test_float_fields_accept_any_number_width() -> None:
    # MouseX as float64 and as an int: both readable, re-encoded as float32.
    frame = H("9400cb4070000000000000cd010000")
    assert m.decode("LegacyReplayFrame", frame) == {
        "Time": 0.0,
        "MouseX": 256.0,
        "MouseY": 256.0,
        "ButtonState": 0,
    }


@pytest.mark.parametrize(
    "wire",
    [
        H("93d6ff000000000000"),  # DateTimeOffset must be a 2-array
        H("92d6fe0000000000"),  # wrong extension type
        H("92d5ff000000"),  # timestamp of 2 bytes
        H("92d6ff00000000cd0400"),  # offset beyond ±14 h
    ],
)
def test_bad_date_time_offsets(wire: bytes) -> None:
    with pytest.raises(MsgpackDecodeError):
        m.decode("DateTimeOffset", wire)
