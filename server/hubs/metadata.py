"""The metadata hub (`/signalr/metadata`): presence, friends' presence, beatmap updates (§7.3).

Presences live in a Redis hash (encoded `UserPresence`), so any instance can list who is
online; updates go to the group of presence watchers and to the group of the user's
friends (each user joins `friends:F` for every friend F on connect, as the official server
does). A user whose status is Offline ("appear offline") is hidden: watchers get a nil
presence and the REST API shows them offline.

Watching a multiplayer room (the daily challenge screen) joins the room's group and returns
each item's score statistics; every stored passing playlist score reaches that group, on
every instance, as MultiplayerRoomScoreSet.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import msgspec

from server.core import msgpack as codec
from server.db import DATABASE_ERRORS
from server.hub_bus import HubBus
from server.hubs.connection import HubConnection
from server.hubs.protocol import HubFailure, HubMethod, HubResult, Returned
from server.hubs.transport import group_channel
from server.models.rooms import RoomScoreSet
from server.redis_store import REDIS_DOWN
from server.repositories.relations import RelationRepository
from server.services.daily_challenge import DailyChallengeService
from server.services.playlist_scores import PlaylistScores
from server.services.profiles import ProfileService

log = logging.getLogger(__name__)

NAME = "metadata"
_PRESENCE_KEY = "metadata:presence"
_UPDATES_KEY = "metadata:beatmap-updates"
_QUEUE_KEY = "metadata:beatmap-queue"
_MAX_UPDATES_KEPT = 1000
_ONLINE_REFRESH_SECONDS = 60
_ONLINE_TTL_SECONDS = 180
WATCHERS = group_channel(NAME, "presence-watchers")
EVERYONE = group_channel(NAME, "everyone")


class UserStatus(enum.IntEnum):
    """osu.Game.Users.UserStatus."""

    OFFLINE = 0
    DO_NOT_DISTURB = 1
    ONLINE = 2


def friends_group(user_id: int) -> str:
    """Where a user's presence changes go for the users who befriended them."""
    return group_channel(NAME, f"friends:{user_id}")


def room_watchers_group(room_id: int) -> str:
    """Where a room's stored playlist scores go for the clients watching it."""
    return group_channel(NAME, f"room-watchers:{room_id}")


def _visible(presence: dict[str, Any]) -> bool:
    status = presence.get("Status")
    return status is not None and status != UserStatus.OFFLINE


