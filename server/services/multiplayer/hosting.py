"""The realtime rooms this instance holds: `RoomMachine`s with their database rows, timers
and members, driven by the multiplayer hub.

Each operation runs under the room's lock: the machine changes the room and returns the
callbacks; the changes are written to the database (items, settings, host, status, room
events, participants) before the callbacks go out, so a client that reacts to one (e.g.
fetching a playlist token after `LoadRequested`) finds the rows in place. The hub delivers
callbacks through `RoomListener`; the chat channel goes through `RoomService.channels`.

New playlist items get a temporary negative id from the machine and their row id once
inserted, patched into the item and the settings before any callback is encoded.

One instance holds each room (a lease in Redis, `leases.py`); members connected to other
instances reach it through the hub, which forwards their calls (`INSTANCES.md`).

Sources: ppy/osu-server-spectator `Hubs/Multiplayer/MultiplayerHub.cs`,
`MultiplayerHubContext.cs`, `Database/DatabaseAccess.cs` (room rows and events).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final, Protocol

import msgspec

from server.models.multiplayer import (
    TICKS_PER_SECOND,
    APIMod,
    MatchType,
    MultiplayerCountdown,
    MultiplayerPlaylistItem,
    MultiplayerRoom,
    MultiplayerRoomSettings,
    MultiplayerRoomState,
    MultiplayerRoomUser,
    QueueMode,
    TeamVersusUserState,
)
from server.models.rooms import RoomMod
from server.repositories.relations import RelationRepository
from server.repositories.rooms import (
    NewPlaylistItem,
    PlaylistItemRow,
    RealtimeItem,
    RealtimeSettings,
    RoomRow,
)
from server.repositories.users import UserAccount, UserRepository
from server.services.beatmaps import BeatmapService
from server.services.multiplayer.leases import RoomLeases
from server.services.multiplayer.room import RoomMachine
from server.services.multiplayer.rules import (
    NOT_JOINED,
    BeatmapFacts,
    Callback,
    Refusal,
    StyleFacts,
    check_join,
    check_joiner,
    current_item,
    find_user,
    user_can_join,
)
from server.services.rooms import Refused, RoomService, aware, mods_of, naive

# The room ended while the call waited for it (its usage found no room).
NULL_ROOM: Final = Refusal("Attempted to operate on a null room", "InvalidOperationException")
# JoinRoom of a room no instance holds (MultiplayerRoomController: the room is not tracked).
JOIN_FAILED: Final = Refusal("Failed to join the room, please try again.")
_MATCH_TYPES: Final = {"head_to_head": MatchType.HEAD_TO_HEAD, "team_versus": MatchType.TEAM_VERSUS}
_QUEUE_MODES: Final = {
    "host_only": QueueMode.HOST_ONLY,
    "all_players": QueueMode.ALL_PLAYERS,
    "all_players_round_robin": QueueMode.ALL_PLAYERS_ROUND_ROBIN,
}
_TEAM_NAMES: Final = {0: "red", 1: "blue"}
_json = msgspec.json.Encoder()

Operation = Callable[[RoomMachine], list[Callback] | Refusal]


class RoomListener(Protocol):
    """Where a room's callbacks and membership changes go (the hub)."""

    def deliver(self, room_id: int, callbacks: list[Callback]) -> None:
        """Send callbacks: to the room's group, or to one user when `user_id` is set."""

    def joined(self, room_id: int, user_id: int) -> None:
        """The user's connection receives the room's group from now on."""

    def left(self, room_id: int, user_id: int) -> None:
        """The user's connection stops receiving the room's group."""


class LiveRoom:
    """One held room: its machine, lock, chat channel and countdown timers."""

    def __init__(self, machine: RoomMachine, channel_id: int | None) -> None:
        self.machine = machine
        self.lock = asyncio.Lock()
        self.channel_id = channel_id
        self.timers: dict[int, asyncio.Task[None]] = {}
        # When each running countdown ends, on the event loop's clock.
        self.deadlines: dict[int, float] = {}

    @property
    def room(self) -> MultiplayerRoom:
        return self.machine.room


def match_type_name(match_type: MatchType) -> str:
    """The rooms.type column of a match type."""
    return "team_versus" if match_type == MatchType.TEAM_VERSUS else "head_to_head"


