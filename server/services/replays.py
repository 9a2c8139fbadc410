"""Spectator frames buffered per (user, score token), written as `.osr` once the score exists.

lazer never uploads replays (lazer-protocol.md §8.2 #9): the server builds them from the
frames it relays. The play's end (EndPlaySession) and the score's submission can arrive in
either order, so whichever comes first waits for the other: a submitted score waits for
the end as long as frames keep the play alive (`idle_seconds`), an ended play waits
`submit_wait_seconds` for its score; then the frames are dropped and no replay is stored.
A connection dropping does not end the play: its frames stay for a reconnect with the same
token. Bounds (reliability.md S-RT-7, S-RT-9, §2.3): at most two plays in flight per user
(a third finishes the oldest, as osu-server-spectator does), at most `max_bytes` of frames
per play, and a play without frames for `idle_seconds` (5 min, the official grace for a
reconnecting client) is dropped.

Score submission lives elsewhere: after its commit it announces the score on the bus
(`announce_submission`), which reaches the instance holding the frames. The file is
written atomically and fsynced, and only then is the score's `has_replay` set
(S-INT-3), through `ReplayService.stored`.

Which plays keep a replay follows osu-server-spectator (`SpectatorHub.processScore`,
`ScoreUploader`): passed scores on beatmaps with a leaderboard, with at least one hit.
Beyond it (reliability.md §2.3, ppy/osu-server-spectator#244 is open): a play whose frames
were cut short is *incomplete* and stores no replay, rather than a replay that stops or
jumps mid-map. Incomplete means over `max_bytes`, or a jump of more than 5 s in gameplay
time that coincides with a pause of more than a second in the frames arriving (frames lost
while the client was disconnected). A jump without a pause in arrival is the client
seeking (skipping the intro) and is kept; a pause in arrival without a jump is the player
pausing and is kept too.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec

from server.core import CoreError
from server.core import msgpack as codec
from server.db import DatabaseError
from server.hub_bus import BusMessage, HubBus
from server.models.rulesets import RULESETS
from server.repositories.replays import ReplayRepository
from server.services.limits import FixedWindowLimiter
from server.services.osr import ReplayFrame, ReplayScore, achievable_combo, encode_osr

if TYPE_CHECKING:
    from server.services.scores import ScoreService, StoredScore

log = logging.getLogger(__name__)

MAX_PLAYS_PER_USER = 2
SUBMITTED_CHANNEL = "replays:submitted"
# A jump in gameplay time longer than this, while frames also stopped arriving for longer
# than _MIN_ARRIVAL_GAP_SECONDS, means frames were lost (reliability.md §2.3: "a gap over
# 5 s of gameplay"). lazer sends a bundle every 200 ms while playing.
MAX_FRAME_GAP_MS: Final = 5000.0
_MIN_ARRIVAL_GAP_SECONDS: Final = 1.0
# Setting `has_replay` after the file is written: tries, and the first wait between them.
_MARK_ATTEMPTS: Final = 4
_MARK_BACKOFF_SECONDS: Final = 0.5
# Replay downloads per user per minute, osu-web's `scores_download` throttle (S-RL-1):
# each is a file read, and lazer's replay screen asks once per replay watched.
REPLAY_DOWNLOADS_PER_MINUTE: Final = 10
_HIT_RESULTS: Final = frozenset({"meh", "ok", "good", "great", "perfect"})


class ReplayOutcome(enum.Enum):
    """What became of a submitted score's replay on this instance."""

    WRITTEN = "written"  # stored and flagged
    WAITING = "waiting"  # the play has not ended yet; written when it does
    UNKNOWN = "unknown"  # no frames for that token here
    NOT_KEPT = "not kept"  # the score keeps no replay; its frames were dropped
    INCOMPLETE = "incomplete"  # frames are missing; nothing stored
    FAILED = "failed"  # the file or the flag could not be written


class ReplaySink(Protocol):
    """Where finished replays go (a directory, or an object store)."""

    async def save(self, score_id: int, data: bytes) -> None: ...

    async def load(self, score_id: int) -> bytes | None: ...


