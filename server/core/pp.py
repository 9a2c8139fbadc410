"""Difficulty and performance (pp) through the Rust core's rosu-pp exports.

`Beatmap` owns one parsed-beatmap handle; `PpCache` is the bounded cache the server owns
(parsed beatmaps keyed by the .osu MD5, difficulty attributes keyed by MD5 + ruleset +
mods) and frees handles when it evicts them. Heavy calls have `*_async` variants that run
in a worker thread: cffi releases the GIL during the call, so the event loop keeps going.

Structs cross the C ABI packed with `struct` in one call (the C layouts have no padding);
`_check_layouts` proves at import that the field lists below match the header.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import struct
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Final, TypeAlias

import msgspec

from server import metrics
from server.core import InvalidArgument, call_returning_bytes, ffi, lib, rustcall

# Lazer mods: a legacy bitmask, an acronym string ("HDDT"), a list of lazer mod objects
# ({"acronym": "DT", "settings": {"speed_change": 1.3}}) or bare acronyms, or JSON bytes
# already encoded in one of those shapes.
Mods: TypeAlias = int | str | bytes | Sequence[Mapping[str, Any] | str] | None

Count = Annotated[int, msgspec.Meta(ge=0, le=1 << 24)]


class Ruleset(enum.IntEnum):
    """osu!'s rulesets, numbered as the API and the .osu `Mode:` field number them."""

    OSU = 0
    TAIKO = 1
    CATCH = 2
    MANIA = 3


