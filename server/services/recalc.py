"""Recalculation: pp of stored scores through the core (batched per beatmap, ruleset and
mods), then each affected user's bests and statistics (pp, accuracy, ranked score and grades
from the bests; play count, total score, hits, max combo and play time summed from every
play), then the leaderboards.

Two phases, each resumable from a state file: `pp` walks scores in id order and records
the last id it finished; `users` rebuilds bests and statistics one (user, ruleset) at a time
under that user's statistics lock, so it can run beside live submissions. A dry run does
the same computation, writes nothing and reports what would change.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from server import core
from server.core import pp as corepp
from server.db import Database
from server.repositories.beatmaps import BeatmapRecord
from server.repositories.scores import PlayCounters, ScoreRecord, ScoreRepository
from server.repositories.user_activity import ActivityRepository
from server.services import scoring
from server.services.beatmap_statuses import awards_pp
from server.services.beatmaps import BeatmapService
from server.services.leaderboards import Leaderboards

log = logging.getLogger(__name__)

_GRADE_COLUMNS = {"XH": "ssh", "X": "ss", "SH": "sh", "S": "s", "A": "a"}


class RecalcFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Which scores to recalculate (None: all)."""

    user_id: int | None = None
    beatmap_id: int | None = None
    ruleset_id: int | None = None


class RecalcReport(msgspec.Struct, kw_only=True):
    """What a run changed (or, in a dry run, would change)."""

    scores_seen: int = 0
    pp_changed: int = 0
    bests_changed: int = 0
    users_changed: int = 0
    largest_user_pp_change: float = 0.0
    # Users whose play count, total score, hits, max combo or play time changed, and how
    # many users each of those fields changed for.
    counters_changed: int = 0
    counter_fields: dict[str, int] = msgspec.field(default_factory=dict)
    examples: list[str] = msgspec.field(default_factory=list)

    def lines(self, dry_run: bool) -> list[str]:
        """A human summary."""
        verb = "would change" if dry_run else "changed"
        fields = ", ".join(f"{k} {v}" for k, v in sorted(self.counter_fields.items()))
        return [
            f"scores examined: {self.scores_seen}",
            f"score pp {verb}: {self.pp_changed}",
            f"bests {verb}: {self.bests_changed}",
            f"users whose statistics {verb}: {self.users_changed}"
            f" (largest pp change {self.largest_user_pp_change:+.2f})",
            f"users whose play counters {verb}: {self.counters_changed}"
            + (f" ({fields})" if fields else ""),
            *self.examples[:20],
        ]


class _State(msgspec.Struct, kw_only=True):
    filter: RecalcFilter
    phase: str = "pp"
    last_score_id: int = 0
    # (user_id, ruleset) -> beatmap ids whose bests must be rebuilt
    pending: dict[str, list[int]] = msgspec.field(default_factory=dict)


def _pp_eligible(record: ScoreRecord, beatmap: BeatmapRecord | None, all_statuses: bool) -> bool:
    return (
        beatmap is not None
        and record.ranked
        and record.passed
        and not beatmap.is_suspicious
        and awards_pp(beatmap.status, all_statuses)
    )


def _score_input(record: ScoreRecord) -> corepp.ScoreInput:
    statistics = msgspec.json.decode(record.statistics)
    fields = corepp.HitStatistics.__struct_fields__
    stats = msgspec.convert(
        {k: v for k, v in statistics.items() if k in fields}, corepp.HitStatistics
    )
    return corepp.ScoreInput(statistics=stats, max_combo=record.max_combo)


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


