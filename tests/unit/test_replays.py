"""The replay buffer (bounds, ordering of end and submission) and the .osr writer, read back
with osrparse, an independent parser from PyPI."""

from __future__ import annotations

import lzma
from datetime import UTC, datetime

import msgspec
import osrparse  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import msgpack as codec
from server.repositories.scores import NewScore
from server.services.osr import ReplayFrame, ReplayScore, encode_osr, frame_text, legacy_mods
from server.services.replays import ReplayOutcome, ReplayStore, replay_header
from server.services.scores import StoredScore


class _MemorySink:
    def __init__(self) -> None:
        self.saved: dict[int, bytes] = {}

    async def save(self, score_id: int, data: bytes) -> None:
        self.saved[score_id] = data


class _FailingSink:
    async def save(self, score_id: int, data: bytes) -> None:
        raise OSError("disk full")


class _Flags:
    """Records `has_replay` being set; fails the first `failures` calls."""

    def __init__(self, sink: _MemorySink | None = None, failures: int = 0) -> None:
        self.marked: list[int] = []
        self.sink = sink
        self.failures = failures

    async def __call__(self, score_id: int) -> None:
        if self.sink is not None:
            assert score_id in self.sink.saved  # only once the file is stored
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database went away")
        self.marked.append(score_id)


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _score(score_id: int = 77, **overrides: object) -> ReplayScore:
    fields: dict[str, object] = {
        "score_id": score_id,
        "ruleset_id": 0,
        "beatmap_md5": "0123456789abcdef0123456789abcdef",
        "username": "peppy",
        "statistics": {"great": 250, "ok": 12, "meh": 3, "miss": 2},
        "total_score": 912345,
        "max_combo": 400,
        "perfect": False,
        "mods": ["HD", "DT"],
        "ended_at": datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
    }
    fields.update(overrides)
    return ReplayScore(**fields)  # type: ignore[arg-type]


def _bundle(start: float, count: int = 4) -> bytes:
    header = {
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
        "ReceivedTime": datetime(2026, 1, 1, tzinfo=UTC),
        "Mods": [],
    }
    frames = [
        {"Time": start + 16.5 * i, "MouseX": 10.0 + i, "MouseY": 20.0, "ButtonState": i % 3}
        for i in range(count)
    ]
    return codec.encode("FrameDataBundle", {"Header": header, "Frames": frames})


def _store(
    sink: _MemorySink | _FailingSink, clock: _Clock, flags: _Flags | None = None
) -> ReplayStore:
    return ReplayStore(
        sink,
        idle_seconds=300,
        submit_wait_seconds=600,
        max_bytes=4096,
        on_written=flags,
        clock=clock,
    )


async def test_play_ended_then_score_submitted_writes_a_parsable_replay() -> None:
    sink, clock = _MemorySink(), _Clock()
    store = _store(sink, clock)
    assert store.begin(5, 100)
    assert store.add(5, 100, _bundle(0.0))
    assert store.add(5, 100, _bundle(66.0))
    store.end(5, 100)
    assert await store.on_score_submitted(100, _score()) is ReplayOutcome.WRITTEN
    replay = osrparse.Replay.from_string(sink.saved[77])
    assert replay.mode is osrparse.GameMode.STD
    assert replay.username == "peppy"
    assert replay.beatmap_hash == "0123456789abcdef0123456789abcdef"
    assert (replay.count_300, replay.count_100, replay.count_50, replay.count_miss) == (
        250,
        12,
        3,
        2,
    )
    assert replay.score == 912345 and replay.max_combo == 400
    assert replay.mods == osrparse.Mod.Hidden | osrparse.Mod.DoubleTime
    assert replay.replay_id == 77
    assert replay.timestamp == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert len(replay.replay_data) == 8
    assert [e.x for e in replay.replay_data[:4]] == [10.0, 11.0, 12.0, 13.0]
    assert abs(sum(e.time_delta for e in replay.replay_data) - (66.0 + 16.5 * 3)) <= 0.5
    assert len(store) == 0


async def test_score_submitted_first_waits_for_the_end() -> None:
    sink, clock = _MemorySink(), _Clock()
    store = _store(sink, clock)
    store.begin(5, 101)
    store.add(5, 101, _bundle(0.0))
    assert await store.on_score_submitted(101, _score(78)) is ReplayOutcome.WAITING
    assert sink.saved == {}
    store.end(5, 101)
    await store.drain()
    assert osrparse.Replay.from_string(sink.saved[78]).replay_id == 78


