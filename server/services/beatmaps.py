"""Beatmaps as the API serves them: lookups (local first, then upstream once: see
beatmap_sync.py), sets, the raw `.osu` bytes scoring needs, and the one presenter of APIBeatmap
and APIBeatmapSet shapes (`beatmap_shape`, `beatmapset_shape`).

Search, difficulty attributes and favourites live beside this module (beatmap_search.py,
beatmap_attributes.py, beatmap_favourites.py). Expected failures are values (`None`); handlers
map them to osu-web's error bodies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Final

import msgspec

from server.core import pp as core
from server.db import Database
from server.models.beatmaps import (
    GENRES,
    LANGUAGES,
    MODE_NAMES,
    STATUS_NAMES,
    Availability,
    Beatmap,
    Beatmapset,
    Covers,
    Failtimes,
    NamedId,
    NominationsSummary,
    Owner,
    TagCount,
)
from server.near_cache import NearCache
from server.repositories.beatmap_tags import TagRepository
from server.repositories.beatmaps import BeatmapRecord, BeatmapRepository, BeatmapsetRecord
from server.services.beatmap_cache import (
    LOOKUP_CACHE_PREFIX,
    LOOKUP_CACHE_SECONDS,
    BeatmapCache,
    lookup_keys,
)
from server.services.beatmap_files import FileStore, md5_hex
from server.services.beatmap_ingest import BeatmapIngest, aware_utc
from server.services.beatmap_statuses import has_leaderboard
from server.services.beatmap_sync import BeatmapSync
from server.services.osu_files import OszError, read_osz
from server.services.upstream import Upstream

_UPSTREAM_FETCHES_PER_REQUEST: Final = 5
# osu-web's beatmap_tags.top_count: how many of a beatmap's tags its JSON lists.
TOP_TAGS: Final = 50
_encoder = msgspec.json.Encoder()


class BeatmapService:
    """Reading and presenting beatmaps."""

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
        self.cache = BeatmapCache(redis)
        self.pp_cache = pp_cache
        self.sync = BeatmapSync(
            repo,
            files,
            ingest,
            upstream,
            self.cache,
            resync_seconds=resync_seconds,
            miss_seconds=miss_seconds,
        )
        self._all_statuses = all_statuses_ranked
        self._proxy_downloads = proxy_downloads
        self._server_url = server_url.rstrip("/")
        self.tags = TagRepository(db)

    async def aclose(self) -> None:
        """Close the upstream client and free parsed beatmaps."""
        await self.upstream.aclose()
        self.pp_cache.close()

    # -- lookups -------------------------------------------------------------------------

    async def beatmap_by_id(self, beatmap_id: int) -> BeatmapRecord | None:
        """A beatmap by id, from upstream the first time when the fetcher is on."""
        found = await self.repo.beatmap(beatmap_id)
        if found is None and await self.sync.from_upstream(
            f"id:{beatmap_id}", beatmap_id=beatmap_id
        ):
            found = await self.repo.beatmap(beatmap_id)
        return found

    async def beatmap_by_checksum(self, checksum: str) -> BeatmapRecord | None:
        """A beatmap by .osu MD5; an unknown checksum of a known id means the map changed
        upstream, and the set is re-synced."""
        found = await self.repo.beatmap_by_checksum(checksum)
        if found is None and await self.sync.from_upstream(f"md5:{checksum}", checksum=checksum):
            found = await self.repo.beatmap_by_checksum(checksum)
        return found

    async def beatmap_by_filename(self, filename: str) -> BeatmapRecord | None:
        """A beatmap by .osu file name."""
        found = await self.repo.beatmap_by_filename(filename)
        if found is None and await self.sync.from_upstream(f"file:{filename}", filename=filename):
            found = await self.repo.beatmap_by_filename(filename)
        return found

    async def beatmapset_by_id(self, beatmapset_id: int) -> BeatmapsetRecord | None:
        """A set by id, from upstream the first time when the fetcher is on."""
        found = await self.repo.beatmapset(beatmapset_id)
        if found is None:
            if not await self.sync.fetch_set(beatmapset_id):
                return None
            return await self.repo.beatmapset(beatmapset_id)
        return await self.sync.fresh(found)

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

        data = await self.sync.single_flight(
            f"osz:{record.id}", lambda: self.upstream.osz_file(record.id, is_this_set)
        )
        if data is None:
            return None
        await self.repo.set_osz(record.id, await self.files.put("osz", data))
        return data

    async def osu_file(self, beatmap: BeatmapRecord) -> bytes | None:
        """The stored `.osu` bytes of a beatmap (scoring reads them through here)."""
        return await self.sync.file_for(beatmap.id, beatmap.checksum)

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
            last_updated=aware_utc(beatmap.last_updated),
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
        stamp = int(aware_utc(record.last_updated).timestamp())
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
            last_updated=aware_utc(record.last_updated),
            nominations_summary=NominationsSummary(
                current=0,
                required_meta={"main_ruleset": 2, "non_main_ruleset": 1},
                eligible_main_rulesets=[],
            ),
            ranked=self._status_int(record.status),
            ranked_date=aware_utc(record.ranked_date) if record.ranked_date else None,
            storyboard=record.storyboard,
            submitted_date=aware_utc(record.submitted_date),
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
            cached = await self.cache.get(key)
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
        for key in lookup_keys(found.id, found.checksum):
            await self.cache.set(key, body, LOOKUP_CACHE_SECONDS)
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
        top, mine = await self._tag_ids([b.id for b in beatmaps], user_id)
        return msgspec.structs.replace(
            shape,
            beatmaps=[
                msgspec.structs.replace(
                    self.beatmap_shape(b, extended=True),
                    owners=owners,
                    top_tag_ids=top.get(b.id, []),
                    current_user_tag_ids=mine.get(b.id, []),
                )
                for b in beatmaps
            ],
            converts=[
                msgspec.structs.replace(c, top_tag_ids=top.get(c.id, []))
                for c in await self._converts(beatmaps)
            ],
            description={"description": ""},
            recent_favourites=[],
        )

    async def sets_with_beatmaps(
        self, set_ids: Sequence[int], user_id: int | None
    ) -> list[Beatmapset]:
        """Sets with their beatmaps in the order given (profile set lists); unknown ids are
        left out."""
        records = {r.id: r for r in await self.repo.beatmapsets_by_ids(set_ids)}
        ordered = [records[i] for i in dict.fromkeys(set_ids) if i in records]
        beatmaps: dict[int, list[BeatmapRecord]] = {r.id: [] for r in ordered}
        for beatmap in await self.repo.beatmaps_of_sets([r.id for r in ordered]):
            beatmaps[beatmap.beatmapset_id].append(beatmap)
        favourites = (
            await self.repo.favourited_among(user_id, [r.id for r in ordered]) if user_id else set()
        )
        return [
            self.beatmapset_shape(r, beatmaps.get(r.id, []), favourited=r.id in favourites)
            for r in ordered
        ]

    async def _tag_ids(
        self, beatmap_ids: list[int], user_id: int | None
    ) -> tuple[dict[int, list[TagCount]], dict[int, list[int]]]:
        """Top tags per beatmap (at most TOP_TAGS, osu-web's beatmap_tags.top_count) and the
        viewer's own tags per beatmap."""
        top: dict[int, list[TagCount]] = {}
        for beatmap_id, tag_id, votes in await self.tags.counts(beatmap_ids):
            entries = top.setdefault(beatmap_id, [])
            if len(entries) < TOP_TAGS:
                entries.append(TagCount(tag_id, votes))
        mine: dict[int, list[int]] = {}
        if user_id is not None:
            for beatmap_id, tag_id in await self.tags.user_tags(user_id, beatmap_ids):
                mine.setdefault(beatmap_id, []).append(tag_id)
        return top, mine

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