class HitStatistics(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """lazer's per-HitResult counts, named as lazer's score JSON names them."""

    perfect: Count = 0
    great: Count = 0
    good: Count = 0
    ok: Count = 0
    meh: Count = 0
    miss: Count = 0
    large_tick_hit: Count = 0
    large_tick_miss: Count = 0
    small_tick_hit: Count = 0
    small_tick_miss: Count = 0
    slider_tail_hit: Count = 0


class ScoreInput(msgspec.Struct, frozen=True, kw_only=True):
    """One play to compute pp for: its statistics, max combo and scoring mode."""

    statistics: HitStatistics
    max_combo: Count
    lazer: bool = True
    legacy_total_score: Annotated[int, msgspec.Meta(ge=0, lt=1 << 32)] | None = None


class BeatmapInfo(msgspec.Struct, frozen=True):
    """What the .osu file says, before any mods: counts, settings, BPM, length.

    `length_ms` runs from the first object's start to the last object's start (its end for
    spinners and hold notes; slider ends are not computed here); `drain_ms` leaves out
    breaks. `max_combo` is 0 for a suspicious map.
    """

    mode: int
    is_convert: bool
    is_suspicious: bool
    format_version: int
    n_objects: int
    n_circles: int
    n_sliders: int
    n_spinners: int
    n_holds: int
    max_combo: int
    ar: float
    od: float
    cs: float
    hp: float
    bpm: float
    length_ms: float
    drain_ms: float


class DifficultyAttributes(msgspec.Struct, frozen=True):
    """Difficulty of one beatmap for one ruleset and mod set; other rulesets' fields are 0.

    Plain values: the server may cache or store it and compute pp from it later.
    """

    mode: int
    is_convert: bool
    max_combo: int
    n_circles: int
    n_sliders: int
    n_large_ticks: int
    n_spinners: int
    n_fruits: int
    n_droplets: int
    n_tiny_droplets: int
    n_objects: int
    n_hold_notes: int
    stars: float
    aim: float
    aim_difficult_slider_count: float
    speed: float
    flashlight: float
    slider_factor: float
    aim_top_weighted_slider_factor: float
    speed_top_weighted_slider_factor: float
    speed_note_count: float
    aim_difficult_strain_count: float
    speed_difficult_strain_count: float
    nested_score_per_object: float
    legacy_score_base_multiplier: float
    maximum_legacy_combo_score: float
    ar: float
    great_hit_window: float
    ok_hit_window: float
    meh_hit_window: float
    hp: float
    stamina: float
    rhythm: float
    color: float
    reading: float
    mono_stamina_factor: float
    mechanical_difficulty: float
    consistency_factor: float
    preempt: float


class PerformanceResult(msgspec.Struct, frozen=True):
    """pp of one play; components the ruleset does not have are None."""

    mode: int
    max_combo: int
    stars: float
    pp: float
    pp_aim: float | None
    pp_speed: float | None
    pp_accuracy: float | None
    pp_flashlight: float | None
    pp_difficulty: float | None
    effective_miss_count: float | None
    speed_deviation: float | None
    estimated_unstable_rate: float | None


def _layout(cls: type[msgspec.Struct]) -> struct.Struct:
    """The `struct` format of a C struct whose fields mirror `cls`: ints then floats."""
    codes = {int: "I", bool: "I", float: "d", float | None: "d"}
    hints = {f.name: f.type for f in msgspec.structs.fields(cls)}
    return struct.Struct("=" + "".join(codes[hints[name]] for name in cls.__struct_fields__))


_INFO: Final = _layout(BeatmapInfo)
_ATTRS: Final = _layout(DifficultyAttributes)
_PERF: Final = _layout(PerformanceResult)
_SCORE_FIELDS: Final = (
    *HitStatistics.__struct_fields__,
    "max_combo",
    "flags",
    "legacy_total_score",
)
_SCORE: Final = struct.Struct("=" + "I" * len(_SCORE_FIELDS))
_NO_MODS: Final = b""
_LAZER_FLAG: Final[int] = lib.RC_PP_SCORE_LAZER
_LEGACY_SCORE_FLAG: Final[int] = lib.RC_PP_SCORE_HAS_LEGACY_TOTAL_SCORE


def _check_layouts() -> None:
    """Fail at import if a field list here drifts from the header."""
    pairs = (
        ("rc_pp_beatmap_info", BeatmapInfo.__struct_fields__, _INFO),
        ("rc_pp_difficulty_attributes", DifficultyAttributes.__struct_fields__, _ATTRS),
        ("rc_pp_performance_attributes", PerformanceResult.__struct_fields__, _PERF),
        ("rc_pp_score", _SCORE_FIELDS, _SCORE),
    )
    for ctype, names, layout in pairs:
        offsets = [ffi.offsetof(ctype, name) for name in names]
        sizes = [struct.calcsize("=" + code) for code in layout.format[1:]]
        expected = [sum(sizes[:i]) for i in range(len(sizes))]
        if ffi.sizeof(ctype) != layout.size or offsets != expected:
            raise ImportError(f"{ctype} in rust_core_pp.h does not match server/core/pp.py")


_check_layouts()


def encode_mods(mods: Mods) -> bytes:
    """Mods as the JSON bytes the core reads (bytes pass through unchanged)."""
    if mods is None:
        return _NO_MODS
    if isinstance(mods, bytes):
        return mods
    return msgspec.json.encode(mods)


def _score_values(score: ScoreInput) -> tuple[int, ...]:
    flags = (_LAZER_FLAG if score.lazer else 0) | (
        0 if score.legacy_total_score is None else _LEGACY_SCORE_FLAG
    )
    return (
        *msgspec.structs.astuple(score.statistics),
        score.max_combo,
        flags,
        score.legacy_total_score or 0,
    )


def _score_cdata(score: ScoreInput) -> Any:
    try:
        packed = _SCORE.pack(*_score_values(score))
    except struct.error as exc:  # a count below 0 or above 2^32 - 1
        raise InvalidArgument(f"hit statistics out of range: {exc}") from None
    # from_buffer keeps the packed bytes alive as long as the returned cdata.
    return ffi.from_buffer("rc_pp_score *", packed)


def _attrs_cdata(attrs: DifficultyAttributes) -> Any:
    return ffi.from_buffer(
        "rc_pp_difficulty_attributes *", _ATTRS.pack(*msgspec.structs.astuple(attrs))
    )


def _unpack_attrs(buf: bytearray) -> DifficultyAttributes:
    values = list(_ATTRS.unpack(buf))
    values[1] = bool(values[1])
    return DifficultyAttributes(*values)


def _unpack_perf(buf: bytearray) -> PerformanceResult:
    mode, combo, stars, pp, *rest = _PERF.unpack(buf)
    # NaN marks a component the ruleset does not have (NaN != NaN).
    return PerformanceResult(mode, combo, stars, pp, *[v if v == v else None for v in rest])


def _raise_for(status: int) -> None:
    """Raise the core's exception for a failed status.

    The pp-per-score paths call the export directly and only come here on failure:
    `rustcall(func, *args)` costs about a microsecond per call, a tenth of the work.
    """
    rustcall(lambda: status)


def _mode_arg(ruleset: int | None) -> int:
    if ruleset is None:
        return -1
    if ruleset not in Ruleset.__members__.values():
        raise InvalidArgument(f"unknown ruleset {ruleset}; expected 0..3")
    return int(ruleset)


def algorithm_version() -> str:
    """The pp algorithm the core implements; store it beside every pp value."""
    return call_returning_bytes(lib.rc_pp_algorithm_version).decode()


def build_profile() -> str:
    """The core's build profile, "release" or "debug"."""
    return call_returning_bytes(lib.rc_pp_build_profile).decode()


def live_beatmaps() -> int:
    """How many parsed-beatmap handles are alive in the core (leak check, metric)."""
    out = ffi.new("size_t *")
    rustcall(lib.rc_pp_live_beatmaps, out)
    return int(out[0])


class Beatmap:
    """A parsed beatmap: one core handle, freed by `close()` (or when collected).

    Safe to use from several threads; `close()` while a calculation runs defers the free
    until that calculation returns.
    """

    def __init__(self, handle: Any, checksum: str | None) -> None:
        self._handle = ffi.gc(handle, lib.rc_pp_beatmap_free)
        self.checksum = checksum
        self._lock = threading.Lock()
        self._users = 0
        self._closing = False
        self._info: BeatmapInfo | None = None

    @classmethod
    def parse(cls, data: bytes, checksum: str | None = None) -> Beatmap:
        """Parse .osu bytes; raises TooLarge or BeatmapParseError.

        `checksum` is the file's MD5 when the caller knows it (PpCache does); it is not
        computed here because hashing costs a fifth of parsing.
        """
        out = ffi.new("rc_pp_beatmap **")
        rustcall(lib.rc_pp_beatmap_parse, ffi.from_buffer(data), len(data), out)
        return cls(out[0], checksum)

    @classmethod
    async def parse_async(cls, data: bytes, checksum: str | None = None) -> Beatmap:
        """`parse` in a worker thread."""
        return await asyncio.to_thread(cls.parse, data, checksum)

    @property
    def closed(self) -> bool:
        """Whether `close()` was called."""
        return self._closing

    def close(self) -> None:
        """Free the handle now, or as soon as running calculations finish."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            free_now = self._users == 0
        if free_now:
            ffi.release(self._handle)

    def __enter__(self) -> Beatmap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _pin(self) -> None:
        """Keep the handle alive until the matching `_unpin`, even across `close()`."""
        with self._lock:
            if self._closing:
                raise InvalidArgument("beatmap handle already closed")
            self._users += 1

    def _unpin(self) -> None:
        with self._lock:
            self._users -= 1
            free_now = self._closing and self._users == 0
        if free_now:
            ffi.release(self._handle)

    def _call(self, func: Callable[..., int], *args: Any) -> None:
        self._pin()
        try:
            rustcall(func, self._handle, *args)
        finally:
            self._unpin()

    def info(self) -> BeatmapInfo:
        """Counts, settings, BPM and length; the first call runs one difficulty pass."""
        if self._info is None:
            out = bytearray(_INFO.size)
            self._call(lib.rc_pp_beatmap_get_info, ffi.from_buffer("rc_pp_beatmap_info *", out))
            values = list(_INFO.unpack(out))
            values[1], values[2] = bool(values[1]), bool(values[2])
            self._info = BeatmapInfo(*values)
        return self._info

    def convert(self, ruleset: int, mods: Mods = None) -> Beatmap:
        """A new Beatmap converted to `ruleset` (osu! maps only); the caller closes it."""
        out = ffi.new("rc_pp_beatmap **")
        mods_json = encode_mods(mods)
        self._call(lib.rc_pp_beatmap_convert, _mode_arg(ruleset), mods_json, len(mods_json), out)
        return Beatmap(out[0], self.checksum)

    def difficulty(self, ruleset: int | None = None, mods: Mods = None) -> DifficultyAttributes:
        """Difficulty attributes for `ruleset` (default: the map's own) and `mods`."""
        out = bytearray(_ATTRS.size)
        mods_json = encode_mods(mods)
        self._call(
            lib.rc_pp_difficulty,
            _mode_arg(ruleset),
            mods_json,
            len(mods_json),
            ffi.from_buffer("rc_pp_difficulty_attributes *", out),
        )
        return _unpack_attrs(out)

    async def difficulty_async(
        self, ruleset: int | None = None, mods: Mods = None
    ) -> DifficultyAttributes:
        """`difficulty` in a worker thread."""
        return await asyncio.to_thread(self.difficulty, ruleset, mods)

    def performance(
        self, score: ScoreInput, ruleset: int | None = None, mods: Mods = None
    ) -> PerformanceResult:
        """pp of one play, computing difficulty on the way."""
        started = time.perf_counter()
        out = bytearray(_PERF.size)
        mods_json = encode_mods(mods)
        self._call(
            lib.rc_pp_performance,
            _mode_arg(ruleset),
            mods_json,
            len(mods_json),
            _score_cdata(score),
            ffi.from_buffer("rc_pp_performance_attributes *", out),
        )
        metrics.pp_calculation(time.perf_counter() - started)
        return _unpack_perf(out)

    async def performance_async(
        self, score: ScoreInput, ruleset: int | None = None, mods: Mods = None
    ) -> PerformanceResult:
        """`performance` in a worker thread."""
        return await asyncio.to_thread(self.performance, score, ruleset, mods)


def performance(attrs: DifficultyAttributes, mods: Mods, score: ScoreInput) -> PerformanceResult:
    """pp of one play from cached attributes; `mods` must be those of the attributes."""
    started = time.perf_counter()
    out = bytearray(_PERF.size)
    mods_json = encode_mods(mods)
    status = lib.rc_pp_performance_from_attributes(
        _attrs_cdata(attrs),
        mods_json,
        len(mods_json),
        _score_cdata(score),
        ffi.from_buffer("rc_pp_performance_attributes *", out),
    )
    if status:
        _raise_for(status)
    metrics.pp_calculation(time.perf_counter() - started)
    return _unpack_perf(out)


def performance_batch(
    attrs: DifficultyAttributes, mods: Mods, scores: Sequence[ScoreInput]
) -> list[float]:
    """pp of many plays sharing attributes and mods, in one call into the core."""
    if not scores:
        return []
    # One flat list and one pack call: half the cost of packing score by score.
    values: list[int] = []
    extend, astuple = values.extend, msgspec.structs.astuple
    for score in scores:
        total = score.legacy_total_score
        extend(astuple(score.statistics))
        extend(
            (
                score.max_combo,
                (_LAZER_FLAG if score.lazer else 0) | (0 if total is None else _LEGACY_SCORE_FLAG),
                total or 0,
            )
        )
    try:
        packed = struct.pack(f"={len(values)}I", *values)
    except struct.error as exc:  # a count below 0 or above 2^32 - 1
        raise InvalidArgument(f"hit statistics out of range: {exc}") from None
    out = array("d", [0.0]) * len(scores)
    mods_json = encode_mods(mods)
    status = lib.rc_pp_performance_batch(
        _attrs_cdata(attrs),
        mods_json,
        len(mods_json),
        ffi.from_buffer("rc_pp_score[]", packed),
        len(scores),
        ffi.from_buffer("double[]", out),
    )
    if status:
        _raise_for(status)
    return out.tolist()


async def performance_batch_async(
    attrs: DifficultyAttributes, mods: Mods, scores: Sequence[ScoreInput]
) -> list[float]:
    """`performance_batch` in a worker thread."""
    return await asyncio.to_thread(performance_batch, attrs, mods, scores)


class PpCache:
    """Bounded LRU caches of parsed beatmaps and difficulty attributes, owned by the server.

    Beatmaps are keyed by the .osu MD5 (the checksum lazer and the API use), attributes by
    MD5 + ruleset + encoded mods. An evicted beatmap's handle is freed; attributes are plain
    values. Lookups are thread-safe; parsing and difficulty run outside the lock.
    """

    def __init__(self, max_beatmaps: int = 128, max_attributes: int = 4096) -> None:
        if max_beatmaps < 1 or max_attributes < 1:
            raise ValueError("cache sizes must be at least 1")
        self.max_beatmaps = max_beatmaps
        self.max_attributes = max_attributes
        self._beatmaps: OrderedDict[str, Beatmap] = OrderedDict()
        self._attributes: OrderedDict[tuple[str, int, bytes], DifficultyAttributes] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._beatmaps)

    @property
    def attribute_count(self) -> int:
        """How many difficulty attribute sets are cached."""
        return len(self._attributes)

    def cached_beatmap(self, checksum: str) -> Beatmap | None:
        """The cached beatmap for this MD5, if any (marks it recently used).

        Eviction may close it later; hold on to it only briefly, or use the cache's own
        difficulty/performance methods, which keep it open while they work.
        """
        return self._lookup(checksum.lower(), pin=False)

    def beatmap(self, checksum: str, load: Callable[[], bytes]) -> Beatmap:
        """The parsed beatmap for this MD5; `load` supplies the .osu bytes on a miss.

        Raises InvalidArgument when the loaded bytes do not hash to `checksum`. The same
        caveat as `cached_beatmap` applies to the returned object.
        """
        beatmap = self._pinned_beatmap(checksum, load)
        beatmap._unpin()
        return beatmap

    def _lookup(self, checksum: str, *, pin: bool) -> Beatmap | None:
        with self._lock:
            beatmap = self._beatmaps.get(checksum)
            if beatmap is not None:
                self._beatmaps.move_to_end(checksum)
                if pin:  # under the cache lock, so eviction cannot close it first
                    beatmap._pin()
            return beatmap

    def _pinned_beatmap(self, checksum: str, load: Callable[[], bytes]) -> Beatmap:
        checksum = checksum.lower()  # MD5 hex arrives in either case
        cached = self._lookup(checksum, pin=True)
        if cached is not None:
            return cached
        data = load()
        actual = hashlib.md5(data).hexdigest()
        if actual != checksum:
            raise InvalidArgument(f"beatmap bytes hash to {actual}, not {checksum}")
        parsed = Beatmap.parse(data, actual)
        evicted: list[Beatmap] = []
        with self._lock:
            existing = self._beatmaps.get(checksum)
            if existing is not None:  # another thread parsed it meanwhile: keep one
                evicted.append(parsed)
                parsed = existing
            else:
                self._beatmaps[checksum] = parsed
                while len(self._beatmaps) > self.max_beatmaps:
                    evicted.append(self._beatmaps.popitem(last=False)[1])
            parsed._pin()
        for old in evicted:
            old.close()
        return parsed

    def difficulty(
        self,
        checksum: str,
        load: Callable[[], bytes],
        ruleset: int | None = None,
        mods: Mods = None,
    ) -> DifficultyAttributes:
        """Cached difficulty attributes; parses (through the beatmap cache) on a miss."""
        mods_json = encode_mods(mods)
        key = (checksum.lower(), _mode_arg(ruleset), mods_json)
        attrs = self._cached_attributes(key)
        if attrs is not None:
            return attrs
        beatmap = self._pinned_beatmap(checksum, load)
        try:
            attrs = beatmap.difficulty(ruleset, mods_json)
        finally:
            beatmap._unpin()
        with self._lock:
            self._attributes[key] = attrs
            while len(self._attributes) > self.max_attributes:
                self._attributes.popitem(last=False)
        return attrs

    def _cached_attributes(self, key: tuple[str, int, bytes]) -> DifficultyAttributes | None:
        with self._lock:
            attrs = self._attributes.get(key)
            if attrs is not None:
                self._attributes.move_to_end(key)
            return attrs

    async def difficulty_async(
        self,
        checksum: str,
        load: Callable[[], bytes],
        ruleset: int | None = None,
        mods: Mods = None,
    ) -> DifficultyAttributes:
        """`difficulty` in a worker thread (loading and parsing included); cached
        attributes are answered at once, without the thread hop."""
        cached = self._cached_attributes((checksum.lower(), _mode_arg(ruleset), encode_mods(mods)))
        if cached is not None:
            return cached
        return await asyncio.to_thread(self.difficulty, checksum, load, ruleset, mods)

    def performance(
        self,
        checksum: str,
        load: Callable[[], bytes],
        score: ScoreInput,
        ruleset: int | None = None,
        mods: Mods = None,
    ) -> PerformanceResult:
        """pp of one play, with difficulty from the cache."""
        mods_json = encode_mods(mods)
        return performance(self.difficulty(checksum, load, ruleset, mods_json), mods_json, score)

    async def performance_async(
        self,
        checksum: str,
        load: Callable[[], bytes],
        score: ScoreInput,
        ruleset: int | None = None,
        mods: Mods = None,
    ) -> PerformanceResult:
        """`performance` in a worker thread."""
        return await asyncio.to_thread(self.performance, checksum, load, score, ruleset, mods)

    def close(self) -> None:
        """Free every cached beatmap and drop all attributes."""
        with self._lock:
            beatmaps = list(self._beatmaps.values())
            self._beatmaps.clear()
            self._attributes.clear()
        for beatmap in beatmaps:
            beatmap.close()
