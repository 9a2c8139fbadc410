"""The profile page lists beyond scores: users/{user}/beatmapsets/most_played,
users/{user}/kudosu and users/{user}/beatmaps-passed (osu-web's BeatmapPlaycount and
KudosuHistory transformers, Users\\BeatmapsController)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from server.models.beatmaps import Beatmap, Beatmapset


class BeatmapPlaycount(msgspec.Struct, frozen=True, kw_only=True):
    """One of a user's most played beatmaps."""

    beatmap_id: int
    count: int
    beatmap: Beatmap
    beatmapset: Beatmapset


class KudosuGiver(msgspec.Struct, frozen=True):
    """Who gave kudosu."""

    url: str
    username: str


class KudosuPost(msgspec.Struct, frozen=True):
    """What the kudosu was given for."""

    url: str | None
    title: str


class KudosuHistory(msgspec.Struct, frozen=True, kw_only=True):
    """One kudosu change a user received."""

    id: int
    action: str
    amount: int
    model: str
    created_at: datetime
    giver: KudosuGiver | None
    post: KudosuPost
    details: dict[str, Any]


class BeatmapsPassed(msgspec.Struct, frozen=True):
    """users/{user}/beatmaps-passed."""

    beatmaps_passed: list[Beatmap]
