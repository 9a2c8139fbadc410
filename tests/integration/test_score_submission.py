"""Solo score submission as lazer performs it: token, PUT, results, leaderboard, profile.

Requirement ids are reliability.md §1.4 (S-SC-*) and §2 (failure modes)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import rosu_pp_py as rosu

from server.core import pp as corepp
from tests.helpers import SignedIn, sign_in, signup
from tests.score_play import (
    StoredMap,
    age_token,
    maximum_statistics,
    play,
    play_body,
    request_token,
    stored_map,
    submit,
    token_for,
)
from tests.unit.test_pp_core import ROSU_MODES, rosu_kwargs


@pytest.fixture
async def ranked_map(services: Any) -> StoredMap:
    return await stored_map(services)


async def _statistics(
    client: httpx.AsyncClient, player: SignedIn, mode: str = "osu"
) -> dict[str, Any]:
    response = await client.get(f"/api/v2/users/{player.id}/{mode}?key=id", headers=player.headers)
    assert response.status_code == 200, response.text
    return response.json()["statistics"]  # type: ignore[no-any-return]


async def _score_rows(services: Any, user_id: int) -> list[dict[str, Any]]:
    return await services.db.fetch_raw(
        "SELECT id, token_id FROM scores WHERE user_id = :u", u=user_id
    )


async def test_full_play_loop_as_lazer(
    client: httpx.AsyncClient, player: SignedIn, ranked_map: StoredMap
) -> None:
    """Token → PUT → results (position) → leaderboard → statistics → score page → profile lists."""
    token_response = await request_token(client, player, ranked_map)
    assert token_response.status_code == 200
    assert list(token_response.json()) == ["id"]
    token = token_response.json()["id"]
    response = await submit(client, player, ranked_map, token, play_body(ranked_map, oks=2))
    assert response.status_code == 200, response.text
    score = response.json()
    # MultiplayerScore: lazer reads id and position; rank and ended_at must be non-null.
    assert isinstance(score["id"], int) and score["position"] == 1
    assert score["rank"] == "S" and score["ended_at"] and score["passed"] is True
    assert score["user"]["id"] == player.id and score["beatmap_id"] == ranked_map.id
    assert score["pp"] > 0
    # The accuracy and total the server computed, not the client's claim (accuracy 1.0).
    assert score["accuracy"] == pytest.approx(
        (38 * 300 + 4 * 30 + 10 * 150 + 2 * 100) / (40 * 300 + 4 * 30 + 10 * 150)
    )
    assert score["total_score"] == 900_000

    board = (
        await client.get(
            f"/api/v2/beatmaps/{ranked_map.id}/scores?type=global&mode=osu", headers=player.headers
        )
    ).json()
    assert [s["id"] for s in board["scores"]] == [score["id"]]
    assert board["score_count"] == 1
    assert (
        board["user_score"]["position"] == 1 and board["user_score"]["score"]["id"] == score["id"]
    )
    assert (
        board["scores"][0]["mods"] == []
        and board["scores"][0]["user"]["username"] == player.account.username
    )

    stats = await _statistics(client, player)
    assert (
        stats["play_count"] == 1
        and stats["ranked_score"] == 900_000
        and stats["total_score"] == 900_000
    )
    assert stats["pp"] == pytest.approx(score["pp"] + 416.6667 * (1 - 0.995))
    assert stats["hit_accuracy"] == pytest.approx(score["accuracy"] * 100)
    assert stats["grade_counts"]["s"] == 1 and stats["maximum_combo"] == ranked_map.attrs.max_combo
    assert stats["total_hits"] == 40 and stats["global_rank"] >= 1

    shown = (await client.get(f"/api/v2/scores/{score['id']}", headers=player.headers)).json()
    keys = list(shown)
    assert keys.index("beatmap") < keys.index("beatmapset")  # lazer-protocol.md §4.11
    assert shown["rank_global"] == 1 and shown["beatmap"]["id"] == ranked_map.id
    assert shown["rank_country"] == 1

    for kind in ("best", "recent", "firsts"):
        listed = (
            await client.get(
                f"/api/v2/users/{player.id}/scores/{kind}?mode=osu", headers=player.headers
            )
        ).json()
        assert [s["id"] for s in listed] == [score["id"]], kind
        assert list(listed[0]).index("beatmap") < list(listed[0]).index("beatmapset")
    best = (
        await client.get(f"/api/v2/users/{player.id}/scores/best", headers=player.headers)
    ).json()
    assert best[0]["weight"]["percentage"] == 100


async def test_better_play_replaces_best_and_worse_does_not(
    client: httpx.AsyncClient, player: SignedIn, ranked_map: StoredMap
) -> None:
    first = await play(client, player, ranked_map, oks=4, total_score_without_mods=700_000)
    after_first = await _statistics(client, player)
    worse = await play(client, player, ranked_map, oks=8, total_score_without_mods=600_000)
    after_worse = await _statistics(client, player)
    # No pp best changed: the weighted pp and accuracy stay as they were.
    assert after_worse["pp"] == after_first["pp"] > 0
    assert after_worse["hit_accuracy"] == after_first["hit_accuracy"]
    assert after_worse["play_count"] == 2
    better = await play(client, player, ranked_map, total_score_without_mods=990_000)
    board = (
        await client.get(f"/api/v2/beatmaps/{ranked_map.id}/scores", headers=player.headers)
    ).json()
    assert [s["id"] for s in board["scores"]] == [better["id"]]
    stats = await _statistics(client, player)
    assert stats["play_count"] == 3
    assert stats["ranked_score"] == 990_000  # the best only
    assert stats["total_score"] == 700_000 + 600_000 + 990_000
    assert stats["grade_counts"] == {"ss": 1, "ssh": 0, "s": 0, "sh": 0, "a": 0}
    assert stats["pp"] == pytest.approx(better["pp"] + 416.6667 * (1 - 0.995))
    assert stats["pp"] > after_first["pp"]
    assert stats["hit_accuracy"] == pytest.approx(100.0)
    all_scores = (
        await client.get(
            f"/api/v2/beatmaps/{ranked_map.id}/scores/users/{player.id}/all", headers=player.headers
        )
    ).json()
    assert [s["id"] for s in all_scores["scores"]] == [better["id"], first["id"], worse["id"]]
    mine = (
        await client.get(
            f"/api/v2/beatmaps/{ranked_map.id}/scores/users/{player.id}", headers=player.headers
        )
    ).json()
    assert mine["position"] == 1 and mine["score"]["id"] == better["id"]


async def test_resubmission_returns_the_same_score(
    client: httpx.AsyncClient, player: SignedIn, ranked_map: StoredMap, services: Any
) -> None:
    """S-SC-3: a used token answers with its score, and nothing new is stored."""
    token = await token_for(client, player, ranked_map)
    first = await submit(client, player, ranked_map, token, play_body(ranked_map))
    again = await submit(client, player, ranked_map, token, play_body(ranked_map, misses=3))
    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    # The first answer is built from the stored fields, the second read back from the row:
    # the same document either way (times in whole seconds on both dialects).
    assert again.json() == first.json()
    assert "." not in first.json()["ended_at"]
    assert len(await _score_rows(services, player.id)) == 1
    assert (await _statistics(client, player))["play_count"] == 1


async def test_fifty_concurrent_puts_on_one_token_store_one_score(
    client: httpx.AsyncClient, player: SignedIn, ranked_map: StoredMap, services: Any
) -> None:
    """reliability.md §3.3 C1 (50 here): one row, every response 2xx with the same id."""
    token = await token_for(client, player, ranked_map)
    body = play_body(ranked_map)
    responses = await asyncio.gather(
        *(submit(client, player, ranked_map, token, body) for _ in range(50))
    )
    assert {r.status_code for r in responses} == {200}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(await _score_rows(services, player.id)) == 1
    stats = await _statistics(client, player)
    assert stats["play_count"] == 1 and stats["total_score"] == 900_000


async def test_concurrent_submissions_by_one_user_leave_exact_statistics(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    """reliability.md §2.5 / §3.3 C2: no lost update when one user submits in parallel."""
    maps = [await stored_map(services, seed=i) for i in range(4)]
    plays = [(m, 500_000 + 10_000 * i + j) for i, m in enumerate(maps) for j in range(5)]
    tokens = [await token_for(client, player, m) for m, _ in plays]
    responses = await asyncio.gather(
        *(
            submit(client, player, m, t, play_body(m, oks=1, total_score_without_mods=total))
            for (m, total), t in zip(plays, tokens, strict=True)
        )
    )
    assert {r.status_code for r in responses} == {200}, [
        r.text for r in responses if r.status_code != 200
    ]
    stats = await _statistics(client, player)
    assert stats["play_count"] == 20
    assert stats["total_score"] == sum(total for _, total in plays)
    assert stats["ranked_score"] == sum(500_000 + 10_000 * i + 4 for i in range(4))
    assert stats["total_hits"] == sum(
        judged for m in maps for judged in [maximum_statistics(m.attrs)["great"]] * 5
    )
    assert stats["grade_counts"]["s"] == 4
    scores = [r.json() for r in responses]
    top = sorted(
        (max(s["pp"] for s in scores if s["beatmap_id"] == m.id) for m in maps), reverse=True
    )
    expected = sum(p * 0.95**i for i, p in enumerate(top)) + 416.6667 * (1 - 0.995**4)
    assert stats["pp"] == pytest.approx(expected)


async def test_stored_pp_equals_rosu_pp_py(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    """pp of stored scores is rosu-pp's on the same statistics, with the algorithm version."""
    checked = 0
    for ruleset in ("osu", "taiko", "mania"):
        beatmap = await stored_map(services, ruleset=ruleset)
        mods = [{"acronym": "HD"}] if ruleset != "mania" else []
        score = await play(client, player, beatmap, oks=3, mods=mods)
        data = await services.beatmaps.files.get("osu", beatmap.checksum)
        stats = corepp.HitStatistics(
            **{
                k: v
                for k, v in score["statistics"].items()
                if k in corepp.HitStatistics.__struct_fields__
            }
        )
        kwargs = rosu_kwargs(
            beatmap.ruleset_id, corepp.ScoreInput(statistics=stats, max_combo=score["max_combo"])
        )
        rosu_map = rosu.Beatmap(bytes=data)
        if beatmap.ruleset_id != 0:
            rosu_map.convert(ROSU_MODES[beatmap.ruleset_id])
        expected = rosu.Performance(mods=mods, lazer=True, **kwargs).calculate(rosu_map).pp
        assert score["pp"] == pytest.approx(expected, rel=1e-9), ruleset
        rows = await services.db.fetch_raw(
            "SELECT pp_version FROM scores WHERE id = :i", i=score["id"]
        )
        assert rows[0]["pp_version"] == corepp.algorithm_version()
        checked += 1
    assert checked == 3


