"""SQL for replays: the `has_replay` flag and the score tokens plays are recorded under."""

from __future__ import annotations

import msgspec

from server.db import Database


class PlayToken(msgspec.Struct, frozen=True, kw_only=True):
    """A score token as the spectator hub checks it."""

    id: int
    user_id: int
    beatmap_id: int
    score_id: int | None


class ReplayRepository:
    """SQL for stored replays."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def mark_has_replay(self, score_id: int) -> None:
        """Flag a score's replay as stored."""
        await self._db.execute("mark_score_has_replay", score_id=score_id)

    async def play_token(self, token_id: int) -> PlayToken | None:
        """A score token by id alone (the caller compares its owner)."""
        row = await self._db.one("fetch_play_token", token_id=token_id)
        return None if row is None else msgspec.convert(row, PlayToken, strict=False)
