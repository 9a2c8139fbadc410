"""SignalR framing, hub message envelopes and lazer's MessagePack types, via the Rust core.

The transport feeds WebSocket bytes to a `FrameSplitter`, reads each message's envelope
with `parse_envelope` (arguments stay encoded), decodes arguments by schema type name with
`decode`, and sends what the `encode_*` functions return: those results are already framed.
Spectator frames go through `relay_frames`, which splices the bundle bytes unchanged.

Typed values cross as plain msgpack: Rust rewrites lazer's positional arrays, union
envelopes and quirks into maps keyed by field name (unions carry `"type"`), which msgspec
decodes into dicts here, or straight into Structs with `decode_as`. The schema itself
lives only in rust_core/src/msgpack/schema.rs.
"""

from __future__ import annotations

import enum
import struct
import threading
from typing import Any, TypeVar

import msgspec

from server.core import MsgpackDecodeError, MsgpackEncodeError, ffi, lib, rustcall

# SignalR's default maximum receive message size (HubOptions.MaximumReceiveMessageSize).
MAX_MESSAGE_SIZE = 32 * 1024

T = TypeVar("T")

_plain_encoder = msgspec.msgpack.Encoder()
_plain_decoder = msgspec.msgpack.Decoder()


class MessageType(enum.IntEnum):
    """SignalR hub message types (lazer-protocol.md §6.2)."""

    INVOCATION = 1
    STREAM_ITEM = 2
    COMPLETION = 3
    STREAM_INVOCATION = 4
    CANCEL_INVOCATION = 5
    PING = 6
    CLOSE = 7


class CompletionKind(enum.IntEnum):
    """The result kind of a Completion message."""

    NONE = 0
    ERROR = 1
    VOID = 2
    RESULT = 3


_MESSAGE_TYPES = {t.value: t for t in MessageType}
_COMPLETION_KINDS = {k.value: k for k in CompletionKind}


# Struct layouts read with one `struct.unpack_from` instead of a cffi attribute access per
# field (each costs about as much as the parse itself). Checked against cffi at import.
_ENVELOPE = struct.Struct("=7i4x8Q")
_RELAY = struct.Struct("=i4xq3Q")
if (
    _ENVELOPE.size != ffi.sizeof("rc_hub_envelope")
    or _RELAY.size != ffi.sizeof("rc_frame_relay")
    or ffi.offsetof("rc_hub_envelope", "invocation_id_start") != 32
    or ffi.offsetof("rc_frame_relay", "score_token") != 8
):
    raise ImportError("rust_core_msgpack.h structs do not match this module's layouts")
# Relay output never exceeds the input by more than this (see rust_core_msgpack.h).
_RELAY_SLACK = 32


class _Scratch:
    """Per-thread out-parameters, allocated once: `ffi.new` costs as much as a small call."""

    __slots__ = (
        "buf",
        "envelope",
        "envelope_ptr",
        "relay",
        "relay_out",
        "relay_out_ptr",
        "relay_ptr",
    )

    def __init__(self) -> None:
        self.buf: Any = ffi.new("rc_buf *")
        self.envelope = bytearray(_ENVELOPE.size)
        self.envelope_ptr: Any = ffi.cast("rc_hub_envelope *", ffi.from_buffer(self.envelope))
        self.relay = bytearray(_RELAY.size)
        self.relay_ptr: Any = ffi.cast("rc_frame_relay *", ffi.from_buffer(self.relay))
        self.relay_out = bytearray(0)
        self.relay_out_ptr: Any = ffi.NULL

    def grow_relay_buffer(self, need: int) -> bytearray:
        """Grow (never shrink) the relay output buffer to at least `need` bytes."""
        self.relay_out = bytearray(max(need, 2 * len(self.relay_out), 4096))
        self.relay_out_ptr = ffi.from_buffer(self.relay_out)
        return self.relay_out


_local = threading.local()


def _scratch() -> _Scratch:
    try:
        scratch: _Scratch = _local.scratch
    except AttributeError:
        scratch = _local.scratch = _Scratch()
    return scratch


_relay_call = lib.rc_msgpack_relay_frames


def _raise_last_error(status: int) -> None:
    """Raise the CoreError for a status an export already returned (its message is kept)."""
    rustcall(lambda: status)


def _take(buf: Any) -> bytes:
    try:
        return ffi.buffer(buf.data, buf.len)[:] if buf.len else b""
    finally:
        lib.rc_buf_free(buf)


def _call_bytes(func: Any, *args: Any) -> bytes:
    out = _scratch().buf
    rustcall(func, *args, out)
    return _take(out)


