"""GET scores: the recent-scores firehose (osu-web ScoresController::index)."""

from __future__ import annotations

from typing import Any

import msgspec


class FeedCursor(msgspec.Struct, frozen=True):
    """Where the next request continues: after this score id."""

    id: int


class ScoreFeedPage(msgspec.Struct, frozen=True):
    """Up to 1000 scores, oldest first, and the cursor to ask for newer ones with."""

    scores: list[Any]
    cursor: FeedCursor | None
    cursor_string: str | None
