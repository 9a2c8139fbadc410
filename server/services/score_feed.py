"""GET scores: every ranked pass as it arrives (osu-web ScoresController::index).

Without a cursor: the newest 1000, oldest first. With one: up to 1000 after it. The answer's
cursor points after its last score, or is the one asked with when nothing is new. Every
score here is processed in its submission's transaction, so none is held back as osu-web
holds back unprocessed ones."""

from __future__ import annotations

import base64
import binascii
import enum
from typing import Any, Final

import msgspec

from server.models.score_feed import FeedCursor, ScoreFeedPage
from server.models.scores import ScoreFormat
from server.repositories.score_feed import ScoreFeedRepository
from server.services.scores import ScoreService

PAGE_SIZE: Final = 1000
# osu-web's osu.scores.index_max_id_distance default.
MAX_ID_DISTANCE: Final = 10_000_000


class FeedRejected(enum.Enum):
    """osu-web's 422 texts."""

    TOO_OLD = "cursor is too old"


def encode_cursor(cursor: FeedCursor) -> str:
    """osu-web's cursor_string: URL-safe base64 of the cursor's JSON."""
    return base64.urlsafe_b64encode(msgspec.json.encode(cursor)).decode().rstrip("=")


def decode_cursor(raw: str | None) -> FeedCursor | None:
    """A cursor_string back to a cursor; None when absent or unreadable (osu-web then
    answers as without one)."""
    if not raw:
        return None
    try:
        data: Any = msgspec.json.decode(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, msgspec.DecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    value = data.get("id")
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return None
    return FeedCursor(value)


class ScoreFeed:
    """The firehose."""

    def __init__(self, repo: ScoreFeedRepository, scores: ScoreService) -> None:
        self._repo = repo
        self._scores = scores

    async def page(
        self, ruleset_id: int | None, cursor: FeedCursor | None
    ) -> ScoreFeedPage | FeedRejected:
        """Scores after the cursor (or the newest), oldest first."""
        if cursor is None:
            ids = list(reversed(await self._repo.latest(ruleset_id, PAGE_SIZE)))
        else:
            if await self._repo.max_id() - cursor.id > MAX_ID_DISTANCE:
                return FeedRejected.TOO_OLD
            ids = await self._repo.after(ruleset_id, cursor.id, PAGE_SIZE)
        # osu-web's ScoresController@index answers in the solo format, whatever the version.
        shaped = await self._scores.reads.scores_by_ids(ids, ScoreFormat.SOLO)
        next_cursor = FeedCursor(ids[-1]) if ids else cursor
        return ScoreFeedPage(
            scores=shaped,
            cursor=next_cursor,
            cursor_string=encode_cursor(next_cursor) if next_cursor else None,
        )
