"""What a beatmap's status means here: a leaderboard, pp, or a set upstream may still change."""

from __future__ import annotations

from typing import Final

# Statuses whose maps have leaderboards (lazer asks for scores only on these: §8.2 #22).
_LEADERBOARD_STATUSES: Final = frozenset({1, 2, 3, 4})
# Sets upstream no longer changes (ranked, approved, loved); others are re-synced when served
# after UPSTREAM_RESYNC_SECONDS.
FINAL_STATUSES: Final = frozenset({1, 2, 4})


def has_leaderboard(status: int, all_statuses: bool) -> bool:
    """Whether scores on a map of this status go on leaderboards."""
    return all_statuses or status in _LEADERBOARD_STATUSES


def awards_pp(status: int, all_statuses: bool) -> bool:
    """Whether plays on a map of this status give pp (ranked and approved, as osu! does)."""
    return all_statuses or status in (1, 2)
