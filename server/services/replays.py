"""Spectator frames buffered per (user, score token), written as `.osr` once the score exists.

lazer never uploads replays (lazer-protocol.md §8.2 #9): the server builds them from the
frames it relays. The play's end (EndPlaySession, or the connection dropping) and the
score's submission can arrive in either order, so whichever comes first waits for the
other, for `submit_wait_seconds`. Bounds (reliability.md S-RT-7, S-RT-9, §2.3): at most
two plays in flight per user (a third finishes the oldest, as osu-server-spectator does),
at most `max_bytes` of frames per play, and a play without frames for `idle_seconds`
(5 min, the official grace for a reconnecting client) is dropped.

Score submission lives elsewhere: it calls `score_submitted(token, score)` on any
instance; the bus carries the call to the instance holding the frames. The sink stores
the file; whoever owns scores sets `has_replay` when `ReplayOutcome.WRITTEN` comes back.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

import msgspec

from server.core import CoreError
from server.core import msgpack as codec
from server.hubs.bus import BusMessage, HubBus
from server.services.osr import ReplayFrame, ReplayScore, encode_osr

log = logging.getLogger(__name__)

MAX_PLAYS_PER_USER = 2
SUBMITTED_CHANNEL = "replays:submitted"


class ReplayOutcome(enum.Enum):
    """What became of a submitted score's replay on this instance."""

    WRITTEN = "written"
    WAITING = "waiting"  # the play has not ended yet; written when it does
    UNKNOWN = "unknown"  # no frames for that token here


class ReplaySink(Protocol):
    """Where finished replays go."""

    async def save(self, score_id: int, data: bytes) -> None: ...


class FileReplaySink:
    """Replays as `{DATA_DIR}/replays/{score_id}.osr`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def save(self, score_id: int, data: bytes) -> None:
        """Write atomically (rename), off the event loop."""
        await asyncio.to_thread(self._write, score_id, data)

    def _write(self, score_id: int, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = self.directory / f"{score_id}.osr.tmp"
        tmp.write_bytes(data)
        tmp.replace(self.directory / f"{score_id}.osr")

    def path(self, score_id: int) -> Path:
        """Where a score's replay is (or would be)."""
        return self.directory / f"{score_id}.osr"


class BufferedPlay:
    """Frames of one play, as the client sent them (decoded only when the file is written)."""

    __slots__ = (
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
        self.size = 0
        self.truncated = False
        self.ended = False
        self.pending: ReplayScore | None = None
        self.last_activity = now


class _Submitted(msgspec.Struct, frozen=True):
    token: int
    score: ReplayScore


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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sink = sink
        self._idle = idle_seconds
        self._submit_wait = submit_wait_seconds
        self._max_bytes = max_bytes
        self._clock = clock
        self._plays: dict[int, BufferedPlay] = {}  # by token
        self._by_user: dict[int, list[int]] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self.dropped = 0

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

    async def on_score_submitted(self, token: int, score: ReplayScore) -> ReplayOutcome:
        """The score for `token` exists: write its replay now or when the play ends."""
        play = self._plays.get(token)
        if play is None:
            return ReplayOutcome.UNKNOWN
        if not play.ended:
            play.pending = score
            play.last_activity = self._clock()
            return ReplayOutcome.WAITING
        await self._write(play, score)
        return ReplayOutcome.WRITTEN

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

    def __len__(self) -> int:
        return len(self._plays)

    async def _write(self, play: BufferedPlay, score: ReplayScore) -> None:
        self._discard(play.token)
        try:
            frames = await asyncio.to_thread(_decode_frames, play.bundles)
            data = await asyncio.to_thread(encode_osr, score, frames)
            await self._sink.save(score.score_id, data)
        except Exception:
            log.exception("replay for score %d could not be written", score.score_id)

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


def _decode_frames(bundles: list[bytes]) -> list[ReplayFrame]:
    frames: list[ReplayFrame] = []
    for bundle in bundles:
        try:
            decoded = codec.decode("FrameDataBundle", bundle)
        except CoreError:
            continue  # validated on receipt; never expected
        frames.extend(
            ReplayFrame(f["Time"], f.get("MouseX"), f.get("MouseY"), f["ButtonState"])
            for f in decoded["Frames"]
        )
    return frames


def announce_submission(bus: HubBus, token: int, score: ReplayScore) -> None:
    """The seam for score submission: tell whichever instance holds `token`'s frames."""
    bus.publish(SUBMITTED_CHANNEL, msgspec.msgpack.encode(_Submitted(token, score)))