class FileReplaySink:
    """Replays as `{DATA_DIR}/replays/{score_id}.osr`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def save(self, score_id: int, data: bytes) -> None:
        """Write durably (fsync, atomic rename, fsync of the directory), off the event loop."""
        await asyncio.to_thread(self._write, score_id, data)

    def _write(self, score_id: int, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f"{score_id}.osr.{secrets.token_hex(4)}.tmp"
        try:
            with tmp.open("wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            tmp.replace(self.path(score_id))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        # The rename is durable only once the directory entry is.
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    async def load(self, score_id: int) -> bytes | None:
        """A stored replay's bytes, if there is one."""
        try:
            return await asyncio.to_thread(self.path(score_id).read_bytes)
        except FileNotFoundError:
            return None

    def path(self, score_id: int) -> Path:
        """Where a score's replay is (or would be)."""
        return self.directory / f"{score_id}.osr"


class BufferedPlay:
    """Frames of one play, as the client sent them (decoded only when the file is written)."""

    __slots__ = (
        "arrivals",
        "bundles",
        "ended",
        "last_activity",
        "pending",
        "size",
        "token",
        "truncated",
        "user_id",
    )

    def __init__(self, user_id: int, token: int, now: float) -> None:
        self.user_id = user_id
        self.token = token
        self.bundles: list[bytes] = []
        self.arrivals: list[float] = []  # when each bundle came (the store's clock)
        self.size = 0
        self.truncated = False
        self.ended = False
        self.pending: ReplayScore | None = None
        self.last_activity = now


class _Submitted(msgspec.Struct, frozen=True):
    token: int
    score: ReplayScore | None  # None: the score keeps no replay


