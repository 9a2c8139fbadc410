"""Beatmaps as the API serves them: lookups (local first, then upstream once), sets, search,
favourites, difficulty attributes and the raw `.osu` bytes scoring needs.

Expected failures are values (`None`, `FavouriteOutcome`, `AttributesRejected`); handlers map
them to osu-web's error bodies.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Final, TypeVar

import msgspec
from redis.exceptions import RedisError

from server.core import ConversionError, CoreError, InvalidArgument, SuspiciousBeatmap
from server.core import pp as core
from server.db import Database
from server.models.beatmaps import (
    GENRES,
    LANGUAGES,
    MODE_NAMES,
    STATUS_IDS,
    STATUS_NAMES,
    Availability,
    Beatmap,
    Beatmapset,
    Covers,
    DifficultyAttributesOut,
    Failtimes,
    NamedId,
    NominationsSummary,
    Owner,
    SearchResult,
)
from server.models.rulesets import RULESETS
from server.near_cache import NearCache
from server.repositories.beatmaps import (
    SORT_COLUMNS,
    BeatmapRecord,
    BeatmapRepository,
    BeatmapsetRecord,
    SearchFilter,
    SearchOrder,
)
from server.services.beatmap_files import FileStore, md5_hex
from server.services.beatmap_ingest import (
    BeatmapFile,
    BeatmapIngest,
    SetInput,
    SetMetadata,
    utc_now,
)
from server.services.osu_files import OszError, beatmap_filename, read_osz
from server.services.profiles import PROFILE_REGION
from server.services.upstream import Upstream, UpstreamBeatmapset, UpstreamError

log = logging.getLogger(__name__)

T = TypeVar("T")

SEARCH_PAGE_SIZE: Final = 50
_MISS_PREFIX = "beatmaps:upstream:miss:"
_ATTRIBUTES_PREFIX = "beatmaps:attributes:"
_ATTRIBUTES_TTL = 7 * 86_400
_FAILURE_MISS_SECONDS = 30
_UPSTREAM_FETCHES_PER_REQUEST = 5
# beatmaps/lookup is what lazer sends for every map it shows: its encoded answer is cached
# by id and by checksum. Ingest and favourites delete the keys of the set they change; the
# short TTL bounds staleness for writers in another process without this Redis (the CLI on
# the embedded default) and for counters (play and favourite counts).
LOOKUP_CACHE_PREFIX: Final = "beatmaps:lookup:"
LOOKUP_CACHE_SECONDS: Final = 60
# The difficulties of a set, as rows, for search pages (50 sets and their difficulties per
# page; decoding those rows from the database is most of a search's cost). Dropped with
# the lookups by ingest.
SET_BEATMAPS_CACHE_PREFIX: Final = "beatmaps:set-beatmaps:"
_set_beatmaps_decoder = msgspec.json.Decoder(list[BeatmapRecord])
_encoder = msgspec.json.Encoder()
# Statuses whose maps have leaderboards (lazer asks for scores only on these: §8.2 #22).
_LEADERBOARD_STATUSES: Final = frozenset({1, 2, 3, 4})
# Sets upstream may still change: re-synced when served after UPSTREAM_RESYNC_SECONDS.
_FINAL_STATUSES: Final = frozenset({1, 2, 4})


def has_leaderboard(status: int, all_statuses: bool) -> bool:
    """Whether scores on a map of this status go on leaderboards."""
    return all_statuses or status in _LEADERBOARD_STATUSES


def awards_pp(status: int, all_statuses: bool) -> bool:
    """Whether plays on a map of this status give pp (ranked and approved, as osu! does)."""
    return all_statuses or status in (1, 2)


class FavouriteOutcome(Enum):
    """Expected failures of a favourite request."""

    NOT_FOUND = "not_found"
    BAD_ACTION = "bad_action"


class AttributesRejected(Enum):
    """Expected failures of a difficulty-attributes request."""

    NOT_FOUND = "not_found"
    BAD_RULESET = "bad_ruleset"
    BAD_MODS = "bad_mods"
    SUSPICIOUS = "suspicious"
    FILE_MISSING = "file_missing"


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
    cursor: dict[str, str] = msgspec.field(default_factory=dict)
    cursor_string: str | None = None
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


class BeatmapService:
    """Reading, syncing and shaping beatmaps."""

    def __init__(
        self,
        db: Database,
        repo: BeatmapRepository,
        files: FileStore,
        ingest: BeatmapIngest,
        upstream: Upstream,
        redis: Any,
        pp_cache: core.PpCache,
        *,
        all_statuses_ranked: bool,
        resync_seconds: int,
        miss_seconds: int,
        proxy_downloads: bool = False,
        server_url: str = "",
        near: NearCache | None = None,
    ) -> None:
        self._db = db
        self._near = near
        self.repo = repo
        self.files = files
        self.ingest = ingest
        self.upstream = upstream
        self._redis = redis
        self._pp = pp_cache
        self._all_statuses = all_statuses_ranked
        self._resync = timedelta(seconds=resync_seconds)
        self._miss_seconds = miss_seconds
        self._proxy_downloads = proxy_downloads
        self._server_url = server_url.rstrip("/")
        # One upstream request per key at a time in this process; other callers wait for it.
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def aclose(self) -> None:
        """Close the upstream client and free parsed beatmaps."""
        await self.upstream.aclose()
        self._pp.close()

    # -- upstream ------------------------------------------------------------------------

    async def _single_flight(self, key: str, work: Callable[[], Awaitable[T]]) -> T:
        running = self._inflight.get(key)
        if running is not None:
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                if not running.cancelled():
                    raise  # this request itself was cancelled
                # The request doing the work went away mid-way: do it here instead.
                return await self._single_flight(key, work)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await work()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else logs it
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[key]

    # Redis holds only caches here: when it fails, work goes on without them.

    async def _cache_get(self, key: str) -> bytes | None:
        try:
            value = await self._redis.get(key)
        except RedisError as exc:
            log.warning("beatmap cache unavailable: %s", exc)
            return None
        return value.encode() if isinstance(value, str) else value

    async def _cache_set(self, key: str, value: bytes, seconds: int) -> None:
        try:
            await self._redis.set(key, value, ex=seconds)
        except RedisError as exc:
            log.warning("beatmap cache unavailable: %s", exc)

    async def _missed_recently(self, key: str) -> bool:
        return await self._cache_get(_MISS_PREFIX + key) is not None

    async def _remember_miss(self, key: str, seconds: int) -> None:
        if seconds > 0:
            await self._cache_set(_MISS_PREFIX + key, b"1", seconds)

    async def _from_upstream(self, key: str, **lookup: Any) -> int | None:
        """Ask upstream once for an unknown key; store the set; return the beatmap id."""
        if not self.upstream.enabled or await self._missed_recently(key):
            return None

        async def work() -> int | None:
            try:
                found = await self.upstream.lookup(**lookup)
                if found is None:
                    await self._remember_miss(key, self._miss_seconds)
                    return None
                if not await self.sync_set(found.beatmapset_id):
                    await self._remember_miss(key, min(self._miss_seconds, _FAILURE_MISS_SECONDS))
                    return None
                return found.id
            except UpstreamError as exc:
                log.warning("upstream lookup %s failed: %s", key, exc)
                await self._remember_miss(key, min(self._miss_seconds, _FAILURE_MISS_SECONDS))
                return None

        return await self._single_flight(key, work)

    async def sync_set(self, beatmapset_id: int) -> bool:
        """Fetch a set and its `.osu` files from upstream and store it; False on failure."""
        try:
            upstream_set = await self.upstream.beatmapset(beatmapset_id)
        except UpstreamError as exc:
            log.warning("upstream set %s failed: %s", beatmapset_id, exc)
            return False
        if upstream_set is None:
            return False
        files: list[BeatmapFile] = []
        for beatmap in upstream_set.beatmaps:
            if beatmap.checksum is None:
                log.warning(
                    "upstream set %s: beatmap %s has no checksum", beatmapset_id, beatmap.id
                )
                return False
            data = await self._file_for(beatmap.id, beatmap.checksum)
            if data is None:
                # All or nothing: a set stored without some of its difficulties would tell
                # lazer those difficulties do not exist.
                log.warning("no mirror served beatmap %s (%s)", beatmap.id, beatmap.checksum)
                return False
            files.append(
                BeatmapFile(
                    data=data,
                    filename=beatmap_filename(
                        upstream_set.artist,
                        upstream_set.title,
                        upstream_set.creator,
                        beatmap.version,
                    ),
                    beatmap_id=beatmap.id,
                    user_id=beatmap.user_id,
                    status=STATUS_IDS.get(beatmap.status, 0),
                    last_updated=beatmap.last_updated,
                )
            )
        outcome = await self.ingest.store_set(
            SetInput(
                beatmapset_id=upstream_set.id,
                status=STATUS_IDS.get(upstream_set.status, 0),
                files=files,
                metadata=set_metadata_from_upstream(upstream_set),
                synced=True,
            )
        )
        if outcome.rejected:
            log.warning("upstream set %s: rejected %s", beatmapset_id, outcome.rejected)
        return not outcome.rejected

    async def _file_for(self, beatmap_id: int, checksum: str) -> bytes | None:
        stored = await self.files.get("osu", checksum.lower())
        if stored is not None:
            return stored
        return await self.upstream.osu_file(beatmap_id, checksum)

    async def _fresh(self, beatmapset: BeatmapsetRecord) -> BeatmapsetRecord:
        """Re-sync a set upstream may have changed, when its last sync is old; else as is."""
        if (
            not self.upstream.enabled
            or beatmapset.synced_at is None
            or beatmapset.status in _FINAL_STATUSES
            or datetime.now(UTC) - _aware(beatmapset.synced_at) < self._resync
        ):
            return beatmapset
        key = f"resync:{beatmapset.id}"
        if await self._missed_recently(key):
            return beatmapset
        if not await self._single_flight(key, lambda: self.sync_set(beatmapset.id)):
            await self._remember_miss(key, _FAILURE_MISS_SECONDS)
            return beatmapset
        return await self.repo.beatmapset(beatmapset.id) or beatmapset

    # -- lookups -------------------------------------------------------------------------

    async def beatmap_by_id(self, beatmap_id: int) -> BeatmapRecord | None:
        """A beatmap by id, from upstream the first time when the fetcher is on."""
        found = await self.repo.beatmap(beatmap_id)
        if found is None and await self._from_upstream(f"id:{beatmap_id}", beatmap_id=beatmap_id):
            found = await self.repo.beatmap(beatmap_id)
        return found

    async def beatmap_by_checksum(self, checksum: str) -> BeatmapRecord | None:
        """A beatmap by .osu MD5; an unknown checksum of a known id means the map changed
        upstream, and the set is re-synced."""
        found = await self.repo.beatmap_by_checksum(checksum)
        if found is None and await self._from_upstream(f"md5:{checksum}", checksum=checksum):
            found = await self.repo.beatmap_by_checksum(checksum)
        return found

    async def beatmap_by_filename(self, filename: str) -> BeatmapRecord | None:
        """A beatmap by .osu file name."""
        found = await self.repo.beatmap_by_filename(filename)
        if found is None and await self._from_upstream(f"file:{filename}", filename=filename):
            found = await self.repo.beatmap_by_filename(filename)
        return found

    async def beatmapset_by_id(self, beatmapset_id: int) -> BeatmapsetRecord | None:
        """A set by id, from upstream the first time when the fetcher is on."""
        found = await self.repo.beatmapset(beatmapset_id)
        if found is None:
            key = f"set:{beatmapset_id}"
            if not self.upstream.enabled or await self._missed_recently(key):
                return None
            if not await self._single_flight(key, lambda: self.sync_set(beatmapset_id)):
                await self._remember_miss(key, min(self._miss_seconds, _FAILURE_MISS_SECONDS))
                return None
            return await self.repo.beatmapset(beatmapset_id)
        return await self._fresh(found)

    async def download(self, record: BeatmapsetRecord, no_video: bool) -> bytes | str | None:
        """A set's `.osz`: the stored bytes, else (proxy mode) fetched from the mirrors with
        failover and stored, else the URL of a mirror to redirect to; None when none."""
        if record.osz_checksum is not None:
            stored = await self.files.get("osz", record.osz_checksum)
            if stored is not None:
                return stored
        if not self._proxy_downloads:
            return self.upstream.download_url(record.id, no_video)
        checksums = {b.checksum for b in await self.repo.beatmaps_of_set(record.id)}

        async def is_this_set(data: bytes) -> bool:
            # A mirror serving another set (or a broken zip) fails over to the next one.
            try:
                contents = await asyncio.to_thread(read_osz, data)
            except OszError:
                return False
            return any(md5_hex(osu) in checksums for osu in contents.osu_files.values())

        data = await self._single_flight(
            f"osz:{record.id}", lambda: self.upstream.osz_file(record.id, is_this_set)
        )
        if data is None:
            return None
        await self.repo.set_osz(record.id, await self.files.put("osz", data))
        return data

    async def osu_file(self, beatmap: BeatmapRecord) -> bytes | None:
        """The stored `.osu` bytes of a beatmap (scoring reads them through here)."""
        return await self._file_for(beatmap.id, beatmap.checksum)

    # -- shapes --------------------------------------------------------------------------

    def _status_name(self, status: int) -> str:
        # LEADERBOARDS_FOR_ALL_STATUSES deliberately diverges from osu!: lazer only shows
        # leaderboards (and submits for ranking) on ranked/approved/qualified/loved maps, so
        # maps without a leaderboard status are presented as ranked. The stored status is
        # kept, and the setting can be turned off again.
        if self._all_statuses and status <= 0:
            return "ranked"
        return STATUS_NAMES.get(status, "pending")

    def _status_int(self, status: int) -> int:
        return 1 if self._all_statuses and status <= 0 else status

    def beatmap_shape(
        self,
        beatmap: BeatmapRecord,
        beatmapset: BeatmapsetRecord | None = None,
        *,
        favourited: bool = False,
        extended: bool = True,
    ) -> Beatmap:
        """APIBeatmap, with its set when given (as beatmaps/lookup and beatmaps/{id} send)."""
        return Beatmap(
            beatmapset_id=beatmap.beatmapset_id,
            difficulty_rating=beatmap.difficulty_rating,
            id=beatmap.id,
            mode=MODE_NAMES[beatmap.mode],
            status=self._status_name(beatmap.status),
            total_length=beatmap.total_length,
            user_id=beatmap.user_id,
            version=beatmap.version,
            accuracy=round(beatmap.od, 2),
            ar=round(beatmap.ar, 2),
            bpm=round(beatmap.bpm, 3),
            convert=False,
            count_circles=beatmap.count_circles,
            count_sliders=beatmap.count_sliders,
            count_spinners=beatmap.count_spinners,
            cs=round(beatmap.cs, 2),
            drain=round(beatmap.hp, 2),
            hit_length=beatmap.hit_length,
            is_scoreable=has_leaderboard(beatmap.status, self._all_statuses),
            last_updated=_aware(beatmap.last_updated),
            mode_int=beatmap.mode,
            passcount=beatmap.passcount,
            playcount=beatmap.playcount,
            ranked=self._status_int(beatmap.status),
            url=f"{self._server_url}/beatmaps/{beatmap.id}",
            checksum=beatmap.checksum,
            max_combo=beatmap.max_combo,
            beatmapset=(
                self.beatmapset_shape(beatmapset, favourited=favourited)
                if beatmapset is not None
                else msgspec.UNSET
            ),
            failtimes=Failtimes(fail=[0] * 100, exit=[0] * 100) if extended else msgspec.UNSET,
        )

    def beatmapset_shape(
        self,
        record: BeatmapsetRecord,
        beatmaps: Sequence[BeatmapRecord] | None = None,
        *,
        favourited: bool = False,
    ) -> Beatmapset:
        """APIBeatmapSet, with its beatmaps when given (beatmapsets/{id} and search)."""
        stamp = int(_aware(record.last_updated).timestamp())
        base = f"https://assets.ppy.sh/beatmaps/{record.id}/covers"

        def cover(name: str) -> str:
            return f"{base}/{name}.jpg?{stamp}"

        return Beatmapset(
            artist=record.artist,
            artist_unicode=record.artist_unicode,
            # Stock lazer loads images only from *.ppy.sh (§8.2 #20): official ids have
            # covers there, others fall back to lazer's default background.
            covers=Covers(
                cover=cover("cover"),
                cover_2x=cover("cover@2x"),
                card=cover("card"),
                card_2x=cover("card@2x"),
                list=cover("list"),
                list_2x=cover("list@2x"),
                slimcover=cover("slimcover"),
                slimcover_2x=cover("slimcover@2x"),
            ),
            creator=record.creator,
            favourite_count=record.favourite_count,
            genre_id=record.genre_id,
            id=record.id,
            language_id=record.language_id,
            nsfw=record.nsfw,
            play_count=record.play_count,
            preview_url=f"//b.ppy.sh/preview/{record.id}.mp3",
            source=record.source,
            status=self._status_name(record.status),
            title=record.title,
            title_unicode=record.title_unicode,
            user_id=record.user_id,
            video=record.video,
            bpm=round(record.bpm, 3),
            is_scoreable=has_leaderboard(record.status, self._all_statuses),
            last_updated=_aware(record.last_updated),
            nominations_summary=NominationsSummary(
                current=0,
                required_meta={"main_ruleset": 2, "non_main_ruleset": 1},
                eligible_main_rulesets=[],
            ),
            ranked=self._status_int(record.status),
            ranked_date=_aware(record.ranked_date) if record.ranked_date else None,
            storyboard=record.storyboard,
            submitted_date=_aware(record.submitted_date),
            tags=record.tags,
            availability=Availability(download_disabled=record.download_disabled),
            genre=NamedId(record.genre_id, GENRES.get(record.genre_id, "Unspecified")),
            language=NamedId(record.language_id, LANGUAGES.get(record.language_id, "Unspecified")),
            ratings=[0] * 11,
            has_favourited=favourited,
            version_count=len(beatmaps) if beatmaps is not None else 0,
            beatmaps=(
                [self.beatmap_shape(b, extended=False) for b in beatmaps]
                if beatmaps is not None
                else msgspec.UNSET
            ),
        )

    async def lookup(
        self, *, beatmap_id: int | None, checksum: str | None, filename: str | None
    ) -> bytes | None:
        """beatmaps/lookup as encoded JSON: the first key that finds a beatmap, cached.

        The answer holds nothing about the caller (the nested set's `has_favourited` is
        false, as lazer does not read it there), so one cached body serves everyone."""
        keys = []
        if beatmap_id is not None:
            keys.append(f"{LOOKUP_CACHE_PREFIX}id:{beatmap_id}")
        if checksum is not None:
            keys.append(f"{LOOKUP_CACHE_PREFIX}md5:{checksum}")
        for key in keys:
            cached = await self._cache_get(key)
            if cached is not None:
                return cached
        found: BeatmapRecord | None = None
        if beatmap_id is not None:
            found = await self.beatmap_by_id(beatmap_id)
        if found is None and checksum is not None:
            found = await self.beatmap_by_checksum(checksum)
        if found is None and filename is not None:
            found = await self.beatmap_by_filename(filename)
        if found is None:
            return None
        body = _encoder.encode(
            self.beatmap_shape(found, await self.repo.beatmapset(found.beatmapset_id))
        )
        for key in (
            f"{LOOKUP_CACHE_PREFIX}id:{found.id}",
            f"{LOOKUP_CACHE_PREFIX}md5:{found.checksum}",
        ):
            await self._cache_set(key, body, LOOKUP_CACHE_SECONDS)
        return body

    async def beatmap_with_set(self, beatmap: BeatmapRecord, user_id: int | None) -> Beatmap:
        """APIBeatmap with its beatmapset (beatmaps/lookup, beatmaps/{id})."""
        beatmapset = await self.repo.beatmapset(beatmap.beatmapset_id)
        favourited = (
            beatmapset is not None
            and user_id is not None
            and await self.repo.is_favourite(user_id, beatmapset.id)
        )
        return self.beatmap_shape(beatmap, beatmapset, favourited=favourited)

    async def beatmaps_with_sets(self, ids: Sequence[int]) -> list[Beatmap]:
        """beatmaps?ids[]: known ids only (unknown ones are fetched upstream once)."""
        found = {b.id: b for b in await self.repo.beatmaps_by_ids(ids)}
        if self.upstream.enabled:
            # Bounded: one request never waits on more than a few upstream round trips
            # (lazer's 10 s timeout); the rest are fetched when asked for again.
            missing_ids = [i for i in dict.fromkeys(ids) if i not in found]
            for missing in missing_ids[:_UPSTREAM_FETCHES_PER_REQUEST]:
                fetched = await self.beatmap_by_id(missing)
                if fetched is not None:
                    found[fetched.id] = fetched
        sets = {
            s.id: s
            for s in await self.repo.beatmapsets_by_ids([b.beatmapset_id for b in found.values()])
        }
        return [
            self.beatmap_shape(b, sets.get(b.beatmapset_id), extended=False)
            for b in sorted(found.values(), key=lambda b: b.id)
        ]

    async def set_with_beatmaps(self, record: BeatmapsetRecord, user_id: int | None) -> Beatmapset:
        """APIBeatmapSet with its beatmaps (beatmapsets/{id}, beatmapsets/lookup)."""
        beatmaps = await self.repo.beatmaps_of_set(record.id)
        favourited = user_id is not None and await self.repo.is_favourite(user_id, record.id)
        shape = self.beatmapset_shape(record, beatmaps, favourited=favourited)
        # The set's mapper; guest difficulties are not tracked (no per-difficulty owners).
        owners = [Owner(id=record.user_id, username=record.creator)] if record.user_id > 0 else []
        return msgspec.structs.replace(
            shape,
            beatmaps=[
                msgspec.structs.replace(self.beatmap_shape(b, extended=True), owners=owners)
                for b in beatmaps
            ],
            converts=await self._converts(beatmaps),
            description={"description": ""},
            recent_favourites=[],
        )

    async def _converts(self, beatmaps: Sequence[BeatmapRecord]) -> list[Beatmap]:
        """osu! beatmaps as the other rulesets play them, with the core's star ratings."""
        osu_maps = {b.id: b for b in beatmaps if b.mode == 0}
        if not osu_maps:
            return []
        converts = []
        for row in await self.repo.set_difficulties(beatmaps[0].beatmapset_id):
            beatmap = osu_maps.get(row.beatmap_id)
            if beatmap is None or row.ruleset_id == 0:
                continue
            shape = self.beatmap_shape(beatmap, extended=False)
            converts.append(
                msgspec.structs.replace(
                    shape,
                    mode=MODE_NAMES[row.ruleset_id],
                    mode_int=row.ruleset_id,
                    convert=True,
                    difficulty_rating=row.stars,
                    max_combo=row.max_combo,
                )
            )
        return converts

    # -- search --------------------------------------------------------------------------

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
            recommended = recommended_difficulty(await self.repo.user_pp(user_id, ruleset))
        modes_mask = 0
        if query.mode is not None:
            modes_mask = 1 << query.mode
            # osu! maps convert to every ruleset; osu-web lists converts only when asked.
            if "converts" in query.general and query.mode != 0:
                modes_mask |= 1
        flt = SearchFilter(
            words=tuple(word.lower() for word in query.q.split() if word)[:16],
            statuses=None
            if self._all_statuses and category in ("leaderboard", "ranked")
            else statuses,
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
            match_nothing=bool(_NO_DATA_GENERALS.intersection(query.general)),
        )
        sort = query.sort or ("relevance_desc" if query.q.strip() else "ranked_desc")
        criterion, _, direction = sort.rpartition("_")
        if criterion not in _SORTS or direction not in ("asc", "desc"):
            criterion, direction = "ranked", "desc"
        descending = direction == "desc"
        column = _SORTS[criterion][1 if descending else 0]
        cursor = dict(query.cursor)
        if query.cursor_string:
            decoded = _decode_cursor_string(query.cursor_string)
            if decoded is None:
                return SearchRejected.BAD_CURSOR
            cursor = decoded
        after = _parse_cursor(cursor, column)
        if after is SearchRejected.BAD_CURSOR:
            return SearchRejected.BAD_CURSOR
        assert not isinstance(after, SearchRejected)
        order = SearchOrder(
            column=column,
            descending=descending,
            after_value=after[0] if after else None,
            after_id=after[1] if after else None,
        )
        rows = await self.repo.search(flt, order, SEARCH_PAGE_SIZE + 1)
        more = len(rows) > SEARCH_PAGE_SIZE
        rows = rows[:SEARCH_PAGE_SIZE]
        total = await self.repo.search_total(flt)
        beatmaps = await self._beatmaps_of_sets([r.id for r in rows])
        favourites = (
            await self.repo.favourited_among(user_id, [r.id for r in rows]) if user_id else set()
        )
        next_cursor: dict[str, str | int] | None = None
        if more and rows:
            last = rows[-1]
            next_cursor = {"sort_value": _cursor_value(last, column), "id": last.id}
        return SearchResult(
            beatmapsets=[
                self.beatmapset_shape(r, beatmaps.get(r.id, []), favourited=r.id in favourites)
                for r in rows
            ],
            search={"sort": f"{criterion}_{direction}"},
            recommended_difficulty=recommended,
            error=None,
            total=total,
            cursor=next_cursor,
            cursor_string=_encode_cursor_string(next_cursor) if next_cursor else None,
        )

    async def _beatmaps_of_sets(self, set_ids: list[int]) -> dict[int, list[BeatmapRecord]]:
        """Difficulties of several sets, from the cache where present."""
        found: dict[int, list[BeatmapRecord]] = {}
        if not set_ids:
            return found
        keys = [f"{SET_BEATMAPS_CACHE_PREFIX}{i}" for i in set_ids]
        try:
            cached = await self._redis.mget(keys)
        except RedisError as exc:
            log.warning("beatmap cache unavailable: %s", exc)
            cached = [None] * len(keys)
        for set_id, raw in zip(set_ids, cached, strict=True):
            if raw is not None:
                with contextlib.suppress(msgspec.DecodeError):  # a bad entry is a miss
                    found[set_id] = _set_beatmaps_decoder.decode(raw)
        missing = [i for i in set_ids if i not in found]
        if missing:
            loaded: dict[int, list[BeatmapRecord]] = {i: [] for i in missing}
            for beatmap in await self.repo.beatmaps_of_sets(missing):
                loaded[beatmap.beatmapset_id].append(beatmap)
            for set_id, rows in loaded.items():
                await self._cache_set(
                    f"{SET_BEATMAPS_CACHE_PREFIX}{set_id}",
                    _encoder.encode(rows),
                    LOOKUP_CACHE_SECONDS,
                )
            found.update(loaded)
        return found

    # -- favourites ----------------------------------------------------------------------

    async def favourite(
        self, user_id: int, beatmapset_id: int, action: str
    ) -> int | FavouriteOutcome:
        """Favourite or unfavourite a set; returns its new favourite count."""
        if action not in ("favourite", "unfavourite"):
            return FavouriteOutcome.BAD_ACTION
        if await self.beatmapset_by_id(beatmapset_id) is None:
            return FavouriteOutcome.NOT_FOUND
        async with self._db.transaction():
            present = await self.repo.is_favourite(user_id, beatmapset_id)
            if action == "favourite" and not present:
                await self.repo.add_favourite(user_id, beatmapset_id, utc_now())
            elif action == "unfavourite" and present:
                await self.repo.remove_favourite(user_id, beatmapset_id)
            # Recounted from the rows in the same transaction, so the count cannot drift.
            count = await self.repo.recount_favourites(beatmapset_id)
        await self.ingest.forget_cached(await self.repo.beatmaps_of_set(beatmapset_id))
        if self._near is not None:  # favourite_beatmapset_count
            await self._near.invalidate(PROFILE_REGION, [user_id])
        return count

    # -- difficulty attributes -----------------------------------------------------------

    async def attributes(
        self, beatmap_id: int, ruleset: int | None, mods: core.Mods
    ) -> DifficultyAttributesOut | AttributesRejected:
        """Difficulty attributes from the core, cached in Redis and in-process."""
        beatmap = await self.beatmap_by_id(beatmap_id)
        if beatmap is None:
            return AttributesRejected.NOT_FOUND
        if beatmap.is_suspicious:
            return AttributesRejected.SUSPICIOUS
        target = beatmap.mode if ruleset is None else ruleset
        if target != beatmap.mode and beatmap.mode != 0:
            return AttributesRejected.BAD_RULESET
        try:
            mods_json = core.encode_mods(mods)
        except (TypeError, ValueError, msgspec.EncodeError):
            return AttributesRejected.BAD_MODS
        mods_key = mods_json.decode("utf-8", "replace")
        key = f"{_ATTRIBUTES_PREFIX}{beatmap.checksum}:{target}:{mods_key}"
        cached = await self._cache_get(key)
        if cached:
            try:
                return msgspec.json.decode(cached, type=DifficultyAttributesOut)
            except msgspec.DecodeError:
                pass
        data: bytes | None = None
        if self._pp.cached_beatmap(beatmap.checksum) is None:
            data = await self.osu_file(beatmap)
            if data is None:
                return AttributesRejected.FILE_MISSING
        loaded = data

        def load() -> bytes:
            if loaded is None:
                raise InvalidArgument("beatmap evicted while loading")
            return loaded

        try:
            attrs = await self._pp.difficulty_async(beatmap.checksum, load, target, mods_json)
        except SuspiciousBeatmap:
            return AttributesRejected.SUSPICIOUS
        except ConversionError:
            return AttributesRejected.BAD_RULESET
        except InvalidArgument:
            return AttributesRejected.BAD_MODS
        except CoreError:
            log.exception("difficulty failed for beatmap %s", beatmap_id)
            return AttributesRejected.FILE_MISSING
        shaped = _attributes_shape(attrs, target)
        await self._cache_set(key, msgspec.json.encode(shaped), _ATTRIBUTES_TTL)
        return shaped


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def set_metadata_from_upstream(upstream_set: UpstreamBeatmapset) -> SetMetadata:
    """The set metadata an upstream APIBeatmapSet gives."""
    return SetMetadata(
        artist=upstream_set.artist,
        artist_unicode=upstream_set.artist_unicode or upstream_set.artist,
        title=upstream_set.title,
        title_unicode=upstream_set.title_unicode or upstream_set.title,
        creator=upstream_set.creator,
        user_id=upstream_set.user_id,
        source=upstream_set.source,
        tags=upstream_set.tags,
        nsfw=upstream_set.nsfw,
        video=upstream_set.video,
        storyboard=upstream_set.storyboard,
        genre_id=upstream_set.genre.id if upstream_set.genre else 1,
        language_id=upstream_set.language.id if upstream_set.language else 1,
        download_disabled=bool(
            upstream_set.availability and upstream_set.availability.download_disabled
        ),
        submitted_date=upstream_set.submitted_date,
        ranked_date=upstream_set.ranked_date,
        last_updated=upstream_set.last_updated,
    )


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
        return int(_aware(record.last_updated).timestamp())
    return int(_aware(record.ranked_date or record.last_updated).timestamp())


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


