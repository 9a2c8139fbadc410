"""The Rust core, loaded with cffi: this package is the only one that touches the C ABI.

Every export returns a status code; `rustcall` turns a non-zero code into the matching
`CoreError` subclass with the core's message, so callers only ever see Python exceptions.
Heavy calls are made from worker threads (cffi releases the GIL during the call). The
declarations come from `_ffi.py`, generated from the C headers (server/core/cdef.py).
"""

from __future__ import annotations

import enum
import importlib.machinery
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server.core._ffi import ffi as ffi

_PACKAGE_DIR = Path(__file__).resolve().parent


class ErrorCode(enum.IntEnum):
    """Status codes of the C ABI (rust_core/include/rust_core.h)."""

    OK = 0
    PANIC = 1
    INVALID_ARGUMENT = 2
    BEATMAP_PARSE = 3
    TOO_LARGE = 4
    SUSPICIOUS_BEATMAP = 5
    CONVERSION = 6
    MSGPACK_DECODE = 7
    MSGPACK_ENCODE = 8
    FRAME = 9


class CoreError(Exception):
    """A failure reported by the Rust core."""

    code: ErrorCode = ErrorCode.PANIC

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CorePanic(CoreError):
    """A bug in the core: a Rust panic caught by the landing pad."""

    code = ErrorCode.PANIC


class InvalidArgument(CoreError):
    code = ErrorCode.INVALID_ARGUMENT


class BeatmapParseError(CoreError):
    code = ErrorCode.BEATMAP_PARSE


class TooLarge(CoreError):
    code = ErrorCode.TOO_LARGE


class SuspiciousBeatmap(CoreError):
    code = ErrorCode.SUSPICIOUS_BEATMAP


class ConversionError(CoreError):
    code = ErrorCode.CONVERSION


class MsgpackDecodeError(CoreError):
    code = ErrorCode.MSGPACK_DECODE


class MsgpackEncodeError(CoreError):
    code = ErrorCode.MSGPACK_ENCODE


class FrameError(CoreError):
    code = ErrorCode.FRAME


_EXCEPTIONS: dict[int, type[CoreError]] = {
    cls.code: cls
    for cls in (
        CorePanic,
        InvalidArgument,
        BeatmapParseError,
        TooLarge,
        SuspiciousBeatmap,
        ConversionError,
        MsgpackDecodeError,
        MsgpackEncodeError,
        FrameError,
    )
}


def _find_library() -> Path:
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = _PACKAGE_DIR / f"_rust_core{suffix}"
        if candidate.is_file():
            return candidate
    raise ImportError("the Rust core is not built: run `pip install -e .` (needs a Rust toolchain)")


lib: Any = ffi.dlopen(str(_find_library()))


def _take_buf(buf: Any) -> bytes:
    """Copy an rc_buf out of the core and free it."""
    try:
        return bytes(ffi.buffer(buf.data, buf.len)) if buf.len else b""
    finally:
        lib.rc_buf_free(buf)


def _last_error_message() -> str:
    buf = ffi.new("rc_buf *")
    if lib.rc_last_error_message(buf) != ErrorCode.OK:
        return "unknown error (the core could not report its last error)"
    return _take_buf(buf).decode("utf-8", "replace")


def rustcall(func: Callable[..., int], *args: Any) -> None:
    """Call one export; raise the matching CoreError when it reports a failure."""
    status = func(*args)
    if status == ErrorCode.OK:
        return
    exc_type = _EXCEPTIONS.get(status, CoreError)
    raise exc_type(_last_error_message())


def call_returning_bytes(func: Callable[..., int], *args: Any) -> bytes:
    """Call an export whose last parameter is an `rc_buf *` out-buffer; return its bytes."""
    out = ffi.new("rc_buf *")
    rustcall(func, *args, out)
    return _take_buf(out)


def version() -> str:
    """The core's version string (crate and embedded engines)."""
    return call_returning_bytes(lib.rc_core_version).decode()
