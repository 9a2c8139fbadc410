"""Rooms, playlist items, room totals and bests, realtime room events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from pypika import MySQLQuery, Order, Parameter, SQLLiteQuery, Table
from pypika import analytics as an
from pypika.queries import QueryBuilder
from pypika.terms import Criterion

from server.db import Database

_rooms = Table("rooms")
_items = Table("room_playlist_items")
_totals = Table("room_user_totals")

_ROOM_COLUMNS = (
    "id",
    "user_id",
    "name",
    "description",
    "type",
    "category",
    "queue_mode",
    "status",
    "password",
    "starts_at",
    "ends_at",
    "max_attempts",
    "max_participants",
    "participant_count",
    "auto_start_duration",
    "auto_skip",
    "pinned",
    "channel_id",
    "created_at",
)
_ITEM_COLUMNS = (
    "id",
    "room_id",
    "owner_id",
    "beatmap_id",
    "ruleset_id",
    "required_mods",
    "allowed_mods",
    "freestyle",
    "expired",
    "played_at",
    "playlist_order",
    "max_attempts",
    "created_at",
)


class RoomRow(msgspec.Struct, frozen=True, kw_only=True):
    """A stored room (times are naive UTC)."""

    id: int
    user_id: int
    name: str
    description: str | None
    type: str
    category: str
    queue_mode: str
    status: str
    password: str | None
    starts_at: datetime
    ends_at: datetime | None
    max_attempts: int | None
    max_participants: int | None
    participant_count: int
    auto_start_duration: int
    auto_skip: bool
    pinned: bool
    channel_id: int | None
    created_at: datetime


class NewRoom(msgspec.Struct, frozen=True, kw_only=True):
    """What insert_room stores."""

    user_id: int
    name: str
    description: str | None
    type: str
    category: str
    queue_mode: str
    password: str | None
    starts_at: datetime
    ends_at: datetime | None
    max_attempts: int | None
    max_participants: int | None
    auto_start_duration: int
    auto_skip: bool


class PlaylistItemRow(msgspec.Struct, frozen=True, kw_only=True):
    """A stored playlist item; mods are JSON texts."""

    id: int
    room_id: int
    owner_id: int
    beatmap_id: int
    ruleset_id: int
    required_mods: str
    allowed_mods: str
    freestyle: bool
    expired: bool
    played_at: datetime | None
    playlist_order: int | None
    max_attempts: int | None
    created_at: datetime


class NewPlaylistItem(msgspec.Struct, frozen=True, kw_only=True):
    """What insert_playlist_item stores."""

    owner_id: int
    beatmap_id: int
    ruleset_id: int
    required_mods: str
    allowed_mods: str
    freestyle: bool
    max_attempts: int | None


class RealtimeSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What update_realtime_room_settings stores."""

    name: str
    password: str | None
    type: str
    queue_mode: str
    auto_start_duration: int
    auto_skip: bool
    max_participants: int | None


class RealtimeItem(msgspec.Struct, frozen=True, kw_only=True):
    """What update_realtime_item stores."""

    item_id: int
    owner_id: int
    beatmap_id: int
    ruleset_id: int
    required_mods: str
    allowed_mods: str
    freestyle: bool
    expired: bool
    played_at: datetime | None
    playlist_order: int | None


class RoomUserTotal(msgspec.Struct, frozen=True, kw_only=True):
    """A user's totals in a room (osu-web UserScoreAggregate); `accuracy` is a sum."""

    room_id: int
    user_id: int
    total_score: int
    accuracy: float
    completed: int
    attempts: int
    last_score_id: int | None


class ItemAttempts(msgspec.Struct, frozen=True):
    """Attempts of a user on one item, and whether the item's best passed."""

    playlist_item_id: int
    attempts: int
    passed: bool


class RoomEventRow(msgspec.Struct, frozen=True, kw_only=True):
    """A realtime room event; `event_detail` is JSON text."""

    id: int
    room_id: int
    event_type: str
    user_id: int | None
    playlist_item_id: int | None
    event_detail: str | None
    created_at: datetime


