"""Scores: tokens, the exactly-once solo submission with pp and statistics, and reading
scores back (leaderboards, score pages, profile lists, pins).

Submission (lazer-protocol.md §5.1, reliability.md S-SC-1..10 and §2):
validate everything that needs no lock, compute pp in a worker thread, then in one
transaction lock the token row, return the existing score if the token was used, else lock
the user's statistics row, insert the score, link the token, move the bests, apply the
play to the statistics and queue the `score:processed` message in the outbox. The
transaction commits before the response; what follows (Redis leaderboard, publishing the
message, the spectator hub) is best effort and cannot fail the request, and a message that
could not be published is published later by the outbox relay.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Final, Protocol

import msgspec

from server import core, metrics
from server.core import pp as corepp
from server.db import Database, TransactionConflict
from server.models.scores import SoloScore
from server.near_cache import NearCache
from server.repositories.beatmaps import BeatmapRecord
from server.repositories.outbox import OutboxRepository
from server.repositories.scores import (
    NewScore,
    ScoreRecord,
    ScoreRepository,
    StatisticsDelta,
)
from server.repositories.user_activity import ActivityRepository
from server.repositories.users import UserAccount, UserRepository
from server.services import mods as lazer_mods
from server.services import scoring
from server.services.activity import ActivityService
from server.services.beatmap_plays import BeatmapPlayCounter
from server.services.beatmap_statuses import awards_pp, has_leaderboard
from server.services.beatmaps import BeatmapService
from server.services.leaderboards import Leaderboards
from server.services.outbox import Outbox
from server.services.profile_cache import ProfileCache
from server.services.score_reads import ScoreReads, relax_ruleset

log = logging.getLogger(__name__)

SCORE_PROCESSED_CHANNEL: Final = "score:processed"
# Grade columns of user_statistics that count the bests' grades.
_GRADE_COLUMNS: Final = {"XH": "ssh", "X": "ss", "SH": "sh", "S": "s", "A": "a"}
# Slack for the play-time check: the last object can be hit early by its hit window, and
# total_length is whole seconds.
_PLAY_TIME_TOLERANCE: Final = 2.0


class TokenRejected(Enum):
    """Why a token is refused."""

    DISABLED = "score submission is disabled"
    NOT_FOUND = "not_found"
    BAD_HASH = "invalid or missing beatmap_hash"
    BAD_RULESET = "invalid ruleset_id"


class SubmitRejected(Enum):
    """Why a submission is refused beyond the field checks (scoring.Rejected)."""

    NOT_FOUND = "not_found"
    EXPIRED = "expired token"
    BEATMAP_CHANGED = "beatmapset state has been updated"
    FILE_MISSING = "beatmap file unavailable"
    TOO_SOON = "score submitted sooner than the beatmap can be played"


class PlayRefused(msgspec.Struct, frozen=True):
    """A playlist play refused by its room's rules (osu-web's text)."""

    error: str


class PlaylistPlay(Protocol):
    """The room's side of a playlist submission: its rules on the validated play, and what it
    records in the score's own transaction (the link to the item, bests, room totals)."""

    playlist_item_id: int

    def refuse(self, checked: scoring.CheckedScore) -> str | None:
        """osu-web's text when the play breaks the item's rules, else None."""
        ...

    async def record(self, score_id: int, score: NewScore) -> None:
        """Record the stored score for the room (inside the submission transaction)."""
        ...


class Submitted(msgspec.Struct, frozen=True):
    """A stored score (new or the token's existing one) and the answer lazer reads."""

    score_id: int
    created: bool
    shown: SoloScore | None = None


class StoredScore(msgspec.Struct, frozen=True, kw_only=True):
    """A score that has just committed, as after-commit listeners (the replay writer) see it."""

    score_id: int
    score: NewScore
    username: str
    beatmap_checksum: str
    beatmap_has_leaderboard: bool


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


