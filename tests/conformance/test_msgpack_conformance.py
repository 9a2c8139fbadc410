"""Our MessagePack against msgpack-python, an independent implementation.

Where lazer's format is standard msgpack (everything but non-empty APIMod settings), the
bytes we write must read back identically with msgpack-python, and we must read what it
writes. The positional layout is built here from the schema's key indices with plain
Python lists, so only the key table is shared with the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.core import msgpack as m
from tests.unit.test_msgpack_values import NAMED_TYPES, SCHEMA, named_strategy

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(dt: datetime) -> msgpack.Timestamp:
    delta = dt - _EPOCH
    return msgpack.Timestamp(delta.days * 86400 + delta.seconds, delta.microseconds * 1000)


def to_wire(kind: list[Any], value: Any) -> Any:
    """The MessagePack-CSharp layout of a plain value, as msgpack-python objects."""
    tag = kind[0]
    if value is None:
        return None
    if tag == "datetimeoffset":
        return [timestamp(value), 0]
    if tag == "nullable":
        return to_wire(kind[1], value)
    if tag == "array":
        return [to_wire(kind[1], item) for item in value]
    if tag == "intmap":
        return {key: to_wire(kind[1], item) for key, item in value.items()}
    if tag == "modsettings":
        assert value == {}, "non-empty settings are not standard msgpack"
        return []
    if tag == "object":
        return object_to_wire(kind[1], value)
    if tag == "union":
        for member_id, member, obj in SCHEMA["unions"][kind[1]]:
            if member == value["type"]:
                payload = value["raw"] if obj is None else object_to_wire(obj, value)
                return [member_id, payload]
        raise AssertionError(value)
    return value


def object_to_wire(name: str, value: dict[str, Any]) -> list[Any]:
    fields = SCHEMA["objects"][name]
    out: list[Any] = [None] * (fields[-1][0] + 1 if fields else 0)
    for key, field, kind in fields:
        out[key] = to_wire(kind, value[field])
    return out


def unpack(data: bytes) -> Any:
    return msgpack.unpackb(data, strict_map_key=False, timestamp=0)


@pytest.mark.parametrize("type_name", NAMED_TYPES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_our_bytes_read_identically_with_msgpack_python(
    type_name: str, data: st.DataObject
) -> None:
    value = data.draw(named_strategy(type_name, mod_settings=False))
    expected = to_wire(SCHEMA["named"][type_name], value)
    assert unpack(m.encode(type_name, value)) == expected


@pytest.mark.parametrize("type_name", NAMED_TYPES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_we_read_msgpack_python_bytes(type_name: str, data: st.DataObject) -> None:
    value = data.draw(named_strategy(type_name, mod_settings=False))
    wire = msgpack.packb(to_wire(SCHEMA["named"][type_name], value))
    assert m.decode(type_name, wire) == value


def read_api_mod(data: bytes) -> dict[str, Any]:
    """The doc's Python recipe for the settings quirk: header N, then 2N items."""
    unpacker = msgpack.Unpacker()
    unpacker.feed(data)
    assert unpacker.read_array_header() == 2
    acronym = unpacker.unpack()
    n = unpacker.read_array_header()
    items = [unpacker.unpack() for _ in range(2 * n)]
    return {"Acronym": acronym, "Settings": dict(zip(items[::2], items[1::2], strict=True))}


@settings(max_examples=100, deadline=None)
@given(value=named_strategy("APIMod"))
def test_api_mod_settings_follow_the_quirk(value: dict[str, Any]) -> None:
    wire = m.encode("APIMod", value)
    assert read_api_mod(wire) == value
    if value["Settings"]:
        # A stock decoder stops after N items and leaves the values behind.
        with pytest.raises((msgpack.ExtraData, ValueError)):
            msgpack.unpackb(wire, strict_map_key=False)


def unframe(data: bytes) -> bytes:
    (message,) = m.FrameSplitter(1 << 20).feed(data)
    return message


def test_outgoing_messages_read_with_msgpack_python() -> None:
    assert unpack(unframe(m.encode_invocation("X", msgpack.packb([1, "a"])))) == [
        1, {}, None, "X", [1, "a"], [],
    ]  # fmt: skip
    assert unpack(unframe(m.encode_completion_void("9"))) == [3, {}, "9", 2]
    result = unframe(m.encode_completion_result("9", msgpack.packb({"a": 1})))
    assert unpack(result) == [3, {}, "9", 3, {"a": 1}]
    assert unpack(unframe(m.encode_completion_error("9", "E: x"))) == [3, {}, "9", 1, "E: x"]
    assert unpack(unframe(m.encode_close("bye", False))) == [7, "bye", False]
    assert unpack(unframe(m.encode_ping())) == [6]


@settings(max_examples=100, deadline=None)
@given(
    invocation_id=st.none() | st.text(max_size=8),
    target=st.text(min_size=1, max_size=30),
    args=st.lists(st.integers(-(2**63), 2**64 - 1) | st.text(max_size=5), max_size=4),
)
def test_envelopes_of_msgpack_python_messages(
    invocation_id: str | None, target: str, args: list[Any]
) -> None:
    message = msgpack.packb([1, {}, invocation_id, target, args, []])
    env = m.parse_envelope(message)
    assert (env.invocation_id, env.target) == (invocation_id, target)
    assert env.payload is not None
    assert msgpack.unpackb(env.payload) == args


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    token=st.none() | st.integers(-(2**63), 2**63 - 1),
    user_id=st.integers(-(2**31), 2**31 - 1),
    bundle=named_strategy("FrameDataBundle", mod_settings=False),
)
def test_relay_reads_as_user_sent_frames(
    token: int | None, user_id: int, bundle: dict[str, Any]
) -> None:
    wire_bundle = to_wire(SCHEMA["named"]["FrameDataBundle"], bundle)
    message = msgpack.packb([1, {}, None, "SendFrameDataV2", [token, wire_bundle], []])
    relay = m.relay_frames(message, user_id, validate=True)
    assert relay.score_token == token
    assert unpack(relay.bundle) == wire_bundle
    assert unpack(unframe(relay.message)) == [
        1, {}, None, "UserSentFrames", [user_id, wire_bundle], [],
    ]  # fmt: skip