class ItemBest(msgspec.Struct, frozen=True, kw_only=True):
    """A user's best on one item (osu-web PlaylistItemUserHighScore)."""

    playlist_item_id: int
    user_id: int
    score_id: int | None
    total_score: int
    accuracy: float
    attempts: int


class ScoreLink(msgspec.Struct, frozen=True, kw_only=True):
    """The playlist item a score was played for (osu-web ScoreLink)."""

    score_id: int
    room_id: int
    playlist_item_id: int
    user_id: int


class BoardEntry(msgspec.Struct, frozen=True):
    """One user's best on an item's board."""

    user_id: int
    score_id: int
    total_score: int


class ItemScore(msgspec.Struct, frozen=True):
    """One passing score of a room: its item, id and total."""

    playlist_item_id: int
    score_id: int
    total_score: int


class RoomMatchScore(msgspec.Struct, frozen=True, kw_only=True):
    """A score played in a room, as v1 get_match shows it (mods and statistics JSON texts)."""

    playlist_item_id: int
    user_id: int
    total_score: int
    max_combo: int
    statistics: str
    maximum_statistics: str
    mods: str
    passed: bool
    ended_at: datetime


class RoomSearch(msgspec.Struct, frozen=True, kw_only=True):
    """GET rooms filters (osu-web Room::search), already normalised by the service."""

    types: tuple[str, ...]
    status: str | None
    category: str | None
    mode: str  # active, ended, participated, owned, all
    viewer_id: int | None
    sort: str  # created (pinned, id) or ended (ends_at, id)
    cursor: tuple[Any, int] | None
    limit: int
    now: datetime


def _params(prefix: str, values: Sequence[Any]) -> dict[str, Any]:
    return {f"{prefix}{i}": v for i, v in enumerate(dict.fromkeys(values))}