class FrameSplitter:
    """Splits one connection's incoming byte stream into hub messages (VarInt-framed).

    Not thread-safe: each connection owns one. After a FrameError or TooLarge the stream is
    unrecoverable and every later `feed` raises FrameError; close the connection.
    """

    def __init__(self, max_message_size: int = MAX_MESSAGE_SIZE) -> None:
        handle = ffi.new("rc_frame_splitter **")
        rustcall(lib.rc_msgpack_splitter_new, max_message_size, handle)
        self._handle: Any = ffi.gc(handle[0], lib.rc_msgpack_splitter_free)
        self._payloads = ffi.new("rc_buf *")
        self._lengths = ffi.new("rc_buf *")

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every message they complete, in order."""
        rustcall(
            lib.rc_msgpack_splitter_feed,
            self._handle,
            data,
            len(data),
            self._payloads,
            self._lengths,
        )
        payloads = _take(self._payloads)
        lengths = _take(self._lengths)
        messages: list[bytes] = []
        pos = 0
        for (length,) in struct.iter_unpack("<I", lengths):
            messages.append(payloads[pos : pos + length])
            pos += length
        return messages

    @property
    def buffered(self) -> int:
        """Bytes held over from earlier feeds."""
        out = ffi.new("size_t *")
        rustcall(lib.rc_msgpack_splitter_buffered, self._handle, out)
        return int(out[0])


def frame(payload: bytes) -> bytes:
    """Prefix one message with its VarInt length."""
    return _call_bytes(lib.rc_msgpack_frame, payload, len(payload))


class HubEnvelope(msgspec.Struct, frozen=True, gc=False):
    """The routing part of a hub message; `payload` is still encoded msgpack."""

    message_type: MessageType
    invocation_id: str | None
    target: str | None
    payload: bytes | None
    completion_kind: CompletionKind
    error: str | None
    allow_reconnect: bool


def _text(message: bytes, has: int, start: int, length: int) -> str | None:
    return message[start : start + length].decode() if has else None


def parse_envelope(message: bytes) -> HubEnvelope:
    """Read a hub message's type, id, target and raw arguments without decoding them."""
    scratch = _scratch()
    rustcall(lib.rc_msgpack_parse_envelope, message, len(message), scratch.envelope_ptr)
    (kind, completion, reconnect, has_id, has_target, has_payload, has_error,
     id_start, id_len, target_start, target_len, payload_start, payload_len,
     error_start, error_len) = _ENVELOPE.unpack_from(scratch.envelope)  # fmt: skip
    return HubEnvelope(
        _MESSAGE_TYPES[kind],
        message[id_start : id_start + id_len].decode() if has_id else None,
        message[target_start : target_start + target_len].decode() if has_target else None,
        message[payload_start : payload_start + payload_len] if has_payload else None,
        _COMPLETION_KINDS[completion],
        message[error_start : error_start + error_len].decode() if has_error else None,
        bool(reconnect),
    )


def encode_invocation(target: str, args: bytes) -> bytes:
    """Framed server-to-client invocation (nil id) around an encoded arguments array."""
    name = target.encode()
    return _call_bytes(lib.rc_msgpack_encode_invocation, name, len(name), args, len(args))


def _completion(invocation_id: str, kind: CompletionKind, payload: bytes) -> bytes:
    ident = invocation_id.encode()
    return _call_bytes(
        lib.rc_msgpack_encode_completion, ident, len(ident), int(kind), payload, len(payload)
    )


def encode_completion_void(invocation_id: str) -> bytes:
    """Framed Completion for a void method."""
    return _completion(invocation_id, CompletionKind.VOID, b"")


def encode_completion_result(invocation_id: str, result: bytes) -> bytes:
    """Framed Completion carrying one encoded result value."""
    return _completion(invocation_id, CompletionKind.RESULT, result)


def encode_completion_error(invocation_id: str, error: str) -> bytes:
    """Framed error Completion (the text is shown after its first colon by lazer)."""
    return _completion(invocation_id, CompletionKind.ERROR, error.encode())


def encode_ping() -> bytes:
    """Framed Ping `[6]`."""
    return _call_bytes(lib.rc_msgpack_encode_ping)


def encode_close(error: str | None, allow_reconnect: bool) -> bytes:
    """Framed Close `[7, error|nil, allowReconnect]`."""
    text = b"" if error is None else error.encode()
    return _call_bytes(
        lib.rc_msgpack_encode_close, error is not None, text, len(text), allow_reconnect
    )


