"""beatmapsets/search: categories, filters (with osu-web's query syntax inside `q`), sort
orders and keyset pages."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Final

import msgspec

from server.models.beatmaps import Beatmapset, SearchResult
from server.models.cursors import encode_cursor_string
from server.models.rulesets import RULESETS
from server.repositories.beatmaps import (
    SORT_COLUMNS,
    BeatmapRecord,
    BeatmapRepository,
    BeatmapsetRecord,
    SearchFilter,
    SearchOrder,
)
from server.services import beatmapset_query
from server.services.beatmap_cache import LOOKUP_CACHE_SECONDS, BeatmapCache, set_beatmaps_key
from server.services.beatmap_ingest import aware_utc

log = logging.getLogger(__name__)

SEARCH_PAGE_SIZE: Final = 50
_set_beatmaps_decoder = msgspec.json.Decoder(list[BeatmapRecord])
_encoder = msgspec.json.Encoder()


class SearchRejected(Enum):
    """Expected failures of a search request."""

    BAD_CURSOR = "bad_cursor"
    NEEDS_USER = "needs_user"
    BAD_RANK = "bad_rank"
    BAD_PLAYED = "bad_played"


# Grades the `r` filter takes (lazer's ScoreRank names; F is never a best).
SEARCH_RANKS: Final = frozenset({"XH", "X", "SH", "S", "A", "B", "C", "D"})
# osu-web (User::recommendedStarDifficulty): pp^0.4 * 0.195, searched within ±0.5 stars.
RECOMMENDED_WINDOW: Final = 0.5
_NO_DATA_GENERALS: Final = frozenset({"follows", "spotlights", "featured_artists"})


def recommended_difficulty(pp: float | None) -> float:
    """The star rating osu-web recommends for a user with this much pp (0 without stats)."""
    return 0.0 if pp is None else max(pp, 0.0) ** 0.4 * 0.195


class SearchQuery(msgspec.Struct, frozen=True, kw_only=True):
    """beatmapsets/search parameters, as lazer's search screen and osu-web name them.

    `c=follows|spotlights|featured_artists` filter on data this server does not keep
    (mapper subscriptions, spotlights, the featured-artist catalogue), so they match no
    set: an empty page, never an unfiltered one."""

    q: str = ""
    mode: int | None = None
    category: str = "leaderboard"
    general: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    genre: int | None = None
    language: int | None = None
    nsfw: bool = False
    sort: str | None = None
    # `cursor[...]` as lazer echoes it, or the fields of a `cursor_string` (decoded by the
    # handler: server/api/params.py).
    cursor: dict[str, str] = msgspec.field(default_factory=dict)
    ranks: tuple[str, ...] = ()
    played: str | None = None


_CATEGORIES: Final[dict[str, tuple[int, ...] | None]] = {
    "any": None,
    "leaderboard": (1, 2, 3, 4),
    "ranked": (1, 2),
    "qualified": (3,),
    "loved": (4,),
    "favourites": None,
    "pending": (0, -1),
    "wip": (-1,),
    "graveyard": (-2,),
    "mine": None,
}
# Sort criteria lazer sends, mapped to stored columns. We keep no user ratings or
# nominations, and have no full-text relevance score: those sort as osu-web's default
# (rank date) would, a deliberate simplification. Difficulty sorts by the easiest
# difficulty ascending and by the hardest descending, as osu-web does.
_SORTS: Final[dict[str, tuple[str, str]]] = {
    "title": ("title", "title"),
    "artist": ("artist", "artist"),
    "difficulty": ("difficulty_min", "difficulty_max"),
    "updated": ("updated", "updated"),
    "ranked": ("ranked", "ranked"),
    "rating": ("favourites", "favourites"),
    "plays": ("plays", "plays"),
    "favourites": ("favourites", "favourites"),
    "relevance": ("ranked", "ranked"),
    "nominations": ("ranked", "ranked"),
}
_FLOAT_COLUMNS: Final = frozenset({"difficulty_min", "difficulty_max"})
_INT_COLUMNS: Final = frozenset({"plays", "favourites"})
_DATE_COLUMNS: Final = frozenset({"updated", "ranked"})


# The beatmapset presenter (BeatmapService.beatmapset_shape): a set, its difficulties and
# whether the viewer favourited it, as APIBeatmapSet.
PresentSet = Callable[..., Beatmapset]


class BeatmapSearch:
    """One page of beatmapsets/search."""

    def __init__(
        self,
        repo: BeatmapRepository,
        cache: BeatmapCache,
        present_set: PresentSet,
        *,
        all_statuses_ranked: bool,
    ) -> None:
        self._repo = repo
        self._cache = cache
        self._present_set = present_set
        self._all_statuses = all_statuses_ranked

    async def search(
        self, query: SearchQuery, user_id: int | None
    ) -> SearchResult | SearchRejected:
        """One page of beatmapsets/search."""
        category = query.category if query.category in _CATEGORIES else "leaderboard"
        statuses = _CATEGORIES[category]
        personal = category in ("favourites", "mine") or query.played or query.ranks
        if (personal or "recommended" in query.general) and user_id is None:
            return SearchRejected.NEEDS_USER
        if any(rank not in SEARCH_RANKS for rank in query.ranks):
            return SearchRejected.BAD_RANK
        if query.played not in (None, "any", "played", "unplayed"):
            return SearchRejected.BAD_PLAYED
        recommended = None
        if user_id is not None:
            ruleset = RULESETS[query.mode if query.mode is not None else 0]
            recommended = recommended_difficulty(await self._repo.user_pp(user_id, ruleset))
        modes_mask = 0
        if query.mode is not None:
            modes_mask = 1 << query.mode
            # osu! maps convert to every ruleset; osu-web lists converts only when asked.
            if "converts" in query.general and query.mode != 0:
                modes_mask |= 1
        parsed = beatmapset_query.parse(query.q)
        options = beatmapset_query.filter_fields(
            parsed,
            query.mode,
            None if self._all_statuses and category in ("leaderboard", "ranked") else statuses,
        )
        if _NO_DATA_GENERALS.intersection(query.general):
            options["match_nothing"] = True
        flt = SearchFilter(
            words=tuple(word.lower() for word in parsed.keywords.split())[:16],
            modes_mask=modes_mask,
            creator_id=user_id if category == "mine" else None,
            favourites_of=user_id if category == "favourites" else None,
            genre_id=query.genre,
            language_id=query.language,
            nsfw=query.nsfw,
            video="video" in query.extra,
            storyboard="storyboard" in query.extra,
            played_by=user_id if query.played in ("played", "unplayed") else None,
            played=query.played == "played",
            ranks_of=user_id if query.ranks else None,
            ranks=query.ranks,
            ranks_ruleset=RULESETS[query.mode] if query.mode is not None else None,
            star_range=(recommended - RECOMMENDED_WINDOW, recommended + RECOMMENDED_WINDOW)
            if recommended is not None and "recommended" in query.general
            else None,
            star_mode=query.mode,
            **options,
        )
        sort = query.sort or ("relevance_desc" if parsed.keywords else "ranked_desc")
        criterion, _, direction = sort.rpartition("_")
        if criterion not in _SORTS or direction not in ("asc", "desc"):
            criterion, direction = "ranked", "desc"
        descending = direction == "desc"
        column = _SORTS[criterion][1 if descending else 0]
        after = _parse_cursor(dict(query.cursor), column)
        if after is SearchRejected.BAD_CURSOR:
            return SearchRejected.BAD_CURSOR
        assert not isinstance(after, SearchRejected)
        order = SearchOrder(
            column=column,
            descending=descending,
            after_value=after[0] if after else None,
            after_id=after[1] if after else None,
        )
        rows = await self._repo.search(flt, order, SEARCH_PAGE_SIZE + 1)
        more = len(rows) > SEARCH_PAGE_SIZE
        rows = rows[:SEARCH_PAGE_SIZE]
        total = await self._repo.search_total(flt)
        beatmaps = await self._beatmaps_of_sets([r.id for r in rows])
        favourites = (
            await self._repo.favourited_among(user_id, [r.id for r in rows]) if user_id else set()
        )
        next_cursor: dict[str, str | int] | None = None
        if more and rows:
            last = rows[-1]
            next_cursor = {"sort_value": _cursor_value(last, column), "id": last.id}
        return SearchResult(
            beatmapsets=[
                self._present_set(r, beatmaps.get(r.id, []), favourited=r.id in favourites)
                for r in rows
            ],
            search={"sort": f"{criterion}_{direction}"},
            recommended_difficulty=recommended,
            error=None,
            total=total,
            cursor=next_cursor,
            cursor_string=encode_cursor_string(next_cursor) if next_cursor else None,
        )

    async def _beatmaps_of_sets(self, set_ids: list[int]) -> dict[int, list[BeatmapRecord]]:
        """Difficulties of several sets, from the cache where present."""
        found: dict[int, list[BeatmapRecord]] = {}
        if not set_ids:
            return found
        keys = [set_beatmaps_key(i) for i in set_ids]
        cached = await self._cache.get_many(keys)
        for set_id, raw in zip(set_ids, cached, strict=True):
            if raw is not None:
                with contextlib.suppress(msgspec.DecodeError):  # a bad entry is a miss
                    found[set_id] = _set_beatmaps_decoder.decode(raw)
        missing = [i for i in set_ids if i not in found]
        if missing:
            loaded: dict[int, list[BeatmapRecord]] = {i: [] for i in missing}
            for beatmap in await self._repo.beatmaps_of_sets(missing):
                loaded[beatmap.beatmapset_id].append(beatmap)
            for set_id, rows in loaded.items():
                await self._cache.set(
                    set_beatmaps_key(set_id),
                    _encoder.encode(rows),
                    LOOKUP_CACHE_SECONDS,
                )
            found.update(loaded)
        return found


# Cursor values survive lazer's round trip: lazer parses the cursor with Newtonsoft, which
# turns date-like strings into DateTime and prints them back in the machine's culture, and
# echoes each value as `cursor[key]=value.ToString()`. So times travel as epoch seconds, text
# with a prefix that no date parser accepts, and floats as their exact repr in a string.
_TEXT_PREFIX: Final = "t:"


def _cursor_value(record: BeatmapsetRecord, column: str) -> str | int:
    if column == "title":
        return _TEXT_PREFIX + record.title
    if column == "artist":
        return _TEXT_PREFIX + record.artist
    if column == "difficulty_min":
        return repr(record.difficulty_min)
    if column == "difficulty_max":
        return repr(record.difficulty_max)
    if column == "plays":
        return record.play_count
    if column == "favourites":
        return record.favourite_count
    if column == "updated":
        return int(aware_utc(record.last_updated).timestamp())
    return int(aware_utc(record.ranked_date or record.last_updated).timestamp())


def _parse_cursor(cursor: dict[str, str], column: str) -> tuple[Any, int] | SearchRejected | None:
    if not cursor:
        return None
    raw_value, raw_id = cursor.get("sort_value"), cursor.get("id")
    if raw_value is None or raw_id is None or column not in SORT_COLUMNS:
        return SearchRejected.BAD_CURSOR
    try:
        last_id = int(raw_id)
        value: Any
        if column in _FLOAT_COLUMNS:
            value = float(raw_value)
            if value != value or value in (float("inf"), float("-inf")):
                return SearchRejected.BAD_CURSOR
        elif column in _INT_COLUMNS:
            value = int(raw_value)
        elif column in _DATE_COLUMNS:
            value = datetime.fromtimestamp(int(raw_value), UTC).replace(tzinfo=None)
        elif raw_value.startswith(_TEXT_PREFIX):
            value = raw_value.removeprefix(_TEXT_PREFIX)
        else:
            return SearchRejected.BAD_CURSOR
    except (TypeError, ValueError, OverflowError, OSError):
        return SearchRejected.BAD_CURSOR
    if abs(last_id) >= 2**31 or (isinstance(value, int) and abs(value) >= 2**63):
        return SearchRejected.BAD_CURSOR
    return value, last_id
