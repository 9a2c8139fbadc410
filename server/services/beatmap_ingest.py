"""Storing beatmaps: from `.osu` bytes to rows, files and star ratings.

Imports and the upstream fetcher both end here. Each `.osu` goes through the Rust core
(counts, lengths, star rating and max combo per ruleset: never taken on trust), its bytes
go to the file store under their MD5, and a set's rows are written in one transaction.
Writing the same input twice changes nothing: rows that would not change are not written.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import msgspec

from server.core import CoreError, SuspiciousBeatmap
from server.core import pp as core
from server.db import Database, DuplicateKey
from server.redis_store import REDIS_DOWN
from server.repositories.beatmaps import (
    BeatmapRecord,
    BeatmapRepository,
    BeatmapsetRecord,
    DifficultyRecord,
)
from server.repositories.user_activity import ActivityRepository
from server.services.activity import EventLog
from server.services.beatmap_cache import cached_keys_of
from server.services.beatmap_files import ChecksumMismatch, FileStore, md5_hex
from server.services.osu_files import MAX_OSU_BYTES, OsuMetadata, read_osu_metadata

log = logging.getLogger(__name__)

# How many maps are analysed at once: parsing and difficulty run in worker threads.
_ANALYSIS_CONCURRENCY = 4


def utc_now() -> datetime:
    """Now, as the naive UTC second the database stores."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def aware_utc(value: datetime) -> datetime:
    """A stored (naive UTC) time with its zone made explicit."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def naive_utc(value: datetime | None) -> datetime | None:
    """A datetime as naive UTC to the second (how rows store times)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


class Analysis(msgspec.Struct, frozen=True):
    """What the core says about one `.osu`: its info and star ratings per ruleset."""

    checksum: str
    info: core.BeatmapInfo
    difficulties: dict[int, tuple[float, int]]
    algorithm_version: str


async def analyse(data: bytes) -> Analysis:
    """Parse with the core and compute difficulty for the map's ruleset (and osu! converts).

    Raises CoreError (parse errors, too large); suspicious maps are analysed without
    difficulty (S-SC-9: no calculation on them) and carry the flag."""
    if len(data) > MAX_OSU_BYTES:
        raise ValueError(f".osu larger than {MAX_OSU_BYTES >> 20} MiB")
    checksum = md5_hex(data)
    beatmap = await core.Beatmap.parse_async(data, checksum)
    try:
        info = await asyncio.to_thread(beatmap.info)
        difficulties: dict[int, tuple[float, int]] = {}
        if not info.is_suspicious:
            # osu! maps convert to every ruleset; the others only to their own.
            rulesets = range(4) if info.mode == 0 else (info.mode,)
            for ruleset in rulesets:
                try:
                    attrs = await beatmap.difficulty_async(ruleset)
                except SuspiciousBeatmap:
                    break
                difficulties[ruleset] = (attrs.stars, attrs.max_combo)
        return Analysis(checksum, info, difficulties, core.algorithm_version())
    finally:
        beatmap.close()


class BeatmapFile(msgspec.Struct, frozen=True, kw_only=True):
    """One `.osu` to store, with its ids and where it came from."""

    data: bytes
    filename: str
    beatmap_id: int | None
    user_id: int = 0
    status: int | None = None
    last_updated: datetime | None = None


class SetMetadata(msgspec.Struct, frozen=True, kw_only=True):
    """A set's metadata when known from upstream; imports derive it from the files."""

    artist: str
    artist_unicode: str
    title: str
    title_unicode: str
    creator: str
    user_id: int
    source: str
    tags: str
    nsfw: bool = False
    video: bool = False
    storyboard: bool = False
    genre_id: int = 1
    language_id: int = 1
    download_disabled: bool = False
    submitted_date: datetime | None = None
    ranked_date: datetime | None = None
    last_updated: datetime | None = None


class SetInput(msgspec.Struct, frozen=True, kw_only=True):
    """Everything to store for one set."""

    beatmapset_id: int
    status: int
    files: list[BeatmapFile]
    metadata: SetMetadata | None = None
    osz: bytes | None = None
    has_video: bool = False
    has_storyboard: bool = False
    synced: bool = False


class Change(Enum):
    """What storing did to a set or beatmap."""

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class Rejection(msgspec.Struct, frozen=True):
    """A file that was not stored, and why."""

    name: str
    reason: str


class StoreOutcome(msgspec.Struct, frozen=True):
    """Per-beatmap changes and rejections of one stored set."""

    beatmapset_id: int
    set_change: Change
    beatmaps: dict[int, Change]
    rejected: list[Rejection]