async def test_unknown_tokens_and_foreign_users() -> None:
    """S-RT-7: frames and plays only for the user's own tokens."""
    store = _store(_MemorySink(), _Clock())
    assert await store.on_score_submitted(999, _score()) is ReplayOutcome.UNKNOWN
    store.begin(5, 102)
    assert not store.begin(6, 102)
    assert not store.add(6, 102, _bundle(0))
    assert not store.add(5, 103, _bundle(0))


async def test_bounds_two_plays_per_user_bytes_and_time() -> None:
    """reliability.md S-RT-7/S-RT-9/§2.3: two plays in flight, capped bytes, 5 min idle."""
    sink, clock = _MemorySink(), _Clock()
    store = _store(sink, clock)
    store.begin(5, 1)
    store.begin(5, 2)
    store.begin(5, 3)  # flushes token 1
    assert not store.owns(5, 1) and store.owns(5, 2) and store.owns(5, 3)
    for _ in range(100):
        store.add(5, 3, _bundle(0))
    assert store._plays[3].size <= 4096 and store._plays[3].truncated
    clock.now += 299
    store.add(5, 2, _bundle(0))
    clock.now += 2
    assert store.sweep() == 1  # token 3: no frames for 5 min
    assert store.owns(5, 2) and not store.owns(5, 3)
    store.end(5, 2)
    clock.now += 601
    assert store.sweep() == 1  # ended, no score within the wait
    assert len(store) == 0


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 1e4, allow_nan=False),
            st.one_of(st.none(), st.floats(-512, 1024, allow_nan=False, width=32)),
            st.integers(0, 31),
        ),
        max_size=50,
    ),
    st.integers(0, 3),
    st.lists(st.sampled_from(["HD", "HR", "DT", "NC", "FL", "EZ", "NF", "CL"]), unique=True),
)
def test_osr_round_trips_through_osrparse(
    raw: list[tuple[float, float | None, int]], ruleset: int, mods: list[str]
) -> None:
    # Taiko and mania frames carry integers in MouseX (keys), as osrparse expects.
    integral = ruleset in (1, 3)
    frames = [
        ReplayFrame(t, float(int(x)) if integral and x is not None else x, 192.0, b)
        for t, x, b in sorted(raw, key=lambda r: r[0])
    ]
    data = encode_osr(_score(ruleset_id=ruleset, mods=mods), frames)
    replay = osrparse.Replay.from_string(data)
    assert replay.mode.value == ruleset
    assert replay.mods.value == legacy_mods(mods)
    assert len(replay.replay_data) == len(frames)
    # int32 length, LZMA stream, int64 online id: the last fields of the file.
    compressed = lzma.compress(frame_text(frames).encode(), format=lzma.FORMAT_ALONE)
    length = int.from_bytes(data[-12 - len(compressed) : -8 - len(compressed)], "little")
    assert length == len(compressed) and data[-8 - length : -8] == compressed
    text = lzma.decompress(compressed).decode()
    assert text == frame_text(frames) and text.endswith("-12345|0|0|0")


async def test_the_flag_is_set_only_after_the_file_is_stored() -> None:
    """S-INT-3: has_replay after a durable write; a database hiccup is retried; a failed
    write never sets it."""
    sink, clock = _MemorySink(), _Clock()
    flags = _Flags(sink, failures=1)
    store = _store(sink, clock, flags)
    store.begin(5, 200)
    store.add(5, 200, _bundle(0.0))
    store.end(5, 200)
    assert await store.on_score_submitted(200, _score(90)) is ReplayOutcome.WRITTEN
    assert flags.marked == [90]

    failing_flags = _Flags()
    failing = _store(_FailingSink(), clock, failing_flags)
    failing.begin(5, 201)
    failing.add(5, 201, _bundle(0.0))
    failing.end(5, 201)
    assert await failing.on_score_submitted(201, _score(91)) is ReplayOutcome.FAILED
    assert failing_flags.marked == []


