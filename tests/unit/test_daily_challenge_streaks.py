"""Streaks and placements of one player over days, computed by hand (osu-web
DailyChallengeUserStats::calculate, as server.services.daily_challenge.apply_day follows it).
Weeks start on Monday; the day's cut-offs are given (top 10% 900,000, top 50% 500,000)."""

from __future__ import annotations

from datetime import datetime

from server.repositories.daily_challenge import ChallengeStats
from server.services.daily_challenge import apply_day, room_name, week_start

TOP10, TOP50 = 900_000, 500_000


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_week_start_is_monday() -> None:
    assert week_start(_day("2031-06-08")) == _day("2031-06-02")  # a Sunday
    assert week_start(_day("2031-06-02")) == _day("2031-06-02")


def test_room_name_as_osu_web_formats_it() -> None:
    assert room_name(_day("2031-03-03").date()) == "Daily Challenge: Mar 3, 2031"
    assert room_name(_day("2031-12-25").date()) == "Daily Challenge: Dec 25, 2031"


def test_streaks_over_three_weeks() -> None:
    stats = ChallengeStats(user_id=5)
    # (day, best total or None) and the expected
    # (daily current, daily best, weekly current, weekly best, playcount, top10, top50).
    steps = [
        ("2031-06-02", 950_000, (1, 1, 1, 1, 1, 1, 0)),  # Mon, week 1: top 10%
        ("2031-06-03", 600_000, (2, 2, 1, 1, 2, 1, 1)),  # same week: weekly unchanged
        ("2031-06-04", 100_000, (3, 3, 1, 1, 3, 1, 1)),  # below both cut-offs
        ("2031-06-05", None, (0, 3, 1, 1, 3, 1, 1)),  # missed: daily streak ends
        ("2031-06-09", 500_000, (1, 3, 2, 2, 4, 1, 2)),  # Mon, week 2 follows week 1
        ("2031-06-10", None, (0, 3, 2, 2, 4, 1, 2)),
        # Week 3 not played at all; the Monday of week 4 sees week 2 as two weeks back.
        ("2031-06-23", None, (0, 3, 0, 2, 4, 1, 2)),
        ("2031-06-24", 900_000, (1, 3, 0, 2, 5, 2, 2)),  # week 2 is not the previous week
    ]
    for day, total, expected in steps:
        apply_day(stats, _day(day), total, TOP10, TOP50)
        assert (
            stats.daily_streak_current,
            stats.daily_streak_best,
            stats.weekly_streak_current,
            stats.weekly_streak_best,
            stats.playcount,
            stats.top_10p_placements,
            stats.top_50p_placements,
        ) == expected, day
    assert stats.last_update == _day("2031-06-24")
    assert stats.last_weekly_streak == _day("2031-06-23")
