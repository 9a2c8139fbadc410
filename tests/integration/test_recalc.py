"""The recalc command's engine: pp through the core, bests, statistics, dry run, resume."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.services.recalc import RecalcFilter, Recalculator
from tests.helpers import SignedIn, sign_in, signup
from tests.score_play import age_token, play, play_body, stored_map, submit, token_for


def _recalculator(services: Any) -> Recalculator:
    return Recalculator(
        services.db,
        services.scores.repo,
        services.beatmaps,
        services.scores.leaderboards,
        services.scores.pp_cache,
        all_statuses=False,
    )


async def _snapshot(services: Any, user_id: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    scores = await services.db.fetch_raw(
        "SELECT id, pp, pp_version FROM scores WHERE user_id = :u ORDER BY id", u=user_id
    )
    stats = await services.db.fetch_raw(
        "SELECT ranked_score, pp, hit_accuracy, count_ss, count_s, count_a FROM user_statistics "
        "WHERE user_id = :u AND ruleset = 'osu'",
        u=user_id,
    )
    return scores, stats[0]


async def _played(
    client: httpx.AsyncClient, services: Any
) -> tuple[SignedIn, list[dict[str, Any]]]:
    player = await sign_in(client, await signup(client))
    maps = [await stored_map(services, seed=i) for i in range(2)]
    scores = [
        await play(client, player, maps[0], oks=2, total_score_without_mods=800_000),
        await play(client, player, maps[0], oks=0, total_score_without_mods=700_000),
        await play(client, player, maps[1], oks=5, misses=1, total_score_without_mods=600_000),
    ]
    return player, scores


async def _corrupt(services: Any, player: SignedIn) -> None:
    await services.db.execute_raw(
        "UPDATE scores SET pp = 1.5, pp_version = 'old' WHERE user_id = :u AND pp IS NOT NULL",
        u=player.id,
    )
    await services.db.execute_raw(
        "UPDATE user_statistics SET pp = 3, ranked_score = 7, count_s = 9 WHERE user_id = :u",
        u=player.id,
    )
    await services.db.execute_raw("DELETE FROM score_pp_bests WHERE user_id = :u", u=player.id)


async def test_recalc_restores_pp_bests_and_statistics(
    client: httpx.AsyncClient, services: Any
) -> None:
    player, scores = await _played(client, services)
    before = await _snapshot(services, player.id)
    await _corrupt(services, player)
    corrupted = await _snapshot(services, player.id)
    recalc = _recalculator(services)

    dry = await recalc.run(RecalcFilter(user_id=player.id), dry_run=True)
    assert dry.scores_seen == 3 and dry.pp_changed == 3 and dry.users_changed == 1
    assert await _snapshot(services, player.id) == corrupted  # a dry run writes nothing

    done = await recalc.run(RecalcFilter(user_id=player.id), dry_run=False)
    assert done.pp_changed == 3 and done.users_changed == 1
    after = await _snapshot(services, player.id)
    assert [r["pp_version"] for r in after[0]] == [r["pp_version"] for r in before[0]]
    for old, new in zip(before[0], after[0], strict=True):
        assert new["pp"] == pytest.approx(old["pp"], rel=1e-12)
    assert after[1] == pytest.approx(before[1])
    again = await recalc.run(RecalcFilter(user_id=player.id), dry_run=True)
    assert again.pp_changed == 0 and again.users_changed == 0 and again.bests_changed == 0
    # Top plays, one per beatmap: on the first map the 700k play has no oks, so more pp.
    best = (
        await client.get(f"/api/v2/users/{player.id}/scores/best", headers=player.headers)
    ).json()
    assert {s["id"] for s in best} == {scores[1]["id"], scores[2]["id"]}


async def test_recalc_resumes_after_interruption(
    client: httpx.AsyncClient, services: Any, tmp_path: Path
) -> None:
    player, _ = await _played(client, services)
    before = await _snapshot(services, player.id)
    await _corrupt(services, player)
    state = tmp_path / "recalc-state.json"
    seen: list[int] = []

    def crash_after_one(n: int) -> None:
        seen.append(n)
        raise KeyboardInterrupt

    recalc = _recalculator(services)
    with pytest.raises(KeyboardInterrupt):
        await recalc.run(
            RecalcFilter(user_id=player.id),
            dry_run=False,
            state_path=state,
            batch_size=1,
            progress=crash_after_one,
        )
    assert state.exists() and seen == [1]
    report = await recalc.run(
        RecalcFilter(user_id=player.id), dry_run=False, state_path=state, resume=True, batch_size=1
    )
    assert report.scores_seen == 2  # the first batch was not redone
    assert not state.exists()
    after = await _snapshot(services, player.id)
    assert after[1] == pytest.approx(before[1])
    assert [r["pp"] for r in after[0]] == pytest.approx([r["pp"] for r in before[0]])


async def test_recalc_filters_leave_others_alone(client: httpx.AsyncClient, services: Any) -> None:
    a, _ = await _played(client, services)
    b, _ = await _played(client, services)
    await _corrupt(services, a)
    await _corrupt(services, b)
    untouched = await _snapshot(services, b.id)
    await _recalculator(services).run(RecalcFilter(user_id=a.id, ruleset_id=0), dry_run=False)
    assert await _snapshot(services, b.id) == untouched


async def test_recalc_rebuilds_leaderboard(client: httpx.AsyncClient, services: Any) -> None:
    beatmap = await stored_map(services)
    players = [await sign_in(client, await signup(client)) for _ in range(2)]
    ids = [
        (await play(client, p, beatmap, total_score_without_mods=700_000 + i))["id"]
        for i, p in enumerate(players)
    ]
    await services.db.execute_raw("DELETE FROM score_bests WHERE beatmap_id = :b", b=beatmap.id)
    await _recalculator(services).run(RecalcFilter(beatmap_id=beatmap.id), dry_run=False)
    rows = await services.db.fetch_raw(
        "SELECT score_id FROM score_bests WHERE beatmap_id = :b ORDER BY score_id", b=beatmap.id
    )
    assert [r["score_id"] for r in rows] == ids
    board = (
        await client.get(f"/api/v2/beatmaps/{beatmap.id}/scores", headers=players[0].headers)
    ).json()
    assert [s["id"] for s in board["scores"]] == ids[::-1]


async def test_recalc_cli_dry_run(client: httpx.AsyncClient, services: Any, settings: Any) -> None:
    """`python -m server recalc --dry-run` reports and writes nothing; `ranks snapshot` runs."""
    import asyncio
    import os
    import sys

    player, _ = await _played(client, services)
    await _corrupt(services, player)
    corrupted = await _snapshot(services, player.id)
    env = {
        **os.environ,
        "DATA_DIR": str(settings.data_dir),
        "SECRET_KEY": settings.secret_key,
        "LOG_LEVEL": "warning",
    }
    if not settings.embedded:
        env["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    for args in (
        ["recalc", "--dry-run", "--quiet", "--user", str(player.id)],
        ["ranks", "snapshot"],
    ):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "server",
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()
        if args[0] == "recalc":
            text = out.decode()
            assert "scores examined: 3" in text and "score pp would change: 3" in text
            assert "users whose play counters would change: 0" in text
    assert await _snapshot(services, player.id) == corrupted


_COUNTERS = "play_count, total_score, total_hits, maximum_combo, play_time"


async def _counters(services: Any, user_id: int) -> dict[str, Any]:
    rows = await services.db.fetch_raw(
        f"SELECT {_COUNTERS} FROM user_statistics WHERE user_id = :u AND ruleset = 'osu'",
        u=user_id,
    )
    return {k: int(v) for k, v in rows[0].items()}


async def test_recalc_restores_play_counters(client: httpx.AsyncClient, services: Any) -> None:
    """Play count, total score, hits, max combo and play time are summed again from the
    stored plays, with the submission's rules (a dry run reports it, a run restores it)."""
    player, scores = await _played(client, services)
    beatmap = await stored_map(services, status=4)  # loved: sets max combo, no pp
    loved = await play(client, player, beatmap, total_score_without_mods=500_000)
    quick_fail = await play(client, player, beatmap, passed=False, misses=30)
    token = await token_for(client, player, beatmap)
    await age_token(services.db, token, 60)
    body = play_body(beatmap, passed=False, misses=20, total_score_without_mods=50_000)
    counted_fail = (await submit(client, player, beatmap, token, body)).json()
    before = await _counters(services, player.id)
    assert before["play_count"] == 5 and before["play_time"] > 0
    assert before["maximum_combo"] >= beatmap.attrs.max_combo > 5
    await services.db.execute_raw(
        "UPDATE user_statistics SET play_count = 99, total_score = 1, total_hits = 0,"
        " maximum_combo = 5, play_time = 0 WHERE user_id = :u",
        u=player.id,
    )
    await services.db.execute_raw(
        "UPDATE scores SET play_counted = 1 WHERE id = :i", i=quick_fail["id"]
    )
    corrupted = await _counters(services, player.id)
    recalc = _recalculator(services)

    dry = await recalc.run(RecalcFilter(user_id=player.id), dry_run=True)
    assert dry.counters_changed == 1 and dry.users_changed == 1
    assert dry.counter_fields == dict.fromkeys(_COUNTERS.split(", "), 1)
    assert f"user {player.id} osu: play_count 99 -> 5" in "\n".join(dry.lines(True))
    assert await _counters(services, player.id) == corrupted  # a dry run writes nothing

    done = await recalc.run(RecalcFilter(user_id=player.id), dry_run=False)
    assert done.counters_changed == 1
    assert await _counters(services, player.id) == before
    flags = await services.db.fetch_raw(
        "SELECT id, play_counted FROM scores WHERE user_id = :u ORDER BY id", u=player.id
    )
    counted = {int(r["id"]): bool(r["play_counted"]) for r in flags}
    assert counted == {
        **{s["id"]: True for s in scores},
        loved["id"]: True,
        quick_fail["id"]: False,
        counted_fail["id"]: True,
    }
    again = await recalc.run(RecalcFilter(user_id=player.id), dry_run=True)
    assert again.counters_changed == 0 and again.users_changed == 0


