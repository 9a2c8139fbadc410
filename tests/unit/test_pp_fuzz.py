"""Mangled .osu files never crash the core, panic in it, or take long.

The mutations keep most of a valid synthetic map and break parts of it: deleted spans,
inserted digits and separators (huge or negative numbers, extra fields), flipped bytes.
Every outcome must be a result or one of the expected typed errors.
"""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import BeatmapParseError, ConversionError, SuspiciousBeatmap, pp
from tests.synthetic_beatmaps import RULESETS, synthetic_osu

_BASES = [synthetic_osu(ruleset, n_objects=40, seed=3) for ruleset in RULESETS]
_EXPECTED_ERRORS = (BeatmapParseError, ConversionError, SuspiciousBeatmap)

_edit = st.tuples(
    st.sampled_from(("delete", "insert", "flip")),
    st.floats(0, 1, exclude_max=True),
    st.text(alphabet="0123456789-.,|:eE \n", min_size=1, max_size=12),
    st.integers(0, 255),
)


def _mutate(data: bytes, edits: list[tuple[str, float, str, int]]) -> bytes:
    buf = bytearray(data)
    for op, where, text, byte in edits:
        pos = int(where * len(buf)) if buf else 0
        if op == "delete":
            del buf[pos : pos + len(text)]
        elif op == "insert":
            buf[pos:pos] = text.encode()
        elif buf:
            buf[pos] = byte
    return bytes(buf)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(range(len(_BASES))), st.lists(_edit, min_size=1, max_size=15))
def test_mutated_maps_give_results_or_typed_errors(
    base: int, edits: list[tuple[str, float, str, int]]
) -> None:
    data = _mutate(_BASES[base], edits)
    start = time.perf_counter()
    try:
        beatmap = pp.Beatmap.parse(data)
    except BeatmapParseError:
        return
    with beatmap:
        info = beatmap.info()
        assert info.n_objects >= 0
        for ruleset in pp.Ruleset:
            try:
                attrs = beatmap.difficulty(ruleset, "HDDT")
            except _EXPECTED_ERRORS:
                continue
            score = pp.ScoreInput(statistics=pp.HitStatistics(great=30, ok=3, miss=1), max_combo=20)
            result = pp.performance(attrs, "HDDT", score)
            assert result.mode == ruleset
    assert time.perf_counter() - start < 5.0