class ReplayStore:
    """The per-instance buffer of plays; bounded in plays, bytes and time."""

    id = "replay-store"  # as a bus subscriber

    def __init__(
        self,
        sink: ReplaySink,
        *,
        idle_seconds: float,
        submit_wait_seconds: float,
        max_bytes: int,
        on_written: Callable[[int], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sink = sink
        self._idle = idle_seconds
        self._submit_wait = submit_wait_seconds
        self._max_bytes = max_bytes
        self._on_written = on_written
        self._clock = clock
        self._plays: dict[int, BufferedPlay] = {}  # by token
        self._by_user: dict[int, list[int]] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self.dropped = 0
        self.incomplete = 0

    def begin(self, user_id: int, token: int) -> bool:
        """A play starts (or resumes after a reconnect, keeping its frames); False when the
        token is another user's."""
        now = self._clock()
        play = self._plays.get(token)
        if play is not None:
            if play.user_id != user_id:
                return False
            play.ended = False
            play.last_activity = now
            return True
        tokens = self._by_user.setdefault(user_id, [])
        while len(tokens) >= MAX_PLAYS_PER_USER:
            # A third play flushes the oldest: written if its score is here, else dropped.
            oldest = tokens[0]
            self.end(user_id, oldest)
            self._discard(oldest)
            tokens = self._by_user.setdefault(user_id, [])
        self._plays[token] = BufferedPlay(user_id, token, now)
        tokens.append(token)
        return True

    def owns(self, user_id: int, token: int) -> bool:
        """Whether `token` is a play of `user_id` in this buffer."""
        play = self._plays.get(token)
        return play is not None and play.user_id == user_id

    def add(self, user_id: int, token: int, bundle: bytes) -> bool:
        """Append a frame bundle; False for a token this user did not start."""
        play = self._plays.get(token)
        if play is None or play.user_id != user_id:
            return False
        play.last_activity = self._clock()
        if play.size + len(bundle) > self._max_bytes:
            play.truncated = True  # S-RT-9: bounded frames per score
            return True
        play.bundles.append(bundle)
        play.arrivals.append(play.last_activity)
        play.size += len(bundle)
        return True

    def end(self, user_id: int, token: int) -> None:
        """The play ended; write it now if its score already came."""
        play = self._plays.get(token)
        if play is None or play.user_id != user_id or play.ended:
            return
        play.ended = True
        play.last_activity = self._clock()
        if play.pending is not None:
            self._spawn(self._write(play, play.pending))

    async def on_score_submitted(self, token: int, score: ReplayScore | None) -> ReplayOutcome:
        """The score for `token` exists: write its replay now or when the play ends (or, for
        a score that keeps none, drop the frames)."""
        play = self._plays.get(token)
        if play is None:
            return ReplayOutcome.UNKNOWN
        if score is None:
            self._discard(token)
            return ReplayOutcome.NOT_KEPT
        if not play.ended:
            play.pending = score
            play.last_activity = self._clock()
            return ReplayOutcome.WAITING
        return await self._write(play, score)

    def deliver(self, message: BusMessage) -> None:
        """A submission announced on the bus (by this or another instance)."""
        try:
            submitted = msgspec.msgpack.decode(message.frame, type=_Submitted)
        except msgspec.DecodeError:
            return
        if submitted.token in self._plays:
            self._spawn(self.on_score_submitted(submitted.token, submitted.score))

    def sweep(self) -> int:
        """Drop plays idle too long (no frames; or ended and no score); returns how many."""
        now = self._clock()
        stale = [
            play.token
            for play in self._plays.values()
            if now - play.last_activity > (self._submit_wait if play.ended else self._idle)
        ]
        for token in stale:
            self._discard(token)
        self.dropped += len(stale)
        return len(stale)

    async def flush(self) -> None:
        """At shutdown: write every play whose score already came (the play is over; at most
        its last bundle is missing), drop the rest, and wait for the writes."""
        waiting = 0
        for play in list(self._plays.values()):
            if play.pending is not None:
                self._spawn(self._write(play, play.pending))
            else:
                waiting += 1
                self._discard(play.token)
        if waiting:
            log.warning("shutdown: %d buffered plays without a score were dropped", waiting)
        self.dropped += waiting
        await self.drain()

    def __len__(self) -> int:
        return len(self._plays)

    async def _write(self, play: BufferedPlay, score: ReplayScore) -> ReplayOutcome:
        self._discard(play.token)
        try:
            frames = await asyncio.to_thread(_decode_frames, play.bundles, play.arrivals)
            if play.truncated or not frames or _frames_lost(frames):
                self.incomplete += 1
                log.warning("replay for score %d is incomplete; not stored", score.score_id)
                return ReplayOutcome.INCOMPLETE
            data = await asyncio.to_thread(encode_osr, score, [f for f, _ in frames])
            await self._sink.save(score.score_id, data)
        except Exception:
            log.exception("replay for score %d could not be written", score.score_id)
            return ReplayOutcome.FAILED
        return await self._mark(score.score_id)

    async def _mark(self, score_id: int) -> ReplayOutcome:
        """Set `has_replay` now that the file is durable, retrying a database hiccup."""
        if self._on_written is None:
            return ReplayOutcome.WRITTEN
        for attempt in range(_MARK_ATTEMPTS):
            try:
                await self._on_written(score_id)
                return ReplayOutcome.WRITTEN
            except (DatabaseError, OSError):  # the database failed or its socket went away
                if attempt == _MARK_ATTEMPTS - 1:
                    # The file stays; the score just does not offer it.
                    log.exception("replay for score %d stored but not flagged", score_id)
                    return ReplayOutcome.FAILED
                await asyncio.sleep(_MARK_BACKOFF_SECONDS * 2**attempt)
        raise AssertionError("unreachable")

    def _discard(self, token: int) -> None:
        play = self._plays.pop(token, None)
        if play is None:
            return
        tokens = self._by_user.get(play.user_id, [])
        if token in tokens:
            tokens.remove(token)
        if not tokens:
            self._by_user.pop(play.user_id, None)

    def _spawn(self, coroutine: Coroutine[Any, Any, object]) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for replays being written (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _decode_frames(bundles: list[bytes], arrivals: list[float]) -> list[tuple[ReplayFrame, float]]:
    """Every frame with the time its bundle arrived."""
    frames: list[tuple[ReplayFrame, float]] = []
    for bundle, arrived in zip(bundles, arrivals, strict=True):
        try:
            decoded = codec.decode("FrameDataBundle", bundle)
        except CoreError:
            continue  # validated on receipt; never expected
        frames.extend(
            (ReplayFrame(f["Time"], f.get("MouseX"), f.get("MouseY"), f["ButtonState"]), arrived)
            for f in decoded["Frames"]
        )
    return frames


def _frames_lost(frames: list[tuple[ReplayFrame, float]]) -> bool:
    """Whether gameplay time jumps forward while the frames also stopped arriving."""
    for (before, arrived_before), (after, arrived_after) in itertools.pairwise(frames):
        if (
            after.time - before.time > MAX_FRAME_GAP_MS
            and arrived_after - arrived_before > _MIN_ARRIVAL_GAP_SECONDS
        ):
            return True
    return False


def replay_header(stored: StoredScore) -> ReplayScore | None:
    """The `.osr` header for a just-stored score, or None when it keeps no replay.

    As osu-server-spectator: only passed scores (ScoreUploader drops failed ones), only
    beatmaps whose status has a leaderboard (processScore keeps ranked to loved; here the
    server's own rule, which also honours LEADERBOARDS_FOR_ALL_STATUSES), and only plays
    with at least one hit.
    """
    score = stored.score
    if not score.passed or not stored.beatmap_has_leaderboard:
        return None
    statistics: dict[str, int] = msgspec.json.decode(score.statistics, type=dict[str, int])
    if not any(statistics.get(kind, 0) > 0 for kind in _HIT_RESULTS):
        return None
    maximum: dict[str, int] = msgspec.json.decode(score.maximum_statistics, type=dict[str, int])
    achievable = achievable_combo(maximum)
    return ReplayScore(
        score_id=stored.score_id,
        ruleset_id=score.ruleset_id,
        beatmap_md5=stored.beatmap_checksum,
        username=stored.username,
        statistics=statistics,
        total_score=score.total_score,
        max_combo=score.max_combo,
        perfect=score.max_combo == achievable,
        mods=[acronym for acronym in score.mods_key.split(",") if acronym],
        ended_at=score.ended_at,
    )


def announce_submission(bus: HubBus, token: int, score: ReplayScore | None) -> None:
    """The seam for score submission: tell whichever instance holds `token`'s frames that
    its score exists (None: the score keeps no replay)."""
    bus.publish(SUBMITTED_CHANNEL, msgspec.msgpack.encode(_Submitted(token, score)))


class ReplayDownload(msgspec.Struct, frozen=True):
    """A replay file and the name osu-web gives it."""

    filename: str
    data: bytes


class ReplayService:
    """Stored replays: the flag once a file is durable, downloads, and the play tokens the
    spectator hub records under."""

    def __init__(
        self,
        sink: ReplaySink,
        repo: ReplayRepository,
        scores: ScoreService,
        redis: Any,
    ) -> None:
        self.sink = sink
        self._repo = repo
        self._scores = scores
        self.download_limiter = FixedWindowLimiter(
            redis, "replay-download", REPLAY_DOWNLOADS_PER_MINUTE, 60
        )

    async def stored(self, score_id: int) -> None:
        """A score's replay file is durable: set `has_replay`, and drop the cached board
        pages that show the score without it."""
        await self._repo.mark_has_replay(score_id)
        record = await self._scores.repo.score(score_id)
        if record is not None and record.ranked:
            await self._scores.leaderboards.invalidate(record.beatmap_id, record.ruleset)

    async def download(self, score_id: int) -> ReplayDownload | None:
        """The replay of a score a score read would show, if it has one.

        osu-web serves a restricted player's replays too ("for review purpose"); this server
        has no reviewers, so a replay is exactly as visible as its score.
        """
        record = await self._scores.reads.visible_score(score_id)
        if record is None or not record.has_replay:
            return None
        data = await self.sink.load(score_id)
        if data is None:
            log.warning("score %d has_replay but its file is missing", score_id)
            return None
        # osu-web ScoresController::download names solo replays this way.
        name = f"solo-replay-{RULESETS[record.ruleset_id]}_{record.beatmap_id}_{record.id}.osr"
        return ReplayDownload(name, data)

    async def play_token_usable(self, user_id: int, token_id: int) -> bool:
        """Whether a play may be recorded under `token_id` (S-RT-7, beyond the reference
        server): the token exists, is this user's, and no score has used it yet."""
        token = await self._repo.play_token(token_id)
        return token is not None and token.user_id == user_id and token.score_id is None
