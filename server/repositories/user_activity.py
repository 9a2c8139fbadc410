"""Per-user beatmap play counts and the user event log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

import msgspec
from pypika import MySQLQuery, Parameter, SQLLiteQuery, Table

from server.db import Database

_scores = Table("scores")
# users/{user}/beatmapsets/{type}: the named query listing each kind's set ids.
SET_LIST_QUERIES: Final = {
    "ranked": "fetch_user_ranked_set_ids",
    "loved": "fetch_user_loved_set_ids",
    "pending": "fetch_user_pending_set_ids",
    "graveyard": "fetch_user_graveyard_set_ids",
    "guest": "fetch_user_guest_set_ids",
    "favourite": "fetch_user_favourite_set_ids",
}


class EventRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A stored event; `details` is JSON text."""

    id: int
    user_id: int
    event_type: str
    beatmap_id: int | None
    beatmapset_id: int | None
    epicfactor: int
    details: str
    display_html: str
    created_at: datetime


class NewEvent(msgspec.Struct, frozen=True, kw_only=True):
    """What insert_event stores."""

    user_id: int
    event_type: str
    beatmap_id: int | None
    beatmapset_id: int | None
    epicfactor: int
    details: str
    display_html: str


class KudosuRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One kudosu change a user received; `details` is JSON text."""

    id: int
    giver_id: int | None
    giver_username: str | None
    action: str
    amount: int
    model: str
    post_url: str | None
    post_title: str
    details: str
    created_at: datetime


class PassedPlay(msgspec.Struct, frozen=True):
    """A passed play as beatmaps-passed filters it."""

    beatmap_id: int
    ruleset_id: int
    mods_key: str
    has_pp: bool


class BoardLeader(msgspec.Struct, frozen=True):
    """One of the first entries of a beatmap's board."""

    user_id: int
    score_id: int
    total_score: int


class ActivityRepository:
    """SQL for play counts per beatmap and events."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_play(self, user_id: int, beatmap_id: int) -> None:
        """Count one play of a beatmap by a user."""
        await self._db.execute("add_user_beatmap_play", user_id=user_id, beatmap_id=beatmap_id)

    async def recount_plays(self, user_id: int) -> None:
        """Rebuild a user's per-beatmap play counts from their stored plays."""
        await self._db.execute("delete_user_beatmap_plays", user_id=user_id)
        await self._db.execute("recount_user_beatmap_plays", user_id=user_id)

    async def most_played(self, user_id: int, limit: int, offset: int) -> list[tuple[int, int]]:
        """(beatmap id, plays) of a user's most played beatmaps."""
        rows = await self._db.all("fetch_most_played", user_id=user_id, limit=limit, offset=offset)
        return [(int(r["beatmap_id"]), int(r["playcount"])) for r in rows]

    async def insert_event(self, event: NewEvent, now: datetime) -> None:
        """Record an event."""
        await self._db.execute("insert_user_event", now=now, **msgspec.structs.asdict(event))

    async def events(self, user_id: int, limit: int, offset: int) -> list[EventRecord]:
        """A user's events, newest first."""
        rows = await self._db.all("fetch_user_events", user_id=user_id, limit=limit, offset=offset)
        return [msgspec.convert(r, EventRecord, strict=False) for r in rows]

    async def events_since(self, user_id: int, since: datetime) -> list[EventRecord]:
        """A user's events since a time, newest first (at most 100)."""
        rows = await self._db.all("fetch_user_events_since", user_id=user_id, since=since)
        return [msgspec.convert(r, EventRecord, strict=False) for r in rows]

    async def board_leaders(self, beatmap_id: int, ruleset: str) -> list[BoardLeader]:
        """The first two bests on a beatmap's board."""
        rows = await self._db.all("fetch_board_leaders", beatmap_id=beatmap_id, ruleset=ruleset)
        return [
            BoardLeader(int(r["user_id"]), int(r["score_id"]), int(r["total_score"])) for r in rows
        ]

    async def set_ids(self, kind: str, user_id: int, limit: int, offset: int) -> list[int]:
        """A user's sets of one profile kind (SET_LIST_QUERIES), in osu-web's order."""
        rows = await self._db.all(
            SET_LIST_QUERIES[kind], user_id=user_id, limit=limit, offset=offset
        )
        return [int(r["id"]) for r in rows]

    async def kudosu(self, user_id: int, limit: int, offset: int) -> list[KudosuRecord]:
        """Kudosu a user received, newest first."""
        rows = await self._db.all(
            "fetch_kudosu_history", user_id=user_id, limit=limit, offset=offset
        )
        return [msgspec.convert(r, KudosuRecord, strict=False) for r in rows]

    async def passed_plays(self, user_id: int, beatmap_ids: Sequence[int]) -> list[PassedPlay]:
        """A user's passed plays on these beatmaps."""
        if not beatmap_ids:
            return []
        params: dict[str, int] = {f"b{i}": v for i, v in enumerate(dict.fromkeys(beatmap_ids))}
        params["user_id"] = user_id
        query_class = MySQLQuery if self._db.dialect == "mysql" else SQLLiteQuery
        query = (
            query_class.from_(_scores)
            .select(_scores.beatmap_id, _scores.ruleset_id, _scores.mods_key, _scores.pp)
            .where(_scores.user_id == Parameter(":user_id"))
            .where(_scores.passed == 1)
            .where(_scores.beatmap_id.isin([Parameter(f":{n}") for n in params if n != "user_id"]))
        )
        rows = await self._db.all_dynamic(str(query), **params)
        return [
            PassedPlay(
                int(r["beatmap_id"]), int(r["ruleset_id"]), str(r["mods_key"]), r["pp"] is not None
            )
            for r in rows
        ]