class FrameRelay:
    """A received frame bundle: its score token, its bytes, and the watchers' message."""

    __slots__ = ("_len", "_source", "_start", "message", "score_token")

    def __init__(
        self, score_token: int | None, source: bytes, start: int, length: int, message: bytes
    ) -> None:
        self.score_token = score_token
        self.message = message
        self._source = source
        self._start = start
        self._len = length

    @property
    def bundle(self) -> bytes:
        """The FrameDataBundle's bytes as the client sent them (sliced on first use)."""
        return self._source[self._start : self._start + self._len]


def relay_frames(message: bytes, user_id: int, *, validate: bool) -> FrameRelay:
    """Turn SendFrameDataV2(token, bundle) into framed UserSentFrames(user_id, bundle).

    `validate` also checks the bundle against the schema, a full walk that costs several
    times the relay. Without it only the [header, frames] array is checked: a malformed
    bundle would reach watchers (whose client may then drop the connection), so skip it
    only where the bundle is checked elsewhere, and decode bundles before building replays.
    """
    scratch = _scratch()
    size = len(message)
    out = scratch.relay_out
    if len(out) < size + _RELAY_SLACK:
        out = scratch.grow_relay_buffer(size + _RELAY_SLACK)
    # Called directly rather than through rustcall: this is the hottest call in the server.
    status = _relay_call(
        message, size, user_id, validate, scratch.relay_out_ptr, len(out), scratch.relay_ptr
    )
    if status:
        _raise_last_error(status)
    has_token, token, start, length, out_len = _RELAY.unpack_from(scratch.relay)
    return FrameRelay(token if has_token else None, message, start, length, bytes(out[:out_len]))


def is_debug_build() -> bool:
    """Whether the loaded core was built without optimisations (debug assertions on)."""
    out = ffi.new("int32_t *")
    rustcall(lib.rc_msgpack_build_info, out)
    return bool(out[0])


def splice_array(values: list[bytes]) -> bytes:
    """An encoded array of already-encoded values, copied unchanged (e.g. stored states)."""
    data = b"".join(values)
    return _call_bytes(lib.rc_msgpack_splice_array, len(values), data, len(data))


def decode_plain(type_name: str, data: bytes) -> bytes:
    """lazer wire bytes of `type_name` -> plain msgpack (maps by field name)."""
    name = type_name.encode()
    return _call_bytes(lib.rc_msgpack_decode, name, len(name), data, len(data))


def encode_plain(type_name: str, plain: bytes) -> bytes:
    """Plain msgpack (maps by field name) -> lazer wire bytes of `type_name`."""
    name = type_name.encode()
    return _call_bytes(lib.rc_msgpack_encode, name, len(name), plain, len(plain))


def decode(type_name: str, data: bytes) -> Any:
    """Decode lazer wire bytes into dicts/lists/scalars/aware UTC datetimes."""
    plain = decode_plain(type_name, data)
    try:
        return _plain_decoder.decode(plain)
    except msgspec.DecodeError as exc:
        # e.g. a DateTimeOffset before year 1 once its offset is applied.
        raise MsgpackDecodeError(f"{type_name}: {exc}") from exc


# One Decoder per target type: `msgspec.msgpack.decode(..., type=T)` rebuilds T's decoding
# plan on every call, which for a union of Structs (MatchUserRequest) costs ~20x the decode.
# The targets are the hubs' fixed argument types, so the cache stays small.
_typed_decoders: dict[Any, msgspec.msgpack.Decoder[Any]] = {}


def decode_as(type_name: str, data: bytes, type: type[T]) -> T:
    """Decode lazer wire bytes straight into a msgspec type (e.g. a Struct).

    A value that does not fit `type` raises MsgpackDecodeError too, so a hub can treat
    every bad argument alike (error completion, connection kept).
    """
    plain = decode_plain(type_name, data)
    decoder = _typed_decoders.get(type)
    if decoder is None:
        decoder = _typed_decoders[type] = msgspec.msgpack.Decoder(type)
    try:
        value: T = decoder.decode(plain)
        return value
    except msgspec.DecodeError as exc:
        raise MsgpackDecodeError(f"{type_name}: {exc}") from exc


def encode(type_name: str, value: Any) -> bytes:
    """Encode dicts/lists/scalars/aware datetimes (or msgspec Structs) as lazer wire bytes."""
    try:
        plain = _plain_encoder.encode(value)
    except (TypeError, OverflowError, msgspec.EncodeError) as exc:
        raise MsgpackEncodeError(f"{type_name}: {exc}") from exc
    return encode_plain(type_name, plain)


def schema() -> dict[str, Any]:
    """The core's type table: {"named": ..., "objects": ..., "unions": ...} (see schema.rs)."""
    result: dict[str, Any] = _plain_decoder.decode(_call_bytes(lib.rc_msgpack_schema))
    return result