_HIT_COUNTS = "count_300, count_100, count_50, count_miss"


async def _hit_counts(services: Any, user_id: int) -> dict[str, int]:
    rows = await services.db.fetch_raw(
        f"SELECT {_HIT_COUNTS} FROM user_statistics WHERE user_id = :u AND ruleset = 'osu'",
        u=user_id,
    )
    return {k: int(v) for k, v in rows[0].items()}


async def test_hit_counts_sum_every_play_and_recalc_restores_them(
    client: httpx.AsyncClient, services: Any
) -> None:
    """count_300/100/50/miss add every play, failed ones too (HitStatisticsProcessor), at
    submission; recalc sums them again from the stored plays."""
    player, _ = await _played(client, services)
    beatmap = await stored_map(services)
    await play(client, player, beatmap, passed=False, misses=30, total_score_without_mods=10)
    stored = await services.db.fetch_raw(
        "SELECT statistics FROM scores WHERE user_id = :u", u=player.id
    )
    expected = dict.fromkeys(_HIT_COUNTS.split(", "), 0)
    for row in stored:
        statistics = json.loads(row["statistics"])
        expected["count_300"] += statistics.get("great", 0)
        expected["count_100"] += statistics.get("ok", 0)
        expected["count_50"] += statistics.get("meh", 0)
        expected["count_miss"] += statistics.get("miss", 0)
    assert expected["count_miss"] == 31 and expected["count_100"] == 7
    assert await _hit_counts(services, player.id) == expected

    await services.db.execute_raw(
        "UPDATE user_statistics SET count_300 = 0, count_100 = 0, count_50 = 0, count_miss = 0"
        " WHERE user_id = :u",
        u=player.id,
    )
    done = await _recalculator(services).run(RecalcFilter(user_id=player.id), dry_run=False)
    assert done.counter_fields == {"count_300": 1, "count_100": 1, "count_miss": 1}
    assert await _hit_counts(services, player.id) == expected
    profile = (await client.get(f"/api/v2/users/{player.id}/osu", headers=player.headers)).json()
    assert {k: profile["statistics"][k] for k in expected} == expected