class MetadataHub:
    """UpdateActivity/UpdateStatus, presence watching, beatmap updates, room watching."""

    name = NAME

    def __init__(
        self,
        bus: HubBus,
        redis: Any,
        relations: RelationRepository,
        profiles: ProfileService,
        playlists: PlaylistScores,
        daily_challenge: DailyChallengeService,
        daily_poll_seconds: int = 0,
    ) -> None:
        self._bus = bus
        self._playlists = playlists
        self._daily_challenge = daily_challenge
        self._daily_poll_seconds = daily_poll_seconds
        self._daily_room: int | None = None  # the open daily challenge room, as last seen
        self._daily_poller: asyncio.Task[None] | None = None
        self._redis = redis
        self._relations = relations
        self._profiles = profiles
        self._presences: dict[int, dict[str, Any]] = {}  # users connected here
        self._owners: dict[int, str] = {}  # user -> connection id holding their presence
        self._refresher: asyncio.Task[None] | None = None
        self.methods: Mapping[str, HubMethod] = {
            "UpdateActivity": HubMethod(("UserActivity?",), self.update_activity),
            "UpdateStatus": HubMethod(("UserStatus?",), self.update_status),
            "BeginWatchingUserPresence": HubMethod((), self.begin_watching_presence),
            "EndWatchingUserPresence": HubMethod((), self.end_watching_presence),
            "RefreshFriends": HubMethod((), self.refresh_friends),
            "GetChangesSince": HubMethod(("int",), self.changes_since),
            "BeginWatchingMultiplayerRoom": HubMethod(("long",), self.begin_watching_room),
            "EndWatchingMultiplayerRoom": HubMethod(("long",), self.end_watching_room),
        }

    async def start(self) -> None:
        """Keep connected users online for the REST API."""
        self._refresher = asyncio.create_task(self._refresh_online(), name="metadata-online")
        await self.refresh_daily_challenge()
        if self._daily_poll_seconds > 0:
            self._daily_poller = asyncio.create_task(self._poll_daily(), name="metadata-daily")

    async def stop(self) -> None:
        for task in (self._refresher, self._daily_poller):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

    async def on_connected(self, connection: HubConnection) -> None:
        self._owners[connection.user_id] = connection.id
        self._presences[connection.user_id] = {"Activity": None, "Status": None}
        connection.join(EVERYONE)
        await self._join_friends(connection)
        # The official server sends the daily challenge on connect; nil: none running.
        connection.send(_daily_challenge_call(self._daily_room))

    async def on_disconnected(self, connection: HubConnection) -> None:
        if self._owners.get(connection.user_id) != connection.id:
            return  # replaced by a newer connection, which owns the presence now
        del self._owners[connection.user_id]
        self._presences.pop(connection.user_id, None)
        with contextlib.suppress(*REDIS_DOWN):
            await self._redis.hdel(_PRESENCE_KEY, str(connection.user_id))
        with contextlib.suppress(*REDIS_DOWN):
            await self._profiles.mark_offline(connection.user_id)
        self._broadcast(connection.user_id, None, skip=connection.id)

    async def update_activity(self, connection: HubConnection, args: list[Any]) -> HubResult:
        return await self._update(connection, "Activity", args[0])

    async def update_status(self, connection: HubConnection, args: list[Any]) -> HubResult:
        status = args[0]
        if status is not None and status not in UserStatus._value2member_map_:
            return HubFailure("Invalid status.")  # S-RT-6
        return await self._update(connection, "Status", status)

    async def _update(self, connection: HubConnection, field: str, value: Any) -> HubResult:
        presence = self._presences.setdefault(
            connection.user_id, {"Activity": None, "Status": None}
        )
        presence[field] = value
        encoded = codec.encode("UserPresence", presence)
        try:
            if _visible(presence):
                await self._redis.hset(_PRESENCE_KEY, str(connection.user_id), encoded)
                await self._profiles.mark_online(connection.user_id, _ONLINE_TTL_SECONDS)
            else:
                await self._redis.hdel(_PRESENCE_KEY, str(connection.user_id))
                await self._profiles.mark_offline(connection.user_id)
        except REDIS_DOWN as exc:
            log.warning("metadata: presence not stored in Redis (%s)", exc)
        self._broadcast(connection.user_id, encoded if _visible(presence) else None, connection.id)
        # The caller always sees its own presence, hidden or not.
        connection.send(_presence_call("UserPresenceUpdated", connection.user_id, encoded))
        return None

    def _broadcast(self, user_id: int, encoded: bytes | None, skip: str | None) -> None:
        self._bus.publish(
            WATCHERS, _presence_call("UserPresenceUpdated", user_id, encoded), skip=skip
        )
        self._bus.publish(
            friends_group(user_id), _presence_call("FriendPresenceUpdated", user_id, encoded)
        )

    async def begin_watching_presence(
        self, connection: HubConnection, args: list[Any]
    ) -> HubResult:
        connection.join(WATCHERS)
        for user_id, encoded in (await self._online()).items():
            connection.send(_presence_call("UserPresenceUpdated", user_id, encoded))
        return None

    async def end_watching_presence(self, connection: HubConnection, args: list[Any]) -> HubResult:
        connection.leave(WATCHERS)
        return None

    async def refresh_friends(self, connection: HubConnection, args: list[Any]) -> HubResult:
        await self._join_friends(connection)
        return None

    async def _join_friends(self, connection: HubConnection) -> None:
        friends = {r.target_id for r in await self._relations.list(connection.user_id, "friend")}
        for old in connection.items.get("friends", set()) - friends:
            connection.leave(friends_group(old))
        for friend in friends:
            connection.join(friends_group(friend))
        connection.items["friends"] = friends
        online = await self._online()
        for friend in friends:
            if friend in online:
                connection.send(_presence_call("FriendPresenceUpdated", friend, online[friend]))

    async def _online(self) -> dict[int, bytes]:
        try:
            stored: dict[bytes, bytes] = await self._redis.hgetall(_PRESENCE_KEY)
        except REDIS_DOWN:
            # Redis down: at least the users connected here.
            return {
                uid: codec.encode("UserPresence", p)
                for uid, p in self._presences.items()
                if _visible(p)
            }
        return {int(k): v for k, v in stored.items()}

    async def online_user_ids(self) -> list[int]:
        """Users currently online and visible, on every instance."""
        return sorted((await self._online()).keys())

    async def changes_since(self, connection: HubConnection, args: list[Any]) -> HubResult:
        (queue_id,) = args
        try:
            raw: list[bytes] = await self._redis.lrange(_UPDATES_KEY, 0, -1)
        except REDIS_DOWN:
            raw = []
        latest = queue_id
        sets: list[int] = []
        for item in raw:
            entry_id, set_id = (int(part) for part in item.split(b":"))
            if entry_id > queue_id:
                latest = max(latest, entry_id)
                if set_id not in sets:
                    sets.append(set_id)
        # lazer loops until the list is empty, so an up-to-date caller gets [].
        value = {"BeatmapSetIDs": sets, "LastProcessedQueueID": latest}
        return Returned(codec.encode("BeatmapUpdates", value))

    async def beatmap_sets_updated(self, set_ids: list[int]) -> None:
        """Tell every connected client, on every instance, that these beatmap sets changed
        (beatmap ingest calls this after storing a set)."""
        self._bus.publish(EVERYONE, await queue_beatmap_updates(self._redis, set_ids))

    async def begin_watching_room(self, connection: HubConnection, args: list[Any]) -> HubResult:
        (room_id,) = args
        # Joined first: a score stored while the statistics are read is not missed (lazer
        # skips events at or below an item's LastProcessedScoreID).
        connection.join(room_watchers_group(room_id))
        stats = await self._playlists.item_stats(room_id)
        return Returned(codec.encode("MultiplayerPlaylistItemStats[]", msgspec.to_builtins(stats)))

    async def end_watching_room(self, connection: HubConnection, args: list[Any]) -> HubResult:
        (room_id,) = args
        connection.leave(room_watchers_group(room_id))
        return None

    def room_score_set(self, event: RoomScoreSet) -> None:
        """Tell the room's watchers, on every instance, that a playlist score was stored
        (called after the submission committed; never blocks)."""
        args = b"\x91" + codec.encode("MultiplayerRoomScoreSetEvent", msgspec.to_builtins(event))
        self._bus.publish(
            room_watchers_group(event.room_id),
            codec.encode_invocation("MultiplayerRoomScoreSet", args),
        )

    @property
    def daily_challenge_room(self) -> int | None:
        """The open daily challenge room as this instance last saw it."""
        return self._daily_room

    async def refresh_daily_challenge(self, now: datetime | None = None) -> int | None:
        """Look up the open daily challenge room; when it changed, tell every metadata client
        of this instance (each instance looks for itself, as osu-server-spectator's
        DailyChallengeUpdater does). Returns the room."""
        room = await self._daily_challenge.current_room(now or datetime.now(UTC))
        if room != self._daily_room:
            log.info("daily challenge room changed from %s to %s", self._daily_room, room)
            self._daily_room = room
            self._bus.publish_local(EVERYONE, _daily_challenge_call(room))
        return room

    async def _poll_daily(self) -> None:
        while True:
            await asyncio.sleep(self._daily_poll_seconds)
            try:
                await self.refresh_daily_challenge()
            except DATABASE_ERRORS as exc:  # the next poll tries again
                log.warning("daily challenge poll failed (%s)", exc)

    async def _refresh_online(self) -> None:
        while True:
            await asyncio.sleep(_ONLINE_REFRESH_SECONDS)
            for user_id, presence in list(self._presences.items()):
                if _visible(presence):
                    with contextlib.suppress(*REDIS_DOWN):
                        await self._profiles.mark_online(user_id, _ONLINE_TTL_SECONDS)


