"""Beatmaps from upstream: a set and its `.osu` files fetched once, when a lookup misses
or a served set that may still change has not been confirmed for a while. One request per
key at a time in this process (single flight); misses and failures are remembered for a
while so an unknown id does not reach upstream on every request."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

from server.models.beatmaps import STATUS_IDS
from server.repositories.beatmaps import BeatmapRepository, BeatmapsetRecord
from server.services.beatmap_cache import BeatmapCache
from server.services.beatmap_files import FileStore
from server.services.beatmap_ingest import (
    BeatmapFile,
    BeatmapIngest,
    SetInput,
    SetMetadata,
    aware_utc,
)
from server.services.beatmap_statuses import FINAL_STATUSES
from server.services.osu_files import beatmap_filename
from server.services.upstream import Upstream, UpstreamBeatmapset, UpstreamError

log = logging.getLogger(__name__)

T = TypeVar("T")

_MISS_PREFIX: Final = "beatmaps:upstream:miss:"
_FAILURE_MISS_SECONDS: Final = 30


class BeatmapSync:
    """Fetching sets from upstream into the local store."""

    def __init__(
        self,
        repo: BeatmapRepository,
        files: FileStore,
        ingest: BeatmapIngest,
        upstream: Upstream,
        cache: BeatmapCache,
        *,
        resync_seconds: int,
        miss_seconds: int,
    ) -> None:
        self._repo = repo
        self._files = files
        self._ingest = ingest
        self._upstream = upstream
        self._cache = cache
        self._resync = timedelta(seconds=resync_seconds)
        self._miss_seconds = miss_seconds
        # One upstream request per key at a time in this process; other callers wait for it.
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def single_flight(self, key: str, work: Callable[[], Awaitable[T]]) -> T:
        running = self._inflight.get(key)
        if running is not None:
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                if not running.cancelled():
                    raise  # this request itself was cancelled
                # The request doing the work went away mid-way: do it here instead.
                return await self.single_flight(key, work)
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

    async def missed_recently(self, key: str) -> bool:
        return await self._cache.get(_MISS_PREFIX + key) is not None

    async def remember_miss(self, key: str, seconds: int) -> None:
        if seconds > 0:
            await self._cache.set(_MISS_PREFIX + key, b"1", seconds)

    async def from_upstream(self, key: str, **lookup: Any) -> int | None:
        """Ask upstream once for an unknown key; store the set; return the beatmap id."""
        if not self._upstream.enabled or await self.missed_recently(key):
            return None

        async def work() -> int | None:
            try:
                found = await self._upstream.lookup(**lookup)
                if found is None:
                    await self.remember_miss(key, self._miss_seconds)
                    return None
                if not await self.sync_set(found.beatmapset_id):
                    await self.remember_miss(key, min(self._miss_seconds, _FAILURE_MISS_SECONDS))
                    return None
                return found.id
            except UpstreamError as exc:
                log.warning("upstream lookup %s failed: %s", key, exc)
                await self.remember_miss(key, min(self._miss_seconds, _FAILURE_MISS_SECONDS))
                return None

        return await self.single_flight(key, work)

    async def fetch_set(self, beatmapset_id: int) -> bool:
        """Ask upstream once for an unknown set and store it; False when it is not there."""
        key = f"set:{beatmapset_id}"
        if not self._upstream.enabled or await self.missed_recently(key):
            return False
        if not await self.single_flight(key, lambda: self.sync_set(beatmapset_id)):
            await self.remember_miss(key, min(self._miss_seconds, _FAILURE_MISS_SECONDS))
            return False
        return True

    async def sync_set(self, beatmapset_id: int) -> bool:
        """Fetch a set and its `.osu` files from upstream and store it; False on failure."""
        try:
            upstream_set = await self._upstream.beatmapset(beatmapset_id)
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
            data = await self.file_for(beatmap.id, beatmap.checksum)
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
        outcome = await self._ingest.store_set(
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

    async def file_for(self, beatmap_id: int, checksum: str) -> bytes | None:
        stored = await self._files.get("osu", checksum.lower())
        if stored is not None:
            return stored
        return await self._upstream.osu_file(beatmap_id, checksum)

    async def fresh(self, beatmapset: BeatmapsetRecord) -> BeatmapsetRecord:
        """Re-sync a set upstream may have changed, when its last sync is old; else as is."""
        if (
            not self._upstream.enabled
            or beatmapset.synced_at is None
            or beatmapset.status in FINAL_STATUSES
            or datetime.now(UTC) - aware_utc(beatmapset.synced_at) < self._resync
        ):
            return beatmapset
        key = f"resync:{beatmapset.id}"
        if await self.missed_recently(key):
            return beatmapset
        if not await self.single_flight(key, lambda: self.sync_set(beatmapset.id)):
            await self.remember_miss(key, _FAILURE_MISS_SECONDS)
            return beatmapset
        return await self._repo.beatmapset(beatmapset.id) or beatmapset


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