async def test_leaderboard_survives_redis_flush(client: httpx.AsyncClient, services: Any) -> None:
    """SQL is the truth: flushed mid-way, the board is rebuilt and still agrees."""
    beatmap = await stored_map(services)
    players = [await sign_in(client, await signup(client)) for _ in range(3)]
    ids = [
        (await play(client, p, beatmap, total_score_without_mods=800_000 + 1000 * i))["id"]
        for i, p in enumerate(players)
    ]
    board = (
        await client.get(f"/api/v2/beatmaps/{beatmap.id}/scores", headers=players[0].headers)
    ).json()
    assert [s["id"] for s in board["scores"]] == ids[::-1]
    await services.redis.flushdb()
    # Submitting while the board is gone must not leave a partial board behind.
    late = await sign_in(client, await signup(client))
    late_id = (await play(client, late, beatmap, total_score_without_mods=800_500))["id"]
    board = (await client.get(f"/api/v2/beatmaps/{beatmap.id}/scores", headers=late.headers)).json()
    assert [s["id"] for s in board["scores"]] == [ids[2], ids[1], late_id, ids[0]]
    assert board["user_score"]["position"] == 3
    await services.redis.flushdb()
    better = (await play(client, players[0], beatmap, total_score_without_mods=999_000))["id"]
    board = (await client.get(f"/api/v2/beatmaps/{beatmap.id}/scores", headers=late.headers)).json()
    assert [s["id"] for s in board["scores"]] == [better, ids[2], ids[1], late_id]
    # And once built, a new best moves the entry in Redis (no stale second entry).
    best_again = (await play(client, players[1], beatmap, total_score_without_mods=999_500))["id"]
    board = (
        await client.get(f"/api/v2/beatmaps/{beatmap.id}/scores?limit=10", headers=late.headers)
    ).json()
    assert [s["id"] for s in board["scores"]] == [best_again, better, ids[2], late_id]
    assert board["score_count"] == 4


