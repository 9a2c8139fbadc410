"""osu-web's `cursor_string`: the page cursor as URL-safe base64 of its JSON object, which a
client sends back verbatim for the next page."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

import msgspec


def encode_cursor_string(cursor: Mapping[str, str | int]) -> str:
    """The `cursor_string` for a cursor."""
    return base64.urlsafe_b64encode(msgspec.json.encode(cursor)).decode()


def decode_cursor_string(raw: str) -> dict[str, str] | None:
    """The cursor's fields (values as the strings `cursor[key]=` would carry), or None when
    `raw` is not a cursor_string."""
    try:
        data = msgspec.json.decode(base64.urlsafe_b64decode(raw.encode("ascii")))
    except (binascii.Error, msgspec.DecodeError, ValueError, UnicodeEncodeError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    return {str(k): str(v) for k, v in data.items()}
