"""A board's size and positions come from score_board_counts (unrestricted bests counted per
block of totals), kept in the transaction of every change to score_bests and of every change
of restriction: after any sequence of new, improved and dropped bests, restrictions and their
lifting, the kept counts equal counting again from score_bests, and every size and position
equals counting the board row by row."""

from __future__ import annotations

import random
import secrets
from typing import Any

import httpx

from server.repositories.moderation import ModerationRepository
from server.repositories.scores import BOARD_COARSE, BOARD_FINE
from tests.helpers import sign_in, signup
from tests.score_play import play, stored_map

_NOW = "2026-01-01 00:00:00"


async def _counts(services: Any, beatmap_id: int) -> dict[tuple[int, int], int]:
    """The board's non-empty blocks: (grain, block) -> entries."""
    rows = await services.db.fetch_raw(
        "SELECT grain, block, entries FROM score_board_counts WHERE beatmap_id = :b"
        " AND ruleset = 'osu'",
        b=beatmap_id,
    )
    return {(int(r["grain"]), int(r["block"])): int(r["entries"]) for r in rows if r["entries"]}


async def _visible(services: Any, beatmap_id: int) -> list[tuple[int, int]]:
    """(total, score id) of the board's unrestricted bests, counted row by row, best first."""
    rows = await services.db.fetch_raw(
        "SELECT b.total_score, b.score_id FROM score_bests b JOIN users u ON u.id = b.user_id"
        " WHERE b.beatmap_id = :b AND b.ruleset = 'osu' AND u.is_restricted = 0",
        b=beatmap_id,
    )
    return sorted(((int(r["total_score"]), int(r["score_id"])) for r in rows), key=_order)


def _order(entry: tuple[int, int]) -> tuple[int, int]:
    return (-entry[0], entry[1])


async def _check(services: Any, beatmap_id: int) -> None:
    """Kept counts equal a recount; size and positions (of bests and of probes between
    them) equal the row-by-row answer."""
    repo = services.scores.repo
    kept = await _counts(services, beatmap_id)
    visible = await _visible(services, beatmap_id)
    assert await repo.board_count(beatmap_id, "osu") == len(visible)
    probes = [*visible, (0, 1), (2**40, 1)]
    probes += [(total + d, score_id + d) for total, score_id in visible[:40] for d in (-1, 1)]
    for total, score_id in probes:
        above = sum(1 for entry in visible if _order(entry) < _order((total, score_id)))
        assert await repo.board_position(beatmap_id, "osu", total, score_id) == above + 1
    await repo.recount_board(beatmap_id, "osu")
    assert await _counts(services, beatmap_id) == kept


async def test_counts_follow_bests_and_restrictions(services: Any) -> None:
    """Random bests on both sides of fine (256) and coarse (65,536) block edges, ties
    included, moved, dropped, restricted and unrestricted through the repositories."""
    beatmap = await stored_map(services)
    db, repo, moderation = services.db, services.scores.repo, ModerationRepository(services.db)
    rng = random.Random(6)
    first = 2_000_000_000 - secrets.randbelow(10_000) * 1_000
    users = list(range(first, first + 60))
    await db.execute_raw(
        "INSERT INTO users (id, username, username_safe, email, password_hash, created_at,"
        " last_visit_at) VALUES "
        + ", ".join(
            f"({u}, 'c{u}', 'c{u}', 'c{u}@example.com', 'x', '{_NOW}', '{_NOW}')" for u in users
        )
    )
    edges = [15 << BOARD_COARSE, 14 << BOARD_COARSE, 3_842 << BOARD_FINE, 1_000_000]
    bests: dict[int, tuple[int, int]] = {}  # user -> (score id, total)
    restricted: set[int] = set()
    next_score = first * 10

    def a_total() -> int:
        return (
            rng.choice(edges) + rng.randint(-3, 3) if rng.random() < 0.8 else rng.randint(1, 2**20)
        )

    for step in range(240):
        user = rng.choice(users)
        roll = rng.random()
        async with db.transaction():
            if roll < 0.6 or user not in bests:  # a new or an improved (or recalc-lowered) best
                next_score += 1
                total = a_total()
                previous = bests[user][1] if user in bests else None
                await repo.set_best(
                    beatmap.id, "osu", user, next_score, total, previous_total=previous
                )
                bests[user] = (next_score, total)
            elif roll < 0.75:  # no ranked score left (recalc)
                await repo.drop_best(beatmap.id, "osu", user, previous_total=bests.pop(user)[1])
            elif user in restricted:
                await moderation.set_restricted(user, False)
                restricted.discard(user)
            else:
                await moderation.set_restricted(user, True)
                restricted.add(user)
        if step % 40 == 39:
            await _check(services, beatmap.id)
    # Applied once: a repeated restriction (or lifting) leaves the counts alone.
    some = next(iter(restricted))
    kept = await _counts(services, beatmap.id)
    await moderation.set_restricted(some, True)
    await moderation.set_restricted(next(u for u in bests if u not in restricted), False)
    assert await _counts(services, beatmap.id) == kept
    assert await repo.board_count(beatmap.id, "osu") == len(
        [u for u in bests if u not in restricted]
    )
    await _check(services, beatmap.id)


