"""The daily challenge: the queue, the job that opens each day's room under a Redis lock,
DailyChallengeUpdated to metadata clients, and the users' streaks and placements computed
from real plays once a day is over (checked against a hand computation).

The job is run with a clock set in 2031, so the rooms it opens are never the open daily
challenge of the other tests (which run at the real time)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from server.jobs import open_daily_challenge
from server.services.daily_challenge import LOCK_KEY, SYSTEM_USERNAME
from server.services.rooms import Refused
from tests.helpers import SignedIn, sign_in, signup
from tests.integration.hubs import connect
from tests.integration.test_playlist_scores import play
from tests.score_play import StoredMap, stored_map


@pytest.fixture
async def beatmap(services: Any) -> StoredMap:
    return await stored_map(services)


def _at(day: date, hours: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hours, seconds=30)


async def _room(client: httpx.AsyncClient, viewer: SignedIn, room_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v2/rooms/{room_id}", headers=viewer.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_queue_refusals(services: Any, beatmap: StoredMap) -> None:
    daily = services.daily_challenge
    day = date(2031, 1, 6)
    queued = await daily.add(day, beatmap.id, 0, ["hd"], ["DT"])
    assert not isinstance(queued, Refused)
    assert queued.challenge_date == day and queued.room_id is None
    assert queued.required_mods == '[{"acronym":"HD","settings":{}}]'
    again = await daily.add(day, beatmap.id, 0, [])
    assert again == Refused(422, "a daily challenge is already queued for 2031-01-06")
    missing = await daily.add(date(2031, 1, 7), 987_654_321, 0, [])
    assert missing == Refused(422, "beatmaps not found: 987654321")
    bad_mod = await daily.add(date(2031, 1, 7), beatmap.id, 0, ["ZZ"])
    assert bad_mod == Refused(422, "invalid mod for ruleset: ZZ")
    clash = await daily.add(date(2031, 1, 7), beatmap.id, 0, ["HR"], ["EZ"])
    assert isinstance(clash, Refused) and "conflict" in (clash.error or "")
    # Listed from the day on, in date order (other tests queue later days of 2031).
    listed = [q.challenge_date for q in await daily.upcoming(day)]
    assert listed[0] == day and listed == sorted(listed)
    assert [q.challenge_date for q in await daily.upcoming(date(2031, 1, 7))][:1] != [day]


async def test_job_opens_the_day_under_its_lock(
    app: Starlette, client: httpx.AsyncClient, services: Any, beatmap: StoredMap
) -> None:
    viewer = await sign_in(client, await signup(client))
    daily, metadata = services.daily_challenge, services.realtime.metadata
    day = date(2031, 3, 3)
    assert not isinstance(await daily.add(day, beatmap.id, 0, ["HD"]), Refused)
    hub = await connect(app, "metadata", viewer)
    assert (await hub.args_of("DailyChallengeUpdated", "DailyChallengeInfo?")) is None

    # Before the day nothing opens; another instance holding the lock: this one does nothing.
    assert (await open_daily_challenge(daily, metadata, _at(day, -1))).opened is None
    await services.redis.set(LOCK_KEY, b"another instance", ex=60)
    held = await open_daily_challenge(daily, metadata, _at(day))
    assert (held.locked, held.opened) == (False, None)
    assert (await daily.repo.on(day)).room_id is None
    assert await services.redis.get(LOCK_KEY) == b"another instance"  # not ours to release
    await services.redis.delete(LOCK_KEY)

    done = await open_daily_challenge(daily, metadata, _at(day))
    assert done.locked and done.opened is not None
    room_id = done.opened
    assert await services.redis.get(LOCK_KEY) is None
    assert (await daily.repo.on(day)).room_id == room_id
    # Every metadata client hears of the new room.
    info = await hub.args_of("DailyChallengeUpdated", "DailyChallengeInfo?")
    assert info == {"RoomID": room_id}
    assert metadata.daily_challenge_room == room_id
    # A client connecting now gets it at once, as from the official server.
    late = await connect(app, "metadata", await sign_in(client, await signup(client)))
    assert (await late.args_of("DailyChallengeUpdated", "DailyChallengeInfo?")) == {
        "RoomID": room_id
    }

    room = await _room(client, viewer, room_id)
    assert room["category"] == "daily_challenge" and room["type"] == "playlists"
    assert room["name"] == "Daily Challenge: Mar 3, 2031"
    assert room["host"]["username"] == SYSTEM_USERNAME
    assert room["starts_at"].startswith("2031-03-03T00:00:00")
    assert room["ends_at"].startswith("2031-03-04T00:00:00")
    [item] = room["playlist"]
    assert item["beatmap_id"] == beatmap.id
    assert [m["acronym"] for m in item["required_mods"]] == ["HD"]

    # Later runs (this instance's next ones, other instances) open nothing more.
    assert (await open_daily_challenge(daily, metadata, _at(day, 5))).opened is None
    # The day over, the room closes: clients hear nil (the real clock has no open room).
    assert await metadata.refresh_daily_challenge() is None
    assert (await hub.args_of("DailyChallengeUpdated", "DailyChallengeInfo?")) is None
    for connection in (hub, late):
        await connection.wire.close()
    await asyncio.sleep(0)


async def test_streaks_and_placements_from_real_plays(
    client: httpx.AsyncClient, services: Any, beatmap: StoredMap
) -> None:
    """Monday 2031-06-02: p1 900,000, p2 800,000, p3 500,000. Tuesday: only p1.
    By hand (osu-web DailyChallengeUserStats::calculate): Monday's cut-offs are
    top 10% = highs[int(3 * 0.1)] = 900,000 and top 50% = highs[int(3 * 0.5)] = 800,000, so
    p1 counts a top-10% placement and p2 a top-50% one. Tuesday p1 alone is the top 10%; p2
    and p3 lose their daily streak but keep the week's."""
    daily = services.daily_challenge
    host = await sign_in(client, await signup(client))
    p1, p2, p3 = [await sign_in(client, await signup(client)) for _ in range(3)]
    monday, tuesday = date(2031, 6, 2), date(2031, 6, 3)
    for day in (monday, tuesday):
        assert not isinstance(await daily.add(day, beatmap.id, 0, []), Refused)

    first = await daily.run(_at(monday))
    assert first.opened is not None and first.settled == []
    room = await _room(client, host, first.opened)
    for player, total in ((p1, 900_000), (p2, 800_000), (p3, 500_000)):
        await play(client, player, room, beatmap, total_score_without_mods=total)
    # p1 also fails a play: failed plays are nobody's best.
    await play(client, p1, room, beatmap, total_score_without_mods=990_000, passed=False)

    second = await daily.run(_at(tuesday))
    assert second.settled == [monday] and second.opened is not None
    room = await _room(client, host, second.opened)
    await play(client, p1, room, beatmap, total_score_without_mods=700_000)
    third = await daily.run(_at(tuesday + timedelta(days=1)))
    assert third.settled == [tuesday] and third.opened is None
    # Settled once: a later run computes nothing again.
    assert (await daily.run(_at(tuesday + timedelta(days=1), 1))).settled == []

    week = "2031-06-02T00:00:00Z"
    expected = {
        p1.id: (2, 2, 1, 1, 2, 0, "2031-06-03T00:00:00Z"),
        p2.id: (1, 0, 1, 1, 0, 1, "2031-06-02T00:00:00Z"),
        p3.id: (1, 0, 1, 1, 0, 0, "2031-06-02T00:00:00Z"),
    }
    for player in (p1, p2, p3):
        response = await client.get(f"/api/v2/users/{player.id}", headers=player.headers)
        assert response.status_code == 200
        stats = response.json()["daily_challenge_user_stats"]
        assert list(stats) == [
            "daily_streak_best",
            "daily_streak_current",
            "last_update",
            "last_weekly_streak",
            "playcount",
            "top_10p_placements",
            "top_50p_placements",
            "user_id",
            "weekly_streak_best",
            "weekly_streak_current",
        ]
        best, current, weekly_best, weekly, top10, top50, last = expected[player.id]
        assert stats["user_id"] == player.id
        assert (
            stats["daily_streak_best"],
            stats["daily_streak_current"],
            stats["weekly_streak_best"],
            stats["weekly_streak_current"],
            stats["top_10p_placements"],
            stats["top_50p_placements"],
            stats["last_update"],
            stats["last_weekly_streak"],
        ) == (best, current, weekly_best, weekly, top10, top50, last, week)
        assert stats["playcount"] == (2 if player is p1 else 1)
    nobody = await client.get(f"/api/v2/users/{host.id}", headers=host.headers)
    assert nobody.json()["daily_challenge_user_stats"] == {
        "daily_streak_best": 0,
        "daily_streak_current": 0,
        "last_update": None,
        "last_weekly_streak": None,
        "playcount": 0,
        "top_10p_placements": 0,
        "top_50p_placements": 0,
        "user_id": host.id,
        "weekly_streak_best": 0,
        "weekly_streak_current": 0,
    }