async def queue_beatmap_updates(redis: Any, set_ids: list[int]) -> bytes:
    """Queue changed sets for GetChangesSince; the BeatmapSetsUpdated call announcing them."""
    latest = 0
    for set_id in set_ids:
        latest = int(await redis.incr(_QUEUE_KEY))
        await redis.lpush(_UPDATES_KEY, f"{latest}:{set_id}")
    await redis.ltrim(_UPDATES_KEY, 0, _MAX_UPDATES_KEPT - 1)
    value = {"BeatmapSetIDs": set_ids, "LastProcessedQueueID": latest}
    args = b"\x91" + codec.encode("BeatmapUpdates", value)
    return codec.encode_invocation("BeatmapSetsUpdated", args)


async def announce_beatmap_updates(redis: Any, set_ids: list[int]) -> None:
    """BeatmapSetsUpdated from a process without hubs (`beatmaps import`): reaches the
    clients of every running instance that shares this Redis. Raises when Redis does."""
    frame = await queue_beatmap_updates(redis, set_ids)
    await HubBus(redis).publish_remote(EVERYONE, frame)


def _daily_challenge_call(room_id: int | None) -> bytes:
    """`DailyChallengeUpdated(DailyChallengeInfo?)`."""
    info = b"\xc0" if room_id is None else codec.encode("DailyChallengeInfo", {"RoomID": room_id})
    return codec.encode_invocation("DailyChallengeUpdated", b"\x91" + info)


def _presence_call(target: str, user_id: int, encoded: bytes | None) -> bytes:
    """`target(userId, UserPresence?)` around an already encoded presence (or nil)."""
    return codec.encode_invocation(
        target, codec.splice_array([codec.encode("int", user_id), encoded or b"\xc0"])
    )
