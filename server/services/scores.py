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
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Final

import msgspec

from server import core, metrics
from server.core import pp as corepp
from server.db import Database
from server.models.rulesets import RULESETS
from server.near_cache import NearCache
from server.repositories.beatmaps import BeatmapRecord
from server.repositories.outbox import OutboxRepository
from server.repositories.scores import (
    BoardFilter,
    NewScore,
    ScoreRecord,
    ScoreRepository,
    StatisticsDelta,
)
from server.repositories.users import UserAccount, UserRepository
from server.services import mods as lazer_mods
from server.services import scoring
from server.services.beatmaps import BeatmapService, awards_pp, has_leaderboard
from server.services.countries import country_name
from server.services.leaderboards import Leaderboards
from server.services.outbox import Outbox
from server.services.profiles import PROFILE_REGION

log = logging.getLogger(__name__)

# A cached leaderboard page is `[score_count, [scores]]`; the scores stay raw JSON on the way
# back out, so a cache hit costs no re-encoding.
_page_encoder = msgspec.json.Encoder()
_page_decoder = msgspec.json.Decoder(tuple[int, msgspec.Raw])

SCORE_PROCESSED_CHANNEL: Final = "score:processed"
# osu-web BeatmapsController::scores: limit 1..100, default 50.
LEADERBOARD_DEFAULT: Final = 50
LEADERBOARD_MAX: Final = 100
# Grade columns of user_statistics that count the bests' grades.
_GRADE_COLUMNS: Final = {"XH": "ssh", "X": "ss", "SH": "sh", "S": "s", "A": "a"}
# Slack for the play-time check: the last object can be hit early by its hit window, and
# total_length is whole seconds.
_PLAY_TIME_TOLERANCE: Final = 2.0
# MySQL deadlock / lock wait timeout: the whole transaction is safe to run again.
_RETRYABLE_MYSQL: Final = frozenset({1213, 1205})


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


class Submitted(msgspec.Struct, frozen=True):
    """A stored score (new or the token's existing one)."""

    score_id: int
    created: bool


class StoredScore(msgspec.Struct, frozen=True, kw_only=True):
    """A score that has just committed, as after-commit listeners (the replay writer) see it."""

    score_id: int
    score: NewScore
    username: str
    beatmap_checksum: str
    beatmap_has_leaderboard: bool


def ruleset_key(ruleset_id: int, acronyms: Sequence[str], relax_enabled: bool) -> str:
    """The statistics/leaderboard key: the ruleset name, or its relax/autopilot variant."""
    name = RULESETS[ruleset_id]
    if relax_enabled:
        if "RX" in acronyms and ruleset_id in (0, 1, 2):
            return f"{name}rx"
        if "AP" in acronyms and ruleset_id == 0:
            return "osuap"
    return name