def _search_text(record: BeatmapsetRecord, versions: Sequence[str]) -> str:
    parts = [
        record.artist,
        record.artist_unicode,
        record.title,
        record.title_unicode,
        record.creator,
        record.source,
        record.tags,
        *versions,
    ]
    return " ".join(part.strip().lower() for part in parts if part.strip())


def _same(a: msgspec.Struct, b: msgspec.Struct, ignore: tuple[str, ...]) -> bool:
    left, right = msgspec.structs.asdict(a), msgspec.structs.asdict(b)
    for key in ignore:
        left.pop(key, None)
        right.pop(key, None)
    for key, value in left.items():
        other = right[key]
        if isinstance(value, datetime) or isinstance(other, datetime):
            if naive_utc(value) != naive_utc(other):
                return False
        elif isinstance(value, float) or isinstance(other, float):
            if abs(float(value) - float(other)) > 1e-9:
                return False
        elif value != other:
            return False
    return True


class BeatmapIngest:
    """Analyse, store and record beatmaps (the only writer of beatmap rows and files)."""

    def __init__(self, db: Database, repo: BeatmapRepository, files: FileStore, redis: Any) -> None:
        self._db = db
        self._repo = repo
        self._files = files
        self._redis = redis
        self._semaphore = asyncio.Semaphore(_ANALYSIS_CONCURRENCY)
        self._changed_listeners: list[Callable[[list[int]], Awaitable[None]]] = []
        # beatmapsetUpload / beatmapsetApprove events, in the transaction that stores the set.
        self._events = EventLog(ActivityRepository(db))

    def on_sets_changed(self, listener: Callable[[list[int]], Awaitable[None]]) -> None:
        """Await `listener(set_ids)` after a set is added or changed (the metadata hub's
        BeatmapSetsUpdated); a failing listener is logged, never the store's error."""
        self._changed_listeners.append(listener)

    async def _announce(self, set_ids: list[int]) -> None:
        for listener in self._changed_listeners:
            try:
                await listener(set_ids)
            except Exception:
                log.warning("beatmap sets %s: change listener failed", set_ids, exc_info=True)

    async def forget_cached(self, beatmaps: Iterable[BeatmapRecord]) -> None:
        """Drop cached lookups of these beatmaps (after a change, once committed)."""
        keys = []
        beatmaps = list(beatmaps)
        await self._repo.forget(
            [beatmap.id for beatmap in beatmaps],
            sorted({beatmap.beatmapset_id for beatmap in beatmaps}),
        )
        for beatmap in beatmaps:
            keys += cached_keys_of(beatmap)
        if keys:
            try:
                await self._redis.delete(*keys)
            except REDIS_DOWN as exc:  # the TTL bounds staleness then
                log.warning("could not drop cached lookups: %s", exc)

    async def _analyse(self, item: BeatmapFile) -> Analysis | Rejection:
        async with self._semaphore:
            try:
                return await analyse(item.data)
            except CoreError as exc:
                return Rejection(item.filename, f"not a valid .osu file: {exc.message}")
            except ValueError as exc:
                return Rejection(item.filename, str(exc))

    async def store_set(self, entry: SetInput) -> StoreOutcome:
        """Store one set's files and rows; idempotent."""
        try:
            return await self._store_set(entry)
        except DuplicateKey:
            # Another writer stored the same set between our reads and our transaction (two
            # workers syncing one set from upstream, an import while the server syncs):
            # nothing of ours was committed, so read again and store once more.
            log.info("set %s stored concurrently; retrying", entry.beatmapset_id)
            return await self._store_set(entry)

    async def _store_set(self, entry: SetInput) -> StoreOutcome:
        rejected: list[Rejection] = []
        analysed: list[tuple[BeatmapFile, Analysis, OsuMetadata]] = []
        results = await asyncio.gather(*(self._analyse(item) for item in entry.files))
        seen_ids: dict[int, str] = {}
        for item, result in zip(entry.files, results, strict=True):
            if isinstance(result, Rejection):
                rejected.append(result)
                continue
            if item.beatmap_id is None:
                rejected.append(
                    Rejection(item.filename, "no beatmap id (not in the file or the id mapping)")
                )
                continue
            if item.beatmap_id in seen_ids:
                rejected.append(
                    Rejection(
                        item.filename,
                        f"beatmap id {item.beatmap_id} also used by {seen_ids[item.beatmap_id]}",
                    )
                )
                continue
            owner = await self._repo.beatmap_by_checksum(result.checksum)
            if owner is not None and owner.id != item.beatmap_id:
                rejected.append(
                    Rejection(
                        item.filename, f"the same file is already stored as beatmap {owner.id}"
                    )
                )
                continue
            existing = await self._repo.beatmap(item.beatmap_id)
            if existing is not None and existing.beatmapset_id != entry.beatmapset_id:
                rejected.append(
                    Rejection(
                        item.filename,
                        f"beatmap {item.beatmap_id} belongs to set {existing.beatmapset_id}, "
                        f"not {entry.beatmapset_id}",
                    )
                )
                continue
            seen_ids[item.beatmap_id] = item.filename
            analysed.append((item, result, read_osu_metadata(item.data)))

        existing_set = await self._repo.beatmapset(entry.beatmapset_id)
        if not analysed and existing_set is None:
            return StoreOutcome(entry.beatmapset_id, Change.UNCHANGED, {}, rejected)

        # Files first: a row never points at bytes that are not stored.
        for item, analysis, _ in analysed:
            try:
                await self._files.put("osu", item.data, analysis.checksum)
            except ChecksumMismatch as exc:  # the core hashed other bytes: never expected
                raise RuntimeError(str(exc)) from exc
        osz_checksum = existing_set.osz_checksum if existing_set else None
        if entry.osz is not None:
            osz_checksum = await self._files.put("osz", entry.osz)

        now = utc_now()
        stored = {b.id: b for b in await self._repo.beatmaps_of_set(entry.beatmapset_id)}
        new_records: dict[int, tuple[BeatmapRecord, Analysis | None]] = {}
        for item, analysis, meta in analysed:
            assert item.beatmap_id is not None
            info = analysis.info
            own = analysis.difficulties.get(info.mode)
            before = stored.get(item.beatmap_id)
            record = BeatmapRecord(
                id=item.beatmap_id,
                beatmapset_id=entry.beatmapset_id,
                checksum=analysis.checksum,
                filename=item.filename[:512],
                version=meta.version[:255],
                mode=info.mode,
                status=item.status if item.status is not None else entry.status,
                user_id=item.user_id or (entry.metadata.user_id if entry.metadata else 0),
                total_length=int(info.length_ms // 1000),
                hit_length=int(info.drain_ms // 1000),
                cs=info.cs,
                ar=info.ar,
                od=info.od,
                hp=info.hp,
                bpm=info.bpm,
                count_circles=info.n_circles,
                # osu-web counts mania hold notes as sliders.
                count_sliders=info.n_sliders + info.n_holds,
                count_spinners=info.n_spinners,
                max_combo=own[1] if own else info.max_combo,
                difficulty_rating=own[0] if own else 0.0,
                is_suspicious=info.is_suspicious,
                last_updated=naive_utc(item.last_updated)
                or (before.last_updated if before else now),
                beat_divisor=meta.beat_divisor,
            )
            if before is not None and _same(
                before, record, ("playcount", "passcount", "last_updated")
            ):
                new_records[record.id] = (before, None)
            else:
                if before is not None and item.last_updated is None:
                    record = msgspec.structs.replace(record, last_updated=now)
                new_records[record.id] = (record, analysis)

        merged = {**stored, **{k: v[0] for k, v in new_records.items()}}
        first_meta = analysed[0][2] if analysed else None
        set_record = self._set_record(entry, existing_set, first_meta, merged, osz_checksum, now)
        set_change = Change.ADDED
        if existing_set is not None:
            same = _same(
                existing_set,
                set_record,
                ("play_count", "favourite_count", "last_updated", "synced_at"),
            )
            set_change = Change.UNCHANGED if same else Change.UPDATED
            if same:
                set_record = msgspec.structs.replace(existing_set, synced_at=set_record.synced_at)
            elif entry.metadata is None:
                # A local change (upstream gives its own date): the set was updated now.
                set_record = msgspec.structs.replace(set_record, last_updated=now)

        changes: dict[int, Change] = {}
        async with self._db.transaction():
            if set_change is not Change.UNCHANGED:
                await self._repo.save_beatmapset(set_record, exists=existing_set is not None)
                # Events go on the mapper's activity; local files name no mapper (user 0).
                if set_record.user_id > 0 and existing_set is None:
                    await self._events.beatmapset_uploaded(set_record)
                if set_record.user_id > 0 and (
                    existing_set is None or existing_set.status != set_record.status
                ):
                    await self._events.beatmapset_approved(set_record)  # only when approved
            elif entry.synced:
                await self._repo.mark_synced(entry.beatmapset_id, now)
            for beatmap_id, (record, computed) in new_records.items():
                if computed is None:
                    changes[beatmap_id] = Change.UNCHANGED
                    continue
                exists = beatmap_id in stored
                await self._repo.save_beatmap(record, exists=exists)
                await self._repo.replace_difficulties(
                    beatmap_id,
                    [
                        DifficultyRecord(
                            beatmap_id=beatmap_id,
                            ruleset_id=ruleset,
                            stars=stars,
                            max_combo=combo,
                            algorithm_version=computed.algorithm_version,
                        )
                        for ruleset, (stars, combo) in sorted(computed.difficulties.items())
                    ],
                )
                changes[beatmap_id] = Change.UPDATED if exists else Change.ADDED
        if set_change is Change.UNCHANGED and any(
            c is not Change.UNCHANGED for c in changes.values()
        ):
            set_change = Change.UPDATED
        if set_change is not Change.UNCHANGED:
            # Old checksums too: a lookup by a replaced file's MD5 must miss from now on.
            await self.forget_cached([*stored.values(), *(r for r, _ in new_records.values())])
            await self._announce([entry.beatmapset_id])
        return StoreOutcome(entry.beatmapset_id, set_change, changes, rejected)

    def _set_record(
        self,
        entry: SetInput,
        existing: BeatmapsetRecord | None,
        meta: OsuMetadata | None,
        beatmaps: dict[int, BeatmapRecord],
        osz_checksum: str | None,
        now: datetime,
    ) -> BeatmapsetRecord:
        up = entry.metadata
        if up is not None:
            artist, artist_unicode = up.artist, up.artist_unicode
            title, title_unicode = up.title, up.title_unicode
            creator, user_id, source, tags = up.creator, up.user_id, up.source, up.tags
        elif meta is not None:
            artist, artist_unicode = meta.artist, meta.artist_unicode
            title, title_unicode = meta.title, meta.title_unicode
            creator, user_id, source, tags = meta.creator, 0, meta.source, meta.tags
            if existing is not None:
                user_id = existing.user_id
        else:
            assert existing is not None
            artist, artist_unicode = existing.artist, existing.artist_unicode
            title, title_unicode = existing.title, existing.title_unicode
            creator, user_id, source, tags = (
                existing.creator,
                existing.user_id,
                existing.source,
                existing.tags,
            )
        ranked = entry.status > 0
        if up is not None:
            submitted = naive_utc(up.submitted_date) or (
                existing.submitted_date if existing else now
            )
            ranked_date = naive_utc(up.ranked_date)
        else:
            submitted = existing.submitted_date if existing else now
            ranked_date = (existing.ranked_date if existing else None) if ranked else None
            if ranked and ranked_date is None:
                ranked_date = now
        rows = list(beatmaps.values())
        stars = [b.difficulty_rating for b in rows] or [0.0]
        video = entry.has_video or (up.video if up else False) or bool(existing and existing.video)
        storyboard = (
            entry.has_storyboard
            or (up.storyboard if up else False)
            or bool(existing and existing.storyboard)
        )
        record = BeatmapsetRecord(
            id=entry.beatmapset_id,
            artist=artist[:255],
            artist_unicode=(artist_unicode or artist)[:255],
            title=title[:255],
            title_unicode=(title_unicode or title)[:255],
            creator=creator[:255],
            user_id=user_id,
            source=source[:255],
            tags=tags,
            status=entry.status,
            bpm=max((b.bpm for b in rows), default=0.0),
            modes=sum({1 << b.mode for b in rows}),
            difficulty_min=min(stars),
            difficulty_max=max(stars),
            genre_id=up.genre_id if up else (existing.genre_id if existing else 1),
            language_id=up.language_id if up else (existing.language_id if existing else 1),
            nsfw=up.nsfw if up else bool(existing and existing.nsfw),
            video=video,
            storyboard=storyboard,
            download_disabled=up.download_disabled
            if up
            else bool(existing and existing.download_disabled),
            play_count=existing.play_count if existing else 0,
            favourite_count=existing.favourite_count if existing else 0,
            osz_checksum=osz_checksum,
            search_text="",
            submitted_date=submitted,
            ranked_date=ranked_date,
            last_updated=(naive_utc(up.last_updated) if up else None)
            or (existing.last_updated if existing else now),
            synced_at=now if entry.synced else (existing.synced_at if existing else None),
        )
        versions = sorted(b.version for b in rows)
        return msgspec.structs.replace(record, search_text=_search_text(record, versions))
