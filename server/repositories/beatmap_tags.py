"""Beatmap tags and tag votes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pypika import MySQLQuery, Order, Parameter, SQLLiteQuery, Table
from pypika import functions as fn

from server.db import Database, Row
from server.models.tags import Tag

_votes = Table("beatmap_tag_votes")
_users = Table("users")


def _tag(row: Row) -> Tag:
    ruleset_id = row["ruleset_id"]
    return Tag(
        id=int(row["id"]),
        name=str(row["name"]),
        ruleset_id=None if ruleset_id is None else int(ruleset_id),
        description=str(row["description"]),
    )


class TagRepository:
    """SQL for tags and tag votes."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def all_tags(self) -> list[Tag]:
        """Every tag, by id."""
        return [_tag(row) for row in await self._db.all("list_beatmap_tags")]

    async def find_tag(self, tag_id: int) -> Tag | None:
        """One tag; None when there is no such tag."""
        row = await self._db.one("find_beatmap_tag", id=tag_id)
        return None if row is None else _tag(row)

    async def save_tags(self, tags: Sequence[Tag], now: datetime) -> None:
        """Define these tags, replacing any with the same id, in one transaction."""
        async with self._db.transaction():
            for tag in tags:
                await self._db.execute(
                    "upsert_beatmap_tag",
                    id=tag.id,
                    name=tag.name,
                    ruleset_id=tag.ruleset_id,
                    description=tag.description,
                    now=now,
                )

    async def vote(self, beatmap_id: int, tag_id: int, user_id: int, now: datetime) -> None:
        """Record a user's tag on a beatmap."""
        await self._db.execute(
            "insert_tag_vote", beatmap_id=beatmap_id, tag_id=tag_id, user_id=user_id, now=now
        )

    async def unvote(self, beatmap_id: int, tag_id: int, user_id: int) -> None:
        """Remove a user's tag from a beatmap."""
        await self._db.execute(
            "delete_tag_vote", beatmap_id=beatmap_id, tag_id=tag_id, user_id=user_id
        )

    async def has_score(self, user_id: int, beatmap_id: int) -> bool:
        """Whether the user set a score on the beatmap."""
        count = await self._db.value(
            "count_user_beatmap_scores", user_id=user_id, beatmap_id=beatmap_id
        )
        return bool(count)

    async def counts(self, beatmap_ids: Sequence[int]) -> list[tuple[int, int, int]]:
        """(beatmap id, tag id, votes) on these beatmaps, unrestricted voters only, most
        votes first (ties: the lower tag id)."""
        if not beatmap_ids:
            return []
        params = {f"b{i}": v for i, v in enumerate(dict.fromkeys(beatmap_ids))}
        query_class = MySQLQuery if self._db.dialect == "mysql" else SQLLiteQuery
        votes = fn.Count("*").as_("votes")
        query = (
            query_class.from_(_votes)
            .join(_users)
            .on(_users.id == _votes.user_id)
            .select(_votes.beatmap_id, _votes.tag_id, votes)
            .where(_users.is_restricted == 0)
            .where(_votes.beatmap_id.isin([Parameter(f":{n}") for n in params]))
            .groupby(_votes.beatmap_id, _votes.tag_id)
            .orderby(fn.Count("*"), order=Order.desc)
            .orderby(_votes.tag_id, order=Order.asc)
        )
        rows = await self._db.all_dynamic(str(query), **params)
        return [(int(r["beatmap_id"]), int(r["tag_id"]), int(r["votes"])) for r in rows]

    async def user_tags(self, user_id: int, beatmap_ids: Sequence[int]) -> list[tuple[int, int]]:
        """(beatmap id, tag id) of the user's tags on these beatmaps."""
        if not beatmap_ids:
            return []
        params: dict[str, int] = {f"b{i}": v for i, v in enumerate(dict.fromkeys(beatmap_ids))}
        query_class = MySQLQuery if self._db.dialect == "mysql" else SQLLiteQuery
        query = (
            query_class.from_(_votes)
            .select(_votes.beatmap_id, _votes.tag_id)
            .where(_votes.user_id == Parameter(":user_id"))
            .where(_votes.beatmap_id.isin([Parameter(f":{n}") for n in params]))
            .orderby(_votes.tag_id)
        )
        rows = await self._db.all_dynamic(str(query), user_id=user_id, **params)
        return [(int(r["beatmap_id"]), int(r["tag_id"])) for r in rows]