async def _cold(client: httpx.AsyncClient, services: Any, beatmap_id: int, viewer: Any) -> Any:
    """The global board read from SQL (its Redis keys and rendered pages dropped)."""
    tag = f"{{lb:osu:{beatmap_id}}}"
    await services.redis.delete(f"{tag}:z", f"{tag}:built", f"{tag}:z:pages", f"{tag}:z:users")
    await services.near.invalidate("leaderboard", [beatmap_id])
    response = await client.get(
        f"/api/v2/beatmaps/{beatmap_id}/scores?type=global&mode=osu", headers=viewer.headers
    )
    assert response.status_code == 200, response.text
    await services.scores.leaderboards.settled()
    return response.json()


async def test_submissions_and_moderation_keep_the_cold_board_right(
    client: httpx.AsyncClient, services: Any
) -> None:
    beatmap = await stored_map(services)
    players = [await sign_in(client, await signup(client)) for _ in range(3)]
    for i, p in enumerate(players):  # new bests: 700,000 < 800,000 < 900,000
        await play(client, p, beatmap, total_score_without_mods=700_000 + 100_000 * i)
    low, mid, top = players
    body = await _cold(client, services, beatmap.id, low)
    assert body["score_count"] == 3 and body["user_score"]["position"] == 3

    # An improved best moves the player up (a worse play changes nothing).
    await play(client, low, beatmap, total_score_without_mods=850_000)
    await play(client, low, beatmap, total_score_without_mods=600_000)
    body = await _cold(client, services, beatmap.id, low)
    assert body["score_count"] == 3 and body["user_score"]["position"] == 2
    await _check(services, beatmap.id)

    # A restriction takes the player off the size and everyone's positions; lifting it
    # brings them back.
    await services.moderation.restrict(await services.users.by_id(top.id), None, "test")
    body = await _cold(client, services, beatmap.id, low)
    assert body["score_count"] == 2 and body["user_score"]["position"] == 1
    assert [s["user_id"] for s in body["scores"]] == [low.id, mid.id]
    await _check(services, beatmap.id)
    await services.moderation.unrestrict(await services.users.by_id(top.id), None, "appeal")
    body = await _cold(client, services, beatmap.id, low)
    assert body["score_count"] == 3 and body["user_score"]["position"] == 2
    await _check(services, beatmap.id)


async def test_positions_from_the_built_board_count_as_sql_does(services: Any) -> None:
    """A submission's position read from the Redis board (one script, no SQL) equals the
    row-by-row answer for bests and for scores that are not on the board, ties included,
    and leaves the board as it was."""
    beatmap = await stored_map(services)
    db, repo = services.db, services.scores.repo
    boards = services.scores.leaderboards
    rng = random.Random(7)
    first = 2_000_000_000 - secrets.randbelow(10_000) * 1_000
    users = list(range(first, first + 30))
    await db.execute_raw(
        "INSERT INTO users (id, username, username_safe, email, password_hash, created_at,"
        " last_visit_at) VALUES "
        + ", ".join(
            f"({u}, 'r{u}', 'r{u}', 'r{u}@example.com', 'x', '{_NOW}', '{_NOW}')" for u in users
        )
    )
    for i, user in enumerate(users):  # totals from a few values: many ties
        async with db.transaction():
            total = rng.choice((500, 700, 900)) * 1000
            await repo.set_best(
                beatmap.id, "osu", user, first * 10 + 2 * i, total, previous_total=None
            )
    assert await boards.built_position(beatmap.id, "osu", 1, 700_000) is None  # not built
    await boards.top(beatmap.id, "osu", 50)  # the read that finds it unbuilt starts a rebuild
    await boards.settled()
    tag = f"{{lb:osu:{beatmap.id}}}"
    members_before = await services.redis.zrange(f"{tag}:z", 0, -1, withscores=True)
    visible = await _visible(services, beatmap.id)
    probes = [*visible, (0, 1), (2**40, 1), (10**6, first * 10 + 5)]
    probes += [(total, score_id + d) for total, score_id in visible for d in (-1, 1)]
    for total, score_id in probes:
        above = sum(1 for entry in visible if _order(entry) < _order((total, score_id)))
        assert await boards.built_position(beatmap.id, "osu", score_id, total) == above + 1
        assert await boards.position(beatmap.id, "osu", score_id, total) == above + 1
    assert await services.redis.zrange(f"{tag}:z", 0, -1, withscores=True) == members_before