class ScoreService:
    """Submission and reading of solo scores."""

    def __init__(
        self,
        db: Database,
        repo: ScoreRepository,
        users: UserRepository,
        beatmaps: BeatmapService,
        leaderboards: Leaderboards,
        pp_cache: corepp.PpCache,
        redis: Any,
        outbox: Outbox,
        *,
        relax_enabled: bool,
        all_statuses: bool,
        submission_enabled: bool,
        token_seconds: int,
        reads: ScoreReads,
        profiles: ProfileCache,
        near: NearCache | None = None,
    ) -> None:
        self.reads = reads
        self._profiles = profiles
        self._db = db
        self._near = near
        self.repo = repo
        self._users = users
        self._beatmaps = beatmaps
        self.leaderboards = leaderboards
        self._pp = pp_cache
        self.pp_cache = pp_cache
        self._redis = redis
        self.outbox = outbox
        self._processed_listeners: list[Callable[[int, int], None]] = []
        self._stored_listeners: list[Callable[[StoredScore], None]] = []
        self._relax = relax_enabled
        self._all_statuses = all_statuses
        self._enabled = submission_enabled
        self._token_ttl = timedelta(seconds=token_seconds)
        self.pp_version = corepp.algorithm_version()
        # Play counts per beatmap and rank events are written in the submission's transaction.
        self.activity = ActivityService(ActivityRepository(db), users, beatmaps.repo, repo)
        self.beatmap_plays = BeatmapPlayCounter(repo, beatmaps.repo)

    @property
    def submission_enabled(self) -> bool:
        """Whether plays may be submitted at all (SCORE_SUBMISSION_ENABLED)."""
        return self._enabled

    def aclose(self) -> None:
        """Free the parsed beatmaps this service holds."""
        self._pp.close()

    # -- tokens ----------------------------------------------------------------------------

    async def create_token(
        self,
        user_id: int,
        beatmap_id: int,
        beatmap_hash: str,
        ruleset_id: int | None,
        version_hash: str,
        playlist_item_id: int | None = None,
    ) -> int | TokenRejected:
        """Issue a token for one play of a beatmap (S-SC-1), or of a room's playlist item."""
        if not self._enabled:
            return TokenRejected.DISABLED
        beatmap = await self._beatmaps.repo.cached_beatmap(
            beatmap_id
        ) or await self._beatmaps.beatmap_by_id(beatmap_id)
        if beatmap is None:
            return TokenRejected.NOT_FOUND
        if not beatmap_hash or beatmap_hash.lower() != beatmap.checksum:
            return TokenRejected.BAD_HASH
        if (
            ruleset_id is None
            or ruleset_id not in range(4)
            or (ruleset_id != beatmap.mode and beatmap.mode != 0)
        ):
            return TokenRejected.BAD_RULESET
        # The version hash is logged, not enforced: self-built clients have unpredictable
        # hashes (lazer-protocol.md §8.2 #21).
        return await self.repo.insert_token(
            user_id=user_id,
            beatmap_id=beatmap_id,
            ruleset_id=ruleset_id,
            beatmap_hash=beatmap.checksum,
            version_hash=version_hash[:64],
            playlist_item_id=playlist_item_id,
            now=_naive(datetime.now(UTC)),
        )

    # -- submission ------------------------------------------------------------------------

    async def _difficulty(
        self, beatmap: BeatmapRecord, ruleset_id: int, mods: list[dict[str, Any]]
    ) -> corepp.DifficultyAttributes | scoring.Rejected | SubmitRejected:
        data: bytes | None = None
        if self._pp.cached_beatmap(beatmap.checksum) is None:
            data = await self._beatmaps.osu_file(beatmap)
            if data is None:
                return SubmitRejected.FILE_MISSING
        loaded = data

        def load() -> bytes:
            if loaded is None:
                raise core.InvalidArgument("beatmap evicted while loading")
            return loaded

        try:
            return await self._pp.difficulty_async(beatmap.checksum, load, ruleset_id, mods)
        except core.InvalidArgument:
            # The core parses mods per ruleset and refuses unknown acronyms and settings.
            return scoring.Rejected.MODS
        except (
            core.SuspiciousBeatmap,
            core.ConversionError,
            core.BeatmapParseError,
            core.TooLarge,
        ):
            return SubmitRejected.FILE_MISSING

    async def submit(
        self,
        account: UserAccount,
        beatmap_id: int,
        token_id: int,
        body: bytes,
        playlist: PlaylistPlay | None = None,
    ) -> Submitted | scoring.Rejected | SubmitRejected | PlayRefused:
        """Store one play exactly once for its token (a solo token, or with `playlist` a
        playlist item's token, checked against and recorded for its room); its outcome is
        counted in the metrics."""
        outcome = await self._submit(account, beatmap_id, token_id, body, playlist)
        if isinstance(outcome, Submitted):
            metrics.submission("stored" if outcome.created else "duplicate")
        elif isinstance(outcome, PlayRefused):
            metrics.submission("room_rules")
        else:
            metrics.submission(outcome.name.lower())
        return outcome

    async def _submit(
        self,
        account: UserAccount,
        beatmap_id: int,
        token_id: int,
        body: bytes,
        playlist: PlaylistPlay | None,
    ) -> Submitted | scoring.Rejected | SubmitRejected | PlayRefused:
        token = (
            await self.repo.playlist_token(token_id, account.id, playlist.playlist_item_id)
            if playlist is not None
            else await self.repo.token(token_id, account.id, beatmap_id)
        )
        if token is None:
            return SubmitRejected.NOT_FOUND
        if token.score_id is not None:
            return await self._submitted(token.score_id, False, account)
        submitted = scoring.decode_submission(body)
        if isinstance(submitted, scoring.Rejected):
            return submitted
        now = datetime.now(UTC)
        if now - token.created_at > self._token_ttl:
            return SubmitRejected.EXPIRED
        # Near-cached rows: every change to a map or set through this server (import,
        # upstream sync, status) invalidates them on all instances before it returns.
        beatmap = await self._beatmaps.repo.cached_beatmap(beatmap_id)
        if beatmap is None:
            return SubmitRejected.NOT_FOUND
        beatmapset = await self._beatmaps.repo.cached_beatmapset(beatmap.beatmapset_id)
        if beatmap.checksum != token.beatmap_hash or (
            # S-SC-4: ranked after the token was issued.
            beatmapset is not None
            and beatmapset.ranked_date is not None
            and beatmapset.ranked_date.replace(tzinfo=UTC) > token.created_at
        ):
            return SubmitRejected.BEATMAP_CHANGED
        mods_probe = [
            {"acronym": m.acronym, **({"settings": m.settings} if m.settings else {})}
            for m in submitted.mods
        ]
        attrs = await self._difficulty(beatmap, token.ruleset_id, mods_probe)
        if not isinstance(attrs, corepp.DifficultyAttributes):
            return attrs
        difficulty = lazer_mods.BaseDifficulty(
            cs=beatmap.cs, ar=beatmap.ar, od=beatmap.od, hp=beatmap.hp
        )
        checked = scoring.check_submission(submitted, token.ruleset_id, attrs.max_combo, difficulty)
        if isinstance(checked, scoring.Rejected):
            return checked
        if playlist is not None and (refusal := playlist.refuse(checked)) is not None:
            return PlayRefused(refusal)
        if scoring.maximum_mismatch(token.ruleset_id, checked.maximum_statistics, attrs):
            return scoring.Rejected.MAXIMUM_MISMATCH
        if checked.passed and scoring.judged_objects(checked.statistics) != scoring.judged_objects(
            checked.maximum_statistics
        ):
            # S-SC-8: a pass judges every object.
            return scoring.Rejected.OVER_MAXIMUM
        if checked.passed and (now - token.created_at).total_seconds() < (
            beatmap.total_length / lazer_mods.fastest_rate(checked.mods) - _PLAY_TIME_TOLERANCE
        ):
            # S-SC-8 [beyond ref: osu-web has no such check]: a pass cannot arrive before the
            # map could be played through at the fastest rate its mods reach. total_length runs
            # from the first object to the last, so lead-in and loading only add to the wait.
            return SubmitRejected.TOO_SOON
        return await self._store(
            account, beatmap, token.id, token.created_at, checked, attrs, now, playlist
        )

    async def _store(
        self,
        account: UserAccount,
        beatmap: BeatmapRecord,
        token_id: int,
        started_at: datetime,
        checked: scoring.CheckedScore,
        attrs: corepp.DifficultyAttributes,
        now: datetime,
        playlist: PlaylistPlay | None = None,
    ) -> Submitted | scoring.Rejected:
        ruleset_id = attrs.mode
        # A mod lazer does not rank makes the play unranked: no pp, no ranked score, no
        # leaderboard entry. osu-web itself stores such a play as ranked and only
        # osu-queue-score-statistics withholds its pp (AllModsValidForPerformance); keeping it
        # off the boards and out of ranked score is our choice. With relax rulesets on, RX and
        # AP plays are ranked on their own boards.
        unranked = bool(set(checked.unranked_mods) - ({"RX", "AP"} if self._relax else set()))
        ruleset = relax_ruleset(ruleset_id, checked.acronyms, self._relax)
        status = beatmap.status
        ranked = (
            checked.passed
            and has_leaderboard(status, self._all_statuses)
            and not unranked
            and not account.is_restricted
        )
        pp: float | None = None
        if checked.passed and not unranked and not beatmap.is_suspicious:
            try:
                stats = msgspec.convert(
                    {
                        k: v
                        for k, v in checked.statistics.items()
                        if k in corepp.HitStatistics.__struct_fields__
                    },
                    corepp.HitStatistics,
                )
            except msgspec.ValidationError:
                return scoring.Rejected.BAD_BODY
            score_input = corepp.ScoreInput(statistics=stats, max_combo=checked.max_combo)
            pp = corepp.performance(attrs, checked.mods, score_input).pp
        awards = ranked and pp is not None and awards_pp(status, self._all_statuses)
        totals = scoring.play_totals(
            ruleset_id=ruleset_id,
            passed=checked.passed,
            total_score=checked.total_score,
            statistics=checked.statistics,
            maximum=checked.maximum_statistics,
            max_combo=checked.max_combo,
            mods=checked.mods,
            seconds_played=(now - started_at).total_seconds(),
            total_length=beatmap.total_length,
            beatmap_status=beatmap.status,
        )
        record = NewScore(
            user_id=account.id,
            beatmap_id=beatmap.id,
            ruleset_id=ruleset_id,
            ruleset=ruleset,
            token_id=token_id,
            build_id=None,
            passed=checked.passed,
            ranked=ranked,
            play_counted=totals.play_count > 0,
            total_score=checked.total_score,
            total_score_without_mods=checked.total_score_without_mods,
            accuracy=checked.accuracy,
            max_combo=checked.max_combo,
            grade=checked.rank,
            mods=msgspec.json.encode(checked.mods).decode(),
            mods_key=",".join(checked.acronyms),
            statistics=msgspec.json.encode(checked.statistics).decode(),
            maximum_statistics=msgspec.json.encode(checked.maximum_statistics).decode(),
            pp=pp if awards else None,
            pp_version=self.pp_version if awards else None,
            # Whole seconds, as a MariaDB DATETIME keeps them, so that the answer built from
            # this record is what reading the row back gives on either dialect.
            started_at=_naive(started_at).replace(microsecond=0),
            ended_at=_naive(now).replace(microsecond=0),
        )
        outcome = await self._transaction_retried(record, beatmap, awards, totals, playlist)
        if not outcome.created:
            return await self._submitted(outcome.score_id, False, account)
        await self._after_commit(record, outcome, account, beatmap)
        # The answer is built from what was just stored (the same fields the row reads back
        # as: times are whole seconds, has_replay starts false), not read again.
        fields = msgspec.structs.asdict(record)
        fields["started_at"] = record.started_at and record.started_at.replace(tzinfo=UTC)
        fields["ended_at"] = record.ended_at.replace(tzinfo=UTC)
        stored = ScoreRecord(**fields, id=outcome.score_id, has_replay=False)
        return Submitted(outcome.score_id, True, await self.reads.answer(stored, account))

    async def _transaction_retried(
        self,
        record: NewScore,
        beatmap: BeatmapRecord,
        awards: bool,
        totals: scoring.PlayTotals,
        playlist: PlaylistPlay | None,
    ) -> _Outcome:
        """The score's transaction, run again after a deadlock or lock timeout (up to five
        tries), and after creating the user's statistics row when it had none."""
        conflicts = 0
        created_statistics = False
        while True:
            try:
                outcome = await self._transaction(record, beatmap, awards, totals, playlist)
            except TransactionConflict as exc:
                conflicts += 1
                if conflicts == 5:
                    raise
                log.info("retrying score transaction after %s", exc)
                continue
            if outcome is not None:
                return outcome
            if created_statistics:
                raise RuntimeError(f"no statistics row for user {record.user_id} after creating it")
            # Created outside the transaction, and only for a ruleset's first play: INSERT
            # IGNORE on an existing row takes a shared lock that two submitters would both
            # hold before asking for the exclusive one.
            await self.repo.ensure_statistics(record.user_id, record.ruleset)
            created_statistics = True

    async def _submitted(self, score_id: int, created: bool, account: UserAccount) -> Submitted:
        return Submitted(score_id, created, await self.reads.submitted(score_id, account))

    async def _transaction(
        self,
        record: NewScore,
        beatmap: BeatmapRecord,
        awards: bool,
        totals: scoring.PlayTotals,
        playlist: PlaylistPlay | None = None,
    ) -> _Outcome | None:
        """Store the play, or find the token's score; None (nothing written) when the user
        has no statistics row for the ruleset yet."""
        async with self._db.transaction():
            # Both locks come before any plain read: InnoDB's REPEATABLE READ fixes the
            # snapshot at the first non-locking read, and a snapshot taken before the
            # statistics lock was granted would miss the bests another submission of this
            # user just committed. Lock order is always token, then statistics.
            token = await self.repo.lock_token(record.token_id, record.user_id, record.beatmap_id)
            if not await self.repo.lock_statistics(record.user_id, record.ruleset):
                return None
            if token is not None and token.score_id is not None:
                return _Outcome(token.score_id, False)
            score_id = await self.repo.insert_score(record)
            await self.repo.link_token(record.token_id, score_id)
            if playlist is not None:
                await playlist.record(score_id, record)
            await self.activity.play_counted(record.user_id, beatmap.id)
            grades = dict.fromkeys(_GRADE_COLUMNS.values(), 0)
            ranked_delta = 0
            old_best_id: int | None = None
            new_best = False
            old_pp: float | None = None
            if record.ranked:
                # The leaderboard best and the pp best in one statement (awards implies ranked).
                old, old_pp = await self.repo.play_bests(
                    record.beatmap_id, record.ruleset, record.user_id
                )
                if old is None or record.total_score > old.total_score:
                    new_best = True
                    await self.repo.set_best(
                        record.beatmap_id,
                        record.ruleset,
                        record.user_id,
                        score_id,
                        record.total_score,
                        previous_total=old.total_score if old else None,
                    )
                    counts_score = (
                        awards_pp(beatmap.status, self._all_statuses) or beatmap.status == 4
                    )
                    if counts_score:
                        ranked_delta = record.total_score - (old.total_score if old else 0)
                    if old is not None:
                        old_best_id = old.score_id
                        if old.grade in _GRADE_COLUMNS:
                            grades[_GRADE_COLUMNS[old.grade]] -= 1
                    if record.grade in _GRADE_COLUMNS:
                        grades[_GRADE_COLUMNS[record.grade]] += 1
                    await self.activity.new_best(
                        user_id=record.user_id,
                        beatmap=beatmap,
                        board=record.ruleset,
                        ruleset_id=record.ruleset_id,
                        grade=record.grade,
                        score_id=score_id,
                        total_score=record.total_score,
                        old_best=old,
                    )
            weighted_pp: float | None = None
            weighted_accuracy: float | None = None
            if awards and record.pp is not None and (old_pp is None or record.pp > old_pp):
                await self.repo.set_pp_best(
                    record.user_id, record.ruleset, record.beatmap_id, score_id, record.pp
                )
                # Only a changed pp best changes the weighted pp and accuracy; otherwise the
                # statistics keep theirs (NULL in apply_play) and the top plays are not read.
                top = await self.repo.top_pp(record.user_id, record.ruleset)
                weighted_pp = scoring.weighted_pp([p for p, _ in top])
                weighted_accuracy = scoring.weighted_accuracy([a for _, a in top])
            delta = StatisticsDelta(
                ranked_score_delta=ranked_delta,
                total_score=totals.total_score,
                play_count=totals.play_count,
                play_time=totals.play_time,
                total_hits=totals.total_hits,
                max_combo=totals.max_combo,
                pp=weighted_pp,
                hit_accuracy=weighted_accuracy,
                count_300=totals.count_300,
                count_100=totals.count_100,
                count_50=totals.count_50,
                count_miss=totals.count_miss,
                **grades,
            )
            await self.repo.apply_play(record.user_id, record.ruleset, delta)
            # Published after the commit; the outbox row makes a lost publish come again.
            outbox_id = await self.outbox.add(
                SCORE_PROCESSED_CHANNEL, _processed_message(record.user_id, score_id)
            )
        return _Outcome(score_id, True, new_best, old_best_id, outbox_id)

    def on_processed(self, listener: Callable[[int, int], None]) -> None:
        """Call `listener(user_id, score_id)` after each score commits (the spectator hub's
        UserScoreProcessed); a failing listener is logged, never the submission's error."""
        self._processed_listeners.append(listener)

    def on_stored(self, listener: Callable[[StoredScore], None]) -> None:
        """Call `listener(stored)` after each new score commits (the replay writer's seam); a
        failing listener is logged, never the submission's error."""
        self._stored_listeners.append(listener)

    async def _after_commit(
        self,
        record: NewScore,
        outcome: _Outcome,
        account: UserAccount,
        beatmap: BeatmapRecord,
    ) -> None:
        """Best effort after the commit: caches, leaderboard, then the spectator hub's seams."""
        # No instance may go on showing the player's profile without this play, or the board
        # without a new best: one invalidation message for both. The beatmap's own play
        # count is added after the commit, off the request path
        # (server/services/beatmap_plays.py), which then drops its cached row.
        self.beatmap_plays.count(record.beatmap_id, record.passed)
        async with self._batched():
            await self._forget_profile(record.user_id)
            if outcome.new_best:
                await self.leaderboards.record_best(
                    record.beatmap_id,
                    record.ruleset,
                    outcome.old_best_id,
                    outcome.score_id,
                    record.total_score,
                )
        if outcome.outbox_id is not None:
            # Off the response path: lazer waits for nothing this message announces.
            self.outbox.deliver_soon(
                outcome.outbox_id,
                SCORE_PROCESSED_CHANNEL,
                _processed_message(record.user_id, outcome.score_id),
            )
        for listener in self._processed_listeners:
            try:
                listener(record.user_id, outcome.score_id)
            except Exception:
                log.warning(
                    "score-processed listener failed for %s", outcome.score_id, exc_info=True
                )
        stored = StoredScore(
            score_id=outcome.score_id,
            score=record,
            username=account.username,
            beatmap_checksum=beatmap.checksum,
            beatmap_has_leaderboard=has_leaderboard(beatmap.status, self._all_statuses),
        )
        for stored_listener in self._stored_listeners:
            try:
                stored_listener(stored)
            except Exception:
                log.warning("score-stored listener failed for %s", outcome.score_id, exc_info=True)

    def _batched(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._near.batched() if self._near is not None else contextlib.nullcontext()

    async def _forget_profile(self, user_id: int) -> None:
        await self._profiles.forget(user_id)

    async def pin(self, user_id: int, score_id: int) -> bool:
        """Pin one of the user's own scores; False when it is not theirs."""
        record = await self.repo.score(score_id)
        if record is None or record.user_id != user_id:
            return False
        await self.repo.pin(user_id, score_id, record.ruleset)
        await self._forget_profile(user_id)  # scores_pinned_count
        return True

    async def unpin(self, user_id: int, score_id: int) -> None:
        """Unpin a score."""
        await self.repo.unpin(user_id, score_id)
        await self._forget_profile(user_id)

    async def reorder_pin(
        self, user_id: int, score_id: int, after: int | None, before: int | None
    ) -> bool:
        """Move a pin after `after` or before `before` (both pins of the same user)."""
        async with self._db.transaction():
            pin = await self.repo.pin_order(user_id, score_id)
            anchor = await self.repo.pin_order(user_id, after if after is not None else before or 0)
            if pin is None or anchor is None or pin[0] != anchor[0]:
                return False
            position = anchor[1] + 1 if after is not None else anchor[1]
            await self.repo.move_pin(user_id, score_id, pin[0], position)
        return True


class _Outcome(msgspec.Struct, frozen=True):
    score_id: int
    created: bool
    new_best: bool = False
    old_best_id: int | None = None
    outbox_id: int | None = None


def _processed_message(user_id: int, score_id: int) -> bytes:
    """The `score:processed` message (what osu-queue-score-statistics publishes, trimmed)."""
    return msgspec.json.encode({"user_id": user_id, "score_id": score_id})


def build_score_service(
    settings: Any,
    db: Database,
    redis: Any,
    users: UserRepository,
    beatmaps: BeatmapService,
    near: NearCache | None = None,
    profiles: ProfileCache | None = None,
) -> ScoreService:
    """The score service for these settings (no I/O)."""
    repo = ScoreRepository(db)
    leaderboards = Leaderboards(repo, redis, near)
    reads = ScoreReads(
        repo,
        users,
        beatmaps,
        leaderboards,
        relax_enabled=settings.enable_relax_rulesets,
        all_statuses=settings.leaderboards_for_all_statuses,
    )
    return ScoreService(
        db,
        repo,
        users,
        beatmaps,
        leaderboards,
        corepp.PpCache(),
        redis,
        Outbox(OutboxRepository(db), redis),
        relax_enabled=settings.enable_relax_rulesets,
        all_statuses=settings.leaderboards_for_all_statuses,
        submission_enabled=settings.score_submission_enabled,
        token_seconds=settings.score_token_seconds,
        reads=reads,
        profiles=profiles or ProfileCache(near),
        near=near,
    )
