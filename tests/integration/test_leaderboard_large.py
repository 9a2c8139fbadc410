"""A large global leaderboard reads the same before Redis has it (the first read after a
restart, a flush or an expiry: SQL reads only the page, the count and the viewer's position)
as after the sorted set is rebuilt off the request path, a bounded chunk at a time: the same
page order (ties by the earlier score across the page boundary), count and viewer entry,
with restricted players left out."""

from __future__ import annotations

import random
import secrets
from typing import Any

import httpx

from server.services import leaderboards as lb
from tests.helpers import SignedIn
from tests.score_play import stored_map

_NOW = "2026-01-01 00:00:00"
BOARD = 3_000  # more than one rebuild chunk
_STATS = '{"great": 10}'


async def _seed(services: Any, beatmap_id: int, viewer: int) -> dict[int, tuple[int, int]]:
    """BOARD bests in SQL (users, scores, score_bests), every 10th player restricted, totals in
    tie groups of five, score ids shuffled so ties must be ordered by id; the viewer gets one
    too. Returns user id -> (score id, total) of the unrestricted players."""
    db = services.db
    rng = random.Random(17)
    first_user = 1_000_000_000 + secrets.randbelow(100_000) * 10_000
    users = list(range(first_user, first_user + BOARD))
    score_ids = rng.sample(range(first_user * 10, first_user * 10 + BOARD * 3), BOARD + 1)
    tag = secrets.token_hex(3)
    visible: dict[int, tuple[int, int]] = {}
    rows: list[tuple[int, int, int, bool]] = []
    for i, uid in enumerate([*users, viewer]):
        total = 1_000_000 - (i // 5) * 3 if uid != viewer else 1_000_000 - (BOARD // 2 // 5) * 3
        restricted = uid != viewer and i % 10 == 3
        rows.append((uid, score_ids[i], total, restricted))
        if not restricted:
            visible[uid] = (score_ids[i], total)
    for start in range(0, BOARD, 1000):
        chunk = [r for r in rows[start : start + 1000] if r[0] != viewer]
        await db.execute_raw(
            "INSERT INTO users (id, username, username_safe, email, password_hash, is_restricted,"
            " created_at, last_visit_at) VALUES "
            + ", ".join(
                f"({u}, 'l{tag}{u}', 'l{tag}{u}', 'l{tag}{u}@example.com', 'x', {int(r)},"
                f" '{_NOW}', '{_NOW}')"
                for u, _, _, r in chunk
            )
        )
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        await db.execute_raw(
            "INSERT INTO scores (id, user_id, beatmap_id, ruleset_id, ruleset, token_id, passed,"
            " ranked, play_counted, total_score, total_score_without_mods, accuracy, max_combo,"
            " `rank`, mods, mods_key, statistics, maximum_statistics, pp, started_at, ended_at)"
            " VALUES "
            + ", ".join(
                f"({s}, {u}, {beatmap_id}, 0, 'osu', {s}, 1, 1, 1, {t}, {t}, 0.97, 100, 'A',"
                f" '[]', '', '{_STATS}', '{_STATS}', 50.0, '{_NOW}', '{_NOW}')"
                for u, s, t, _ in chunk
            )
        )
        await db.execute_raw(
            "INSERT INTO score_bests (beatmap_id, ruleset, user_id, score_id, total_score) VALUES "
            + ", ".join(f"({beatmap_id}, 'osu', {u}, {s}, {t})" for u, s, t, _ in chunk)
        )
    await services.scores.repo.recount_board(beatmap_id, "osu")  # written around set_best
    return visible


def _expected(visible: dict[int, tuple[int, int]]) -> list[int]:
    """Score ids best first: total descending, the earlier (smaller) score id first."""
    return [s for s, _ in sorted(visible.values(), key=lambda st: (-st[1], st[0]))]


async def _read(client: httpx.AsyncClient, beatmap_id: int, viewer: SignedIn, limit: int) -> Any:
    r = await client.get(
        f"/api/v2/beatmaps/{beatmap_id}/scores?type=global&mode=osu&limit={limit}",
        headers=viewer.headers,
    )
    assert r.status_code == 200, r.text
    return r.json()


def _check(body: Any, order: list[int], viewer_score: int, limit: int) -> None:
    assert [s["id"] for s in body["scores"]] == order[:limit]
    assert body["score_count"] == len(order)
    assert body["user_score"]["score"]["id"] == viewer_score
    assert body["user_score"]["position"] == order.index(viewer_score) + 1


async def test_large_board_same_cold_and_rebuilt(
    client: httpx.AsyncClient, services: Any, player: SignedIn
) -> None:
    beatmap = await stored_map(services)
    visible = await _seed(services, beatmap.id, player.id)
    order = _expected(visible)
    viewer_score = visible[player.id][0]
    boards = services.scores.leaderboards
    keys = boards._keys(beatmap.id, "osu")

    # Cold: nothing in Redis; the page is read from SQL and a rebuild starts behind it.
    for limit in (50, 100):
        _check(await _read(client, beatmap.id, player, limit), order, viewer_score, limit)
    await boards.settled()
    assert await services.redis.exists(keys[1])
    assert await services.redis.zcard(keys[0]) == len(order)
    assert [
        lb.score_id_of(m) for m in await services.redis.zrevrange(keys[0], 0, len(order))
    ] == order

    # A write moves a player from the bottom into the page: answered from the rebuilt set.
    mover = next(u for u, (s, _) in visible.items() if s == order[-1])
    score_id, old_total = visible[mover]
    total = 1_000_001
    await services.scores.repo.set_best(
        beatmap.id, "osu", mover, score_id, total, previous_total=old_total
    )
    await services.db.execute_raw(f"UPDATE scores SET total_score = {total} WHERE id = {score_id}")
    await boards.record_best(beatmap.id, "osu", score_id, score_id, total)
    visible[mover] = (score_id, total)
    order = _expected(visible)
    assert order[0] == score_id
    for limit in (50, 100):
        _check(await _read(client, beatmap.id, player, limit), order, viewer_score, limit)

    # Redis loses the board again: the SQL answer equals the set's.
    await services.redis.delete(keys[0], keys[1], f"{keys[0]}:pages", f"{keys[0]}:users")
    await services.near.invalidate("leaderboard", [beatmap.id])
    _check(await _read(client, beatmap.id, player, 50), order, viewer_score, 50)
    await boards.settled()


async def test_rebuild_raced_by_a_write_is_discarded(services: Any, player: SignedIn) -> None:
    beatmap = await stored_map(services)
    await _seed(services, beatmap.id, player.id)
    boards = services.scores.leaderboards
    keys = boards._keys(beatmap.id, "osu")
    generation = (await services.redis.get(keys[2]) or b"0").decode()
    await services.redis.incr(keys[2])  # a submission landed after the read took its generation
    await boards._rebuild_board(beatmap.id, "osu", generation)
    assert not await services.redis.exists(keys[0], keys[1])
    assert not [k async for k in services.redis.scan_iter(f"{keys[0]}:build:*")]
