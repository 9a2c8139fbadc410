"""Score tokens, scores, bests, pins, rankings and rank history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Final

import msgspec
from pypika import MySQLQuery, Order, Parameter, SQLLiteQuery, Table
from pypika import analytics as an
from pypika import functions as fn
from pypika.queries import QueryBuilder

from server.db import Database


class ScoreToken(msgspec.Struct, frozen=True, kw_only=True):
    """A submission token."""

    id: int
    user_id: int
    beatmap_id: int
    ruleset_id: int
    beatmap_hash: str
    created_at: datetime
    score_id: int | None


class LockedToken(msgspec.Struct, frozen=True, kw_only=True):
    """A submission token locked in the submitting transaction: the score that used it."""

    score_id: int | None


class NewScore(msgspec.Struct, frozen=True, kw_only=True):
    """What insert_score stores."""

    user_id: int
    beatmap_id: int
    ruleset_id: int
    ruleset: str
    token_id: int
    build_id: int | None
    passed: bool
    ranked: bool
    play_counted: bool
    total_score: int
    total_score_without_mods: int
    accuracy: float
    max_combo: int
    grade: str
    mods: str
    mods_key: str
    statistics: str
    maximum_statistics: str
    pp: float | None
    pp_version: str | None
    started_at: datetime | None
    ended_at: datetime


class ScoreRecord(NewScore, frozen=True, kw_only=True):
    """A stored score: what was inserted, plus its id and whether its replay is stored.
    Mods and statistics are JSON texts."""

    id: int
    has_replay: bool = False


class BestRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A user's leaderboard best on one beatmap."""

    score_id: int
    total_score: int
    grade: str


class ScoreCounts(msgspec.Struct, frozen=True, kw_only=True):
    """A user's profile counts in one ruleset."""

    best: int = 0
    pinned: int = 0
    firsts: int = 0
    recent: int = 0


class StoredPlay(msgspec.Struct, frozen=True, kw_only=True):
    """A stored play as recalc sums it (mods and statistics are JSON texts)."""

    id: int
    ruleset_id: int
    passed: bool
    play_counted: bool
    total_score: int
    max_combo: int
    mods: str
    statistics: str
    maximum_statistics: str
    started_at: datetime | None
    ended_at: datetime
    beatmap_status: int | None
    total_length: int | None


class PlayCounters(msgspec.Struct, frozen=True, kw_only=True):
    """The statistics summed from every play of a user in a ruleset."""

    play_count: int = 0
    total_score: int = 0
    total_hits: int = 0
    maximum_combo: int = 0
    play_time: int = 0
    count_300: int = 0
    count_100: int = 0
    count_50: int = 0
    count_miss: int = 0


class StatisticsDelta(msgspec.Struct, frozen=True, kw_only=True):
    """One play's change to a user's statistics; pp and accuracy are the new values, or None
    when the play changed none of the pp bests they are weighted from."""

    ranked_score_delta: int
    total_score: int
    play_count: int
    play_time: int
    total_hits: int
    max_combo: int
    pp: float | None
    hit_accuracy: float | None
    ssh: int = 0
    ss: int = 0
    sh: int = 0
    s: int = 0
    a: int = 0
    count_300: int = 0
    count_100: int = 0
    count_50: int = 0
    count_miss: int = 0


_SCORE_COLUMNS = [
    "id",
    "user_id",
    "beatmap_id",
    "ruleset_id",
    "ruleset",
    "token_id",
    "build_id",
    "passed",
    "ranked",
    "play_counted",
    "total_score",
    "total_score_without_mods",
    "accuracy",
    "max_combo",
    "mods",
    "mods_key",
    "statistics",
    "maximum_statistics",
    "pp",
    "pp_version",
    "started_at",
    "ended_at",
    "has_replay",
]
_scores = Table("scores")
_bests = Table("score_bests")

# Grains (bit shifts of the total) of the count blocks in score_board_counts: a board's size
# sums its coarse blocks (a handful: totals are about a million), a position the coarse blocks
# above and at most 255 fine blocks; only the bests in the position's own fine block (totals
# within 256 of it) are counted row by row.
BOARD_COARSE: Final = 16
BOARD_FINE: Final = 8
_users = Table("users")
_relations = Table("user_relations")


