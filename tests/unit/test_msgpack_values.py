"""Typed values: decode(encode(x)) == x for every schema type, tolerance, errors, fuzzing.

Hypothesis strategies are derived from the core's own schema table (`msgpack.schema()`),
so every type and field the core knows is exercised without restating key indices here.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.core import InvalidArgument, MsgpackDecodeError, MsgpackEncodeError
from server.core import msgpack as m

SCHEMA = m.schema()
NAMED_TYPES = sorted(name for name in SCHEMA["named"] if name != "any")
I64 = (-(2**63), 2**63 - 1)

simple_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(*I64),
    st.floats(allow_nan=False),
    st.text(max_size=10),
)
any_values = st.recursive(
    simple_values,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
utc_datetimes = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
)


def strategy(kind: list[Any], *, mod_settings: bool = True) -> st.SearchStrategy[Any]:
    """A strategy for plain values of one schema kind."""
    tag = kind[0]
    if tag == "int":
        return st.integers(kind[1], kind[2])
    if tag == "f32":
        return st.floats(width=32, allow_nan=False)
    if tag == "f64":
        return st.floats(allow_nan=False)
    if tag == "bool":
        return st.booleans()
    if tag == "str":
        return st.text(max_size=12)
    if tag == "timespan":
        return st.integers(*I64)
    if tag == "datetimeoffset":
        return utc_datetimes
    if tag == "nullable":
        return st.none() | strategy(kind[1], mod_settings=mod_settings)
    if tag == "array":
        return st.lists(strategy(kind[1], mod_settings=mod_settings), max_size=2)
    if tag == "intmap":
        inner = strategy(kind[1], mod_settings=mod_settings)
        return st.dictionaries(st.integers(*I64), inner, max_size=3)
    if tag == "modsettings":
        if not mod_settings:
            return st.just({})
        values = st.one_of(
            st.booleans(), st.integers(*I64), st.floats(allow_nan=False), st.text(max_size=8)
        )
        return st.dictionaries(st.text(max_size=12), values, max_size=3)
    if tag == "object":
        return object_strategy(kind[1], mod_settings=mod_settings)
    if tag == "union":
        members = [
            member_strategy(name, obj, mod_settings=mod_settings)
            for _, name, obj in SCHEMA["unions"][kind[1]]
        ]
        return st.none() | st.one_of(members)
    if tag == "any":
        return any_values
    raise AssertionError(f"unknown kind {kind}")


def object_strategy(name: str, *, mod_settings: bool = True) -> st.SearchStrategy[Any]:
    """Plain dicts with every field of an object type."""
    return st.fixed_dictionaries(
        {
            field: strategy(kind, mod_settings=mod_settings)
            for _, field, kind in SCHEMA["objects"][name]
        }
    )


def member_strategy(member: str, obj: str | None, *, mod_settings: bool) -> st.SearchStrategy[Any]:
    """A union member as a plain dict tagged with "type"."""
    if obj is None:
        return st.fixed_dictionaries({"type": st.just(member), "raw": any_values})
    fields = {
        field: strategy(kind, mod_settings=mod_settings)
        for _, field, kind in SCHEMA["objects"][obj]
    }
    return st.fixed_dictionaries({"type": st.just(member), **fields})


def named_strategy(type_name: str, *, mod_settings: bool = True) -> st.SearchStrategy[Any]:
    """Plain values of a named type."""
    return strategy(SCHEMA["named"][type_name], mod_settings=mod_settings)


def test_schema_covers_the_required_types() -> None:
    required = {
        "SpectatorState",
        "FrameDataBundle",
        "FrameHeader",
        "LegacyReplayFrame",
        "SpectatedUserState",
        "APIMod",
        "UserPresence",
        "UserActivity",
        "UserStatus",
        "BeatmapUpdates",
        "DailyChallengeInfo",
        "MultiplayerPlaylistItemStats",
        "MultiplayerRoomScoreSetEvent",
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
    assert required <= set(SCHEMA["named"])
    activity_ids = {member_id for member_id, _, _ in SCHEMA["unions"]["UserActivity"]}
    assert activity_ids == {11, 12, 13, 14, 21, 22, 23, 24, 31, 41, 42, 43, 51, 52}


@pytest.mark.parametrize("type_name", NAMED_TYPES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip(type_name: str, data: st.DataObject) -> None:
    value = data.draw(named_strategy(type_name))
    wire = m.encode(type_name, value)
    assert m.decode(type_name, wire) == value
    # The wire form is canonical: re-encoding what we decoded gives the same bytes.
    assert m.encode(type_name, m.decode(type_name, wire)) == wire


@pytest.mark.parametrize("type_name", ["APIMod[]", "int?", "MatchServerEvent?", "int?[]"])
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_round_trip_type_expressions(type_name: str, data: st.DataObject) -> None:
    base = type_name.rstrip("?[]")
    inner = named_strategy(base)
    value = data.draw(
        {
            "APIMod[]": st.lists(inner, max_size=3),
            "int?": st.none() | inner,
            "MatchServerEvent?": inner,
            "int?[]": st.lists(st.none() | inner, max_size=3),
        }[type_name]
    )
    assert m.decode(type_name, m.encode(type_name, value)) == value


@settings(max_examples=50, deadline=None)
@given(token=st.none() | st.integers(*I64), bundle=named_strategy("FrameDataBundle"))
def test_argument_list_round_trip(token: int | None, bundle: dict[str, Any]) -> None:
    types = "long?,FrameDataBundle"
    assert m.decode(types, m.encode(types, [token, bundle])) == [token, bundle]


def test_argument_count_is_checked() -> None:
    with pytest.raises(MsgpackDecodeError):
        m.decode("long?,FrameDataBundle", b"\x91\xc0")
    with pytest.raises(MsgpackEncodeError):
        m.encode("long?,int", [1])


def test_unknown_type_is_invalid_argument() -> None:
    with pytest.raises(InvalidArgument):
        m.decode("NoSuchType", b"\xc0")


def test_shorter_array_leaves_fields_out_and_longer_is_skipped() -> None:
    # SpectatorState with only BeatmapID and RulesetID.
    assert m.decode("SpectatorState", b"\x92\x05\x00") == {"BeatmapID": 5, "RulesetID": 0}
    # BeatmapAvailability from a newer client with a third element.
    got = m.decode("BeatmapAvailability", b"\x93\x01\xc0\xa5extra")
    assert got == {"State": 1, "DownloadProgress": None}


def test_missing_nullable_encodes_nil_and_missing_required_fails() -> None:
    assert m.encode("BeatmapAvailability", {"State": 4}) == b"\x92\x04\xc0"
    with pytest.raises(MsgpackEncodeError, match="State"):
        m.encode("BeatmapAvailability", {"DownloadProgress": 0.5})


def test_unknown_or_duplicate_fields_fail() -> None:
    with pytest.raises(MsgpackEncodeError, match="Nope"):
        m.encode("BeatmapAvailability", {"State": 1, "Nope": 2})
    dup = b"\x82\xa5State\x01\xa5State\x02"
    with pytest.raises(MsgpackEncodeError, match="twice"):
        m.encode_plain("BeatmapAvailability", dup)


def test_out_of_range_ints_fail_both_ways() -> None:
    with pytest.raises(MsgpackDecodeError):
        m.decode("MultiplayerRoomSettings", b"\x98\xa0\x00\xa0\x00\x00\x00\xc2\xcd\x01\x00")
    with pytest.raises(MsgpackEncodeError):
        m.encode("MatchUserRequest", {"type": "ChangeSlotRequest", "SlotID": 256})


def test_bool_must_be_a_real_bool() -> None:
    with pytest.raises(MsgpackDecodeError):
        m.decode("bool", b"\x01")


def test_unknown_union_id_and_member_fail() -> None:
    with pytest.raises(MsgpackDecodeError, match="id 99"):
        m.decode("UserActivity", b"\x92\x63\x90")
    with pytest.raises(MsgpackEncodeError):
        m.encode("UserActivity", {"type": "Sleeping"})


def test_decode_as_struct() -> None:
    class BeatmapAvailability(msgspec.Struct):
        State: int
        DownloadProgress: float | None = None

    got = m.decode_as("BeatmapAvailability", b"\x92\x02\xca\x3f\x00\x00\x00", BeatmapAvailability)
    assert got == BeatmapAvailability(State=2, DownloadProgress=0.5)
    assert m.encode("BeatmapAvailability", got) == b"\x92\x02\xca\x3f\x00\x00\x00"


@pytest.mark.parametrize("type_name", NAMED_TYPES)
@settings(max_examples=60, deadline=None)
@given(garbage=st.binary(max_size=48))
def test_garbage_gives_decode_error(type_name: str, garbage: bytes) -> None:
    with contextlib.suppress(MsgpackDecodeError):
        m.decode(type_name, garbage)


@pytest.mark.parametrize(
    "type_name", ["FrameDataBundle", "MultiplayerRoom", "UserPresence", "SpectatorState"]
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_truncation_gives_decode_error(type_name: str, data: st.DataObject) -> None:
    wire = m.encode(type_name, data.draw(named_strategy(type_name)))
    cut = data.draw(st.integers(0, len(wire) - 1))
    with pytest.raises(MsgpackDecodeError):
        m.decode(type_name, wire[:cut])


def test_deeply_nested_any_is_refused() -> None:
    deep = b"\x91" * 40 + b"\xc0"
    with pytest.raises(MsgpackDecodeError, match="nesting"):
        m.decode("MatchRoomState", b"\x92\x01" + deep)
    with pytest.raises(MsgpackEncodeError, match="nesting"):
        m.encode_plain("any", deep)


def test_huge_header_claims_fail_fast() -> None:
    with pytest.raises(MsgpackDecodeError, match="cannot fit"):
        m.decode("APIMod[]", b"\xdd\x7f\xff\xff\xff")
    with pytest.raises(MsgpackDecodeError, match="cannot fit"):
        m.decode("APIMod", b"\x92\xa2DT\xdc\x00\x10" + b"\xa1k" * 8)


def test_offset_before_year_one_is_a_decode_error() -> None:
    # default(DateTimeOffset) wall clock with a +01:00 offset lies before 0001-01-01 UTC.
    wire = bytes.fromhex("92c70cff00000000fffffff1886e0900" + "3c")
    with pytest.raises(MsgpackDecodeError, match="out of range"):
        m.decode("DateTimeOffset", wire)


def test_naive_datetimes_and_unencodable_values_are_refused() -> None:
    with pytest.raises(MsgpackEncodeError, match="timezone-aware"):
        m.encode("DateTimeOffset", datetime(2020, 1, 1))
    with pytest.raises(MsgpackEncodeError):
        m.encode("int", object())
    with pytest.raises(MsgpackEncodeError):
        m.encode("long", 2**64)


def test_struct_mismatch_is_a_decode_error() -> None:
    class Availability(msgspec.Struct):
        State: str

    with pytest.raises(MsgpackDecodeError, match="State"):
        m.decode_as("BeatmapAvailability", b"\x92\x02\xc0", Availability)


def test_null_for_non_nullable_members_is_read_but_never_written() -> None:
    # SpectatorState with Mods = nil, as a buggy or hostile client might send.
    assert m.decode("SpectatorState", b"\x93\xc0\xc0\xc0") == {
        "BeatmapID": None,
        "RulesetID": None,
        "Mods": None,
    }
    state: dict[str, Any] = {
        "BeatmapID": 1,
        "RulesetID": 0,
        "Mods": None,
        "State": 1,
        "MaximumStatistics": {},
    }
    with pytest.raises(MsgpackEncodeError, match="Mods: nil"):
        m.encode("SpectatorState", state)
    with pytest.raises(MsgpackEncodeError, match="non-nullable"):
        m.encode("string", None)
    # Nullable members and unions take None.
    assert m.encode("UserPresence", {"Activity": None, "Status": None}) == b"\x92\xc0\xc0"