class RoomRepository:
    """SQL for rooms."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def _query(self) -> type[MySQLQuery] | type[SQLLiteQuery]:
        return MySQLQuery if self._db.dialect == "mysql" else SQLLiteQuery

    async def insert_room(self, room: NewRoom, now: datetime) -> int:
        """Store a room; returns its id."""
        fields = msgspec.structs.asdict(room)
        fields["auto_skip"] = int(room.auto_skip)
        return await self._db.execute("insert_room", **fields, now=now)

    async def insert_item(self, room_id: int, item: NewPlaylistItem, now: datetime) -> int:
        """Store a playlist item; returns its id."""
        fields = msgspec.structs.asdict(item)
        fields["freestyle"] = int(item.freestyle)
        return await self._db.execute("insert_playlist_item", room_id=room_id, **fields, now=now)

    async def set_channel(self, room_id: int, channel_id: int) -> None:
        """Record the room's chat channel."""
        await self._db.execute("set_room_channel", room_id=room_id, channel_id=channel_id)

    async def room(self, room_id: int) -> RoomRow | None:
        """One room."""
        row = await self._db.one("fetch_room", room_id=room_id)
        return None if row is None else msgspec.convert(row, RoomRow, strict=False)

    async def end(self, room_id: int, now: datetime) -> None:
        """Set a room's end to now."""
        await self._db.execute("end_room", room_id=room_id, now=now)

    # -- realtime rooms (the multiplayer hub) ---------------------------------------------

    async def mark_active(self, room_id: int, now: datetime) -> None:
        """The host is in: the room is open until it is disbanded."""
        await self._db.execute("mark_realtime_room_active", room_id=room_id, now=now)

    async def update_settings(
        self, room_id: int, settings: RealtimeSettings, now: datetime
    ) -> None:
        """Store a realtime room's settings."""
        fields = msgspec.structs.asdict(settings)
        fields["auto_skip"] = int(settings.auto_skip)
        await self._db.execute("update_realtime_room_settings", room_id=room_id, **fields, now=now)

    async def set_host(self, room_id: int, user_id: int, now: datetime) -> None:
        """A realtime room's new host."""
        await self._db.execute("set_room_host", room_id=room_id, user_id=user_id, now=now)

    async def set_status(self, room_id: int, status: str, now: datetime) -> None:
        """`idle` or `playing`."""
        await self._db.execute("set_room_status", room_id=room_id, status=status, now=now)

    async def enter(self, room_id: int, user_id: int, now: datetime) -> None:
        """A user is inside a realtime room (AddRoomParticipantAsync): their totals row,
        marked in the room, and one participant more (a realtime room counts who is in)."""
        await self._db.execute("ensure_room_user_total", room_id=room_id, user_id=user_id, now=now)
        await self._db.execute("add_room_participant", room_id=room_id)
        await self._set_in_room(room_id, user_id, True, now)

    async def exit(self, room_id: int, user_id: int, now: datetime) -> None:
        """A user left a realtime room: no longer in it, one participant fewer."""
        await self._set_in_room(room_id, user_id, False, now)
        await self._db.execute("remove_room_participant", room_id=room_id)

    async def _set_in_room(self, room_id: int, user_id: int, inside: bool, now: datetime) -> None:
        await self._db.execute(
            "set_room_user_in_room", room_id=room_id, user_id=user_id, in_room=int(inside), now=now
        )

    async def open_realtime_rooms(self) -> list[int]:
        """Realtime rooms opened by their host and not ended."""
        return [int(row["id"]) for row in await self._db.all("fetch_open_realtime_rooms")]

    async def clear_participants(self, room_id: int, now: datetime) -> None:
        """Nobody is inside a realtime room any more (closed without its users leaving)."""
        await self._db.execute("clear_room_users_in_room", room_id=room_id, now=now)
        await self._db.execute("clear_room_participants", room_id=room_id)

    async def update_item(self, item: RealtimeItem, now: datetime) -> None:
        """Store a realtime queue item's current fields."""
        fields = msgspec.structs.asdict(item)
        fields["freestyle"] = int(item.freestyle)
        fields["expired"] = int(item.expired)
        await self._db.execute("update_realtime_item", **fields, now=now)

    async def item_has_attempts(self, item_id: int) -> bool:
        """Whether anyone was given a score token for the item."""
        count = await self._db.value("count_item_attempts", playlist_item_id=item_id)
        return int(count) > 0

    async def delete_item(self, item_id: int) -> None:
        """Remove an unplayed queue item."""
        await self._db.execute("delete_playlist_item", item_id=item_id)

    async def active_playlists_of(self, user_id: int, now: datetime) -> int:
        """How many playlists the user hosts that are open now."""
        return int(await self._db.value("count_active_playlists_of_host", user_id=user_id, now=now))

    async def active_realtime_rooms_of(self, user_id: int, now: datetime) -> int:
        """How many realtime rooms the user hosts that are open now."""
        return int(
            await self._db.value("count_active_realtime_rooms_of_host", user_id=user_id, now=now)
        )

    async def playlist(self, room_id: int) -> list[PlaylistItemRow]:
        """A room's items in order."""
        rows = await self._db.all("fetch_room_playlist", room_id=room_id)
        return [msgspec.convert(row, PlaylistItemRow, strict=False) for row in rows]

    async def item(self, room_id: int, item_id: int) -> PlaylistItemRow | None:
        """One item of one room."""
        row = await self._db.one("fetch_playlist_item", room_id=room_id, item_id=item_id)
        return None if row is None else msgspec.convert(row, PlaylistItemRow, strict=False)

    async def playlists(self, room_ids: Sequence[int]) -> dict[int, list[PlaylistItemRow]]:
        """The items of several rooms, by room, each in order."""
        result: dict[int, list[PlaylistItemRow]] = {rid: [] for rid in room_ids}
        if not room_ids:
            return result
        params = _params("r", room_ids)
        query = (
            self._query()
            .from_(_items)
            .select(*_ITEM_COLUMNS)
            .where(_items.room_id.isin([Parameter(f":{name}") for name in params]))
            .orderby(_items.id, order=Order.asc)
        )
        for row in await self._db.all_dynamic(str(query), **params):
            item = msgspec.convert(row, PlaylistItemRow, strict=False)
            result[item.room_id].append(item)
        return result

    async def search(self, search: RoomSearch) -> list[RoomRow]:
        """Rooms matching GET rooms' filters, in the sort's order, after the cursor."""
        params: dict[str, Any] = {"now": search.now, "limit": search.limit}
        types = _params("t", search.types)
        params.update(types)
        now = Parameter(":now")
        query: QueryBuilder = (
            self._query()
            .from_(_rooms)
            .select(*_ROOM_COLUMNS)
            .where(_rooms.type.isin([Parameter(f":{name}") for name in types]))
        )
        if search.status is not None:
            params["status"] = search.status
            query = query.where(_rooms.status == Parameter(":status"))
        if search.category is not None:
            params["category"] = search.category
            query = query.where(_rooms.category == Parameter(":category"))
        if search.mode == "ended":
            query = query.where(_rooms.ends_at < now)
        elif search.mode in ("participated", "owned"):
            if search.viewer_id is None:
                return []
            params["viewer"] = search.viewer_id
            if search.mode == "owned":
                query = query.where(_rooms.user_id == Parameter(":viewer"))
            else:
                played = (
                    self._query()
                    .from_(_totals)
                    .select(_totals.room_id)
                    .where(_totals.user_id == Parameter(":viewer"))
                )
                query = query.where(_rooms.id.isin(played))
        elif search.mode != "all":
            query = query.where(_rooms.starts_at <= now).where(
                Criterion.any([_rooms.ends_at > now, _rooms.ends_at.isnull()])
            )
        first = _rooms.ends_at if search.sort == "ended" else _rooms.pinned
        if search.cursor is not None:
            params["cursor_first"], params["cursor_id"] = search.cursor
            query = query.where(
                Criterion.any(
                    [
                        first < Parameter(":cursor_first"),
                        (first == Parameter(":cursor_first"))
                        & (_rooms.id < Parameter(":cursor_id")),
                    ]
                )
            )
        query = query.orderby(first, order=Order.desc).orderby(_rooms.id, order=Order.desc)
        rows = await self._db.all_dynamic(str(query) + " LIMIT :limit", **params)
        return [msgspec.convert(row, RoomRow, strict=False) for row in rows]

    async def recent_participants_of(
        self, room_ids: Sequence[int], limit: int
    ) -> dict[int, list[int]]:
        """Up to `limit` most recently active participant ids per room (the listing's
        `recent_participants`: everyone in a playlist, those inside a realtime room)."""
        result: dict[int, list[int]] = {rid: [] for rid in room_ids}
        if not room_ids:
            return result
        params = _params("r", room_ids)
        params["limit"] = limit
        rank = (
            an.RowNumber()  # type: ignore[no-untyped-call]
            .over(_totals.room_id)
            .orderby(_totals.updated_at, order=Order.desc)
            .orderby(_totals.id, order=Order.desc)
        )
        ranked = (
            self._query()
            .from_(_totals)
            .join(_rooms)
            .on(_rooms.id == _totals.room_id)
            .select(_totals.room_id, _totals.user_id, rank.as_("n"))
            .where(
                _totals.room_id.isin([Parameter(f":{name}") for name in params if name != "limit"])
            )
            .where(Criterion.any([_rooms.type == "playlists", _totals.in_room == 1]))
        )
        query = (
            self._query()
            .from_(ranked)
            .select(ranked.room_id, ranked.user_id)
            .where(ranked.n <= Parameter(":limit"))
            .orderby(ranked.room_id)
            .orderby(ranked.n)
        )
        for row in await self._db.all_dynamic(str(query), **params):
            result[int(row["room_id"])].append(int(row["user_id"]))
        return result

    async def recent_participants(self, room_id: int, limit: int, in_room_only: bool) -> list[int]:
        """Participant ids of one room, most recently active first."""
        name = "fetch_recent_participants_in_room" if in_room_only else "fetch_recent_participants"
        return [int(r["user_id"]) for r in await self._db.all(name, room_id=room_id, limit=limit)]

    async def user_total(self, room_id: int, user_id: int) -> RoomUserTotal | None:
        """A user's totals in a room."""
        row = await self._db.one("fetch_room_user_total", room_id=room_id, user_id=user_id)
        return None if row is None else msgspec.convert(row, RoomUserTotal, strict=False)

    async def leaderboard(self, room_id: int, limit: int, offset: int) -> list[RoomUserTotal]:
        """The room's ranking, one page."""
        rows = await self._db.all(
            "fetch_room_leaderboard", room_id=room_id, limit=limit, offset=offset
        )
        return [msgspec.convert(row, RoomUserTotal, strict=False) for row in rows]

    async def leaderboard_position(self, total: RoomUserTotal) -> int:
        """A ranked total's 1-based position in its room."""
        return int(
            await self._db.value(
                "fetch_room_leaderboard_position",
                room_id=total.room_id,
                total_score=total.total_score,
                last_score_id=total.last_score_id,
            )
        )

    async def item_attempts(self, room_id: int, user_id: int) -> list[ItemAttempts]:
        """A user's attempts per item of a room."""
        rows = await self._db.all("fetch_user_item_attempts", room_id=room_id, user_id=user_id)
        return [
            ItemAttempts(int(r["playlist_item_id"]), int(r["attempts"]), bool(r["passed"]))
            for r in rows
        ]

    async def add_event(
        self,
        room_id: int,
        event_type: str,
        user_id: int | None,
        playlist_item_id: int | None,
        event_detail: str | None,
        now: datetime,
    ) -> int:
        """Record a realtime room event; returns its id."""
        return await self._db.execute(
            "insert_room_event",
            room_id=room_id,
            event_type=event_type,
            user_id=user_id,
            playlist_item_id=playlist_item_id,
            event_detail=event_detail,
            now=now,
        )

    async def events(
        self, room_id: int, after: int | None, before: int | None, limit: int
    ) -> list[RoomEventRow]:
        """Events of a room, oldest first: after an id, else the newest (before an id)."""
        if after is not None:
            rows = await self._db.all(
                "fetch_room_events_after", room_id=room_id, after=after, limit=limit
            )
        elif before is not None:
            rows = await self._db.all(
                "fetch_room_events_before", room_id=room_id, before=before, limit=limit
            )
            rows.reverse()
        else:
            rows = await self._db.all("fetch_room_events_latest", room_id=room_id, limit=limit)
            rows.reverse()
        return [msgspec.convert(row, RoomEventRow, strict=False) for row in rows]

    async def event_bounds(self, room_id: int) -> tuple[int, int]:
        """(first, last) event id of a room; zeros when it has none."""
        row = await self._db.one("fetch_room_event_bounds", room_id=room_id)
        if row is None:
            return 0, 0
        return int(row["first_event_id"]), int(row["last_event_id"])

    # -- playlist plays --------------------------------------------------------------------

    async def count_attempt(self, room_id: int, item_id: int, user_id: int, now: datetime) -> None:
        """Count a started play (osu-web Room::startPlay): the user's room totals row (a new
        participant the first time) and item best row, each one attempt more."""
        if await self._db.rowcount(
            "ensure_room_user_total", room_id=room_id, user_id=user_id, now=now
        ):
            await self._db.execute("add_room_participant", room_id=room_id)
        await self._db.execute("add_room_user_attempt", room_id=room_id, user_id=user_id, now=now)
        await self._db.execute(
            "ensure_item_user_best", playlist_item_id=item_id, user_id=user_id, now=now
        )
        await self._db.execute(
            "add_item_user_attempt", playlist_item_id=item_id, user_id=user_id, now=now
        )

    async def item_best(self, item_id: int, user_id: int) -> ItemBest | None:
        """A user's best row on an item."""
        row = await self._db.one("fetch_item_user_best", playlist_item_id=item_id, user_id=user_id)
        return None if row is None else msgspec.convert(row, ItemBest, strict=False)

    async def link_score(self, link: ScoreLink) -> None:
        """Link a stored score to its playlist item."""
        await self._db.execute("insert_room_score", **msgspec.structs.asdict(link))

    async def score_link(self, score_id: int) -> ScoreLink | None:
        """The playlist item a score was played for."""
        row = await self._db.one("fetch_room_score", score_id=score_id)
        return None if row is None else msgspec.convert(row, ScoreLink, strict=False)

    async def passing_scores(self, room_id: int) -> list[ItemScore]:
        """Every passing score played in a room, oldest first."""
        rows = await self._db.all("fetch_room_passing_scores", room_id=room_id)
        return [
            ItemScore(int(r["playlist_item_id"]), int(r["score_id"]), int(r["total_score"]))
            for r in rows
        ]

    async def raise_best(
        self, link: ScoreLink, total_score: int, accuracy: float, now: datetime
    ) -> bool:
        """Make the score the user's best on its item if it beats the old one."""
        return (
            await self._db.rowcount(
                "raise_item_user_best",
                playlist_item_id=link.playlist_item_id,
                user_id=link.user_id,
                score_id=link.score_id,
                total_score=total_score,
                accuracy=accuracy,
                now=now,
            )
            > 0
        )

    async def refresh_total(self, room_id: int, user_id: int, now: datetime) -> None:
        """Recompute a user's room totals from their item bests."""
        await self._db.execute("refresh_room_user_total", room_id=room_id, user_id=user_id, now=now)

    async def item_board(
        self, item_id: int, ascending: bool, after: tuple[int, int] | None, limit: int
    ) -> list[BoardEntry]:
        """One page of an item's board, after the cursor (total_score, score_id)."""
        if ascending:
            total, score_id = after if after is not None else (-1, 0)
            name = "fetch_item_scores_asc"
        else:
            total, score_id = after if after is not None else (2**63 - 1, 0)
            name = "fetch_item_scores_desc"
        rows = await self._db.all(
            name, playlist_item_id=item_id, total_score=total, score_id=score_id, limit=limit
        )
        return [msgspec.convert(row, BoardEntry, strict=False) for row in rows]

    async def item_neighbours(
        self, item_id: int, entry: BoardEntry, higher: bool, limit: int
    ) -> list[BoardEntry]:
        """Other users' bests nearest above (`higher`) or below a score."""
        rows = await self._db.all(
            "fetch_item_scores_higher" if higher else "fetch_item_scores_lower",
            playlist_item_id=item_id,
            user_id=entry.user_id,
            total_score=entry.total_score,
            score_id=entry.score_id,
            limit=limit,
        )
        return [msgspec.convert(row, BoardEntry, strict=False) for row in rows]

    async def item_board_size(self, item_id: int) -> int:
        """How many users have a best on the item."""
        return int(await self._db.value("count_item_scores", playlist_item_id=item_id))

    async def item_position(self, item_id: int, total_score: int, score_id: int) -> int:
        """A score's 1-based position on its item's board."""
        return int(
            await self._db.value(
                "fetch_item_score_position",
                playlist_item_id=item_id,
                total_score=total_score,
                score_id=score_id,
            )
        )

    async def item_score_ids(self, item_id: int) -> list[int]:
        """Every score played for an item, in order."""
        rows = await self._db.all("fetch_item_score_ids", playlist_item_id=item_id)
        return [int(r["score_id"]) for r in rows]

    async def game_events(self, room_id: int) -> list[RoomEventRow]:
        """The game_started / game_completed / game_aborted events of a room, oldest first."""
        rows = await self._db.all("fetch_room_game_events", room_id=room_id)
        return [msgspec.convert(row, RoomEventRow, strict=False) for row in rows]

    async def match_scores(self, room_id: int) -> list[RoomMatchScore]:
        """Every score played in a room, oldest first."""
        rows = await self._db.all("fetch_room_match_scores", room_id=room_id)
        return [msgspec.convert(row, RoomMatchScore, strict=False) for row in rows]
