"""Hub message envelopes: parsing without decoding, outgoing messages, frame relay."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import InvalidArgument, MsgpackDecodeError, MsgpackEncodeError
from server.core import msgpack as m


def unframe(data: bytes) -> bytes:
    splitter = m.FrameSplitter(max_message_size=1 << 20)
    (message,) = splitter.feed(data)
    assert splitter.buffered == 0
    return message


# [1, {}, "3", "BeginPlaySessionV2", [nil, []], []] written by hand from §6.2.
CLIENT_INVOCATION = b"\x96\x01\x80\xa13\xb2BeginPlaySessionV2" + b"\x92\xc0\x90" + b"\x90"


def test_invocation_envelope() -> None:
    env = m.parse_envelope(CLIENT_INVOCATION)
    assert env.message_type is m.MessageType.INVOCATION
    assert env.invocation_id == "3"
    assert env.target == "BeginPlaySessionV2"
    assert env.payload == b"\x92\xc0\x90"


def test_fire_and_forget_invocation_has_no_id() -> None:
    env = m.parse_envelope(b"\x96\x01\x80\xc0\xa1X\x90\x90")
    assert env.invocation_id is None


def test_invocation_without_stream_ids_is_accepted() -> None:
    env = m.parse_envelope(b"\x95\x01\x80\xc0\xa1X\x91\x05")
    assert env.payload == b"\x91\x05"


def test_completion_kinds() -> None:
    err = m.parse_envelope(b"\x95\x03\x80\xa11\x01\xa4oops")
    assert (err.completion_kind, err.error) == (m.CompletionKind.ERROR, "oops")
    void = m.parse_envelope(b"\x94\x03\x80\xa11\x02")
    assert void.completion_kind is m.CompletionKind.VOID and void.payload is None
    res = m.parse_envelope(b"\x95\x03\x80\xa11\x03\x92\x01\x02")
    assert res.payload == b"\x92\x01\x02"


def test_ping_and_close() -> None:
    assert m.parse_envelope(b"\x91\x06").message_type is m.MessageType.PING
    close = m.parse_envelope(b"\x93\x07\xa3bye\xc3")
    assert (close.error, close.allow_reconnect) == ("bye", True)


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"\x90",  # no type
        b"\x91\x0a",  # unknown type
        b"\x96\x01\x80\xc0\xa1X\x05\x90",  # arguments not an array
        b"\x96\x01\x80\xc0\xa1X\x90",  # truncated
        b"\x91\x06\x00",  # trailing bytes
        b"\x96\x01\x80\xc0\xa2\xff\xfe\x90\x90",  # target not UTF-8
        b"\x96\x01\x80\xc0\xa1X\x90\x91\xa11",  # stream ids: osu has no streams
        b"\x97\x01\x80\xc0\xa1X\x90\x90\x90",  # 7 elements
        b"\x95\x03\x80\xa11\x02",  # void completion with 5 elements
        b"\x94\x03\x80\xa11\x03",  # result completion without the result
    ],
)
def test_bad_envelopes_raise(bad: bytes) -> None:
    with pytest.raises(MsgpackDecodeError):
        m.parse_envelope(bad)


def test_arguments_are_located_not_walked() -> None:
    # The envelope does not look inside the arguments (APIMod settings make them
    # unwalkable without the schema); the typed decoder rejects bad ones.
    deep = b"\x91" * 40 + b"\xc0"
    env = m.parse_envelope(b"\x96\x01\x80\xc0\xa1X" + deep + b"\x90")
    assert env.payload == deep
    with pytest.raises(MsgpackDecodeError, match="nesting"):
        m.decode("any", deep)


def test_arguments_with_mod_settings_are_located_exactly() -> None:
    mods = m.encode("APIMod[]", [{"Acronym": "DA", "Settings": {"drain_rate": 3.5, "x": 1}}])
    args = b"\x91" + mods
    env = m.parse_envelope(b"\x96\x01\x80\xa12\xaeChangeUserMods" + args + b"\x90")
    assert env.payload == args
    assert env.target == "ChangeUserMods"
    assert m.decode("APIMod[],", env.payload) == [
        [{"Acronym": "DA", "Settings": {"drain_rate": 3.5, "x": 1}}]
    ]


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=80))
def test_garbage_gives_decode_error_not_crash(data: bytes) -> None:
    with contextlib.suppress(MsgpackDecodeError):
        m.parse_envelope(data)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(CLIENT_INVOCATION) - 1))
def test_every_truncation_is_an_error(cut: int) -> None:
    # Either the envelope fails, or (when the cut leaves a plausible tail) the arguments
    # fail their typed decode: never a silent success.
    with pytest.raises(MsgpackDecodeError):
        env = m.parse_envelope(CLIENT_INVOCATION[:cut])
        assert env.payload is not None
        m.decode("long?,SpectatorState", env.payload)


def test_outgoing_invocation_bytes() -> None:
    out = m.encode_invocation("HostChanged", b"\x91\x05")
    assert unframe(out) == b"\x96\x01\x80\xc0\xabHostChanged\x91\x05\x90"


def test_outgoing_invocation_requires_one_array() -> None:
    with pytest.raises(MsgpackEncodeError):
        m.encode_invocation("X", b"\x05")


def test_completions_bytes() -> None:
    assert unframe(m.encode_completion_void("12")) == b"\x94\x03\x80\xa212\x02"
    assert unframe(m.encode_completion_result("1", b"\x2a")) == b"\x95\x03\x80\xa11\x03\x2a"
    assert unframe(m.encode_completion_error("1", "E: x")) == b"\x95\x03\x80\xa11\x01\xa4E: x"
    with pytest.raises(MsgpackEncodeError):
        m.encode_completion_result("1", b"")


def test_close_bytes() -> None:
    assert unframe(m.encode_close(None, False)) == b"\x93\x07\xc0\xc2"
    assert unframe(m.encode_close("bad", True)) == b"\x93\x07\xa3bad\xc3"


def send_frames(token_bytes: bytes, bundle: bytes, target: bytes = b"SendFrameDataV2") -> bytes:
    return (
        b"\x96\x01\x80\xc0"
        + bytes([0xA0 | len(target)])
        + target
        + b"\x92"
        + token_bytes
        + bundle
        + b"\x90"
    )


# [header-with-nothing-much, [[12.5, 1.0f, 2.0f, 1]]]
BUNDLE = (
    b"\x92\x9a"
    + b"\x00" * 4
    + b"\x80\x90"
    + b"\x92\xd6\xff\x00\x00\x00\x00\x00"
    + b"\x90\xc0\xc0"
    + b"\x91\x94\xcb\x40\x29\x00\x00\x00\x00\x00\x00\xca\x3f\x80\x00\x00\xca\x40\x00\x00\x00\x01"
)


@pytest.mark.parametrize("validate", [True, False])
def test_relay_splices_bundle_unchanged(validate: bool) -> None:
    msg = send_frames(b"\xcd\x01\x2c", BUNDLE)
    relay = m.relay_frames(msg, 1234, validate=validate)
    assert relay.score_token == 300
    assert relay.bundle == BUNDLE
    expected = b"\x96\x01\x80\xc0\xaeUserSentFrames\x92\xcd\x04\xd2" + BUNDLE + b"\x90"
    assert unframe(relay.message) == expected


def test_relay_nil_token_and_v1_alias() -> None:
    assert m.relay_frames(send_frames(b"\xc0", BUNDLE), 1, validate=True).score_token is None
    v1 = b"\x96\x01\x80\xc0\xadSendFrameData\x91" + BUNDLE + b"\x90"
    assert m.relay_frames(v1, 1, validate=True).bundle == BUNDLE


@pytest.mark.parametrize("validate", [True, False])
@pytest.mark.parametrize(
    "msg",
    [
        send_frames(b"\xc0", BUNDLE, target=b"SendFrameData"),  # V1 takes one argument
        send_frames(b"\xa1x", BUNDLE),  # token not an int
        send_frames(b"\x01", b"\x91\x90"),  # bundle without frames
        send_frames(b"\x01", b"\xc0"),  # nil bundle
        send_frames(b"\x01", BUNDLE, target=b"Other"),
        b"\x91\x06",  # not an invocation
    ],
)
def test_relay_rejects_wrong_shapes(msg: bytes, validate: bool) -> None:
    with pytest.raises(MsgpackDecodeError):
        m.relay_frames(msg, 1, validate=validate)


@pytest.mark.parametrize(
    "msg",
    [
        send_frames(b"\x01", b"\x92\x90\x91\x05"),  # frame not an array
        send_frames(b"\x01", b"\x92\x91\xa1x\x90"),  # TotalScore not an int
        send_frames(b"\x01", b"\x92\xc0\x90"),  # nil header
        send_frames(b"\x01", BUNDLE + b"\xc0"),  # trailing value after the bundle
    ],
)
def test_relay_validation_rejects_bad_bundles(msg: bytes) -> None:
    with pytest.raises(MsgpackDecodeError):
        m.relay_frames(msg, 1, validate=True)
    # Unvalidated, the same bytes are relayed as they are.
    assert m.relay_frames(msg, 1, validate=False).bundle


def test_relay_user_id_range_checked_by_ffi() -> None:
    with pytest.raises(OverflowError):
        m.relay_frames(send_frames(b"\x01", BUNDLE), 2**40, validate=True)


def test_splitter_cap_must_be_positive() -> None:
    with pytest.raises(InvalidArgument):
        m.FrameSplitter(max_message_size=0)


def test_relay_of_a_bundle_with_mod_settings() -> None:
    bundle = {
        "Header": {
            "TotalScore": 1,
            "Accuracy": 1.0,
            "Combo": 1,
            "MaxCombo": 1,
            "Statistics": {},
            "ScoreProcessorStatistics": {
                "BaseScore": 0.0,
                "MaximumBaseScore": 0.0,
                "AccuracyJudgementCount": 0,
                "ComboPortion": 0.0,
                "BonusPortion": 0.0,
            },
            "ReceivedTime": datetime(1, 1, 1, tzinfo=UTC),
            "Mods": [{"Acronym": "DT", "Settings": {"speed_change": 1.2, "adjust_pitch": True}}],
            "TotalScoreWithoutMods": None,
            "Pauses": None,
        },
        "Frames": [{"Time": 1.0, "MouseX": 2.0, "MouseY": 3.0, "ButtonState": 1}],
    }
    wire_bundle = m.encode("FrameDataBundle", bundle)
    relay = m.relay_frames(send_frames(b"\x07", wire_bundle), 9, validate=True)
    assert relay.score_token == 7
    assert relay.bundle == wire_bundle
    env = m.parse_envelope(unframe(relay.message))
    assert env.target == "UserSentFrames"
    assert env.payload is not None
    assert m.decode("int,FrameDataBundle", env.payload) == [9, bundle]


def test_relay_output_buffer_grows_for_large_messages() -> None:
    frame = b"\x94\xcb" + b"\x00" * 8 + b"\xc0\xc0\x00"
    big = b"\x92\x90\xdc\x10\x00" + frame * 0x1000
    relay = m.relay_frames(send_frames(b"\x01", big), 1, validate=True)
    assert relay.bundle == big
    assert unframe(relay.message).endswith(big + b"\x90")


@settings(max_examples=300, deadline=None)
@given(garbage=st.binary(max_size=64), validate=st.booleans())
def test_relay_of_garbage_is_a_decode_error(garbage: bytes, validate: bool) -> None:
    for msg in (garbage, send_frames(b"\x01", garbage)):
        with contextlib.suppress(MsgpackDecodeError):
            relay = m.relay_frames(msg, 1, validate=validate)
            # Whatever got through is spliced verbatim after the head.
            assert relay.message.endswith(relay.bundle + b"\x90")


@settings(max_examples=200, deadline=None)
@given(cut=st.integers(min_value=0, max_value=400))
def test_truncated_frame_bundles_never_validate(cut: int) -> None:
    msg = send_frames(b"\x01", BUNDLE)
    truncated = msg[: min(cut, len(msg) - 1)]
    with pytest.raises(MsgpackDecodeError):
        m.relay_frames(truncated, 1, validate=True)


def test_splice_array_rebroadcasts_a_stored_state_unchanged() -> None:
    state = {
        "BeatmapID": 75,
        "RulesetID": 0,
        "Mods": [{"Acronym": "DT", "Settings": {"speed_change": 1.5}}],
        "State": 1,
        "MaximumStatistics": {5: 300},
    }
    stored = m.encode("SpectatorState", state)
    args = m.splice_array([m.encode("int", 2), stored])
    assert args == b"\x92\x02" + stored
    env = m.parse_envelope(unframe(m.encode_invocation("UserBeganPlaying", args)))
    assert env.payload is not None
    assert m.decode("int,SpectatorState", env.payload) == [2, state]
    assert m.splice_array([]) == b"\x90"
