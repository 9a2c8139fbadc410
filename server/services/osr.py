"""The osu! replay file (`.osr`): header, LZMA-compressed frames, online score id.

Layout (osu! wiki "Osr (file format)"): byte ruleset, int32 version, string beatmap MD5,
string player, string replay MD5, six int16 counts (300, 100, 50, geki, katu, miss),
int32 score, int16 max combo, byte perfect, int32 legacy mods, string life bar, int64
timestamp (.NET ticks), int32 length + LZMA ("alone") frame text, int64 online score id.
Strings are 0x0b + ULEB128 length + UTF-8, or 0x00 for none.

We write version 20230621, below lazer's 30000001: a version at or above it promises lazer's
extra compressed score-info block, which we do not produce, so lazer reads our file as a
classic replay (statistics and mods from the header), as it does stable replays.
"""

from __future__ import annotations

import hashlib
import lzma
import struct
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import msgspec

OSR_VERSION = 20230621
_TICKS_AT_UNIX_EPOCH = 621_355_968_000_000_000
_RNG_SEED_FRAME = "-12345|0|0|0"

# Legacy mod bits by acronym (osu-web's LegacyMods). NC and PF carry their base mod's bit.
LEGACY_MOD_BITS: Mapping[str, int] = {
    "NF": 1, "EZ": 2, "TD": 4, "HD": 8, "HR": 16, "SD": 32, "DT": 64, "RX": 128, "HT": 256,
    "NC": 512 | 64, "FL": 1024, "AT": 2048, "SO": 4096, "AP": 8192, "PF": 16384 | 32,
    "4K": 32768, "5K": 65536, "6K": 131072, "7K": 262144, "8K": 524288, "FI": 1048576,
    "RD": 2097152, "CN": 4194304, "TP": 8388608, "9K": 16777216, "CO": 33554432,
    "1K": 67108864, "3K": 134217728, "2K": 268435456, "SV2": 536870912, "MR": 1073741824,
}  # fmt: skip


# The HitResults that count towards the maximum achievable combo (lazer's AffectsCombo),
# by their JSON names: the legacy header's "perfect" is max combo == that sum.
_COMBO_RESULTS = frozenset(
    {
        "miss",
        "meh",
        "ok",
        "good",
        "great",
        "perfect",
        "large_tick_hit",
        "large_tick_miss",
        "slider_tail_hit",
        "legacy_combo_increase",
        "combo_break",
    }
)


def achievable_combo(maximum_statistics: Mapping[str, int]) -> int:
    """The highest combo a play can reach, from lazer's maximum_statistics ("perfect" in a
    legacy header or API v1 is a max combo equal to it)."""
    return sum(n for kind, n in maximum_statistics.items() if kind in _COMBO_RESULTS)


class ReplayFrame(msgspec.Struct, frozen=True, array_like=True):
    """One LegacyReplayFrame: absolute time in ms, mouse (or mania keys), buttons."""

    time: float
    x: float | None
    y: float | None
    buttons: int


class ReplayScore(msgspec.Struct, frozen=True, kw_only=True):
    """What the replay header needs from the submitted score."""

    score_id: int
    ruleset_id: int
    beatmap_md5: str
    username: str
    statistics: dict[str, int]  # lazer's JSON names: great, ok, meh, miss, perfect, good, ...
    total_score: int
    max_combo: int
    perfect: bool
    mods: list[str]
    ended_at: datetime


def legacy_counts(ruleset_id: int, stats: Mapping[str, int]) -> tuple[int, ...]:
    """(300, 100, 50, geki, katu, miss) as the legacy header counts them for a ruleset."""
    s = stats.get
    if ruleset_id == 2:  # catch: fruits, drops, droplets, missed droplets
        return (
            s("great", 0), s("large_tick_hit", 0), s("small_tick_hit", 0), 0,
            s("small_tick_miss", 0), s("miss", 0) + s("large_tick_miss", 0),
        )  # fmt: skip
    if ruleset_id == 3:  # mania: MAX is geki, 200 is katu
        return (s("great", 0), s("ok", 0), s("meh", 0), s("perfect", 0), s("good", 0), s("miss", 0))
    return (s("great", 0), s("ok", 0), s("meh", 0), 0, 0, s("miss", 0))


