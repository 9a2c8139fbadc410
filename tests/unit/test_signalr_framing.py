"""SignalR VarInt framing: splitting a byte stream in arbitrary chunks, caps, bad prefixes."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import FrameError, TooLarge
from server.core import msgpack as m


def varint(n: int) -> bytes:
    """Reference VarInt writer, from the format rule (7 bits per byte, LSB first)."""
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


@pytest.mark.parametrize(
    ("length", "prefix"),
    [
        (0, b"\x00"),
        (127, b"\x7f"),
        (128, b"\x80\x01"),
        (16383, b"\xff\x7f"),
        (16384, b"\x80\x80\x01"),
    ],
)
def test_frame_prefix_bytes(length: int, prefix: bytes) -> None:
    payload = b"x" * length
    assert m.frame(payload) == prefix + payload


def test_ping_is_02_91_06() -> None:
    assert m.encode_ping() == b"\x02\x91\x06"


@settings(max_examples=200, deadline=None)
@given(
    messages=st.lists(st.binary(min_size=0, max_size=400), max_size=12),
    cuts=st.lists(st.integers(min_value=0, max_value=6000), max_size=20),
)
def test_any_chunking_reassembles_exactly(messages: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(varint(len(p)) + p for p in messages)
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    splitter = m.FrameSplitter(max_message_size=1000)
    got: list[bytes] = []
    for a, b in itertools.pairwise(points):
        got.extend(splitter.feed(stream[a:b]))
    assert got == messages
    assert splitter.buffered == 0


def test_partial_prefix_is_carried_over() -> None:
    splitter = m.FrameSplitter()
    payload = b"y" * 200
    data = varint(200) + payload
    assert splitter.feed(data[:1]) == []
    assert splitter.buffered == 1
    assert splitter.feed(data[1:]) == [payload]


def test_declared_length_over_cap_fails_before_body() -> None:
    splitter = m.FrameSplitter(max_message_size=100)
    with pytest.raises(TooLarge):
        splitter.feed(varint(101))
    # The stream position is lost: later input is refused too.
    with pytest.raises(FrameError):
        splitter.feed(varint(1) + b"a")


def test_six_byte_prefix_is_a_frame_error() -> None:
    with pytest.raises(FrameError):
        m.FrameSplitter().feed(b"\x80\x80\x80\x80\x80\x01")


def test_prefix_over_two_gib_is_a_frame_error() -> None:
    with pytest.raises(FrameError):
        m.FrameSplitter(max_message_size=2**31 - 1).feed(b"\xff\xff\xff\xff\x0f")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_garbage_never_crashes(data: bytes) -> None:
    splitter = m.FrameSplitter(max_message_size=64)
    try:
        for msg in splitter.feed(data):
            assert len(msg) <= 64
    except (FrameError, TooLarge):
        pass


@settings(max_examples=60, deadline=None)
@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from(["ChangeUserMods", "UserModsChanged", "X"]),
            st.lists(
                st.fixed_dictionaries(
                    {
                        "Acronym": st.text(min_size=1, max_size=3),
                        "Settings": st.dictionaries(
                            st.text(max_size=6),
                            st.integers(-(2**63), 2**63 - 1) | st.booleans(),
                            max_size=2,
                        ),
                    }
                ),
                max_size=3,
            ),
        ),
        min_size=1,
        max_size=5,
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=8),
)
def test_transport_path_round_trip(calls: list[tuple[str, list[Any]]], cuts: list[int]) -> None:
    """Encode invocations, cut the stream anywhere, split, parse envelopes, decode args."""
    stream = b"".join(
        m.encode_invocation(target, m.encode("APIMod[],", [mods])) for target, mods in calls
    )
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    splitter = m.FrameSplitter()
    got = []
    for a, b in itertools.pairwise(points):
        for message in splitter.feed(stream[a:b]):
            env = m.parse_envelope(message)
            assert env.payload is not None and env.target is not None
            got.append((env.target, m.decode("APIMod[],", env.payload)[0]))
    assert got == calls
