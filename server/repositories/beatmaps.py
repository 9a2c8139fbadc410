"""Beatmapsets, beatmaps, their per-ruleset difficulties and set favourites."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from pypika import Criterion, MySQLQuery, Order, Parameter, SQLLiteQuery, Table
from pypika import functions as fn
from pypika.terms import CustomFunction, Term

from server.db import DUPLICATE_KEY_ERRORS, Database
from server.near_cache import NearCache

__all__ = ["DUPLICATE_KEY_ERRORS"]  # re-exported for the ingest path


class BeatmapsetRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A stored beatmapset."""

    id: int
    artist: str
    artist_unicode: str
    title: str
    title_unicode: str
    creator: str
    user_id: int
    source: str
    tags: str
    status: int
    bpm: float
    modes: int
    difficulty_min: float
    difficulty_max: float
    genre_id: int
    language_id: int
    nsfw: bool
    video: bool
    storyboard: bool
    download_disabled: bool
    play_count: int = 0
    favourite_count: int = 0
    osz_checksum: str | None
    submitted_date: datetime
    ranked_date: datetime | None
    last_updated: datetime
    synced_at: datetime | None
    # Only single-set reads carry it (ingest compares it); lists leave the column out.
    search_text: str = ""


class BeatmapRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A stored beatmap (difficulty)."""

    id: int
    beatmapset_id: int
    checksum: str
    filename: str
    version: str
    mode: int
    status: int
    user_id: int
    total_length: int
    hit_length: int
    cs: float
    ar: float
    od: float
    hp: float
    bpm: float
    count_circles: int
    count_sliders: int
    count_spinners: int
    max_combo: int
    difficulty_rating: float
    is_suspicious: bool
    playcount: int = 0
    passcount: int = 0
    last_updated: datetime


class DifficultyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """Star rating and max combo of a beatmap in one ruleset."""

    beatmap_id: int
    ruleset_id: int
    stars: float
    max_combo: int
    algorithm_version: str


# Search sort expressions; each has a direction and is paired with the set id as tie-break.
_sets = Table("beatmapsets")
_beatmaps = Table("beatmaps")
_favourites = Table("beatmapset_favourites")
_scores = Table("scores")
_score_bests = Table("score_bests")
_instr = CustomFunction("INSTR", ["haystack", "needle"])
# Columns of set lists: everything but the search text, which only the filter reads.
_SET_LIST_COLUMNS = [
    _sets.field(name) for name in BeatmapsetRecord.__struct_fields__ if name != "search_text"
]


class SearchFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Filters of a beatmapset search, already validated by the service."""

    words: tuple[str, ...] = ()
    statuses: tuple[int, ...] | None = None
    modes_mask: int = 0
    creator_id: int | None = None
    favourites_of: int | None = None
    genre_id: int | None = None
    language_id: int | None = None
    nsfw: bool = True
    video: bool = False
    storyboard: bool = False
    # `played`: sets with (True) or without (False) a score by `played_by`.
    played_by: int | None = None
    played: bool = True
    # `r`: sets where `ranks_of`'s best score on some difficulty has one of these grades,
    # in `ranks_ruleset` when the search names a ruleset.
    ranks_of: int | None = None
    ranks: tuple[str, ...] = ()
    ranks_ruleset: str | None = None
    # `c=recommended`: sets with a difficulty (of `star_mode`, if given) in this range.
    star_range: tuple[float, float] | None = None
    star_mode: int | None = None
    # A filter on data this server does not keep (spotlights, featured artists, mapper
    # follows): nothing can match it, so the page is empty rather than unfiltered.
    match_nothing: bool = False


class SearchOrder(msgspec.Struct, frozen=True, kw_only=True):
    """A sort column (one of `SORT_COLUMNS`), its direction, and the keyset to start after."""

    column: str
    descending: bool
    after_value: Any = None
    after_id: int | None = None