async def test_leaderboard_scopes_and_limits(client: httpx.AsyncClient, services: Any) -> None:
    beatmap = await stored_map(services)
    me = await sign_in(client, await signup(client))
    friend = await sign_in(client, await signup(client))
    stranger = await sign_in(client, await signup(client))
    await client.post(f"/api/v2/friends?target={friend.id}", headers=me.headers)
    mine = await play(client, me, beatmap, total_score_without_mods=800_000)
    friends = await play(client, friend, beatmap, total_score_without_mods=850_000)
    await play(client, stranger, beatmap, total_score_without_mods=900_000)
    hd = await play(
        client, stranger, beatmap, total_score_without_mods=700_000, mods=[{"acronym": "HD"}]
    )
    url = f"/api/v2/beatmaps/{beatmap.id}/scores"
    friend_board = (await client.get(f"{url}?type=friend", headers=me.headers)).json()
    assert [s["id"] for s in friend_board["scores"]] == [friends["id"], mine["id"]]
    limited = (await client.get(f"{url}?limit=1", headers=me.headers)).json()
    assert len(limited["scores"]) == 1 and limited["user_score"]["position"] == 3
    assert len((await client.get(f"{url}?limit=500", headers=me.headers)).json()["scores"]) == 3
    hd_board = (await client.get(f"{url}?mods[]=HD", headers=me.headers)).json()
    assert [s["id"] for s in hd_board["scores"]] == [hd["id"]]
    nm_board = (await client.get(f"{url}?mods[]=NM", headers=me.headers)).json()
    assert len(nm_board["scores"]) == 3
    country = (await client.get(f"{url}?type=country", headers=me.headers)).json()
    assert len(country["scores"]) == 3  # everyone here registered from the same (unknown) country
    assert (await client.get(f"{url}?type=team", headers=me.headers)).json()["scores"] == []
    assert (await client.get(f"{url}?type=nonsense", headers=me.headers)).status_code == 422