async def test_lost_frames_make_a_play_incomplete_but_skips_and_pauses_do_not() -> None:
    """reliability.md §2.3: a jump of over 5 s of gameplay with frames also not arriving
    for over a second is lost data; the same jump arriving at once is a skip (seek), and a
    pause in arrival without a jump is the player pausing."""
    sink, clock = _MemorySink(), _Clock()
    flags = _Flags(sink)
    store = _store(sink, clock, flags)

    async def play(token: int, steps: list[tuple[float, float]]) -> ReplayOutcome:
        store.begin(5, token)
        for wait, start in steps:
            clock.now += wait
            store.add(5, token, _bundle(start, 2))
        store.end(5, token)
        return await store.on_score_submitted(token, _score(token))

    assert await play(1, [(0, 0.0), (0.2, 33.0), (0.2, 20_000.0)]) is ReplayOutcome.WRITTEN
    assert await play(2, [(0, 0.0), (0.2, 33.0), (60.0, 66.0)]) is ReplayOutcome.WRITTEN
    assert await play(3, [(0, 0.0), (0.2, 33.0), (8.0, 8_000.0)]) is ReplayOutcome.INCOMPLETE
    assert await play(4, []) is ReplayOutcome.INCOMPLETE  # no frames at all
    store.begin(5, 6)
    for _ in range(100):
        store.add(5, 6, _bundle(0.0))
    store.end(5, 6)
    assert await store.on_score_submitted(6, _score(6)) is ReplayOutcome.INCOMPLETE  # truncated
    assert sorted(sink.saved) == [1, 2] and flags.marked == [1, 2]
    assert store.incomplete == 3


async def test_a_score_without_a_replay_drops_the_frames() -> None:
    store = _store(_MemorySink(), _Clock())
    store.begin(5, 300)
    store.add(5, 300, _bundle(0.0))
    assert await store.on_score_submitted(300, None) is ReplayOutcome.NOT_KEPT
    assert len(store) == 0


async def test_flush_writes_plays_whose_score_came_and_drops_the_rest() -> None:
    sink, clock = _MemorySink(), _Clock()
    store = _store(sink, clock)
    store.begin(5, 400)
    store.add(5, 400, _bundle(0.0))
    assert await store.on_score_submitted(400, _score(95)) is ReplayOutcome.WAITING
    store.begin(6, 401)
    store.add(6, 401, _bundle(0.0))
    store.end(6, 401)
    await store.flush()
    assert list(sink.saved) == [95] and len(store) == 0


def _stored(**overrides: object) -> StoredScore:
    maximum = {"great": 100, "large_tick_hit": 20, "slider_tail_hit": 10, "small_tick_hit": 5}
    score: dict[str, object] = {
        "user_id": 5,
        "beatmap_id": 7,
        "ruleset_id": 0,
        "ruleset": "osu",
        "token_id": 11,
        "build_id": None,
        "passed": True,
        "ranked": True,
        "play_counted": True,
        "total_score": 800_000,
        "total_score_without_mods": 800_000,
        "accuracy": 0.99,
        "max_combo": 130,
        "grade": "S",
        "mods": '[{"acronym":"HD"},{"acronym":"DT"}]',
        "mods_key": "DT,HD",
        "statistics": '{"great":98,"ok":2,"large_tick_hit":20,"slider_tail_hit":10}',
        "maximum_statistics": msgspec.json.encode(maximum).decode(),
        "pp": None,
        "pp_version": None,
        "started_at": None,
        "ended_at": datetime(2026, 11, 22, 12, 0),
    }
    leaderboard = bool(overrides.pop("beatmap_has_leaderboard", True))
    score.update(overrides)
    return StoredScore(
        score_id=42,
        score=NewScore(**score),  # type: ignore[arg-type]
        username="peppy",
        beatmap_checksum="0" * 32,
        beatmap_has_leaderboard=leaderboard,
    )


def test_which_scores_keep_a_replay_and_their_header() -> None:
    """As osu-server-spectator: passed scores on maps with a leaderboard, with a hit."""
    header = replay_header(_stored())
    assert header is not None
    assert header.score_id == 42 and header.username == "peppy" and header.beatmap_md5 == "0" * 32
    assert header.statistics["great"] == 98 and header.mods == ["DT", "HD"]
    # Max combo 130 = great + large ticks + slider tails (small ticks give no combo).
    assert header.perfect is True
    assert replay_header(_stored(max_combo=129)).perfect is False  # type: ignore[union-attr]
    assert replay_header(_stored(passed=False)) is None
    assert replay_header(_stored(beatmap_has_leaderboard=False)) is None
    assert replay_header(_stored(statistics='{"miss":100}')) is None