def legacy_mods(acronyms: Iterable[str]) -> int:
    """The legacy bitmask of the mods that have one (lazer-only mods have none)."""
    bits = 0
    for acronym in acronyms:
        bits |= LEGACY_MOD_BITS.get(acronym.upper(), 0)
    return bits


def frame_text(frames: Iterable[ReplayFrame]) -> str:
    """Frames as `delta|x|y|buttons,` text with the RNG seed frame last (lazer's encoder)."""
    parts: list[str] = []
    last = 0
    for frame in frames:
        # Accumulate rounded deltas so rounding never drifts from the absolute times.
        delta = round(frame.time - last)
        last += delta
        x = 0.0 if frame.x is None else frame.x
        y = 0.0 if frame.y is None else frame.y
        parts.append(f"{delta}|{x:g}|{y:g}|{frame.buttons},")
    parts.append(_RNG_SEED_FRAME)
    return "".join(parts)


def _string(value: str | None) -> bytes:
    if not value:
        return b"\x00"
    raw = value.encode()
    length = len(raw)
    out = bytearray(b"\x0b")
    while True:
        byte = length & 0x7F
        length >>= 7
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out) + raw


def encode_osr(score: ReplayScore, frames: Iterable[ReplayFrame]) -> bytes:
    """A complete `.osr` file for `score` with these frames."""
    compressed = lzma.compress(frame_text(frames).encode(), format=lzma.FORMAT_ALONE)
    counts = legacy_counts(score.ruleset_id, score.statistics)
    ended = score.ended_at if score.ended_at.tzinfo else score.ended_at.replace(tzinfo=UTC)
    ticks = _TICKS_AT_UNIX_EPOCH + int(ended.timestamp() * 10_000_000)
    replay_md5 = hashlib.md5(compressed + str(score.score_id).encode()).hexdigest()
    return b"".join(
        [
            struct.pack("<Bi", score.ruleset_id, OSR_VERSION),
            _string(score.beatmap_md5),
            _string(score.username),
            _string(replay_md5),
            struct.pack("<6H", *(min(c, 0xFFFF) for c in counts)),
            struct.pack("<i", min(score.total_score, 2**31 - 1)),
            struct.pack("<HB", min(score.max_combo, 0xFFFF), score.perfect),
            struct.pack("<i", legacy_mods(score.mods)),
            _string(""),
            struct.pack("<qi", ticks, len(compressed)),
            compressed,
            struct.pack("<q", score.score_id),
        ]
    )  # fmt: skip


def _skip_string(data: bytes, at: int) -> int:
    """The offset after the `.osr` string starting at `at`."""
    marker = data[at]
    at += 1
    if marker == 0:
        return at
    if marker != 0x0B:
        raise ValueError("bad string marker")
    length = shift = 0
    while True:
        byte = data[at]
        at += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return at + length


def frame_stream(osr: bytes) -> bytes:
    """The LZMA-compressed frame data of an `.osr` (what API v1's get_replay sends);
    ValueError when the file is malformed."""
    try:
        at = 5  # ruleset byte, int32 version
        for _ in range(3):  # beatmap MD5, player, replay MD5
            at = _skip_string(osr, at)
        at += 12 + 4 + 2 + 1 + 4  # six counts, score, combo, perfect, mods
        at = _skip_string(osr, at)  # life bar
        at += 8  # timestamp
        (length,) = struct.unpack_from("<i", osr, at)
    except (IndexError, struct.error) as exc:
        raise ValueError("truncated replay") from exc
    at += 4
    if length < 0 or at + length > len(osr):
        raise ValueError("truncated replay")
    return osr[at : at + length]