def _encode_cursor_string(cursor: dict[str, str | int]) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(cursor)).decode()


def _decode_cursor_string(raw: str) -> dict[str, str] | None:
    try:
        data = msgspec.json.decode(base64.urlsafe_b64decode(raw.encode()))
    except (binascii.Error, msgspec.DecodeError, ValueError, UnicodeEncodeError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    return {str(k): str(v) for k, v in data.items()}


def _attributes_shape(attrs: core.DifficultyAttributes, ruleset: int) -> DifficultyAttributesOut:
    """osu-web's per-ruleset attribute names for the core's values."""
    base: dict[str, Any] = {"star_rating": attrs.stars, "max_combo": attrs.max_combo}
    if ruleset == 0:
        base.update(
            aim_difficulty=attrs.aim,
            aim_difficult_slider_count=attrs.aim_difficult_slider_count,
            speed_difficulty=attrs.speed,
            speed_note_count=attrs.speed_note_count,
            slider_factor=attrs.slider_factor,
            aim_difficult_strain_count=attrs.aim_difficult_strain_count,
            speed_difficult_strain_count=attrs.speed_difficult_strain_count,
            flashlight_difficulty=attrs.flashlight,
            approach_rate=attrs.ar,
            # osu!'s great window is 80 - 6 * OD ms (after rate): the OD the client shows.
            overall_difficulty=(80 - attrs.great_hit_window) / 6,
            great_hit_window=attrs.great_hit_window,
            ok_hit_window=attrs.ok_hit_window,
            meh_hit_window=attrs.meh_hit_window,
        )
    elif ruleset == 1:
        base.update(
            stamina_difficulty=attrs.stamina,
            rhythm_difficulty=attrs.rhythm,
            colour_difficulty=attrs.color,
            great_hit_window=attrs.great_hit_window,
            ok_hit_window=attrs.ok_hit_window,
        )
    elif ruleset == 2:
        base.update(approach_rate=attrs.ar)
    else:
        base.update(great_hit_window=attrs.great_hit_window)
    return DifficultyAttributesOut(**base)
