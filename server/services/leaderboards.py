"""Beatmap leaderboards as Redis sorted sets, kept in step with SQL and rebuilt from it.

One sorted set per (beatmap, ruleset) holds each user's best score (score_bests): the
member is the score id, zero-padded and inverted so that among equal totals the earlier
score sorts first in ZREVRANGE (Redis orders equal scores by member). A marker key says the
set was built; without it (Redis flushed, restarted, evicted) a read answers from SQL,
reading only its page and the board's size, and starts a rebuild off the request path: the
board is copied from SQL a bounded chunk at a time into a staging set that replaces the board
when complete. A generation counter, bumped by every change, makes a rebuild that raced a
submission discard its copy instead of storing a stale board.

Redis being down never fails a read: the board is answered from SQL.

In front of the Redis page cache, each process keeps the pages it served in its near cache
(server/near_cache.py); every change to a board drops them on all instances before the
change returns, the same moments that bump the generation.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Final

from server.db import DatabaseError
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

# The 0-based rank a score has, or would have as the player's best, on a built board (nil
# when the board is not built). A score that is not on the board is added, ranked and
# removed in the one atomic script, so no reader ever sees it: exact among equal totals
# (the member orders them), in O(log n) whatever the board's size.
# KEYS: board, marker. ARGV: member, total.
_RANK = """
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
local rank = redis.call('ZREVRANK', KEYS[1], ARGV[1])
if rank then return rank end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
rank = redis.call('ZREVRANK', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
return rank
"""

# A board is rebuilt into a staging set a chunk at a time, then renamed into place with its
# marker, all only while the generation is the one the rebuild started from.
# KEYS: staging, board, marker, generation. ARGV: expected generation, done ("1" on the
# last chunk), then total/member pairs.
_REBUILD = """
local current = redis.call('GET', KEYS[4]) or '0'
if current ~= ARGV[1] or redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('DEL', KEYS[1])
  return 0
end
for i = 3, #ARGV, 2000 do
  local args = {}
  for j = i, math.min(i + 1999, #ARGV) do args[#args + 1] = ARGV[j] end
  if #args > 0 then redis.call('ZADD', KEYS[1], unpack(args)) end
end
if ARGV[2] == '1' then
  if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('RENAME', KEYS[1], KEYS[2])
  else
    redis.call('DEL', KEYS[2])
  end
  redis.call('SET', KEYS[3], '1', 'EX', 600)
else
  redis.call('EXPIRE', KEYS[1], 120)
end
return 1
"""

# Rows read from SQL per rebuild step: a step's cost is bounded whatever the board's size.
_REBUILD_CHUNK: Final = 2000
# A rebuild starts this long after the read that found the board missing, so that read (and
# the others arriving with it) is answered first rather than sharing the CPU with the copy.
_REBUILD_DELAY: Final = 0.5


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
        self._rank = redis.register_script(_RANK)
        # Boards whose update or invalidation failed (Redis unreachable after a commit):
        # dropped again as soon as Redis answers. The built marker's TTL bounds what another
        # process could serve from a stale board meanwhile.
        self._stale: set[tuple[int, str]] = set()
        self._rebuild = redis.register_script(_REBUILD)
        self._rebuilding: dict[tuple[int, str], asyncio.Task[None]] = {}

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
        """Score ids of the best `limit` entries and the board's size.

        A board Redis has not built is answered from SQL, reading the page's rows alone and
        the size from the board's kept block counts (score_board_counts), neither linear in
        the board; the sorted set is rebuilt off the request path, one rebuild per board and
        process at a time."""
        if self._stale:
            await self._heal()
        keys = self._keys(beatmap_id, ruleset)
        generation: Any = None
        with best_effort(
            log, "leaderboard read from Redis failed for %s/%s", beatmap_id, ruleset
        ) as attempt:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.exists(keys[1])
                pipe.zrevrange(keys[0], 0, limit - 1)
                pipe.zcard(keys[0])
                pipe.get(keys[2])
                built, members, size, generation = await pipe.execute()
            if built:
                return [score_id_of(m) for m in members], int(size)
        ids = await self._repo.board_page(beatmap_id, ruleset, limit)
        count = len(ids) if len(ids) < limit else await self._repo.board_count(beatmap_id, ruleset)
        if not attempt.failed:
            self._start_rebuild(beatmap_id, ruleset, generation)
        return ids, count

    def _start_rebuild(self, beatmap_id: int, ruleset: str, generation: Any) -> None:
        board = (beatmap_id, ruleset)
        if board in self._rebuilding:
            return
        expected = generation.decode() if isinstance(generation, bytes) else str(generation or "0")
        task = asyncio.create_task(
            self._rebuild_board(beatmap_id, ruleset, expected),
            name=f"leaderboard-rebuild-{beatmap_id}-{ruleset}",
        )
        self._rebuilding[board] = task
        task.add_done_callback(lambda _: self._rebuilding.pop(board, None))

    async def _rebuild_board(self, beatmap_id: int, ruleset: str, generation: str) -> None:
        """Copy the board from SQL into a staging set a bounded chunk at a time, then put it
        in place; any change to the board meanwhile (or another process finishing first)
        discards the copy."""
        keys = self._keys(beatmap_id, ruleset)
        script_keys = [f"{keys[0]}:build:{os.urandom(6).hex()}", *keys]
        after = 0
        await asyncio.sleep(_REBUILD_DELAY)
        with best_effort(log, "leaderboard rebuild failed for %s", keys[0]):
            try:
                while True:
                    chunk = await self._repo.board_chunk(beatmap_id, ruleset, after, _REBUILD_CHUNK)
                    done = len(chunk) < _REBUILD_CHUNK
                    args: list[Any] = [generation, "1" if done else "0"]
                    for _, score_id, total in chunk:
                        args.extend((total, member(score_id)))
                    if not await self._rebuild(keys=script_keys, args=args) or done:
                        return
                    after = chunk[-1][0]
            except DatabaseError:
                log.warning("leaderboard rebuild of %s stopped", keys[0], exc_info=True)
                await self._redis.delete(script_keys[0])

    async def settled(self) -> None:
        """Wait until the rebuilds under way have finished (benches and tests)."""
        while self._rebuilding:
            await asyncio.gather(*self._rebuilding.values(), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel the rebuilds under way (at shutdown): a board left unbuilt is rebuilt by
        the next read, and an abandoned staging set expires by itself."""
        for task in list(self._rebuilding.values()):
            task.cancel()
        await asyncio.gather(*self._rebuilding.values(), return_exceptions=True)

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
        """1-based position of a score on its board, as if it were its player's best (Redis
        when built, else SQL): a submission's answer, best or not."""
        built = await self.built_position(beatmap_id, ruleset, score_id, total)
        if built is not None:
            return built
        return await self._repo.board_position(beatmap_id, ruleset, total, score_id)

    async def built_position(
        self, beatmap_id: int, ruleset: str, score_id: int, total: int
    ) -> int | None:
        """position() from the Redis board in one round trip; None when the board is not
        built or Redis failed (the caller counts in SQL)."""
        with best_effort(log, "leaderboard rank from Redis failed"):
            rank = await self._rank(
                keys=self._keys(beatmap_id, ruleset)[:2], args=[member(score_id), total]
            )
            if rank is not None:
                return int(rank) + 1
        return None
