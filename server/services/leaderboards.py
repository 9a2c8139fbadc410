"""Beatmap leaderboards as Redis sorted sets, kept in step with SQL and rebuilt from it.

One sorted set per (beatmap, ruleset) holds each user's best score (score_bests): the
member is the score id, zero-padded and inverted so that among equal totals the earlier
score sorts first in ZREVRANGE (Redis orders equal scores by member). A marker key says the
set was built; without it (Redis flushed, restarted, evicted) the next read rebuilds from
SQL. A generation counter, bumped by every change, makes a rebuild that raced a submission
give up its write instead of storing a stale board (the read then answers from SQL).

Redis being down never fails a read: the board is answered from SQL.

In front of the Redis page cache, each process keeps the pages it served in its near cache
(server/near_cache.py); every change to a board drops them on all instances before the
change returns, the same moments that bump the generation.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from server.near_cache import NearCache, Region
from server.redis_store import best_effort
from server.repositories.scores import ScoreRepository

log = logging.getLogger(__name__)

_ID_SPACE: Final = 10**15
_PAGE_TTL: Final = 300
_REGION: Final = "leaderboard"
_RENDERED_BEATMAPS: Final = 2000

# KEYS: board, marker, generation. ARGV: old member or "", new member, new total.
_UPDATE = """
redis.call('INCR', KEYS[3])
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
if ARGV[1] ~= '' then redis.call('ZREM', KEYS[1], ARGV[1]) end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
return 1
"""

# KEYS: board, marker, generation. ARGV: expected generation, then total/member pairs.
_REBUILD = """
local current = redis.call('GET', KEYS[3]) or '0'
if current ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
for i = 2, #ARGV, 2000 do
  local args = {}
  for j = i, math.min(i + 1999, #ARGV) do args[#args + 1] = ARGV[j] end
  if #args > 0 then redis.call('ZADD', KEYS[1], unpack(args)) end
end
redis.call('SET', KEYS[2], '1', 'EX', 600)
return 1
"""


def member(score_id: int) -> str:
    """The sorted-set member of a score id (inverted, so earlier ids win ties)."""
    return f"{_ID_SPACE - score_id:015d}"


def _for(generation: bytes, cached: bytes | None) -> bytes | None:
    """The payload of a cached `generation|payload` value when it is for this generation."""
    if cached is None:
        return None
    tag, _, payload = bytes(cached).partition(b"|")
    return payload if tag == generation else None


def score_id_of(raw: bytes | str) -> int:
    """The score id of a sorted-set member."""
    return _ID_SPACE - int(raw)


class Leaderboards:
    """Global beatmap leaderboards: Redis first, SQL as the truth and fallback."""

    def __init__(self, repo: ScoreRepository, redis: Any, near: NearCache | None = None) -> None:
        self._repo = repo
        self._redis = redis
        self._near = near
        # Rendered pages, viewers' own entries and whole responses, under the beatmap id:
        # a change to any of its boards drops them all.
        # Bounded: a 50-score page is about 54 KB, kept once per beatmap, ruleset and limit.
        self.rendered: Region | None = (
            near.region(_REGION, _PAGE_TTL, max_keys=_RENDERED_BEATMAPS) if near else None
        )
        self._update = redis.register_script(_UPDATE)
        # Boards whose update or invalidation failed (Redis unreachable after a commit):
        # dropped again as soon as Redis answers. The built marker's TTL bounds what another
        # process could serve from a stale board meanwhile.
        self._stale: set[tuple[int, str]] = set()
        self._rebuild = redis.register_script(_REBUILD)

    @staticmethod
    def _keys(beatmap_id: int, ruleset: str) -> list[str]:
        tag = f"{{lb:{ruleset}:{beatmap_id}}}"  # one hash slot per board (Redis Cluster)
        return [f"{tag}:z", f"{tag}:built", f"{tag}:gen"]

    async def record_best(
        self, beatmap_id: int, ruleset: str, old_score_id: int | None, score_id: int, total: int
    ) -> None:
        """After a committed new best: move the user's entry (best effort, never raises)."""
        with best_effort(
            log, "leaderboard update failed for %s/%s; dropping the board", beatmap_id, ruleset
        ) as attempt:
            await self._update(
                keys=self._keys(beatmap_id, ruleset),
                args=[
                    "" if old_score_id is None else member(old_score_id),
                    member(score_id),
                    total,
                ],
            )
        if attempt.failed:
            await self.invalidate(beatmap_id, ruleset)
            return
        await self._forget_rendered(beatmap_id, ruleset)

    async def _forget_rendered(self, beatmap_id: int, ruleset: str) -> None:
        if self._near is not None:
            await self._near.invalidate(_REGION, [beatmap_id])

    async def invalidate(self, beatmap_id: int, ruleset: str) -> None:
        """Forget a board: the next read rebuilds it from SQL (never raises)."""
        await self._forget_rendered(beatmap_id, ruleset)
        keys = self._keys(beatmap_id, ruleset)
        with best_effort(
            log, "leaderboard invalidation failed for %s/%s", beatmap_id, ruleset
        ) as attempt:
            await self._redis.incr(keys[2])
            await self._redis.delete(keys[0], keys[1])
        if attempt.failed:  # remembered and retried by _heal
            self._stale.add((beatmap_id, ruleset))
        else:
            self._stale.discard((beatmap_id, ruleset))

    async def _heal(self) -> None:
        """Drop the boards a failed update left behind, now that Redis may answer again."""
        for beatmap_id, ruleset in list(self._stale):
            await self.invalidate(beatmap_id, ruleset)

    async def top(self, beatmap_id: int, ruleset: str, limit: int) -> tuple[list[int], int]:
        """Score ids of the best `limit` entries and the board's size."""
        if self._stale:
            await self._heal()
        keys = self._keys(beatmap_id, ruleset)
        generation = None
        with best_effort(log, "leaderboard read from Redis failed for %s/%s", beatmap_id, ruleset):
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.exists(keys[1])
                pipe.zrevrange(keys[0], 0, limit - 1)
                pipe.zcard(keys[0])
                pipe.get(keys[2])
                built, members, size, generation = await pipe.execute()
            if built:
                return [score_id_of(m) for m in members], int(size)
        board = await self._repo.board(beatmap_id, ruleset)
        await self._store(keys, board, generation)
        return [score_id for score_id, _ in board[:limit]], len(board)

    async def _store(self, keys: list[str], board: list[tuple[int, int]], generation: Any) -> None:
        args: list[Any] = [
            generation.decode() if isinstance(generation, bytes) else str(generation or "0")
        ]
        for score_id, total in board:
            args.extend((total, member(score_id)))
        with best_effort(log, "leaderboard rebuild failed for %s", keys[0]):
            await self._rebuild(keys=keys, args=args)

    async def cached_page(
        self, beatmap_id: int, ruleset: str, limit: int, user_id: int, form: str
    ) -> tuple[bytes, bytes | None, bytes | None]:
        """(current generation, the rendered page and the user's own entry cached for it),
        in one score format.

        Pages and entries are cached under the generation they were built from; any change
        to the board bumps the generation, so neither outlives the board it shows."""
        if self._stale:
            await self._heal()
        keys = self._keys(beatmap_id, ruleset)
        with best_effort(log, "leaderboard page cache read failed") as attempt:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(keys[2])
                pipe.hget(f"{keys[0]}:pages", f"{form}:{limit}")
                pipe.hget(f"{keys[0]}:users", f"{form}:{user_id}")
                generation, page, entry = await pipe.execute()
        if attempt.failed:  # build from SQL
            return b"", None, None
        generation = generation or b"0"
        return generation, _for(generation, page), _for(generation, entry)

    async def store_user_entry(
        self,
        beatmap_id: int,
        ruleset: str,
        user_id: int,
        form: str,
        generation: bytes,
        payload: bytes,
    ) -> None:
        """Cache a user's own entry (position and best) for a generation (best effort)."""
        key = f"{self._keys(beatmap_id, ruleset)[0]}:users"
        await self._cache(key, f"{form}:{user_id}", generation, payload)

    async def store_page(
        self,
        beatmap_id: int,
        ruleset: str,
        limit: int,
        form: str,
        generation: bytes,
        payload: bytes,
    ) -> None:
        """Cache a rendered page for the generation it was built from (best effort)."""
        key = f"{self._keys(beatmap_id, ruleset)[0]}:pages"
        await self._cache(key, f"{form}:{limit}", generation, payload)

    async def _cache(self, key: str, field: str, generation: bytes, payload: bytes) -> None:
        if not generation:
            return
        with best_effort(log, "leaderboard cache write failed"):
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hset(key, field, generation + b"|" + payload)
                # Bounds how long a renamed player shows under the old name.
                pipe.expire(key, _PAGE_TTL)
                await pipe.execute()

    async def position(self, beatmap_id: int, ruleset: str, score_id: int, total: int) -> int:
        """1-based position of a best on its board (Redis when built, else SQL)."""
        keys = self._keys(beatmap_id, ruleset)
        with best_effort(log, "leaderboard rank from Redis failed"):
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.exists(keys[1])
                pipe.zrevrank(keys[0], member(score_id))
                built, rank = await pipe.execute()
            if built and rank is not None:
                return int(rank) + 1
        return await self._repo.board_position(beatmap_id, ruleset, total, score_id)