class BoardFilter(msgspec.Struct, frozen=True, kw_only=True):
    """A filtered leaderboard: one beatmap and ruleset, each user's best among the scores that
    pass the filters (osu-web's ScoreSearch with `mods` and `type`)."""

    beatmap_id: int
    ruleset: str
    # Exactly this mod set ("" for no mods); None for any mods (the user's overall best).
    mods_key: str | None = None
    country_code: str | None = None
    # The user and their friends.
    friends_of: int | None = None


def _ids(rows: list[dict[str, Any]]) -> list[int]:
    return [int(row["score_id"]) for row in rows]


class ScoreRepository:
    """SQL for scores and everything derived from them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # Tokens -------------------------------------------------------------------------------

    async def insert_token(
        self,
        *,
        user_id: int,
        beatmap_id: int,
        ruleset_id: int,
        beatmap_hash: str,
        version_hash: str,
        playlist_item_id: int | None,
        now: datetime,
    ) -> int:
        """Issue a token (for a playlist item when one is given); returns its id."""
        return await self._db.execute(
            "insert_score_token",
            user_id=user_id,
            beatmap_id=beatmap_id,
            ruleset_id=ruleset_id,
            beatmap_hash=beatmap_hash,
            version_hash=version_hash,
            playlist_item_id=playlist_item_id,
            now=now,
        )

    async def playlist_token(
        self, token_id: int, user_id: int, playlist_item_id: int
    ) -> ScoreToken | None:
        """A token of this user for this playlist item."""
        row = await self._db.one(
            "fetch_playlist_score_token",
            token_id=token_id,
            user_id=user_id,
            playlist_item_id=playlist_item_id,
        )
        return None if row is None else msgspec.convert(row, ScoreToken, strict=False)

    async def token(self, token_id: int, user_id: int, beatmap_id: int) -> ScoreToken | None:
        """A token of this user for this beatmap."""
        row = await self._db.one(
            "fetch_score_token", token_id=token_id, user_id=user_id, beatmap_id=beatmap_id
        )
        if row is None:
            return None
        row.update(id=token_id, user_id=user_id, beatmap_id=beatmap_id)  # what the WHERE fixed
        return msgspec.convert(row, ScoreToken, strict=False)

    async def lock_token(self, token_id: int, user_id: int, beatmap_id: int) -> LockedToken | None:
        """Lock this user's token for this beatmap until the transaction ends; what it says
        about its use, or None when there is no such token."""
        row = await self._db.one(
            "lock_score_token", token_id=token_id, user_id=user_id, beatmap_id=beatmap_id
        )
        return None if row is None else LockedToken(score_id=row["score_id"])

    async def link_token(self, token_id: int, score_id: int) -> int:
        """Mark the token used; returns 1, or 0 when it already was."""
        return await self._db.rowcount("link_score_token", token_id=token_id, score_id=score_id)

    # Scores -------------------------------------------------------------------------------

    async def ensure_statistics(self, user_id: int, ruleset: str) -> None:
        """Create a user's zeroed statistics row for a ruleset when missing."""
        await self._db.execute("ensure_user_statistics", user_id=user_id, ruleset=ruleset)

    async def lock_statistics(self, user_id: int, ruleset: str) -> bool:
        """Lock a user's statistics row for one ruleset until the transaction ends; False
        when the user has no row for it."""
        locked = await self._db.value("lock_user_statistics", user_id=user_id, ruleset=ruleset)
        return locked is not None

    async def insert_score(self, score: NewScore) -> int:
        """Store a score; returns its id."""
        return await self._db.execute("insert_score", **msgspec.structs.asdict(score))

    async def score(self, score_id: int) -> ScoreRecord | None:
        """One score."""
        row = await self._db.one("fetch_score", score_id=score_id)
        return None if row is None else msgspec.convert(row, ScoreRecord, strict=False)

    async def scores_by_ids(self, ids: Sequence[int]) -> list[ScoreRecord]:
        """Scores for ids, in the order given; unknown ids are left out."""
        if not ids:
            return []
        params = {f"id{i}": sid for i, sid in enumerate(dict.fromkeys(ids))}
        query_class = MySQLQuery if self._db.dialect == "mysql" else SQLLiteQuery
        query = (
            query_class.from_(_scores)
            .select(*_SCORE_COLUMNS, _scores.rank.as_("grade"))
            .where(_scores.id.isin([Parameter(f":{name}") for name in params]))
            .orderby(_scores.id, order=Order.asc)
        )
        rows = await self._db.all_dynamic(str(query), **params)
        by_id = {row["id"]: msgspec.convert(row, ScoreRecord, strict=False) for row in rows}
        return [by_id[i] for i in ids if i in by_id]

    async def best(self, beatmap_id: int, ruleset: str, user_id: int) -> BestRecord | None:
        """A user's leaderboard best on a beatmap."""
        row = await self._db.one(
            "fetch_score_best", beatmap_id=beatmap_id, ruleset=ruleset, user_id=user_id
        )
        return None if row is None else msgspec.convert(row, BestRecord, strict=False)

    async def play_bests(
        self, beatmap_id: int, ruleset: str, user_id: int
    ) -> tuple[BestRecord | None, float | None]:
        """A user's leaderboard best and highest pp on a beatmap, in one statement."""
        best: BestRecord | None = None
        pp: float | None = None
        for row in await self._db.all(
            "fetch_play_bests", beatmap_id=beatmap_id, ruleset=ruleset, user_id=user_id
        ):
            if row["kind"] == "best":
                best = BestRecord(
                    score_id=int(row["score_id"]),
                    total_score=int(row["total_score"]),
                    grade=str(row["grade"]),
                )
            else:
                pp = float(row["pp"])
        return best, pp

    async def set_best(
        self,
        beatmap_id: int,
        ruleset: str,
        user_id: int,
        score_id: int,
        total_score: int,
        *,
        previous_total: int | None,
    ) -> None:
        """Make a score the user's leaderboard best, replacing the best with
        `previous_total` (None: the user had none); the board's block counts follow."""
        await self._db.execute(
            "upsert_score_best",
            beatmap_id=beatmap_id,
            ruleset=ruleset,
            user_id=user_id,
            score_id=score_id,
            total_score=total_score,
        )
        await self._move_on_board(beatmap_id, ruleset, user_id, previous_total, total_score)

    async def _move_on_board(
        self, beatmap_id: int, ruleset: str, user_id: int, old: int | None, new: int | None
    ) -> None:
        """Move a user's entry between the board's count blocks (in the caller's transaction)."""
        await self._db.execute(
            "move_board_count",
            beatmap_id=beatmap_id,
            ruleset=ruleset,
            user_id=user_id,
            old_total=-1 if old is None else old,
            new_total=-1 if new is None else new,
            coarse=BOARD_COARSE,
            fine=BOARD_FINE,
        )

    async def pp_best(self, user_id: int, ruleset: str, beatmap_id: int) -> float | None:
        """A user's highest pp on a beatmap."""
        row = await self._db.one(
            "fetch_pp_best", user_id=user_id, ruleset=ruleset, beatmap_id=beatmap_id
        )
        return None if row is None else float(row["pp"])

    async def set_pp_best(
        self, user_id: int, ruleset: str, beatmap_id: int, score_id: int, pp: float
    ) -> None:
        """Make a score the user's highest-pp play on its beatmap."""
        await self._db.execute(
            "upsert_pp_best",
            user_id=user_id,
            ruleset=ruleset,
            beatmap_id=beatmap_id,
            score_id=score_id,
            pp=pp,
        )

    async def top_pp(self, user_id: int, ruleset: str) -> list[tuple[float, float]]:
        """(pp, accuracy) of a user's best plays, highest pp first (at most 1000)."""
        rows = await self._db.all("fetch_top_pp", user_id=user_id, ruleset=ruleset)
        return [(float(r["pp"]), float(r["accuracy"])) for r in rows]

    async def apply_play(self, user_id: int, ruleset: str, delta: StatisticsDelta) -> None:
        """Add a play to the (locked) statistics row."""
        await self._db.execute(
            "apply_play_to_statistics",
            user_id=user_id,
            ruleset=ruleset,
            **msgspec.structs.asdict(delta),
        )

    async def add_beatmap_plays(self, beatmap_id: int, plays: int, passes: int) -> None:
        """Count plays and passes on the beatmap."""
        await self._db.execute(
            "add_beatmap_plays", beatmap_id=beatmap_id, plays=plays, passes=passes
        )

    # Leaderboards -------------------------------------------------------------------------

    async def board_page(self, beatmap_id: int, ruleset: str, limit: int) -> list[int]:
        """Score ids of the first `limit` bests on a beatmap, best first; reads only those."""
        floor = await self._db.value(
            "fetch_board_floor", beatmap_id=beatmap_id, ruleset=ruleset, last=max(limit - 1, 0)
        )
        rows = await self._db.all(
            "fetch_board_page",
            beatmap_id=beatmap_id,
            ruleset=ruleset,
            floor=-1 if floor is None else int(floor),
            limit=limit,
        )
        return [int(r["score_id"]) for r in rows]

    async def board_chunk(
        self, beatmap_id: int, ruleset: str, after_user_id: int, limit: int
    ) -> list[tuple[int, int, int]]:
        """(user id, score id, total score) of up to `limit` bests on a beatmap after a user
        id, in user id order: a whole board is read a bounded chunk at a time."""
        rows = await self._db.all(
            "fetch_board_chunk",
            beatmap_id=beatmap_id,
            ruleset=ruleset,
            after_user_id=after_user_id,
            limit=limit,
        )
        return [(int(r["user_id"]), int(r["score_id"]), int(r["total_score"])) for r in rows]

    async def board_count(self, beatmap_id: int, ruleset: str) -> int:
        """How many unrestricted users have a best on a beatmap (a sum over the board's
        coarse count blocks, not a count of the board)."""
        return int(
            await self._db.value(
                "count_board", beatmap_id=beatmap_id, ruleset=ruleset, coarse=BOARD_COARSE
            )
        )

    async def board_position(
        self, beatmap_id: int, ruleset: str, total_score: int, score_id: int
    ) -> int:
        """1-based position a best with this total and id has on the beatmap: block counts
        above it, and a count of the bests above it in its own fine block."""
        coarse_block = total_score >> BOARD_COARSE
        fine_block = total_score >> BOARD_FINE
        above = await self._db.value(
            "count_board_above",
            beatmap_id=beatmap_id,
            ruleset=ruleset,
            total_score=total_score,
            score_id=score_id,
            coarse=BOARD_COARSE,
            coarse_block=coarse_block,
            fine=BOARD_FINE,
            fine_block=fine_block,
            # The first fine block of the next coarse block, and the next fine block's floor.
            fine_end=(coarse_block + 1) << (BOARD_COARSE - BOARD_FINE),
            ceiling=(fine_block + 1) << BOARD_FINE,
        )
        return int(above) + 1

    async def recount_board(self, beatmap_id: int, ruleset: str) -> None:
        """Count a board's blocks again from score_bests (linear in the board: recalc, and
        bests written by other means than set_best and drop_best)."""
        async with self._db.transaction():
            await self._db.execute("delete_board_counts", beatmap_id=beatmap_id, ruleset=ruleset)
            await self._db.execute(
                "insert_board_counts",
                beatmap_id=beatmap_id,
                ruleset=ruleset,
                coarse=BOARD_COARSE,
                fine=BOARD_FINE,
            )

    async def board_position_in_country(
        self, beatmap_id: int, ruleset: str, total_score: int, score_id: int, country_code: str
    ) -> int:
        """1-based position of a best among one country's bests on the beatmap."""
        above = await self._db.value(
            "count_board_above_country",
            beatmap_id=beatmap_id,
            ruleset=ruleset,
            total_score=total_score,
            score_id=score_id,
            country_code=country_code,
        )
        return int(above) + 1

    def _filtered(self, flt: BoardFilter, params: dict[str, Any]) -> QueryBuilder:
        """The filtered board as a derived table (score_id, user_id, total_score), built with
        pypika: scope and mod filters combine freely, every value a bound parameter."""
        query_class = MySQLQuery if self._db.dialect == "mysql" else SQLLiteQuery
        params.update(beatmap_id=flt.beatmap_id, ruleset=flt.ruleset)
        if flt.mods_key is None:
            source = _bests
            query = query_class.from_(_bests).select(
                _bests.score_id, _bests.user_id, _bests.total_score
            )
        else:
            # Each user's best score with exactly these mods (the earlier on equal totals).
            source = _scores
            params["mods_key"] = flt.mods_key
            rank = (
                an.RowNumber()  # type: ignore[no-untyped-call]
                .over(_scores.user_id)
                .orderby(_scores.total_score, order=Order.desc)
                .orderby(_scores.id, order=Order.asc)
            )
            query = (
                query_class.from_(_scores)
                .select(
                    _scores.id.as_("score_id"),
                    _scores.user_id,
                    _scores.total_score,
                    rank.as_("n"),
                )
                .where(_scores.mods_key == Parameter(":mods_key"))
                .where(_scores.ranked == 1)
            )
        query = (
            query.join(_users)
            .on(_users.id == source.user_id)
            .where(source.beatmap_id == Parameter(":beatmap_id"))
            .where(source.ruleset == Parameter(":ruleset"))
            .where(_users.is_restricted == 0)
        )
        if flt.country_code is not None:
            params["country_code"] = flt.country_code
            query = query.where(_users.country_code == Parameter(":country_code"))
        if flt.friends_of is not None:
            params["friends_of"] = flt.friends_of
            friends = (
                query_class.from_(_relations)
                .select(_relations.target_id)
                .where(_relations.user_id == Parameter(":friends_of"))
                .where(_relations.kind == "friend")
            )
            query = query.where(
                (source.user_id == Parameter(":friends_of")) | source.user_id.isin(friends)
            )
        if flt.mods_key is not None:
            query = (
                query_class.from_(query)
                .select(query.score_id, query.user_id, query.total_score)
                .where(query.n == 1)
            )
        return query

    def _over(self, board: QueryBuilder) -> QueryBuilder:
        query_class = MySQLQuery if self._db.dialect == "mysql" else SQLLiteQuery
        return query_class.from_(board)

    async def filtered_board(self, flt: BoardFilter, limit: int) -> list[int]:
        """Score ids of a filtered board's first `limit` entries, best first."""
        params: dict[str, Any] = {"limit": limit}
        board = self._filtered(flt, params)
        query = (
            self._over(board)
            .select(board.score_id)
            .orderby(board.total_score, order=Order.desc)
            .orderby(board.score_id, order=Order.asc)
        )
        return _ids(await self._db.all_dynamic(str(query) + " LIMIT :limit", **params))

    async def filtered_board_count(self, flt: BoardFilter) -> int:
        """How many users a filtered board holds (osu-web UserRank::getCount)."""
        params: dict[str, Any] = {}
        board = self._filtered(flt, params)
        query = self._over(board).select(fn.Count("*").as_("n"))
        rows = await self._db.all_dynamic(str(query), **params)
        return int(rows[0]["n"])

    async def filtered_board_position(
        self, flt: BoardFilter, total_score: int, score_id: int
    ) -> int:
        """1-based position a best with this total and id has on a filtered board."""
        params: dict[str, Any] = {"total_score": total_score, "score_id": score_id}
        board = self._filtered(flt, params)
        total = Parameter(":total_score")
        query = (
            self._over(board)
            .select(fn.Count("*").as_("n"))
            .where(
                (board.total_score > total)
                | ((board.total_score == total) & (board.score_id < Parameter(":score_id")))
            )
        )
        rows = await self._db.all_dynamic(str(query), **params)
        return int(rows[0]["n"]) + 1

    async def filtered_board_entry(self, flt: BoardFilter, user_id: int) -> tuple[int, int] | None:
        """(score id, total) of a user's entry on a filtered board."""
        params: dict[str, Any] = {"entry_user": user_id}
        board = self._filtered(flt, params)
        query = (
            self._over(board)
            .select(board.score_id, board.total_score)
            .where(board.user_id == Parameter(":entry_user"))
        )
        rows = await self._db.all_dynamic(str(query), **params)
        return (int(rows[0]["score_id"]), int(rows[0]["total_score"])) if rows else None

    async def user_scores_on_beatmap(
        self, beatmap_id: int, ruleset: str, user_id: int
    ) -> list[int]:
        """Ids of a user's ranked scores on a beatmap, best first."""
        return _ids(
            await self._db.all(
                "fetch_user_scores_on_beatmap",
                beatmap_id=beatmap_id,
                ruleset=ruleset,
                user_id=user_id,
            )
        )

    # Profiles -----------------------------------------------------------------------------

    async def user_best_ids(self, user_id: int, ruleset: str, limit: int, offset: int) -> list[int]:
        """A user's top plays by pp."""
        return _ids(
            await self._db.all(
                "fetch_user_best_ids", user_id=user_id, ruleset=ruleset, limit=limit, offset=offset
            )
        )

    async def user_recent_ids(
        self,
        user_id: int,
        ruleset: str,
        since: datetime,
        include_fails: bool,
        limit: int,
        offset: int,
    ) -> list[int]:
        """A user's plays since a time, newest first."""
        return _ids(
            await self._db.all(
                "fetch_user_recent_ids",
                user_id=user_id,
                ruleset=ruleset,
                since=since,
                include_fails=int(include_fails),
                limit=limit,
                offset=offset,
            )
        )

    async def user_first_ids(
        self, user_id: int, ruleset: str, limit: int, offset: int
    ) -> list[int]:
        """A user's first places."""
        return _ids(
            await self._db.all(
                "fetch_user_first_ids", user_id=user_id, ruleset=ruleset, limit=limit, offset=offset
            )
        )

    async def user_pinned_ids(
        self, user_id: int, ruleset: str, limit: int, offset: int
    ) -> list[int]:
        """A user's pins in order."""
        return _ids(
            await self._db.all(
                "fetch_user_pinned_ids",
                user_id=user_id,
                ruleset=ruleset,
                limit=limit,
                offset=offset,
            )
        )

    async def user_score_counts(self, user_id: int, ruleset: str, since: datetime) -> ScoreCounts:
        """A user's profile score counts in a ruleset (recent: passes since `since`)."""
        row = await self._db.one("count_user_scores", user_id=user_id, ruleset=ruleset, since=since)
        return msgspec.convert(row or {}, ScoreCounts, strict=False)

    async def pin(self, user_id: int, score_id: int, ruleset: str) -> None:
        """Pin a score at the end of the user's list."""
        last = await self._db.value("fetch_pin_order_max", user_id=user_id, ruleset=ruleset)
        await self._db.execute(
            "insert_score_pin",
            user_id=user_id,
            score_id=score_id,
            ruleset=ruleset,
            display_order=int(last or 0) + 1,
        )

    async def unpin(self, user_id: int, score_id: int) -> None:
        """Unpin a score."""
        await self._db.execute("delete_score_pin", user_id=user_id, score_id=score_id)

    async def pin_order(self, user_id: int, score_id: int) -> tuple[str, int] | None:
        """(ruleset, display order) of a pin."""
        row = await self._db.one("fetch_score_pin", user_id=user_id, score_id=score_id)
        return None if row is None else (str(row["ruleset"]), int(row["display_order"]))

    async def move_pin(self, user_id: int, score_id: int, ruleset: str, order: int) -> None:
        """Put a pin at a position, moving later pins down."""
        await self._db.execute(
            "shift_score_pins", user_id=user_id, ruleset=ruleset, from_order=order
        )
        await self._db.execute(
            "set_score_pin_order", user_id=user_id, score_id=score_id, display_order=order
        )

    # Recalculation --------------------------------------------------------------------------

    async def scores_for_recalc(
        self,
        after_id: int,
        limit: int,
        user_id: int | None,
        beatmap_id: int | None,
        ruleset_id: int | None,
    ) -> list[ScoreRecord]:
        """The next batch of scores after an id, optionally filtered (a dynamic query)."""
        query_class = MySQLQuery if self._db.dialect == "mysql" else SQLLiteQuery
        params: dict[str, Any] = {"after_id": after_id, "limit": limit}
        query = (
            query_class.from_(_scores)
            .select(*_SCORE_COLUMNS, _scores.rank.as_("grade"))
            .where(_scores.id > Parameter(":after_id"))
        )
        for column, value in (
            ("user_id", user_id),
            ("beatmap_id", beatmap_id),
            ("ruleset_id", ruleset_id),
        ):
            if value is not None:
                params[column] = value
                query = query.where(_scores.field(column) == Parameter(f":{column}"))
        sql = str(query.orderby(_scores.id, order=Order.asc)) + " LIMIT :limit"
        rows = await self._db.all_dynamic(sql, **params)
        return [msgspec.convert(row, ScoreRecord, strict=False) for row in rows]

    async def set_score_pp(self, score_id: int, pp: float | None, pp_version: str | None) -> None:
        """Replace a score's pp."""
        await self._db.execute("update_score_pp", score_id=score_id, pp=pp, pp_version=pp_version)

    async def user_beatmap_scores(
        self, user_id: int, ruleset: str, beatmap_id: int
    ) -> list[dict[str, Any]]:
        """(id, ranked, total_score, pp) of a user's scores on a beatmap."""
        return await self._db.all(
            "fetch_user_beatmap_scores", user_id=user_id, ruleset=ruleset, beatmap_id=beatmap_id
        )

    async def drop_best(
        self, beatmap_id: int, ruleset: str, user_id: int, *, previous_total: int
    ) -> None:
        """Remove a leaderboard best (its total `previous_total`) and its board count."""
        await self._db.execute(
            "delete_score_best", beatmap_id=beatmap_id, ruleset=ruleset, user_id=user_id
        )
        await self._move_on_board(beatmap_id, ruleset, user_id, previous_total, None)

    async def drop_pp_best(self, user_id: int, ruleset: str, beatmap_id: int) -> None:
        """Remove a pp best."""
        await self._db.execute(
            "delete_pp_best", user_id=user_id, ruleset=ruleset, beatmap_id=beatmap_id
        )

    async def bests_summary(self, user_id: int, ruleset: str) -> list[tuple[int, str, int]]:
        """(total, grade, beatmap status) of a user's leaderboard bests."""
        rows = await self._db.all("fetch_user_bests_summary", user_id=user_id, ruleset=ruleset)
        return [(int(r["total_score"]), str(r["grade"]), int(r["status"])) for r in rows]

    async def user_plays(self, user_id: int, ruleset: str) -> list[StoredPlay]:
        """Every play of a user in a ruleset, oldest first."""
        rows = await self._db.all("fetch_user_plays", user_id=user_id, ruleset=ruleset)
        return [msgspec.convert(row, StoredPlay, strict=False) for row in rows]

    async def set_play_counted(self, score_id: int, counted: bool) -> None:
        """Record whether a play counts for play tracking."""
        await self._db.execute(
            "set_score_play_counted", score_id=score_id, play_counted=int(counted)
        )

    async def set_play_counters(self, user_id: int, ruleset: str, counters: PlayCounters) -> None:
        """Overwrite the statistics summed from plays."""
        await self._db.execute(
            "set_play_totals",
            user_id=user_id,
            ruleset=ruleset,
            **msgspec.structs.asdict(counters),
        )

    async def statistics_rows(self, user_id: int) -> list[dict[str, Any]]:
        """A user's statistics rows as stored (recalc compares before and after)."""
        return await self._db.all("fetch_user_statistics", user_id=user_id)

    async def set_derived_statistics(
        self,
        user_id: int,
        ruleset: str,
        *,
        ranked_score: int,
        pp: float,
        hit_accuracy: float,
        grades: dict[str, int],
    ) -> None:
        """Overwrite the statistics that derive from bests."""
        await self._db.execute(
            "set_derived_statistics",
            user_id=user_id,
            ruleset=ruleset,
            ranked_score=ranked_score,
            pp=pp,
            hit_accuracy=hit_accuracy,
            **grades,
        )

    # Rankings -----------------------------------------------------------------------------

    async def ranking_user_ids(
        self, kind: str, ruleset: str, country_code: str | None, limit: int, offset: int
    ) -> list[int]:
        """User ids of a rankings page (kind: performance or score)."""
        if country_code is None:
            name = "fetch_rankings_performance" if kind == "performance" else "fetch_rankings_score"
            rows = await self._db.all(name, ruleset=ruleset, limit=limit, offset=offset)
        else:
            name = (
                "fetch_rankings_performance_country"
                if kind == "performance"
                else "fetch_rankings_score_country"
            )
            rows = await self._db.all(
                name, ruleset=ruleset, country_code=country_code, limit=limit, offset=offset
            )
        return [int(r["user_id"]) for r in rows]

    async def ranking_count(self, ruleset: str) -> int:
        """How many users have pp in a ruleset."""
        return int(await self._db.value("count_rankings_performance", ruleset=ruleset))

    async def country_rankings(self, ruleset: str, limit: int, offset: int) -> list[dict[str, Any]]:
        """Countries by total pp."""
        return await self._db.all(
            "fetch_country_rankings", ruleset=ruleset, limit=limit, offset=offset
        )

    async def snapshot_ranks(self, ruleset: str, day: date) -> None:
        """Record every ranked user's global rank for a day."""
        await self._db.execute("snapshot_rank_history", ruleset=ruleset, day=day.isoformat())

    async def rank_history(self, user_id: int, ruleset: str, since: date) -> list[tuple[date, int]]:
        """A user's daily ranks since a day."""
        rows = await self._db.all(
            "fetch_rank_history", user_id=user_id, ruleset=ruleset, since=since
        )
        return [(row["day"], int(row["rank"])) for row in rows]