def queue_mode_name(mode: QueueMode) -> str:
    """The rooms.queue_mode column of a queue mode."""
    return next(name for name, value in _QUEUE_MODES.items() if value == mode)


def _api_mods(text: str) -> list[APIMod]:
    return [APIMod(m.acronym, dict(m.settings)) for m in mods_of(text)]


def _mods_json(mods: list[APIMod]) -> str:
    return _json.encode([RoomMod(m.acronym, m.settings) for m in mods]).decode()


def _mods_param(mods: list[APIMod]) -> list[dict[str, object]]:
    return [{"acronym": m.acronym, "settings": m.settings} for m in mods]


class RealtimeRooms:
    """Realtime rooms held by this instance, and which room each user is in."""

    def __init__(
        self,
        rooms: RoomService,
        users: UserRepository,
        relations: RelationRepository,
        beatmaps: BeatmapService,
        leases: RoomLeases,
        *,
        load_timeout_seconds: float,
    ) -> None:
        self._rooms = rooms
        self._repo = rooms.repo
        self._users = users
        self._relations = relations
        self._beatmaps = beatmaps
        self.leases = leases
        self._load_timeout_ticks = int(load_timeout_seconds * TICKS_PER_SECOND)
        self._live: dict[int, LiveRoom] = {}
        self._user_rooms: dict[int, int] = {}
        self._temp_ids = itertools.count(1)
        self._random = random.SystemRandom()
        self.listener: RoomListener | None = None

    # ---- lookups ----

    def room_of(self, user_id: int) -> int | None:
        """The room a user is in on this instance."""
        return self._user_rooms.get(user_id)

    def held_rooms(self) -> list[int]:
        """The ids of the rooms this instance holds."""
        return list(self._live)

    def live_room(self, room_id: int) -> MultiplayerRoom | None:
        """A held room's state (for tests and the hub's snapshots)."""
        live = self._live.get(room_id)
        return live.room if live is not None else None

    # ---- lounge ----

    async def create(self, user: UserAccount, room: MultiplayerRoom) -> MultiplayerRoom | Refusal:
        """CreateRoom: the room row and its first item through the rooms service (osu-web's
        POST rooms, as LegacyIO does), `room_created`, then the host joins it."""
        if user.is_restricted:
            return Refusal("Can't join a room when restricted.")
        if user.id in self._user_rooms:
            return Refusal("Can't join a room when already in another room.")
        settings = room.settings
        params: dict[str, object] = {
            "name": settings.name,
            "type": match_type_name(settings.match_type),
            "queue_mode": queue_mode_name(settings.queue_mode),
            "password": settings.password or None,
            "auto_start_duration": settings.auto_start_duration // TICKS_PER_SECOND,
            "auto_skip": settings.auto_skip,
            "max_participants": settings.max_participants,
            "playlist": [
                {
                    "beatmap_id": item.beatmap_id,
                    "ruleset_id": item.ruleset_id,
                    "required_mods": _mods_param(item.required_mods),
                    "allowed_mods": _mods_param(item.allowed_mods),
                    "freestyle": item.freestyle,
                }
                for item in room.playlist
            ],
        }
        created = await self._rooms.create(user, params)
        if isinstance(created, Refused):
            return Refusal(created.error or "Failed to create the room.")
        await self._event(created.id, "room_created", user.id)
        return await self.join(user, created.id, settings.password, creating=True)

    async def join(
        self, user: UserAccount, room_id: int, password: str, *, creating: bool = False
    ) -> MultiplayerRoom | Refusal:
        """JoinRoom / JoinRoomWithPassword, and CreateRoom's join (`creating`). The first to
        join (the host) brings the room from the database and marks it active; anyone else
        joining a room nobody holds gets the official "Failed to join the room"."""
        refusal = check_joiner(
            restricted=user.is_restricted, in_another_room=user.id in self._user_rooms
        )
        if refusal is not None:
            return refusal
        live = self._live.get(room_id)
        if live is None:
            found = await self._retrieve(room_id, user.id)
            if isinstance(found, Refusal):
                return found if creating else JOIN_FAILED
            live = found
            if not await self.leases.claim(room_id):
                return JOIN_FAILED
            self._live[room_id] = live
            await self._repo.mark_active(room_id, self._now())
        async with live.lock:
            joined = await self._add(live, user, password)
            if isinstance(joined, Refusal) and live.machine.is_empty:
                # Nobody got in (the host's own join failed): the room ends unopened.
                await self._end(live)
            return joined

    async def _add(
        self, live: LiveRoom, user: UserAccount, password: str
    ) -> MultiplayerRoom | Refusal:
        """The room's checks, then the user is in: UserJoined to the others, the rows, the
        chat channel, and the connection joins the group; a copy of the room to return."""
        room_id = live.room.room_id
        if self._live.get(room_id) is not live:
            return JOIN_FAILED
        if find_user(live.room, user.id) is not None:
            return Refusal(
                f"User {user.id} attempted to join room {room_id} they are already present in.",
                "InvalidOperationException",
            )
        refusal = check_join(live.room, password, banned=False)
        if refusal is not None:
            return refusal
        if user.id in self._user_rooms:
            return Refusal("Can't join a room when already in another room.")
        self._user_rooms[user.id] = room_id
        room_user = MultiplayerRoomUser(user_id=user.id)
        if live.room.host is None:
            live.room.host = room_user
        callbacks = live.machine.add_user(room_user)
        await self._repo.enter(room_id, user.id, self._now())
        await self._event(room_id, "player_joined", user.id)
        if live.channel_id is not None:
            await self._rooms.channels.add_member(live.channel_id, user.id)
        await self._after(live, callbacks, MultiplayerRoomState.OPEN, 0)
        listener = self._listener()
        listener.deliver(room_id, callbacks)
        listener.joined(room_id, user.id)
        # A copy (the caller encodes it after the lock is released) whose countdowns say how
        # long they have left (the official server updates TimeRemaining for the snapshot).
        snapshot = msgspec.msgpack.decode(msgspec.msgpack.encode(live.room), type=MultiplayerRoom)
        for countdown in snapshot.active_countdowns:
            if isinstance(countdown, MultiplayerCountdown) and countdown.id in live.deadlines:
                left = live.deadlines[countdown.id] - asyncio.get_running_loop().time()
                countdown.time_remaining = max(0, round(left * TICKS_PER_SECOND))
        return snapshot

    async def _retrieve(self, room_id: int, user_id: int) -> LiveRoom | Refusal:
        """retrieveRoom: a realtime room not yet held, which only its host may open."""
        row = await self._repo.room(room_id)
        if row is None or row.type not in _MATCH_TYPES:
            return Refusal("Specified match does not exist.", "InvalidOperationException")
        if row.ends_at is not None and aware(row.ends_at) < datetime.now(UTC):
            return Refusal("Match has already ended.")
        if row.user_id != user_id:
            return JOIN_FAILED
        playlist = [await self._wire_item(r) for r in await self._repo.playlist(room_id)]
        difficulties: dict[int, dict[int, int]] = {}
        for item in playlist:
            siblings = await self._set_of(item.beatmap_id) if item.beatmap_id else ()
            if siblings and item.beatmap_id not in difficulties:
                difficulties[item.beatmap_id] = dict(siblings)
        room = MultiplayerRoom(
            room_id=room_id,
            settings=self._settings_of(row),
            playlist=playlist,
            channel_id=row.channel_id or 0,
        )
        machine = RoomMachine(
            room,
            now=lambda: datetime.now(UTC).replace(microsecond=0),
            allocate_item_id=lambda: -next(self._temp_ids),
            roll=lambda top: self._random.randint(1, top),
            load_timeout_ticks=self._load_timeout_ticks,
            difficulties=difficulties,
        )
        live = LiveRoom(machine, row.channel_id)
        callbacks = machine.initialise()
        await self._after(live, callbacks, MultiplayerRoomState.OPEN, 0)
        return live

    @staticmethod
    def _settings_of(row: RoomRow) -> MultiplayerRoomSettings:
        return MultiplayerRoomSettings(
            name=row.name,
            password=row.password or "",
            match_type=_MATCH_TYPES[row.type],
            queue_mode=_QUEUE_MODES.get(row.queue_mode, QueueMode.HOST_ONLY),
            auto_start_duration=row.auto_start_duration * TICKS_PER_SECOND,
            auto_skip=row.auto_skip,
            max_participants=row.max_participants,
        )

    async def _wire_item(self, row: PlaylistItemRow) -> MultiplayerPlaylistItem:
        beatmap = await self._beatmaps.repo.beatmap(row.beatmap_id)
        return MultiplayerPlaylistItem(
            id=row.id,
            owner_id=row.owner_id,
            beatmap_id=row.beatmap_id,
            beatmap_checksum=beatmap.checksum if beatmap is not None else "",
            ruleset_id=row.ruleset_id,
            required_mods=_api_mods(row.required_mods),
            allowed_mods=_api_mods(row.allowed_mods),
            expired=row.expired,
            playlist_order=row.playlist_order or 0,
            played_at=aware(row.played_at) if row.played_at else None,
            star_rating=beatmap.difficulty_rating if beatmap is not None else 0.0,
            freestyle=row.freestyle,
        )

    async def beatmap_facts(self, beatmap_id: int) -> BeatmapFacts | None:
        """What AddPlaylistItem and EditPlaylistItem check about an item's beatmap (official:
        its beatmap table); a beatmap not stored here is fetched from upstream when the
        fetcher is on."""
        beatmap = await self._beatmaps.beatmap_by_id(beatmap_id)
        if beatmap is None:
            return None
        siblings = await self._beatmaps.repo.beatmaps_of_set(beatmap.beatmapset_id)
        return BeatmapFacts(
            beatmap.checksum,
            beatmap.mode,
            beatmap.difficulty_rating,
            tuple((b.id, b.mode) for b in siblings),
        )

    async def _set_of(self, beatmap_id: int) -> tuple[tuple[int, int], ...]:
        """(beatmap id, ruleset) of every beatmap in the set of this one."""
        beatmap = await self._beatmaps.repo.beatmap(beatmap_id)
        if beatmap is None:
            return ()
        siblings = await self._beatmaps.repo.beatmaps_of_set(beatmap.beatmapset_id)
        return tuple((b.id, b.mode) for b in siblings)

    async def style_facts(self, user_id: int, beatmap_id: int | None) -> StyleFacts:
        """ChangeUserStyle's look-ups: the set of the current item's beatmap and the set and
        ruleset of the chosen beatmap (the item's own when none is chosen)."""
        live = self._live_of(user_id)
        if live is None:
            return StyleFacts(item_set_id=0)
        item_beatmap = current_item(live.room).beatmap_id
        wanted = sorted({item_beatmap} | ({beatmap_id} if beatmap_id is not None else set()))
        found = {b.id: b for b in await self._beatmaps.repo.beatmaps_by_ids(wanted)}
        item = found.get(item_beatmap)
        chosen = found.get(beatmap_id if beatmap_id is not None else item_beatmap)
        return StyleFacts(
            item_set_id=item.beatmapset_id if item is not None else 0,
            beatmap_set_id=chosen.beatmapset_id if chosen is not None else None,
            beatmap_ruleset_id=chosen.mode if chosen is not None else 0,
        )

    async def item_has_scores(self, item_id: int) -> bool:
        """Whether a score token was issued for the item (it cannot be removed then)."""
        return await self._repo.item_has_attempts(item_id)

    async def invitation(self, caller_id: int, target_id: int) -> Callback | Refusal:
        """InvitePlayer: checkUserToUserPermissionsAsync (restriction, blocks both ways, a
        target who takes PMs from friends only), then the caller's room, which the target
        must be eligible to join; the `Invited` callback for the target."""
        target = await self._users.by_id(target_id)
        if target is None or target.is_restricted:
            return Refusal("Can't perform that action on a restricted user.")
        if (
            await self._relations.kind_of(caller_id, target_id) == "block"
            or await self._relations.kind_of(target_id, caller_id) == "block"
        ):
            return Refusal(
                "Cannot perform action due to user being blocked.", "UserBlockedException"
            )
        befriended = await self._relations.kind_of(target_id, caller_id) == "friend"
        if target.pm_friends_only and not befriended:
            return Refusal(
                "User cannot be invited because they have disabled private messages.",
                "UserBlocksPMsException",
            )
        live = self._live_of(caller_id)
        if live is None:
            return NOT_JOINED
        room = live.room
        if not user_can_join(room, banned=False):
            return Refusal("Player is not eligible to join this room.")
        return Callback(
            "Invited", (caller_id, room.room_id, room.settings.password), user_id=target_id
        )

    # ---- leaving ----

    async def leave(self, user_id: int) -> None:
        """LeaveRoom, or the connection ended: the user leaves whatever room they are in."""
        room_id = self._user_rooms.get(user_id)
        live = self._live.get(room_id) if room_id is not None else None
        if live is None:
            self._user_rooms.pop(user_id, None)
            return
        async with live.lock:
            await self._remove(live, user_id, kicked=False)

    async def kick(self, caller_id: int, target_id: int) -> Refusal | None:
        """KickUser: the target hears UserKicked even though it leaves the group first."""
        live = self._live_of(caller_id)
        if live is None:
            return NOT_JOINED
        async with live.lock:
            refusal = live.machine.check_kick(caller_id, target_id)
            if refusal is not None:
                return refusal
            await self._remove(live, target_id, kicked=True)
        return None

    async def _remove(self, live: LiveRoom, user_id: int, *, kicked: bool) -> None:
        room_id = live.room.room_id
        before = live.room.state
        item_id = live.room.settings.playlist_item_id
        outcome = live.machine.remove_user(user_id, kicked=kicked)
        self._user_rooms.pop(user_id, None)
        listener = self._listener()
        listener.left(room_id, user_id)
        if isinstance(outcome, Refusal):
            return
        await self._repo.exit(room_id, user_id, self._now())
        await self._event(room_id, "player_kicked" if kicked else "player_left", user_id)
        if live.channel_id is not None:
            await self._rooms.channels.remove_member(live.channel_id, user_id)
        if live.machine.is_empty:
            await self._disband(live)
            return
        await self._after(live, outcome, before, item_id)
        if kicked:  # the kicked user first: it has already left the group
            kicked_user = next(c for c in outcome if c.target == "UserKicked")
            listener.deliver(room_id, [Callback("UserKicked", kicked_user.args, user_id=user_id)])
        listener.deliver(room_id, outcome)

    async def _disband(self, live: LiveRoom) -> None:
        """The last user left: the room ends and is no longer held."""
        await self._end(live)
        await self._event(live.room.room_id, "room_disbanded", None)

    async def _end(self, live: LiveRoom) -> None:
        """EndMatchAsync: the room's end is now; this instance stops holding it."""
        room_id = live.room.room_id
        self._live.pop(room_id, None)
        await self.leases.release(room_id)
        for task in live.timers.values():
            task.cancel()
        live.timers.clear()
        now = self._now()
        await self._repo.set_status(room_id, "idle", now)
        await self._repo.end(room_id, now)

    # ---- everything else in a room ----

    async def act(self, user_id: int, operation: Operation) -> Refusal | None:
        """Run one machine operation for the user's room; persist and deliver its callbacks."""
        live = self._live_of(user_id)
        if live is None:
            return NOT_JOINED
        async with live.lock:
            if self._live.get(live.room.room_id) is not live:
                return NULL_ROOM
            before = live.room.state
            item_id = live.room.settings.playlist_item_id
            outcome = operation(live.machine)
            if isinstance(outcome, Refusal):
                return outcome
            await self._after(live, outcome, before, item_id)
            self._listener().deliver(live.room.room_id, outcome)
        return None

    def _live_of(self, user_id: int) -> LiveRoom | None:
        room_id = self._user_rooms.get(user_id)
        return self._live.get(room_id) if room_id is not None else None

    # ---- persistence and timers ----

    async def _after(
        self,
        live: LiveRoom,
        callbacks: list[Callback],
        before: MultiplayerRoomState,
        item_before: int,
    ) -> None:
        """Write what the callbacks changed, then (re)arm countdown timers."""
        room = live.room
        room_id = room.room_id
        now = self._now()
        renamed: dict[int, int] = {}
        for item in room.playlist:
            if item.id < 0:
                new_id = await self._repo.insert_item(
                    room_id,
                    _new_item(item),
                    now,
                )
                renamed[item.id] = new_id
                item.id = new_id
        if renamed:
            settings_seen = [room.settings] + [
                a for c in callbacks for a in c.args if isinstance(a, MultiplayerRoomSettings)
            ]
            for settings in settings_seen:
                settings.playlist_item_id = renamed.get(
                    settings.playlist_item_id, settings.playlist_item_id
                )
        touched: dict[int, MultiplayerPlaylistItem] = {}
        for callback in callbacks:
            target = callback.target
            if target in ("PlaylistItemAdded", "PlaylistItemChanged"):
                item = callback.args[0]
                touched[item.id] = item
            elif target == "PlaylistItemRemoved":
                touched.pop(callback.args[0], None)
                await self._repo.delete_item(callback.args[0])
        for item in touched.values():
            if any(i is item for i in room.playlist):
                await self._repo.update_item(_stored_item(item), now)
        targets = {c.target for c in callbacks}
        if "SettingsChanged" in targets:
            await self._repo.update_settings(room_id, _stored_settings(room.settings), now)
        for callback in callbacks:
            if callback.target == "HostChanged":
                await self._repo.set_host(room_id, callback.args[0], now)
                await self._event(room_id, "host_changed", callback.args[0])
        if room.state != before:
            await self._state_changed(live, before, item_before, "ResultsReady" in targets)
        self._arm_timers(live)

    async def _state_changed(
        self, live: LiveRoom, before: MultiplayerRoomState, item_id: int, results: bool
    ) -> None:
        room = live.room
        now = self._now()
        playing = room.state != MultiplayerRoomState.OPEN
        await self._repo.set_status(room.room_id, "playing" if playing else "idle", now)
        if (
            before == MultiplayerRoomState.OPEN
            and room.state == MultiplayerRoomState.WAITING_FOR_LOAD
        ):
            detail: dict[str, object] = {"room_type": match_type_name(room.settings.match_type)}
            if room.settings.match_type == MatchType.TEAM_VERSUS:
                detail["teams"] = {
                    str(u.user_id): _TEAM_NAMES.get(u.match_state.team_id, "red")
                    for u in room.users
                    if isinstance(u.match_state, TeamVersusUserState)
                }
            await self._event(
                room.room_id,
                "game_started",
                None,
                current_item(room).id,
                _json.encode(detail).decode(),
            )
        elif room.state == MultiplayerRoomState.OPEN:
            kind = "game_completed" if results else "game_aborted"
            await self._event(room.room_id, kind, None, item_id)

    def _arm_timers(self, live: LiveRoom) -> None:
        """A timer per running countdown; timers of stopped countdowns are cancelled."""
        countdowns = [c for c in live.room.active_countdowns if isinstance(c, MultiplayerCountdown)]
        running = {c.id for c in countdowns}
        for countdown_id in list(live.timers):
            if countdown_id not in running:
                live.timers.pop(countdown_id).cancel()
                live.deadlines.pop(countdown_id, None)
        now = asyncio.get_running_loop().time()
        for countdown in countdowns:
            if countdown.id in live.timers:
                continue
            live.deadlines[countdown.id] = now + countdown.time_remaining / TICKS_PER_SECOND
            live.timers[countdown.id] = asyncio.create_task(
                self._countdown(live, countdown.id, countdown.time_remaining / TICKS_PER_SECOND),
                name=f"multiplayer-countdown-{live.room.room_id}-{countdown.id}",
            )

    async def _countdown(self, live: LiveRoom, countdown_id: int, seconds: float) -> None:
        await asyncio.sleep(seconds)
        async with live.lock:
            live.timers.pop(countdown_id, None)
            live.deadlines.pop(countdown_id, None)
            if self._live.get(live.room.room_id) is not live:
                return
            before = live.room.state
            item_id = live.room.settings.playlist_item_id
            callbacks = live.machine.countdown_elapsed(countdown_id)
            try:
                await self._after(live, callbacks, before, item_id)
            finally:
                self._listener().deliver(live.room.room_id, callbacks)

    async def announce_shutdown(self, seconds: float) -> None:
        """The instance is stopping: every room it holds gets a ServerShuttingDownCountdown."""
        for live in list(self._live.values()):
            async with live.lock:
                if self._live.get(live.room.room_id) is not live:
                    continue
                ticks = int(seconds * TICKS_PER_SECOND)
                callbacks = live.machine.server_shutting_down(ticks)
                self._arm_timers(live)  # a joiner meanwhile sees the time left
                self._listener().deliver(live.room.room_id, callbacks)

    async def wait_until_empty(self, seconds: float) -> None:
        """The instance is stopping: wait (at most `seconds`) for the rooms held here to
        empty, as the official server waits for its rooms before it stops."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self._live and loop.time() < deadline:
            await asyncio.sleep(min(0.1, max(0.0, deadline - loop.time())))

    async def end_all(self) -> list[int]:
        """The instance stops with rooms still held: each ends as if its last user left
        (participation cleared, `room_disbanded`, lease released). Members connected here
        are closed by the transport; members elsewhere by their instance once the lease is
        gone (the hub's owner watch). Returns the rooms ended."""
        ended: list[int] = []
        for live in list(self._live.values()):
            async with live.lock:
                room_id = live.room.room_id
                if self._live.get(room_id) is not live:
                    continue
                now = self._now()
                for user in live.room.users:
                    self._user_rooms.pop(user.user_id, None)
                    if live.channel_id is not None:
                        await self._rooms.channels.remove_member(live.channel_id, user.user_id)
                await self._repo.clear_participants(room_id, now)
                await self._disband(live)
                ended.append(room_id)
        return ended

    async def close_orphan(self, room_id: int) -> bool:
        """A room whose owner is gone (it died, or stopped with the room held): ended in
        the database with nobody inside, unless it has ended already. Whether it was."""
        row = await self._repo.room(room_id)
        if row is None or row.ends_at is not None:
            return False
        now = self._now()
        await self._repo.set_status(room_id, "idle", now)
        await self._repo.end(room_id, now)
        await self._repo.clear_participants(room_id, now)
        await self._event(room_id, "room_disbanded", None)
        return True

    async def close_abandoned(self) -> list[int]:
        """The periodic sweep (any instance): realtime rooms open in the database that no
        instance holds (no lease) are closed, whether or not anyone is connected to watch
        them. A room held here, or whose lease Redis cannot answer for, is left alone."""
        closed: list[int] = []
        for room_id in await self._repo.open_realtime_rooms():
            if room_id in self._live or not await self.leases.unowned(room_id):
                continue
            if await self.leases.take_closing(room_id) and await self.close_orphan(room_id):
                closed.append(room_id)
        return closed

    async def stop(self) -> None:
        """Cancel every countdown timer (the instance is stopping)."""
        for live in self._live.values():
            for task in live.timers.values():
                task.cancel()
            for task in live.timers.values():
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            live.timers.clear()

    async def _event(
        self,
        room_id: int,
        kind: str,
        user_id: int | None,
        item_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        await self._repo.add_event(room_id, kind, user_id, item_id, detail, self._now())

    def _listener(self) -> RoomListener:
        assert self.listener is not None, "the multiplayer hub sets itself as the listener"
        return self.listener

    @staticmethod
    def _now() -> datetime:
        """Now, as the database columns hold it (naive UTC)."""
        return naive(datetime.now(UTC).replace(microsecond=0))


def _new_item(item: MultiplayerPlaylistItem) -> NewPlaylistItem:
    return NewPlaylistItem(
        owner_id=item.owner_id,
        beatmap_id=item.beatmap_id,
        ruleset_id=item.ruleset_id,
        required_mods=_mods_json(item.required_mods),
        allowed_mods=_mods_json(item.allowed_mods),
        freestyle=item.freestyle,
        max_attempts=None,
    )


def _stored_item(item: MultiplayerPlaylistItem) -> RealtimeItem:
    return RealtimeItem(
        item_id=item.id,
        owner_id=item.owner_id,
        beatmap_id=item.beatmap_id,
        ruleset_id=item.ruleset_id,
        required_mods=_mods_json(item.required_mods),
        allowed_mods=_mods_json(item.allowed_mods),
        freestyle=item.freestyle,
        expired=item.expired,
        played_at=naive(item.played_at) if item.played_at is not None else None,
        playlist_order=item.playlist_order,
    )


def _stored_settings(settings: MultiplayerRoomSettings) -> RealtimeSettings:
    return RealtimeSettings(
        name=settings.name,
        password=settings.password or None,
        type=match_type_name(settings.match_type),
        queue_mode=queue_mode_name(settings.queue_mode),
        auto_start_duration=settings.auto_start_duration // TICKS_PER_SECOND,
        auto_skip=settings.auto_skip,
        max_participants=settings.max_participants,
    )