# What each sort criterion orders by. Every expression is NOT NULL so keyset pagination
# (value, id) is total: unranked sets sort by their last update when ordered by rank date.
# Text sorts use the column's collation (case-insensitive on MySQL, binary on SQLite): the
# ORDER BY and the keyset comparison use the same expression, so pages never overlap.
SORT_COLUMNS: dict[str, Term] = {
    "title": _sets.title,
    "artist": _sets.artist,
    "difficulty_min": _sets.difficulty_min,
    "difficulty_max": _sets.difficulty_max,
    "updated": _sets.last_updated,
    "ranked": fn.Coalesce(_sets.ranked_date, _sets.last_updated),  # type: ignore[no-untyped-call]
    "plays": _sets.play_count,
    "favourites": _sets.favourite_count,
}


_REGION = "beatmap"
_SET_REGION = "beatmapset"
# Every committed change invalidates at once (BeatmapIngest.forget_cached, score
# submission's play counts); the lifetime bounds edits made by hand in SQL.
_CACHE_SECONDS = 60


class BeatmapRepository:
    """SQL for beatmaps and beatmapsets."""

    def __init__(self, db: Database, near: NearCache | None = None) -> None:
        self._db = db
        self._near = near
        self._cached = near.region(_REGION, _CACHE_SECONDS) if near else None
        self._cached_sets = near.region(_SET_REGION, _CACHE_SECONDS) if near else None

    def _query(self) -> type[MySQLQuery] | type[SQLLiteQuery]:
        return MySQLQuery if self._db.dialect == "mysql" else SQLLiteQuery

    async def beatmapset(self, beatmapset_id: int) -> BeatmapsetRecord | None:
        """One set by id."""
        row = await self._db.one("fetch_beatmapset", beatmapset_id=beatmapset_id)
        return None if row is None else msgspec.convert(row, BeatmapsetRecord, strict=False)

    async def beatmap(self, beatmap_id: int) -> BeatmapRecord | None:
        """One beatmap by id, as stored now."""
        row = await self._db.one("fetch_beatmap", beatmap_id=beatmap_id)
        return None if row is None else msgspec.convert(row, BeatmapRecord, strict=False)

    async def cached_beatmap(self, beatmap_id: int) -> BeatmapRecord | None:
        """One beatmap by id through the near cache, which every committed change through
        the app invalidates on all instances: for leaderboards and the play loop (tokens,
        submission). Ingest, which compares against what is stored, uses beatmap."""
        if self._cached is None:
            return await self.beatmap(beatmap_id)
        return await self._cached.through(beatmap_id, lambda: self.beatmap(beatmap_id))

    async def cached_beatmapset(self, beatmapset_id: int) -> BeatmapsetRecord | None:
        """One set by id through the near cache (see cached_beatmap)."""
        if self._cached_sets is None:
            return await self.beatmapset(beatmapset_id)
        return await self._cached_sets.through(
            beatmapset_id, lambda: self.beatmapset(beatmapset_id)
        )

    async def forget(self, beatmap_ids: list[int], beatmapset_ids: Sequence[int] = ()) -> None:
        """Drop beatmaps and sets from every instance's near cache (after a committed
        change)."""
        if self._near is not None:
            await self._near.invalidate_many(
                [(_REGION, list(beatmap_ids)), (_SET_REGION, list(beatmapset_ids))]
            )

    async def beatmap_by_checksum(self, checksum: str) -> BeatmapRecord | None:
        """One beatmap by .osu MD5."""
        row = await self._db.one("fetch_beatmap_by_checksum", checksum=checksum)
        return None if row is None else msgspec.convert(row, BeatmapRecord, strict=False)

    async def beatmap_by_filename(self, filename: str) -> BeatmapRecord | None:
        """One beatmap by .osu file name."""
        row = await self._db.one("fetch_beatmap_by_filename", filename=filename)
        return None if row is None else msgspec.convert(row, BeatmapRecord, strict=False)

    async def beatmaps_of_set(self, beatmapset_id: int) -> list[BeatmapRecord]:
        """A set's beatmaps, by mode then difficulty."""
        rows = await self._db.all("fetch_beatmaps_of_set", beatmapset_id=beatmapset_id)
        return [msgspec.convert(row, BeatmapRecord, strict=False) for row in rows]

    async def difficulties(self, beatmap_id: int) -> list[DifficultyRecord]:
        """A beatmap's stored star ratings per ruleset."""
        rows = await self._db.all("fetch_beatmap_difficulties", beatmap_id=beatmap_id)
        return [msgspec.convert(row, DifficultyRecord, strict=False) for row in rows]

    async def set_difficulties(self, beatmapset_id: int) -> list[DifficultyRecord]:
        """Star ratings per ruleset of a set's beatmaps (converts included)."""
        rows = await self._db.all("fetch_set_difficulties", beatmapset_id=beatmapset_id)
        return [msgspec.convert(row, DifficultyRecord, strict=False) for row in rows]

    async def beatmaps_by_ids(self, ids: Sequence[int]) -> list[BeatmapRecord]:
        """Beatmaps for a list of ids (unknown ids left out), in id order."""
        if not ids:
            return []
        params = {f"id{i}": value for i, value in enumerate(dict.fromkeys(ids))}
        query = (
            self._query()
            .from_(_beatmaps)
            .select("*")
            .where(_beatmaps.id.isin([Parameter(f":{name}") for name in params]))
            .orderby(_beatmaps.id)
        )
        rows = await self._db.all_dynamic(str(query), **params)
        return [msgspec.convert(row, BeatmapRecord, strict=False) for row in rows]

    async def beatmapsets_by_ids(self, ids: Sequence[int]) -> list[BeatmapsetRecord]:
        """Sets for a list of ids (unknown ids left out)."""
        if not ids:
            return []
        params = {f"id{i}": value for i, value in enumerate(dict.fromkeys(ids))}
        query = (
            self._query()
            .from_(_sets)
            .select(*_SET_LIST_COLUMNS)
            .where(_sets.id.isin([Parameter(f":{name}") for name in params]))
        )
        rows = await self._db.all_dynamic(str(query), **params)
        return [msgspec.convert(row, BeatmapsetRecord, strict=False) for row in rows]

    async def beatmaps_of_sets(self, set_ids: Sequence[int]) -> list[BeatmapRecord]:
        """The beatmaps of several sets (search results), by set, mode and difficulty."""
        if not set_ids:
            return []
        params = {f"s{i}": value for i, value in enumerate(dict.fromkeys(set_ids))}
        query = (
            self._query()
            .from_(_beatmaps)
            .select("*")
            .where(_beatmaps.beatmapset_id.isin([Parameter(f":{name}") for name in params]))
            .orderby(
                _beatmaps.beatmapset_id, _beatmaps.mode, _beatmaps.difficulty_rating, _beatmaps.id
            )
        )
        rows = await self._db.all_dynamic(str(query), **params)
        return [msgspec.convert(row, BeatmapRecord, strict=False) for row in rows]

    async def favourited_among(self, user_id: int, set_ids: Sequence[int]) -> set[int]:
        """Which of these sets the user has favourited."""
        if not set_ids:
            return set()
        params: dict[str, Any] = {f"s{i}": v for i, v in enumerate(dict.fromkeys(set_ids))}
        params["user_id"] = user_id
        query = (
            self._query()
            .from_(_favourites)
            .select(_favourites.beatmapset_id)
            .where(_favourites.user_id == Parameter(":user_id"))
            .where(
                _favourites.beatmapset_id.isin(
                    [Parameter(f":{name}") for name in params if name != "user_id"]
                )
            )
        )
        rows = await self._db.all_dynamic(str(query), **params)
        return {int(row["beatmapset_id"]) for row in rows}

    def _search_criteria(self, flt: SearchFilter, params: dict[str, Any]) -> list[Criterion]:
        criteria: list[Criterion] = []
        for i, word in enumerate(flt.words):
            # INSTR over the lower-cased denormalised text: a substring match on both
            # dialects without LIKE's wildcard escaping.
            params[f"w{i}"] = word
            criteria.append(_instr(_sets.search_text, Parameter(f":w{i}")) > 0)
        if flt.statuses is not None:
            names = []
            for i, status in enumerate(flt.statuses):
                params[f"st{i}"] = status
                names.append(Parameter(f":st{i}"))
            criteria.append(_sets.status.isin(names))
        if flt.modes_mask:
            params["modes_mask"] = flt.modes_mask
            # pypika's hint says int, but any term renders: the mask stays a bound parameter.
            mask = Parameter(":modes_mask")
            criteria.append(_sets.modes.bitwiseand(mask) != 0)  # type: ignore[arg-type]
        if flt.creator_id is not None:
            params["creator_id"] = flt.creator_id
            criteria.append(_sets.user_id == Parameter(":creator_id"))
        if flt.favourites_of is not None:
            params["fav_user"] = flt.favourites_of
            favourites = (
                self._query()
                .from_(_favourites)
                .select(_favourites.beatmapset_id)
                .where(_favourites.user_id == Parameter(":fav_user"))
            )
            criteria.append(_sets.id.isin(favourites))
        if flt.genre_id is not None:
            params["genre_id"] = flt.genre_id
            criteria.append(_sets.genre_id == Parameter(":genre_id"))
        if flt.language_id is not None:
            params["language_id"] = flt.language_id
            criteria.append(_sets.language_id == Parameter(":language_id"))
        if not flt.nsfw:
            criteria.append(_sets.nsfw == 0)
        if flt.video:
            criteria.append(_sets.video == 1)
        if flt.storyboard:
            criteria.append(_sets.storyboard == 1)
        if flt.played_by is not None:
            params["played_user"] = flt.played_by
            played = (
                self._query()
                .from_(_beatmaps)
                .join(_scores)
                .on(_scores.beatmap_id == _beatmaps.id)
                .select(_beatmaps.beatmapset_id)
                .where(_scores.user_id == Parameter(":played_user"))
            )
            criteria.append(_sets.id.isin(played) if flt.played else _sets.id.notin(played))
        if flt.ranks_of is not None and flt.ranks:
            params["rank_user"] = flt.ranks_of
            grades = []
            for i, grade in enumerate(flt.ranks):
                params[f"grade{i}"] = grade
                grades.append(Parameter(f":grade{i}"))
            condition: Criterion = (_score_bests.user_id == Parameter(":rank_user")) & (
                _scores.rank.isin(grades)
            )
            if flt.ranks_ruleset is not None:
                params["rank_ruleset"] = flt.ranks_ruleset
                condition &= _score_bests.ruleset == Parameter(":rank_ruleset")
            achieved = (
                self._query()
                .from_(_beatmaps)
                .join(_score_bests)
                .on(_score_bests.beatmap_id == _beatmaps.id)
                .join(_scores)
                .on(_scores.id == _score_bests.score_id)
                .select(_beatmaps.beatmapset_id)
                .where(condition)
            )
            criteria.append(_sets.id.isin(achieved))
        if flt.star_range is not None:
            params["stars_low"], params["stars_high"] = flt.star_range
            stars: Criterion = _beatmaps.difficulty_rating.between(
                Parameter(":stars_low"), Parameter(":stars_high")
            )
            if flt.star_mode is not None:
                params["star_mode"] = flt.star_mode
                stars &= _beatmaps.mode == Parameter(":star_mode")
            in_range = self._query().from_(_beatmaps).select(_beatmaps.beatmapset_id).where(stars)
            criteria.append(_sets.id.isin(in_range))
        if flt.match_nothing:
            criteria.append(_sets.id.isnull())  # the primary key is never NULL
        return criteria

    async def search(
        self, flt: SearchFilter, order: SearchOrder, limit: int
    ) -> list[BeatmapsetRecord]:
        """One page of sets matching the filter, after the order's keyset."""
        params: dict[str, Any] = {"limit": limit}
        criteria = self._search_criteria(flt, params)
        column = SORT_COLUMNS[order.column]
        if order.after_id is not None:
            params["after_value"] = order.after_value
            params["after_id"] = order.after_id
            value, last_id = Parameter(":after_value"), Parameter(":after_id")
            if order.descending:
                criteria.append((column < value) | ((column == value) & (_sets.id < last_id)))
            else:
                criteria.append((column > value) | ((column == value) & (_sets.id > last_id)))
        direction = Order.desc if order.descending else Order.asc
        query = (
            self._query()
            .from_(_sets)
            .select(*_SET_LIST_COLUMNS)
            .orderby(column, order=direction)
            .orderby(_sets.id, order=direction)
            .limit(Parameter(":limit"))  # type: ignore[arg-type]
        )
        if criteria:
            query = query.where(Criterion.all(criteria))
        rows = await self._db.all_dynamic(str(query), **params)
        return [msgspec.convert(row, BeatmapsetRecord, strict=False) for row in rows]

    async def user_pp(self, user_id: int, ruleset: str) -> float | None:
        """A user's pp in a ruleset, for the recommended difficulty; None without stats."""
        pp = await self._db.value("fetch_user_ruleset_pp", user_id=user_id, ruleset=ruleset)
        return None if pp is None else float(pp)

    async def search_total(self, flt: SearchFilter) -> int:
        """How many sets match the filter."""
        params: dict[str, Any] = {}
        criteria = self._search_criteria(flt, params)
        query = self._query().from_(_sets).select(fn.Count("*").as_("n"))
        if criteria:
            query = query.where(Criterion.all(criteria))
        rows = await self._db.all_dynamic(str(query), **params)
        return int(rows[0]["n"])

    async def save_beatmapset(self, record: BeatmapsetRecord, exists: bool) -> None:
        """Insert or replace a set's metadata (counters are left alone)."""
        values = msgspec.structs.asdict(record)
        values.pop("play_count")
        values.pop("favourite_count")
        await self._db.execute("update_beatmapset" if exists else "insert_beatmapset", **values)

    async def save_beatmap(self, record: BeatmapRecord, exists: bool) -> None:
        """Insert or replace a beatmap (play counts are left alone)."""
        values = msgspec.structs.asdict(record)
        values.pop("playcount")
        values.pop("passcount")
        await self._db.execute("update_beatmap" if exists else "insert_beatmap", **values)

    async def set_osz(self, beatmapset_id: int, osz_checksum: str) -> None:
        """Record a set's stored .osz."""
        await self._db.execute(
            "set_beatmapset_osz", beatmapset_id=beatmapset_id, osz_checksum=osz_checksum
        )

    async def replace_difficulties(self, beatmap_id: int, rows: Sequence[DifficultyRecord]) -> None:
        """Store a beatmap's star ratings, replacing any earlier ones."""
        await self._db.execute("delete_beatmap_difficulties", beatmap_id=beatmap_id)
        for row in rows:
            await self._db.execute("insert_beatmap_difficulty", **msgspec.structs.asdict(row))

    async def mark_synced(self, beatmapset_id: int, when: datetime) -> None:
        """Record an upstream confirmation."""
        await self._db.execute(
            "mark_beatmapset_synced", beatmapset_id=beatmapset_id, synced_at=when
        )

    async def is_favourite(self, user_id: int, beatmapset_id: int) -> bool:
        """Whether the user favourited the set."""
        found = await self._db.value(
            "fetch_beatmapset_favourite", user_id=user_id, beatmapset_id=beatmapset_id
        )
        return found is not None

    async def add_favourite(self, user_id: int, beatmapset_id: int, now: datetime) -> None:
        """Favourite (caller checked it is new)."""
        await self._db.execute(
            "insert_beatmapset_favourite", user_id=user_id, beatmapset_id=beatmapset_id, now=now
        )

    async def remove_favourite(self, user_id: int, beatmapset_id: int) -> None:
        """Unfavourite."""
        await self._db.execute(
            "delete_beatmapset_favourite", user_id=user_id, beatmapset_id=beatmapset_id
        )

    async def recount_favourites(self, beatmapset_id: int) -> int:
        """Recompute and return a set's favourite count."""
        await self._db.execute("recount_beatmapset_favourites", beatmapset_id=beatmapset_id)
        return int(
            await self._db.value("fetch_beatmapset_favourite_count", beatmapset_id=beatmapset_id)
            or 0
        )
