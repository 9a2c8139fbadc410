"""The Redis caches of beatmap reads (encoded beatmaps/lookup answers, a set's difficulty
rows, upstream misses, difficulty attributes). Redis holds only caches here: when it is down,
reads go on without them."""

from __future__ import annotations

import logging
from typing import Any, Final

from server.redis_store import REDIS_DOWN
from server.repositories.beatmaps import BeatmapRecord

log = logging.getLogger(__name__)

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


def lookup_keys(beatmap_id: int, checksum: str) -> list[str]:
    """The keys a beatmaps/lookup answer for this beatmap is cached under."""
    return [f"{LOOKUP_CACHE_PREFIX}id:{beatmap_id}", f"{LOOKUP_CACHE_PREFIX}md5:{checksum}"]


def set_beatmaps_key(beatmapset_id: int) -> str:
    """The key of a set's cached difficulty rows."""
    return f"{SET_BEATMAPS_CACHE_PREFIX}{beatmapset_id}"


def cached_keys_of(beatmap: BeatmapRecord) -> list[str]:
    """Every cache key holding something of this beatmap (dropped after a change)."""
    return [*lookup_keys(beatmap.id, beatmap.checksum), set_beatmaps_key(beatmap.beatmapset_id)]


class BeatmapCache:
    """Best-effort get and set on Redis."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis

    async def get(self, key: str) -> bytes | None:
        """A cached value, or None (also while Redis is down)."""
        try:
            value = await self._redis.get(key)
        except REDIS_DOWN as exc:
            log.warning("beatmap cache unavailable: %s", exc)
            return None
        return value.encode() if isinstance(value, str) else value

    async def get_many(self, keys: list[str]) -> list[bytes | None]:
        """Cached values of several keys (all None while Redis is down)."""
        try:
            return list(await self._redis.mget(keys))
        except REDIS_DOWN as exc:
            log.warning("beatmap cache unavailable: %s", exc)
            return [None] * len(keys)

    async def set(self, key: str, value: bytes, seconds: int) -> None:
        """Cache a value for `seconds` (skipped while Redis is down)."""
        try:
            await self._redis.set(key, value, ex=seconds)
        except REDIS_DOWN as exc:
            log.warning("beatmap cache unavailable: %s", exc)