@pytest.mark.slow
def test_cli_queues_and_lists(tmp_path: Path) -> None:
    """`python -m server daily-challenge add/list` on the embedded default."""
    from tests.beatmap_data import make_osu
    from tests.integration.test_relax_and_cli import _cli

    assert _cli("migrate", data_dir=tmp_path).returncode == 0
    osu_file = tmp_path / "map.osu"
    osu_file.write_bytes(make_osu(beatmap_id=4_400_001, beatmapset_id=4_400_000))
    imported = _cli("beatmaps", "import", str(osu_file), "--quiet", data_dir=tmp_path)
    assert imported.returncode == 0, imported.stderr
    added = _cli(
        "daily-challenge", "add", "--beatmap", "4400001", "--ruleset", "osu", "--mods", "HD,DT",
        "--date", "2031-01-01", data_dir=tmp_path,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "queued beatmap 4400001 for 2031-01-01" in added.stdout
    again = _cli(
        "daily-challenge", "add", "--beatmap", "4400001", "--date", "2031-01-01",
        data_dir=tmp_path,
    )  # fmt: skip
    assert again.returncode == 1
    assert "a daily challenge is already queued for 2031-01-01" in again.stderr
    bad_date = _cli("daily-challenge", "add", "--beatmap", "1", "--date", "soon", data_dir=tmp_path)
    assert bad_date.returncode == 2 and "not a date" in bad_date.stderr
    listed = _cli("daily-challenge", "list", data_dir=tmp_path)
    assert listed.returncode == 0
    assert "2031-01-01  beatmap 4400001  ruleset 0" in listed.stdout
    assert '"acronym":"HD"' in listed.stdout and "not opened" in listed.stdout


async def test_each_instance_polls_for_the_open_room(
    client: httpx.AsyncClient, services: Any, beatmap: StoredMap, data_dir: Path
) -> None:
    """An instance that did not open the room (DAILY_CHALLENGE_POLL_SECONDS) tells its
    clients when a daily challenge room opens and when it closes."""
    from server.app import create_app
    from server.services.daily_challenge import CATEGORY
    from server.services.rooms import naive
    from tests.conftest import make_settings

    viewer = await sign_in(client, await signup(client))
    other = create_app(make_settings(data_dir, DAILY_CHALLENGE_POLL_SECONDS="1"))
    async with other.router.lifespan_context(other) as state:
        other.state.lifespan_state = state
        hub = await connect(other, "metadata", viewer)
        assert (await hub.args_of("DailyChallengeUpdated", "DailyChallengeInfo?")) is None
        now = datetime.now(UTC)
        room_id = await services.rooms.open_playlist(
            viewer.id,
            "polled",
            CATEGORY,
            now - timedelta(minutes=1),
            now + timedelta(hours=1),
            {"beatmap_id": beatmap.id, "ruleset_id": 0},
        )
        try:
            info = await hub.args_of("DailyChallengeUpdated", "DailyChallengeInfo?", timeout=5)
            assert info == {"RoomID": room_id}
        finally:
            # Closed again, so no other test sees a daily challenge open.
            await services.rooms.repo.end(room_id, naive(datetime.now(UTC)))
        closed = await hub.args_of("DailyChallengeUpdated", "DailyChallengeInfo?", timeout=5)
        assert closed is None
        await hub.wire.close()
        await asyncio.sleep(0)