class Recalculator:
    """Recalculate pp, bests, statistics and leaderboards."""

    def __init__(
        self,
        db: Database,
        repo: ScoreRepository,
        beatmaps: BeatmapService,
        leaderboards: Leaderboards,
        pp_cache: corepp.PpCache,
        *,
        all_statuses: bool,
    ) -> None:
        self._db = db
        self._repo = repo
        self._beatmaps = beatmaps
        self._leaderboards = leaderboards
        self._pp = pp_cache
        self._all_statuses = all_statuses
        self.pp_version = corepp.algorithm_version()
        self._activity = ActivityRepository(db)

    async def _beatmap(
        self, cache: dict[int, BeatmapRecord | None], beatmap_id: int
    ) -> BeatmapRecord | None:
        if beatmap_id not in cache:
            cache[beatmap_id] = await self._beatmaps.repo.beatmap(beatmap_id)
        return cache[beatmap_id]

    async def _attributes(
        self, beatmap: BeatmapRecord, ruleset_id: int, mods: bytes
    ) -> corepp.DifficultyAttributes | None:
        data = (
            None
            if self._pp.cached_beatmap(beatmap.checksum)
            else await self._beatmaps.osu_file(beatmap)
        )

        def load() -> bytes:
            if data is None:
                raise core.InvalidArgument("beatmap file unavailable")
            return data

        try:
            return await self._pp.difficulty_async(beatmap.checksum, load, ruleset_id, mods)
        except core.CoreError:
            log.warning(
                "no difficulty for beatmap %s (ruleset %s)", beatmap.id, ruleset_id, exc_info=True
            )
            return None

    async def _new_pp(
        self, records: list[ScoreRecord], beatmaps: dict[int, BeatmapRecord | None]
    ) -> dict[int, float | None]:
        """New pp per score id, one core batch per (beatmap, ruleset, mods)."""
        groups: dict[tuple[int, int, str], list[ScoreRecord]] = defaultdict(list)
        result: dict[int, float | None] = {}
        for record in records:
            beatmap = await self._beatmap(beatmaps, record.beatmap_id)
            if _pp_eligible(record, beatmap, self._all_statuses):
                groups[(record.beatmap_id, record.ruleset_id, record.mods)].append(record)
            else:
                result[record.id] = None
        for (beatmap_id, ruleset_id, mods), group in groups.items():
            beatmap = beatmaps[beatmap_id]
            assert beatmap is not None
            attrs = await self._attributes(beatmap, ruleset_id, mods.encode())
            if attrs is None:
                # Keep what is stored rather than erase pp we cannot recompute.
                for record in group:
                    result[record.id] = record.pp
                continue
            values = await corepp.performance_batch_async(
                attrs, mods.encode(), [_score_input(r) for r in group]
            )
            for record, value in zip(group, values, strict=True):
                result[record.id] = value
        return result

    def _load_state(self, path: Path | None, flt: RecalcFilter, resume: bool) -> _State:
        if resume and path is not None and path.exists():
            state = msgspec.json.decode(path.read_bytes(), type=_State)
            if state.filter == flt:
                return state
            log.warning("state file %s is for another filter; starting over", path)
        return _State(filter=flt)

    @staticmethod
    def _save_state(path: Path | None, state: _State) -> None:
        if path is None:
            return
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(msgspec.json.encode(state))
        tmp.replace(path)

    async def count(self, flt: RecalcFilter, after_id: int = 0) -> int:
        """How many scores the filter selects (for the progress bar)."""
        total = 0
        last = after_id
        while batch := await self._repo.scores_for_recalc(
            last, 5000, flt.user_id, flt.beatmap_id, flt.ruleset_id
        ):
            total += len(batch)
            last = batch[-1].id
        return total

    async def run(
        self,
        flt: RecalcFilter,
        *,
        dry_run: bool,
        state_path: Path | None = None,
        resume: bool = False,
        batch_size: int = 500,
        progress: Callable[[int], None] | None = None,
    ) -> RecalcReport:
        """Recalculate; `progress` is called with how many scores each batch finished."""
        report = RecalcReport()
        state = self._load_state(None if dry_run else state_path, flt, resume)
        beatmaps: dict[int, BeatmapRecord | None] = {}
        # Phase 1: pp. A dry run keeps the new pp in memory, per user, for phase 2.
        planned: dict[str, list[tuple[int, float | None, str | None]]] = defaultdict(list)
        if state.phase == "pp":
            while True:
                batch = await self._repo.scores_for_recalc(
                    state.last_score_id, batch_size, flt.user_id, flt.beatmap_id, flt.ruleset_id
                )
                if not batch:
                    break
                new = await self._new_pp(batch, beatmaps)
                changes: list[tuple[int, float | None, str | None]] = []
                for record in batch:
                    report.scores_seen += 1
                    value = new[record.id]
                    version = self.pp_version if value is not None else None
                    if not _same(value, record.pp) or (
                        value is not None and record.pp_version != version
                    ):
                        report.pp_changed += 1
                        changes.append((record.id, value, version))
                        if dry_run:
                            planned[f"{record.user_id}:{record.ruleset}"].append(
                                (record.id, value, version)
                            )
                        if len(report.examples) < 20:
                            report.examples.append(f"score {record.id}: pp {record.pp} -> {value}")
                    key = f"{record.user_id}:{record.ruleset}"
                    beatmap_ids = state.pending.setdefault(key, [])
                    if record.beatmap_id not in beatmap_ids:
                        beatmap_ids.append(record.beatmap_id)
                if not dry_run:
                    async with self._db.transaction():
                        for score_id, value, version in changes:
                            await self._repo.set_score_pp(score_id, value, version)
                state.last_score_id = batch[-1].id
                self._save_state(None if dry_run else state_path, state)
                if progress is not None:
                    progress(len(batch))
            state.phase = "users"
            self._save_state(None if dry_run else state_path, state)
        # Phase 2: bests and statistics per (user, ruleset).
        boards: set[tuple[int, str]] = set()
        for key in sorted(state.pending):
            user_id, ruleset = int(key.split(":")[0]), key.split(":", 1)[1]
            changed_boards = await self._rebuild_user(
                user_id, ruleset, state.pending[key], report, dry_run, planned.get(key, [])
            )
            boards.update(changed_boards)
            if not dry_run:
                del state.pending[key]
                self._save_state(state_path, state)
        if not dry_run:
            for beatmap_id, ruleset in sorted(boards):
                # Counted again from the rebuilt bests: recalc repairs the counts too.
                await self._repo.recount_board(beatmap_id, ruleset)
                await self._leaderboards.invalidate(beatmap_id, ruleset)
            if state_path is not None and state_path.exists():
                state_path.unlink()
        return report

    async def _rebuild_user(
        self,
        user_id: int,
        ruleset: str,
        beatmap_ids: list[int],
        report: RecalcReport,
        dry_run: bool,
        planned: list[tuple[int, float | None, str | None]],
    ) -> set[tuple[int, str]]:
        """Rebuild one user's bests and derived statistics in one transaction. A dry run
        applies its planned pp inside the transaction, measures, and rolls it all back, so
        what it reports is exactly what a real run would do."""
        boards: set[tuple[int, str]] = set()
        counts = RecalcReport()
        try:
            async with self._db.transaction():
                await self._repo.lock_statistics(user_id, ruleset)
                old = (await self._users_statistics(user_id)).get(ruleset)
                for score_id, value, version in planned:
                    await self._repo.set_score_pp(score_id, value, version)
                for beatmap_id in beatmap_ids:
                    if await self._rebuild_bests(user_id, ruleset, beatmap_id):
                        counts.bests_changed += 1
                        boards.add((beatmap_id, ruleset))
                top = await self._repo.top_pp(user_id, ruleset)
                new_pp = scoring.weighted_pp([p for p, _ in top])
                grades = dict.fromkeys(_GRADE_COLUMNS.values(), 0)
                ranked_score = 0
                for total, grade, status in await self._repo.bests_summary(user_id, ruleset):
                    if awards_pp(status, self._all_statuses) or status == 4:
                        ranked_score += total
                    if grade in _GRADE_COLUMNS:
                        grades[_GRADE_COLUMNS[grade]] += 1
                accuracy = scoring.weighted_accuracy([a for _, a in top])
                counters = await self._recount_plays(user_id, ruleset)
                await self._repo.set_play_counters(user_id, ruleset, counters)
                await self._activity.recount_plays(user_id)  # "most played" per beatmap
                await self._repo.set_derived_statistics(
                    user_id,
                    ruleset,
                    ranked_score=ranked_score,
                    pp=new_pp,
                    hit_accuracy=accuracy,
                    grades=grades,
                )
                old_pp = float(old["pp"]) if old else 0.0
                moved = {
                    name: (int(old[name]) if old else 0, new)
                    for name, new in msgspec.structs.asdict(counters).items()
                    if (int(old[name]) if old else 0) != new
                }
                if moved:
                    counts.counters_changed += 1
                    for name in moved:
                        counts.counter_fields[name] = counts.counter_fields.get(name, 0) + 1
                    counts.examples.append(
                        f"user {user_id} {ruleset}: "
                        + ", ".join(f"{k} {a} -> {b}" for k, (a, b) in moved.items())
                    )
                changed = (
                    old is None
                    or bool(moved)
                    or not (
                        _same(old_pp, new_pp)
                        and int(old["ranked_score"]) == ranked_score
                        and all(int(old[f"count_{k}"]) == v for k, v in grades.items())
                    )
                )
                if changed:
                    counts.users_changed += 1
                    counts.largest_user_pp_change = new_pp - old_pp
                if dry_run:
                    raise _RollBack
        except _RollBack:
            pass
        report.bests_changed += counts.bests_changed
        report.users_changed += counts.users_changed
        report.counters_changed += counts.counters_changed
        for name, n in counts.counter_fields.items():
            report.counter_fields[name] = report.counter_fields.get(name, 0) + n
        report.examples.extend(counts.examples[: max(0, 20 - len(report.examples))])
        if abs(counts.largest_user_pp_change) > abs(report.largest_user_pp_change):
            report.largest_user_pp_change = counts.largest_user_pp_change
        return boards

    async def _recount_plays(self, user_id: int, ruleset: str) -> PlayCounters:
        """Play count, total score, total hits, max combo and play time summed from every
        stored play as submission adds them (scoring.play_totals, after the official
        processors); a play whose validity the rule now judges differently is re-marked."""
        play_count = total_score = total_hits = maximum_combo = play_time = 0
        hits = dict.fromkeys(("count_300", "count_100", "count_50", "count_miss"), 0)
        for play in await self._repo.user_plays(user_id, ruleset):
            mods = msgspec.json.decode(play.mods)
            seconds = (
                (play.ended_at - play.started_at).total_seconds()
                if play.started_at is not None
                else float(play.total_length or 0)
            )
            totals = scoring.play_totals(
                ruleset_id=play.ruleset_id,
                passed=play.passed,
                total_score=play.total_score,
                statistics=msgspec.json.decode(play.statistics),
                maximum=msgspec.json.decode(play.maximum_statistics),
                max_combo=play.max_combo,
                mods=mods,
                seconds_played=seconds,
                # A play whose beatmap is gone: no length to cap its time, and no status, so
                # no max combo (as on a pending map).
                total_length=play.total_length if play.total_length is not None else 2**31,
                beatmap_status=play.beatmap_status if play.beatmap_status is not None else 0,
            )
            if (totals.play_count > 0) != play.play_counted:
                await self._repo.set_play_counted(play.id, totals.play_count > 0)
            play_count += totals.play_count
            total_score += totals.total_score
            total_hits += totals.total_hits
            maximum_combo = max(maximum_combo, totals.max_combo)
            play_time += totals.play_time
            for name in hits:
                hits[name] += getattr(totals, name)
        return PlayCounters(
            **hits,
            play_count=play_count,
            total_score=total_score,
            total_hits=total_hits,
            maximum_combo=maximum_combo,
            play_time=play_time,
        )

    async def _rebuild_bests(self, user_id: int, ruleset: str, beatmap_id: int) -> bool:
        """Make the stored bests of one user on one beatmap match its scores; True when the
        leaderboard best changed."""
        rows = await self._repo.user_beatmap_scores(user_id, ruleset, beatmap_id)
        ranked = [r for r in rows if r["ranked"]]
        best = min(ranked, key=lambda r: (-int(r["total_score"]), int(r["id"])), default=None)
        with_pp = [(float(r["pp"]), int(r["id"])) for r in rows if r["pp"] is not None]
        pp_best = min(with_pp, key=lambda t: (-t[0], t[1]), default=None)
        current_best = await self._repo.best(beatmap_id, ruleset, user_id)
        current_pp = await self._repo.pp_best(user_id, ruleset, beatmap_id)
        if pp_best is None:
            if current_pp is not None:
                await self._repo.drop_pp_best(user_id, ruleset, beatmap_id)
        elif not _same(current_pp, pp_best[0]):
            await self._repo.set_pp_best(user_id, ruleset, beatmap_id, pp_best[1], pp_best[0])
        best_id = None if best is None else int(best["id"])
        if (current_best.score_id if current_best else None) == best_id:
            return False
        previous = current_best.total_score if current_best else None
        if best is None and previous is not None:
            await self._repo.drop_best(beatmap_id, ruleset, user_id, previous_total=previous)
        elif best is not None:
            await self._repo.set_best(
                beatmap_id,
                ruleset,
                user_id,
                int(best["id"]),
                int(best["total_score"]),
                previous_total=previous,
            )
        return True

    async def _users_statistics(self, user_id: int) -> dict[str, dict[str, Any]]:
        rows = await self._repo.statistics_rows(user_id)
        return {row["ruleset"]: row for row in rows}


class _RollBack(Exception):
    """Raised to undo a dry run's transaction."""


def dump_report(report: RecalcReport) -> str:
    """The report as JSON (for scripts)."""
    return json.dumps(msgspec.to_builtins(report))