def _is_retryable(exc: BaseException) -> bool:
    args: tuple[Any, ...] = exc.args
    return len(args) > 0 and isinstance(args[0], int) and args[0] in _RETRYABLE_MYSQL


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
        near: NearCache | None = None,
    ) -> None:
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
    ) -> int | TokenRejected:
        """Issue a token for one play of a beatmap (S-SC-1)."""
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
        self, account: UserAccount, beatmap_id: int, token_id: int, body: bytes
    ) -> Submitted | scoring.Rejected | SubmitRejected:
        """Store one play exactly once for its token (its outcome counted in the metrics)."""
        outcome = await self._submit(account, beatmap_id, token_id, body)
        if isinstance(outcome, Submitted):
            metrics.submission("stored" if outcome.created else "duplicate")
        else:
            metrics.submission(outcome.name.lower())
        return outcome

    async def _submit(
        self, account: UserAccount, beatmap_id: int, token_id: int, body: bytes
    ) -> Submitted | scoring.Rejected | SubmitRejected:
        token = await self.repo.token(token_id, account.id, beatmap_id)
        if token is None:
            return SubmitRejected.NOT_FOUND
        if token.score_id is not None:
            return Submitted(token.score_id, created=False)
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
        return await self._store(account, beatmap, token.id, token.created_at, checked, attrs, now)

    async def _store(
        self,
        account: UserAccount,
        beatmap: BeatmapRecord,
        token_id: int,
        started_at: datetime,
        checked: scoring.CheckedScore,
        attrs: corepp.DifficultyAttributes,
        now: datetime,
    ) -> Submitted | scoring.Rejected:
        ruleset_id = attrs.mode
        # A mod lazer does not rank makes the play unranked: no pp, no ranked score, no
        # leaderboard entry. osu-web itself stores such a play as ranked and only
        # osu-queue-score-statistics withholds its pp (AllModsValidForPerformance); keeping it
        # off the boards and out of ranked score is our choice. With relax rulesets on, RX and
        # AP plays are ranked on their own boards.
        unranked = bool(set(checked.unranked_mods) - ({"RX", "AP"} if self._relax else set()))
        ruleset = ruleset_key(ruleset_id, checked.acronyms, self._relax)
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
            started_at=_naive(started_at),
            ended_at=_naive(now),
        )
        # Created outside the transaction: INSERT IGNORE on an existing row takes a shared
        # lock that two submitters would both hold before asking for the exclusive one.
        await self.repo.ensure_statistics(account.id, ruleset)
        for attempt in range(5):
            try:
                outcome = await self._transaction(record, beatmap, awards, totals)
                break
            except Exception as exc:
                if attempt == 4 or not _is_retryable(exc):
                    raise
                log.info("retrying score transaction after %s", exc)
        if outcome.created:
            await self._after_commit(record, outcome, account, beatmap)
        return Submitted(outcome.score_id, outcome.created)

    async def _transaction(
        self, record: NewScore, beatmap: BeatmapRecord, awards: bool, totals: scoring.PlayTotals
    ) -> _Outcome:
        async with self._db.transaction():
            # Both locks come before any plain read: InnoDB's REPEATABLE READ fixes the
            # snapshot at the first non-locking read, and a snapshot taken before the
            # statistics lock was granted would miss the bests another submission of this
            # user just committed. Lock order is always token, then statistics.
            token = await self.repo.lock_token(record.token_id, record.user_id, record.beatmap_id)
            await self.repo.lock_statistics(record.user_id, record.ruleset)
            if token is not None and token.score_id is not None:
                return _Outcome(token.score_id, False)
            score_id = await self.repo.insert_score(record)
            await self.repo.link_token(record.token_id, score_id)
            await self.repo.add_beatmap_play(beatmap.id, record.passed)
            grades = dict.fromkeys(_GRADE_COLUMNS.values(), 0)
            ranked_delta = 0
            old_best_id: int | None = None
            new_best = False
            if record.ranked:
                old = await self.repo.best(record.beatmap_id, record.ruleset, record.user_id)
                if old is None or record.total_score > old.total_score:
                    new_best = True
                    await self.repo.set_best(
                        record.beatmap_id,
                        record.ruleset,
                        record.user_id,
                        score_id,
                        record.total_score,
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
            if awards and record.pp is not None:
                old_pp = await self.repo.pp_best(record.user_id, record.ruleset, record.beatmap_id)
                if old_pp is None or record.pp > old_pp:
                    await self.repo.set_pp_best(
                        record.user_id, record.ruleset, record.beatmap_id, score_id, record.pp
                    )
            top = await self.repo.top_pp(record.user_id, record.ruleset)
            delta = StatisticsDelta(
                ranked_score_delta=ranked_delta,
                total_score=totals.total_score,
                play_count=totals.play_count,
                play_time=totals.play_time,
                total_hits=totals.total_hits,
                max_combo=totals.max_combo,
                pp=scoring.weighted_pp([p for p, _ in top]),
                hit_accuracy=scoring.weighted_accuracy([a for _, a in top]),
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
        # Play and pass counts changed: no instance may go on showing the old beatmap row,
        # the player's profile without this play, or the board without a new best. One
        # invalidation message for all three.
        async with self._batched():
            await self._beatmaps.repo.forget([record.beatmap_id])
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
            await self.outbox.deliver(
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

    # -- reading ---------------------------------------------------------------------------

    async def score(self, score_id: int) -> ScoreRecord | None:
        """One score."""
        return await self.repo.score(score_id)

    async def visible_score(self, score_id: int) -> ScoreRecord | None:
        """One score as reads show it: hidden when its player is restricted (osu-web's
        `visibleUsers()`; this server has no admins to exempt)."""
        record = await self.repo.score(score_id)
        if record is None:
            return None
        owner = await self._users.by_id(record.user_id)
        return record if owner is not None and not owner.is_restricted else None

    async def position(self, score: ScoreRecord) -> int | None:
        """Position of a ranked score on its beatmap's global board (as if it were the best)."""
        if not score.ranked:
            return None
        return await self.leaderboards.position(
            score.beatmap_id, score.ruleset, score.id, score.total_score
        )

    async def shape_many(
        self,
        records: Sequence[ScoreRecord],
        *,
        with_beatmap: bool = False,
        viewer_pins: set[int] | None = None,
    ) -> list[dict[str, Any]]:
        """SoloScoreInfo dicts for scores, with users (and beatmaps) loaded in one query each."""
        if not records:
            return []
        accounts = {a.id: a for a in await self._users.by_ids(sorted({r.user_id for r in records}))}
        beatmaps: dict[int, Any] = {}
        if with_beatmap:
            for shaped in await self._beatmaps.beatmaps_with_sets(
                sorted({r.beatmap_id for r in records})
            ):
                beatmaps[shaped.id] = shaped
        result = []
        for record in records:
            account = accounts.get(record.user_id)
            result.append(
                score_shape(record, account, beatmaps.get(record.beatmap_id), viewer_pins)
            )
        return result

    async def leaderboard(
        self,
        beatmap: BeatmapRecord,
        mode: str,
        scope: str,
        mods: list[str],
        limit: int,
        viewer: UserAccount,
    ) -> dict[str, Any]:
        """APIScoresCollection for a beatmap: global from Redis, other scopes from SQL."""
        if not has_leaderboard(beatmap.status, self._all_statuses):
            return {"scores": [], "user_score": None, "score_count": 0}
        acronyms = sorted(set(mods) - {"NM"})
        ruleset = mode
        if self._relax and mode in RULESETS:
            ruleset = ruleset_key(RULESETS.index(mode), acronyms, True)
        mod_filtered = bool(mods)
        if scope == "global" and not mod_filtered:
            return await self._global_board(beatmap.id, ruleset, limit, viewer)
        if scope == "team":
            # osu-web's team scope is the caller's team members; this schema has no teams, so
            # the board is empty (lazer shows "no scores") rather than a stand-in group.
            return {"scores": [], "user_score": None, "score_count": 0}
        board = BoardFilter(
            beatmap_id=beatmap.id,
            ruleset=ruleset,
            # NM alone selects plays without mods; several mods select that exact set.
            mods_key=",".join(acronyms) if mod_filtered else None,
            country_code=viewer.country_code if scope == "country" else None,
            friends_of=viewer.id if scope == "friend" else None,
        )
        ids = await self.repo.filtered_board(board, limit)
        scores = await self.shape_many(await self.repo.scores_by_ids(ids))
        return {
            "scores": scores,
            "user_score": await self._filtered_user_score(board, viewer),
            # The board's real size (osu-web UserRank::getCount), not the rows returned.
            "score_count": await self.repo.filtered_board_count(board),
        }

    def board_response_stamp(self) -> int:
        """Take before building a leaderboard response that keep_board_response may keep."""
        rendered = self.leaderboards.rendered
        return rendered.stamp() if rendered is not None else 0

    def board_response(
        self, beatmap: BeatmapRecord, query: bytes, viewer_id: int
    ) -> dict[str, Any] | None:
        """The global leaderboard answer kept for this exact request and viewer: the
        song-select hot path answers without parsing the query or building the board. It
        holds the shared raw page and the viewer's small entry, not a copy of the page per
        viewer. Keyed by the map's checksum and status too, so a changed map never serves
        an old answer."""
        rendered = self.leaderboards.rendered
        if rendered is None:
            return None
        found: dict[str, Any] | None = rendered.get(
            beatmap.id, ("response", query, viewer_id, beatmap.status, beatmap.checksum)
        )
        return found

    def keep_board_response(
        self,
        beatmap: BeatmapRecord,
        query: bytes,
        viewer_id: int,
        board: dict[str, Any],
        stamp: int,
    ) -> None:
        """Keep a global, unfiltered leaderboard answer (see board_response)."""
        rendered = self.leaderboards.rendered
        if rendered is not None:
            field = ("response", query, viewer_id, beatmap.status, beatmap.checksum)
            rendered.put(beatmap.id, board, stamp, field)

    async def _global_board(
        self, beatmap_id: int, ruleset: str, limit: int, viewer: UserAccount
    ) -> dict[str, Any]:
        """The global board: this process's near cache, then Redis' rendering, then a build.

        lazer asks for this after every play and on every song-select move, so a hit does no
        I/O at all and never decodes the page (it is kept as raw JSON)."""
        rendered = self.leaderboards.rendered
        board = beatmap_id
        page: tuple[int, msgspec.Raw] | None = None
        entry: msgspec.Raw | None = None
        stamp = 0
        if rendered is not None:
            page = rendered.get(board, (ruleset, "page", limit))
            entry = rendered.get(board, (ruleset, "user", viewer.id))
            stamp = rendered.stamp()
        if page is None or entry is None:
            generation, stored_page, stored_entry = await self.leaderboards.cached_page(
                beatmap_id, ruleset, limit, viewer.id
            )
            if stored_page is None:
                ids, count = await self.leaderboards.top(beatmap_id, ruleset, limit)
                scores = await self.shape_many(await self.repo.scores_by_ids(ids))
                stored_page = _page_encoder.encode([count, scores])
                await self.leaderboards.store_page(
                    beatmap_id, ruleset, limit, generation, stored_page
                )
            if stored_entry is None:
                stored_entry = _page_encoder.encode(
                    await self._user_score(beatmap_id, ruleset, viewer)
                )
                await self.leaderboards.store_user_entry(
                    beatmap_id, ruleset, viewer.id, generation, stored_entry
                )
            page = _page_decoder.decode(stored_page)
            entry = msgspec.Raw(stored_entry)
            if rendered is not None:
                rendered.put(board, page, stamp, (ruleset, "page", limit))
                rendered.put(board, entry, stamp, (ruleset, "user", viewer.id))
        count, raw_scores = page
        return {"scores": raw_scores, "user_score": entry, "score_count": count}

    async def _filtered_user_score(
        self, board: BoardFilter, viewer: UserAccount
    ) -> dict[str, Any] | None:
        """The caller's entry on a filtered board with its position there (osu-web
        BeatmapScores::userBest and ::rank use the board's own filters)."""
        if viewer.is_restricted:
            return None
        entry = await self.repo.filtered_board_entry(board, viewer.id)
        record = await self.repo.score(entry[0]) if entry else None
        if entry is None or record is None:
            return None
        position = await self.repo.filtered_board_position(board, entry[1], entry[0])
        return {"position": position, "score": score_shape(record, viewer)}

    async def _user_score(
        self, beatmap_id: int, ruleset: str, viewer: UserAccount
    ) -> dict[str, Any] | None:
        """The caller's own best with its global position (APIScoresCollection.user_score)."""
        best = await self.repo.best(beatmap_id, ruleset, viewer.id)
        if best is None or viewer.is_restricted:
            return None
        record = await self.repo.score(best.score_id)
        if record is None:
            return None
        position = await self.leaderboards.position(
            beatmap_id, ruleset, record.id, record.total_score
        )
        return {"position": position, "score": score_shape(record, viewer)}

    async def user_best(self, beatmap_id: int, ruleset: str, user_id: int) -> dict[str, Any] | None:
        """`{"position", "score"}` of a user's best on a beatmap."""
        best = await self.repo.best(beatmap_id, ruleset, user_id)
        record = await self.repo.score(best.score_id) if best else None
        if record is None:
            return None
        shaped = await self.shape_many([record])
        position = await self.leaderboards.position(
            beatmap_id, ruleset, record.id, record.total_score
        )
        return {"position": position, "score": shaped[0]}

    async def user_scores_on_beatmap(
        self, beatmap_id: int, ruleset: str, user_id: int
    ) -> list[dict[str, Any]]:
        """Every ranked score of a user on a beatmap, best first."""
        ids = await self.repo.user_scores_on_beatmap(beatmap_id, ruleset, user_id)
        return await self.shape_many(await self.repo.scores_by_ids(ids))

    async def show(self, score_id: int, viewer_id: int | None) -> dict[str, Any] | None:
        """GET scores/{id}: the score with beatmap, set, user and rank fields."""
        record = await self.visible_score(score_id)
        if record is None:
            return None
        pins = (
            await self._pins_of(viewer_id, record.ruleset) if viewer_id == record.user_id else None
        )
        shaped = (await self.shape_many([record], with_beatmap=True, viewer_pins=pins))[0]
        shaped["rank_global"] = await self.position(record)
        shaped["rank_country"] = None
        owner = await self._users.by_id(record.user_id)
        if record.ranked and owner is not None:
            shaped["rank_country"] = await self.repo.board_position_in_country(
                record.beatmap_id,
                record.ruleset,
                record.total_score,
                record.id,
                owner.country_code,
            )
        return shaped

    async def _pins_of(self, user_id: int | None, ruleset: str) -> set[int]:
        if user_id is None:
            return set()
        return set(await self.repo.user_pinned_ids(user_id, ruleset, 100, 0))

    async def user_scores(
        self,
        user_id: int,
        kind: str,
        ruleset: str,
        limit: int,
        offset: int,
        include_fails: bool,
        viewer_id: int | None,
    ) -> list[dict[str, Any]]:
        """A user's best, recent, firsts or pinned scores with beatmaps (profile lists)."""
        if kind == "best":
            ids = await self.repo.user_best_ids(user_id, ruleset, limit, offset)
        elif kind == "recent":
            since = _naive(datetime.now(UTC) - timedelta(hours=24))
            ids = await self.repo.user_recent_ids(
                user_id, ruleset, since, include_fails, limit, offset
            )
        elif kind == "firsts":
            ids = await self.repo.user_first_ids(user_id, ruleset, limit, offset)
        else:
            ids = await self.repo.user_pinned_ids(user_id, ruleset, limit, offset)
        records = await self.repo.scores_by_ids(ids)
        pins = await self._pins_of(viewer_id, ruleset) if viewer_id == user_id else None
        shaped = await self.shape_many(records, with_beatmap=True, viewer_pins=pins)
        if kind == "best":
            for i, score in enumerate(shaped):
                # osu-web adds the weight each top play counts with.
                weight = 0.95 ** (offset + i)
                score["weight"] = {"percentage": weight * 100, "pp": (score["pp"] or 0.0) * weight}
        return shaped

    def _batched(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._near.batched() if self._near is not None else contextlib.nullcontext()

    async def _forget_profile(self, user_id: int) -> None:
        if self._near is not None:
            await self._near.invalidate(PROFILE_REGION, [user_id])

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


def user_shape(account: UserAccount) -> dict[str, Any]:
    """The UserCompact a score carries (no statistics: leaderboards stay cheap)."""
    return {
        "avatar_url": account.avatar_url or f"https://a.ppy.sh/{account.id}",
        "country_code": account.country_code,
        "default_group": "default",
        "id": account.id,
        "is_active": True,
        "is_bot": account.is_bot,
        "is_deleted": False,
        "is_online": False,
        "is_supporter": account.is_supporter,
        "last_visit": account.last_visit_at,
        "pm_friends_only": account.pm_friends_only,
        "profile_colour": account.profile_colour,
        "username": account.username,
        "country": {"code": account.country_code, "name": country_name(account.country_code)},
        "cover": {"custom_url": account.cover_url, "url": account.cover_url, "id": None},
    }


def score_shape(
    record: ScoreRecord,
    account: UserAccount | None,
    beatmap: Any = None,
    pins: set[int] | None = None,
) -> dict[str, Any]:
    """osu-web's solo score JSON (SoloScoreInfo), keys in its order; `beatmap` precedes
    `beatmapset` (lazer's setter throws otherwise: lazer-protocol.md §4.5)."""
    shaped: dict[str, Any] = {
        "ranked": record.ranked,
        "preserve": True,
        "processed": True,
        "maximum_statistics": msgspec.json.decode(record.maximum_statistics),
        "mods": msgspec.json.decode(record.mods),
        "statistics": msgspec.json.decode(record.statistics),
        "total_score_without_mods": record.total_score_without_mods,
        "beatmap_id": record.beatmap_id,
        "best_id": None,
        "id": record.id,
        "rank": record.grade,
        "type": "solo_score",
        "user_id": record.user_id,
        "accuracy": record.accuracy,
        "build_id": record.build_id,
        "ended_at": record.ended_at,
        "has_replay": record.has_replay,
        "is_perfect_combo": False,
        "legacy_perfect": False,
        "legacy_score_id": None,
        "legacy_total_score": 0,
        "max_combo": record.max_combo,
        "passed": record.passed,
        "pp": record.pp,
        "ruleset_id": record.ruleset_id,
        "started_at": record.started_at,
        "total_score": record.total_score,
        "replay": record.has_replay,  # osu-web sends both
        "current_user_attributes": {
            "pin": {"is_pinned": True, "score_id": record.id}
            if pins and record.id in pins
            else None
        },
    }
    if beatmap is not None:
        data = msgspec.to_builtins(beatmap)
        beatmapset = data.pop("beatmapset", None)
        shaped["beatmap"] = data
        if beatmapset is not None:
            shaped["beatmapset"] = beatmapset
    if account is not None:
        shaped["user"] = user_shape(account)
    return shaped


def build_score_service(
    settings: Any,
    db: Database,
    redis: Any,
    users: UserRepository,
    beatmaps: BeatmapService,
    near: NearCache | None = None,
) -> ScoreService:
    """The score service for these settings (no I/O)."""
    repo = ScoreRepository(db)
    return ScoreService(
        db,
        repo,
        users,
        beatmaps,
        Leaderboards(repo, redis, near),
        corepp.PpCache(),
        redis,
        Outbox(OutboxRepository(db), redis),
        relax_enabled=settings.enable_relax_rulesets,
        all_statuses=settings.leaderboards_for_all_statuses,
        submission_enabled=settings.score_submission_enabled,
        token_seconds=settings.score_token_seconds,
        near=near,
    )