async def test_unranked_map_and_failed_play(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    """A fail is stored (rank F, no pp, not on the board); a pending map has no board."""
    pending = await stored_map(services, status=0)
    ranked = await stored_map(services)
    failed = await play(client, player, ranked, passed=False, misses=10)
    assert failed["rank"] == "F" and failed["pp"] is None and failed["ranked"] is False
    assert failed["position"] is None
    on_pending = await play(client, player, pending)
    assert on_pending["ranked"] is False and on_pending["pp"] is None
    board = (
        await client.get(f"/api/v2/beatmaps/{ranked.id}/scores", headers=player.headers)
    ).json()
    assert board["scores"] == [] and board["user_score"] is None
    stats = await _statistics(client, player)
    # The fail came within 8 s of the token: it does not count as a play (PlayValidityHelper).
    assert stats["play_count"] == 1 and stats["ranked_score"] == 0 and stats["pp"] == 0
    recent = (
        await client.get(
            f"/api/v2/users/{player.id}/scores/recent?include_fails=1", headers=player.headers
        )
    ).json()
    assert [s["id"] for s in recent] == [on_pending["id"], failed["id"]]
    recent = (
        await client.get(f"/api/v2/users/{player.id}/scores/recent", headers=player.headers)
    ).json()
    assert [s["id"] for s in recent] == [on_pending["id"]]


# -- validation: every rule has a rejected example, and a rejection stores nothing ----------


def _with(beatmap: StoredMap, **changes: Any) -> dict[str, Any]:
    return play_body(beatmap, **changes)


REJECTED_BODIES = {
    "bad rank": lambda m: _with(m, rank="Z"),
    "accuracy above 1": lambda m: _with(m, accuracy=1.5),
    "accuracy below 0": lambda m: _with(m, accuracy=-0.1),
    "zero total": lambda m: _with(m, total_score=0),
    "total above int32": lambda m: _with(m, total_score=2**31),
    "without-mods total negative": lambda m: _with(m, total_score_without_mods=-5),
    "without-mods total impossible": lambda m: _with(m, total_score_without_mods=5_000_000),
    "empty statistics": lambda m: _with(m, statistics={}),
    "unknown hit result": lambda m: _with(m, statistics={"great": 40, "bogus": 1}),
    "negative count": lambda m: _with(m, statistics={"great": 40, "miss": -1}),
    "over maximum": lambda m: _with(m, statistics={"great": 41}),
    "maximum not the map's": lambda m: _with(
        m, maximum_statistics={"great": 400}, statistics={"great": 400}
    ),
    "pass missing objects": lambda m: _with(m, statistics={"great": 30}),
    "combo above the map's": lambda m: _with(m, combo=m.attrs.max_combo + 1),
    "negative combo": lambda m: _with(m, combo=-1),
    "unknown mod": lambda m: _with(m, mods=[{"acronym": "ZZ"}]),
    "unknown mod setting": lambda m: _with(m, mods=[{"acronym": "DT", "settings": {"bogus": 1}}]),
    "rate out of range": lambda m: _with(
        m, mods=[{"acronym": "DT", "settings": {"speed_change": 3.5}}]
    ),
    "rate not a number": lambda m: _with(
        m, mods=[{"acronym": "HT", "settings": {"speed_change": "fast"}}]
    ),
    "incompatible mods": lambda m: _with(m, mods=[{"acronym": "HR"}, {"acronym": "EZ"}]),
    "wrong ruleset": lambda m: _with(m, ruleset_id=1),
    "missing max_combo": lambda m: {k: v for k, v in _with(m).items() if k != "max_combo"},
    "missing passed": lambda m: {k: v for k, v in _with(m).items() if k != "passed"},
    "string total": lambda m: _with(m, total_score="lots"),
    "not an object": lambda m: [1, 2, 3],
}


@pytest.mark.parametrize("case", list(REJECTED_BODIES))
async def test_bad_submission_is_rejected_and_stores_nothing(
    client: httpx.AsyncClient, services: Any, case: str
) -> None:
    """S-SC-6, S-SC-7, S-SC-8: a 4xx with a reason; no score, no statistics change."""
    player = await sign_in(client, await signup(client))
    beatmap = await stored_map(services)
    token = await token_for(client, player, beatmap)
    response = await submit(client, player, beatmap, token, REJECTED_BODIES[case](beatmap))
    assert response.status_code == 422, (case, response.text)
    assert response.json()["error"]
    assert await _score_rows(services, player.id) == []
    assert (await _statistics(client, player))["play_count"] == 0
    # The token is still unused: a correct body afterwards is accepted.
    assert (await submit(client, player, beatmap, token, play_body(beatmap))).status_code == 200


async def test_client_totals_and_rank_are_recomputed(
    client: httpx.AsyncClient, player: SignedIn, ranked_map: StoredMap
) -> None:
    """S-SC-7: the client's rank and total are not trusted; the multiplier is ours."""
    score = await play(
        client,
        player,
        ranked_map,
        misses=1,
        mods=[{"acronym": "HR"}],
        total_score_without_mods=800_000,
        total_score=2_000_000_000,
        rank="XH",
        accuracy=1.0,
    )
    assert score["rank"] == "A"  # a miss caps an S at A in osu!
    assert score["total_score"] == round(800_000 * 1.09)
    hd = await play(client, player, ranked_map, mods=[{"acronym": "HD"}], rank="D")
    assert hd["rank"] == "XH" and hd["total_score"] == round(900_000 * 1.04)
    dt = await play(
        client, player, ranked_map, mods=[{"acronym": "DT", "settings": {"speed_change": 1.2}}]
    )
    assert dt["total_score"] == round(900_000 * ((1.2 - 1) * 0.46 + 1 - 0.01))


async def test_token_rules(
    client: httpx.AsyncClient, player: SignedIn, ranked_map: StoredMap, services: Any
) -> None:
    """S-SC-1 and S-SC-3: the token is the caller's, for this beatmap, unexpired."""
    assert (await request_token(client, player, ranked_map, beatmap_hash="0" * 32)).json() == {
        "error": "invalid or missing beatmap_hash"
    }
    assert (await request_token(client, player, ranked_map, beatmap_hash="")).status_code == 422
    assert (await request_token(client, player, ranked_map, ruleset_id="7")).status_code == 422
    taiko = await stored_map(services, ruleset="taiko")
    assert (
        await request_token(client, player, taiko, ruleset_id="0")
    ).status_code == 422  # no taiko→osu convert
    missing = StoredMap(2_147_000_000, 1, ranked_map.checksum, 0, ranked_map.attrs)
    assert (await request_token(client, player, missing)).status_code == 404
    anonymous = await client.post(f"/api/v2/beatmaps/{ranked_map.id}/solo/scores")
    assert anonymous.status_code == 401

    token = await token_for(client, player, ranked_map)
    other = await sign_in(client, await signup(client))
    assert (
        await submit(client, other, ranked_map, token, play_body(ranked_map))
    ).status_code == 404
    other_map = await stored_map(services)
    assert (await submit(client, player, other_map, token, play_body(other_map))).status_code == 404
    assert (
        await submit(client, player, ranked_map, 999_999_999, play_body(ranked_map))
    ).status_code == 404
    # Expired: age the token past SCORE_TOKEN_SECONDS.
    await services.db.execute_raw(
        "UPDATE score_tokens SET created_at = '2000-01-01 00:00:00' WHERE id = :t", t=token
    )
    expired = await submit(client, player, ranked_map, token, play_body(ranked_map))
    assert expired.status_code == 422 and expired.json() == {"error": "expired token"}
    assert await _score_rows(services, player.id) == []


async def test_map_ranked_after_token_is_rejected(
    client: httpx.AsyncClient, player: SignedIn, services: Any
) -> None:
    """S-SC-4: 422 "beatmapset state has been updated"."""
    beatmap = await stored_map(services, status=0)
    token = await token_for(client, player, beatmap)
    await services.db.execute_raw(
        "UPDATE beatmapsets SET status = 1, ranked_date = :d WHERE id = :s",
        d="2999-01-01 00:00:00",
        s=beatmap.set_id,
    )
    response = await submit(client, player, beatmap, token, play_body(beatmap))
    assert response.status_code == 422
    assert response.json() == {"error": "beatmapset state has been updated"}


async def test_play_count_validity(
    client: httpx.AsyncClient, player: SignedIn, ranked_map: StoredMap, services: Any
) -> None:
    """osu-queue-score-statistics PlayValidityHelper: a pass always counts (a low total too);
    a fail counts only after 8 s, with 5000 score and min(10 %, 20) judgements."""
    quick_fail = await play(
        client, player, ranked_map, passed=False, misses=38, total_score_without_mods=20_000
    )
    low_pass = await play(client, player, ranked_map, total_score_without_mods=4_000)
    token = await token_for(client, player, ranked_map)
    await age_token(services.db, token, 30)
    body = play_body(ranked_map, passed=False, misses=38, total_score_without_mods=20_000)
    long_fail = await submit(client, player, ranked_map, token, body)
    assert long_fail.status_code == 200
    rows = await services.db.fetch_raw(
        "SELECT id, play_counted FROM scores WHERE user_id = :u ORDER BY id", u=player.id
    )
    assert [(r["id"], bool(r["play_counted"])) for r in rows] == [
        (quick_fail["id"], False),
        (low_pass["id"], True),
        (long_fail.json()["id"], True),
    ]
    stats = await _statistics(client, player)
    assert stats["play_count"] == 2 and stats["total_score"] == 4_000 + 20_000
    # Hits count only from counted plays; max combo only from the pass.
    assert stats["total_hits"] == 40 + 2
    assert stats["maximum_combo"] == ranked_map.attrs.max_combo


async def test_score_pins(
    client: httpx.AsyncClient, player: SignedIn, ranked_map: StoredMap
) -> None:
    scores = [
        await play(client, player, ranked_map, total_score_without_mods=600_000 + i)
        for i in range(3)
    ]
    ids = [s["id"] for s in scores]
    for score_id in ids:
        assert (
            await client.put(f"/api/v2/score-pins/{score_id}", headers=player.headers)
        ).status_code == 204
    assert (
        await client.put(f"/api/v2/score-pins/{ids[0]}", headers=player.headers)
    ).status_code == 204  # twice: fine
    pinned = (
        await client.get(f"/api/v2/users/{player.id}/scores/pinned", headers=player.headers)
    ).json()
    assert [s["id"] for s in pinned] == ids
    assert pinned[0]["current_user_attributes"]["pin"] == {"is_pinned": True, "score_id": ids[0]}
    reorder = await client.post(
        f"/api/v2/score-pins/{ids[2]}/reorder",
        data={"order3_score_id": str(ids[0])},
        headers=player.headers,
    )
    assert reorder.status_code == 204
    pinned = (
        await client.get(f"/api/v2/users/{player.id}/scores/pinned", headers=player.headers)
    ).json()
    assert [s["id"] for s in pinned] == [ids[2], ids[0], ids[1]]
    assert (
        await client.delete(f"/api/v2/score-pins/{ids[0]}", headers=player.headers)
    ).status_code == 204
    pinned = (
        await client.get(f"/api/v2/users/{player.id}/scores/pinned", headers=player.headers)
    ).json()
    assert [s["id"] for s in pinned] == [ids[2], ids[1]]
    other = await sign_in(client, await signup(client))
    assert (
        await client.put(f"/api/v2/score-pins/{ids[1]}", headers=other.headers)
    ).status_code == 404


async def test_score_endpoints_404(client: httpx.AsyncClient, player: SignedIn) -> None:
    for url in (
        "/api/v2/scores/999999999",
        "/api/v2/scores/abc",
        "/api/v2/beatmaps/1/scores",
        f"/api/v2/users/{player.id}/scores/nonsense",
    ):
        response = await client.get(url, headers=player.headers)
        assert response.status_code == 404, url
        assert "error" in json.loads(response.text)


async def test_beatmap_play_counts_are_added_after_the_commit(
    client: httpx.AsyncClient, services: Any
) -> None:
    """The map's play and pass counts arrive just after the answer, summed over concurrent
    plays, and the beatmap is not served from its cached row without them."""
    beatmap = await stored_map(services)
    players = [await sign_in(client, await signup(client)) for _ in range(3)]
    before = (await client.get(f"/api/v2/beatmaps/{beatmap.id}", headers=players[0].headers)).json()
    tokens = [await token_for(client, p, beatmap) for p in players for _ in range(2)]
    bodies = [play_body(beatmap), {**play_body(beatmap), "passed": False, "rank": "F"}] * 3
    responses = await asyncio.gather(
        *(
            submit(client, p, beatmap, t, b)
            for p, t, b in zip([p for p in players for _ in range(2)], tokens, bodies, strict=True)
        )
    )
    assert {r.status_code for r in responses} == {200}, [r.text for r in responses]
    await services.scores.beatmap_plays.drain()
    after = (await client.get(f"/api/v2/beatmaps/{beatmap.id}", headers=players[0].headers)).json()
    assert after["playcount"] == before["playcount"] + 6
    assert after["passcount"] == before["passcount"] + 3
