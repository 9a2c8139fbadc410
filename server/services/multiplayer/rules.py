"""The realtime room's state machine as osu-server-spectator runs it, over the wire Structs.

Pure: no database, no sockets, no timers. Each operation checks the official preconditions,
changes the `MultiplayerRoom` in place and returns the callbacks the hub must send (in
order), or a `Refusal` carrying the official exception type and text; a refusal leaves the
room untouched. The hub (not built yet) owns locking, persistence, countdown timers and the
fan-out.

Sources (ppy/osu-server-spectator at 6b142c7): `Hubs/Multiplayer/ServerMultiplayerRoom.cs`
(user and room states, settings, StartMatch, startOrStopGameplay, aborts),
`Hubs/Multiplayer/MultiplayerHub.cs` (host checks, kick, StartMatch preconditions),
`Hubs/Multiplayer/Standard/StandardMatchController.cs` (queue modes, limits, current item,
roll, slots), `Standard/TeamVersusMatchController.cs` (teams),
`Extensions/MultiplayerRoomUserExtensions.cs`, `MultiplayerUserStateExtensions.cs`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from server.models.multiplayer import (
    ChangeSlotRequest,
    ChangeTeamRequest,
    DownloadState,
    GameplayAbortReason,
    MatchType,
    MultiplayerPlaylistItem,
    MultiplayerRoom,
    MultiplayerRoomSettings,
    MultiplayerRoomState,
    MultiplayerRoomUser,
    MultiplayerRoomUserRole,
    MultiplayerTeam,
    MultiplayerUserState,
    QueueMode,
    RollEvent,
    RollRequest,
    SetLockStateRequest,
    StandardMatchRoomState,
    TeamVersusRoomState,
    TeamVersusUserState,
)

HOST_PLAYLIST_LIMIT = 50
GUEST_PLAYLIST_LIMIT = 3
MIN_PARTICIPANTS = 2
MAX_PARTICIPANTS = 16
DEFAULT_ROLL_MAX = 100

_GAMEPLAY_STATES = frozenset(
    {
        MultiplayerUserState.WAITING_FOR_LOAD,
        MultiplayerUserState.LOADED,
        MultiplayerUserState.READY_FOR_GAMEPLAY,
        MultiplayerUserState.PLAYING,
    }
)


class Refusal(msgspec.Struct, frozen=True):
    """An official hub error: lazer shows `message` (after "<exception>: ")."""

    message: str
    exception: str = "InvalidStateException"


class Callback(msgspec.Struct, frozen=True):
    """One `IMultiplayerClient` call: to the whole room group, or to `user_id` only."""

    target: str
    args: tuple[Any, ...] = ()
    user_id: int | None = None


Outcome = list[Callback] | Refusal

NOT_HOST = Refusal(
    "User is attempting to perform a host level operation while not the host", "NotHostException"
)
NOT_IN_ROOM = Refusal("User is not in the room.")


def invalid_state_change(old: MultiplayerUserState, new: MultiplayerUserState) -> Refusal:
    """InvalidStateChangeException, with the C# enum names in its text."""
    return Refusal(
        f"Cannot change from {_csharp_name(old)} to {_csharp_name(new)}",
        "InvalidStateChangeException",
    )


def _csharp_name(state: MultiplayerUserState) -> str:
    return "".join(part.capitalize() for part in state.name.split("_"))


def is_gameplay_state(state: MultiplayerUserState) -> bool:
    """WaitingForLoad, Loaded, ReadyForGameplay or Playing."""
    return state in _GAMEPLAY_STATES


def can_start_gameplay(user: MultiplayerRoomUser) -> bool:
    """Loaded or ReadyForGameplay: gameplay starts for them when the load phase ends."""
    return user.state in (MultiplayerUserState.LOADED, MultiplayerUserState.READY_FOR_GAMEPLAY)


def is_ready_for_gameplay(user: MultiplayerRoomUser) -> bool:
    """A player with the map who is Ready or Idle: pulled into a starting match."""
    return (
        user.role == MultiplayerRoomUserRole.PLAYER
        and user.beatmap_availability.state == DownloadState.LOCALLY_AVAILABLE
        and user.state in (MultiplayerUserState.READY, MultiplayerUserState.IDLE)
    )


def find_user(room: MultiplayerRoom, user_id: int) -> MultiplayerRoomUser | None:
    """The room's user with this id."""
    return next((u for u in room.users if u.user_id == user_id), None)


def is_host_or_referee(room: MultiplayerRoom, user_id: int) -> bool:
    """MultiplayerHub.ensureIsHostOrReferee's test."""
    user = find_user(room, user_id)
    is_host = room.host is not None and room.host.user_id == user_id
    return is_host or (user is not None and user.role == MultiplayerRoomUserRole.REFEREE)


# ---- Settings ----


def check_settings(room: MultiplayerRoom, new: MultiplayerRoomSettings) -> Refusal | None:
    """ServerMultiplayerRoom.ChangeRoomSettings' checks (the caller checks host first).

    `new.playlist_item_id` is overwritten with the room's: the server owns the current item.
    """
    if room.state != MultiplayerRoomState.OPEN:
        return Refusal("Attempted to change settings while a game is in progress.")
    new.playlist_item_id = room.settings.playlist_item_id
    if new == room.settings:
        return None
    if new.match_type == MatchType.PLAYLISTS:
        return Refusal("Invalid match type selected.")
    if new.max_participants is not None:
        if not MIN_PARTICIPANTS <= new.max_participants <= MAX_PARTICIPANTS:
            return Refusal("Max participants must be between 2 and 16.")
        if new.max_participants < len(room.users):
            return Refusal(
                "There are more players currently in the room than your new requested max "
                "participant limit. Please kick some players first."
            )
    return None


# ---- Queue (StandardMatchController) ----


def upcoming_items(room: MultiplayerRoom) -> list[MultiplayerPlaylistItem]:
    """Items not yet played, in playlist order."""
    return sorted((i for i in room.playlist if not i.expired), key=lambda i: i.playlist_order)


def select_current_item(room: MultiplayerRoom) -> MultiplayerPlaylistItem:
    """The first upcoming item, else the one played most recently."""
    upcoming = upcoming_items(room)
    if upcoming:
        return upcoming[0]
    return max(
        room.playlist, key=lambda i: i.played_at.timestamp() if i.played_at else float("-inf")
    )


def current_item(room: MultiplayerRoom) -> MultiplayerPlaylistItem:
    """The item `Settings.PlaylistItemId` names."""
    return next(i for i in room.playlist if i.id == room.settings.playlist_item_id)


def ordered_active_items(room: MultiplayerRoom) -> list[MultiplayerPlaylistItem]:
    """Active items in queue order: by id, or interleaved by owner in round robin.

    Round robin takes each owner's first item, then each owner's second, and so on. The first
    round keeps the existing order (ties by id); later rounds follow the owners' order in
    the first round.
    """
    active = sorted((i for i in room.playlist if not i.expired), key=lambda i: i.id)
    if room.settings.queue_mode != QueueMode.ALL_PLAYERS_ROUND_ROBIN:
        return active
    by_owner: dict[int, list[MultiplayerPlaylistItem]] = {}
    for item in active:
        by_owner.setdefault(item.owner_id, []).append(item)
    rounds = max((len(items) for items in by_owner.values()), default=0)
    ordered: list[MultiplayerPlaylistItem] = []
    owner_rank: dict[int, int] = {}
    for n in range(rounds):
        batch = [items[n] for items in by_owner.values() if len(items) > n]
        if n == 0:
            batch.sort(key=lambda i: (i.playlist_order, i.id))
            owner_rank = {item.owner_id: rank for rank, item in enumerate(batch)}
        else:
            batch.sort(key=lambda i: owner_rank[i.owner_id])
        ordered.extend(batch)
    return ordered


def check_add_item(
    room: MultiplayerRoom, user: MultiplayerRoomUser, item: MultiplayerPlaylistItem
) -> Refusal | None:
    """AddPlaylistItem's queue rules (beatmap, ruleset and mod checks need the database)."""
    privileged = is_host_or_referee(room, user.user_id)
    if room.settings.queue_mode == QueueMode.HOST_ONLY and not privileged:
        return NOT_HOST
    limit = HOST_PLAYLIST_LIMIT if privileged else GUEST_PLAYLIST_LIMIT
    if sum(1 for i in room.playlist if i.owner_id == user.user_id and not i.expired) >= limit:
        return Refusal(f"Can't enqueue more than {limit} items at once.")
    if item.freestyle and item.allowed_mods:
        return Refusal("Cannot enqueue freestyle item with mods.")
    return None


# ---- Match types ----


def default_room_state(settings: MultiplayerRoomSettings) -> StandardMatchRoomState:
    """The match state a room of this type starts with (slots only with MaxParticipants)."""
    slots: list[int | None] | None = (
        None if settings.max_participants is None else [None] * settings.max_participants
    )
    if settings.match_type == MatchType.TEAM_VERSUS:
        teams = [MultiplayerTeam(0, "Team Red"), MultiplayerTeam(1, "Team Blue")]
        return TeamVersusRoomState(teams=teams, slots=slots)
    return StandardMatchRoomState(slots=slots)


def best_available_team(room: MultiplayerRoom, state: TeamVersusRoomState) -> int:
    """An empty team if there is one (lowest id first), else the smallest."""
    counts = {team.id: 0 for team in state.teams}
    for user in room.users:
        if isinstance(user.match_state, TeamVersusUserState) and user.match_state.team_id in counts:
            counts[user.match_state.team_id] += 1
    empty = [team.id for team in state.teams if counts[team.id] == 0]
    if empty:
        return empty[0]
    return min(state.teams, key=lambda team: counts[team.id]).id


class RoomMachine:
    """One room's rules. `now` stamps PlayedAt; `allocate_item_id` numbers new items (the
    database does this in the official server)."""

    def __init__(
        self,
        room: MultiplayerRoom,
        *,
        now: Callable[[], datetime],
        allocate_item_id: Callable[[], int],
        roll: Callable[[int], int],
    ) -> None:
        self.room = room
        self._now = now
        self._allocate_item_id = allocate_item_id
        self._roll = roll

    # ---- User states ----

    def change_user_state(self, user_id: int, new: MultiplayerUserState) -> Outcome:
        """ChangeState from a client, as ServerMultiplayerRoom.ChangeUserState."""
        user = find_user(self.room, user_id)
        if user is None:
            return NOT_IN_ROOM
        if user.state == new:
            return []
        # Messages that crossed one from the server in flight are dropped silently.
        if new == MultiplayerUserState.IDLE and is_gameplay_state(user.state):
            return []
        if new in (
            MultiplayerUserState.LOADED,
            MultiplayerUserState.READY_FOR_GAMEPLAY,
        ) and not is_gameplay_state(user.state):
            return []
        refusal = self._check_state_switch(user, new)
        if refusal is not None:
            return refusal
        out = self._set_user_state(user, new)
        if new == MultiplayerUserState.SPECTATING and self.room.state in (
            MultiplayerRoomState.WAITING_FOR_LOAD,
            MultiplayerRoomState.PLAYING,
        ):
            out.append(Callback("LoadRequested", user_id=user.user_id))
        out += self.update_room_state()
        return out

    def _check_state_switch(
        self, user: MultiplayerRoomUser, new: MultiplayerUserState
    ) -> Refusal | None:
        old = user.state
        s = MultiplayerUserState
        if new == s.IDLE:
            if is_gameplay_state(old):
                return Refusal("Cannot return to idle without aborting gameplay.")
        elif new == s.READY:
            if old != s.IDLE:
                return invalid_state_change(old, new)
            if current_item(self.room).expired:
                return Refusal("Cannot ready up while all items have been played.")
        elif new in (s.WAITING_FOR_LOAD, s.PLAYING, s.RESULTS):
            return invalid_state_change(old, new)  # server-managed
        elif new == s.LOADED:
            if old != s.WAITING_FOR_LOAD:
                return invalid_state_change(old, new)
        elif new == s.READY_FOR_GAMEPLAY:
            if old != s.LOADED:
                return invalid_state_change(old, new)
        elif new == s.FINISHED_PLAY:
            if old != s.PLAYING:
                return invalid_state_change(old, new)
        elif new == s.SPECTATING and old not in (s.IDLE, s.READY):
            return invalid_state_change(old, new)
        if user.role == MultiplayerRoomUserRole.REFEREE and new not in (s.IDLE, s.SPECTATING):
            return Refusal("Referees cannot participate in the match.")
        return None

    def _set_user_state(
        self, user: MultiplayerRoomUser, new: MultiplayerUserState
    ) -> list[Callback]:
        user.state = new
        return [Callback("UserStateChanged", (user.user_id, new))]

    def _set_room_state(self, new: MultiplayerRoomState) -> list[Callback]:
        self.room.state = new
        return [Callback("RoomStateChanged", (new,))]

    # ---- Room states ----

    def update_room_state(self) -> list[Callback]:
        """UpdateRoomStateIfRequired, without the auto-start countdown (timers are the hub's)."""
        room = self.room
        if room.state == MultiplayerRoomState.WAITING_FOR_LOAD:
            in_gameplay = sum(1 for u in room.users if is_gameplay_state(u.state))
            loaded = sum(
                1 for u in room.users if u.state == MultiplayerUserState.READY_FOR_GAMEPLAY
            )
            if loaded == in_gameplay:
                return self.start_or_stop_gameplay()
        elif room.state == MultiplayerRoomState.PLAYING and all(
            u.state != MultiplayerUserState.PLAYING for u in room.users
        ):
            out: list[Callback] = []
            finished = [u for u in room.users if u.state == MultiplayerUserState.FINISHED_PLAY]
            for user in finished:
                out += self._set_user_state(user, MultiplayerUserState.RESULTS)
            out += self._set_room_state(MultiplayerRoomState.OPEN)
            if finished:
                out.append(Callback("ResultsReady"))
            out += self.complete_current_item()
            return out
        return []

    def start_match(self, caller_id: int) -> Outcome:
        """StartMatch from the host: MultiplayerHub's checks, then ServerMultiplayerRoom's."""
        room = self.room
        if not is_host_or_referee(room, caller_id):
            return NOT_HOST
        host = room.host
        if (
            host is not None
            and host.state not in (MultiplayerUserState.SPECTATING, MultiplayerUserState.READY)
            and host.role != MultiplayerRoomUserRole.REFEREE
        ):
            return Refusal("Can't start match when the host is not ready.")
        if all(u.state != MultiplayerUserState.READY for u in room.users):
            return Refusal("Can't start match when no users are ready.")
        return self.begin_match()

    def begin_match(self) -> Outcome:
        """ServerMultiplayerRoom.StartMatch (also run by a match-start countdown), without the
        load-timeout countdown the hub starts after it."""
        room = self.room
        if room.state != MultiplayerRoomState.OPEN:
            return Refusal("Can't start match when already in a running state.")
        if current_item(room).expired:
            return Refusal("Cannot start an expired playlist item.")
        if all(u.state != MultiplayerUserState.READY for u in room.users):
            return self.complete_current_item()  # nobody ready: the item is skipped
        out: list[Callback] = []
        for user in room.users:
            if user.voted_to_skip_intro:
                user.voted_to_skip_intro = False
                out.append(Callback("UserVotedToSkipIntro", (user.user_id, False)))
        for user in [u for u in room.users if is_ready_for_gameplay(u)]:
            out += self._set_user_state(user, MultiplayerUserState.WAITING_FOR_LOAD)
        out += self._set_room_state(MultiplayerRoomState.WAITING_FOR_LOAD)
        out.append(Callback("LoadRequested"))
        return out

    def start_or_stop_gameplay(self) -> list[Callback]:
        """End of the load phase: loaded users play, the rest are sent back to Idle."""
        out: list[Callback] = []
        anyone_playing = False
        for user in self.room.users:
            if can_start_gameplay(user):
                out += self._set_user_state(user, MultiplayerUserState.PLAYING)
                out.append(Callback("GameplayStarted", user_id=user.user_id))
                anyone_playing = True
            elif user.state == MultiplayerUserState.WAITING_FOR_LOAD:
                out += self._set_user_state(user, MultiplayerUserState.IDLE)
                out.append(
                    Callback(
                        "GameplayAborted",
                        (GameplayAbortReason.LOAD_TOOK_TOO_LONG,),
                        user_id=user.user_id,
                    )
                )
        if anyone_playing:
            return out + self._set_room_state(MultiplayerRoomState.PLAYING)
        out += self._set_room_state(MultiplayerRoomState.OPEN)
        return out + self.complete_current_item()

    def abort_match(self, caller_id: int) -> Outcome:
        """AbortMatch: host or referee, only while a match runs; everyone back to Idle."""
        if not is_host_or_referee(self.room, caller_id):
            return NOT_HOST
        if self.room.state not in (
            MultiplayerRoomState.WAITING_FOR_LOAD,
            MultiplayerRoomState.PLAYING,
        ):
            return Refusal("Cannot abort a match that hasn't started.")
        out: list[Callback] = []
        for user in self.room.users:
            if user.state != MultiplayerUserState.IDLE:
                out += self._set_user_state(user, MultiplayerUserState.IDLE)
        out.append(Callback("GameplayAborted", (GameplayAbortReason.HOST_ABORTED_THE_MATCH,)))
        return out + self.update_room_state()

    def abort_gameplay(self, user_id: int) -> Outcome:
        """AbortGameplay: the caller leaves gameplay; the room is then re-evaluated."""
        user = find_user(self.room, user_id)
        if user is None:
            return NOT_IN_ROOM
        if not is_gameplay_state(user.state):
            return Refusal("Cannot abort gameplay while not in gameplay.")
        return self._set_user_state(user, MultiplayerUserState.IDLE) + self.update_room_state()

    # ---- Queue ----

    def complete_current_item(self) -> list[Callback]:
        """HandleGameplayCompleted: expire the current item, reorder, keep one item in
        host-only mode, advance."""
        item = current_item(self.room)
        item.expired = True
        item.played_at = self._now()
        out = [Callback("PlaylistItemChanged", (item,))]
        out += self.reorder()
        if self.room.settings.queue_mode == QueueMode.HOST_ONLY and all(
            i.expired for i in self.room.playlist
        ):
            copy = msgspec.structs.replace(
                item, required_mods=list(item.required_mods), allowed_mods=list(item.allowed_mods)
            )
            out += self._add_item(copy)
        return out + self.update_current_item()

    def add_item(self, user_id: int, item: MultiplayerPlaylistItem) -> Outcome:
        """AddPlaylistItem's queue part: checks, then the item joins the queue."""
        user = find_user(self.room, user_id)
        if user is None:
            return NOT_IN_ROOM
        refusal = check_add_item(self.room, user, item)
        if refusal is not None:
            return refusal
        item.owner_id = user_id
        return self._add_item(item) + self.update_current_item()

    def _add_item(self, item: MultiplayerPlaylistItem) -> list[Callback]:
        item.id = self._allocate_item_id()
        item.playlist_order = 0xFFFF  # the end, until reordered
        item.expired = False
        item.played_at = None
        self.room.playlist.append(item)
        out = [Callback("PlaylistItemAdded", (item,))]
        if self.room.state == MultiplayerRoomState.OPEN:
            out += self.reorder()
        return out

    def reorder(self) -> list[Callback]:
        """Renumber active items in queue order; each moved item is announced."""
        out: list[Callback] = []
        for order, item in enumerate(ordered_active_items(self.room)):
            if item.playlist_order != order:
                item.playlist_order = order
                out.append(Callback("PlaylistItemChanged", (item,)))
        return out

    def update_current_item(self) -> list[Callback]:
        """Point Settings.PlaylistItemId at the current item; a change unreadies everyone and
        resets beatmap availability."""
        nxt = select_current_item(self.room)
        if nxt.id == self.room.settings.playlist_item_id:
            return []
        self.room.settings.playlist_item_id = nxt.id
        out: list[Callback] = []
        for user in self.room.users:
            if user.state == MultiplayerUserState.READY:
                out += self._set_user_state(user, MultiplayerUserState.IDLE)
        for user in self.room.users:
            if user.beatmap_availability.state != DownloadState.UNKNOWN or (
                user.beatmap_availability.download_progress is not None
            ):
                user.beatmap_availability = type(user.beatmap_availability)()
                out.append(
                    Callback(
                        "UserBeatmapAvailabilityChanged",
                        (user.user_id, user.beatmap_availability),
                    )
                )
        return [*out, Callback("SettingsChanged", (self.room.settings,))]

    # ---- Host ----

    def transfer_host(self, caller_id: int, target_id: int) -> Outcome:
        """TransferHost: host or referee; the target must be in the room."""
        if not is_host_or_referee(self.room, caller_id):
            return NOT_HOST
        target = find_user(self.room, target_id)
        if target is None:
            return NOT_IN_ROOM
        self.room.host = target
        return [Callback("HostChanged", (target_id,))]

    def check_kick(self, caller_id: int, target_id: int) -> Refusal | None:
        """KickUser's checks, in the hub's order."""
        if caller_id == target_id:
            return Refusal("Can't kick self")
        if not is_host_or_referee(self.room, caller_id):
            return NOT_HOST
        target = find_user(self.room, target_id)
        if target is None:
            return Refusal("Target user is not in the current room", "InvalidOperationException")
        if target.role == MultiplayerRoomUserRole.REFEREE:
            return Refusal("Can't kick a referee.")
        return None

    def remove_user(self, user_id: int) -> Outcome:
        """A user leaves (leave, kick, disconnect): host passes to the first remaining user;
        an empty room is left for the caller to disband."""
        user = find_user(self.room, user_id)
        if user is None:
            return NOT_IN_ROOM
        self.room.users.remove(user)
        out = [Callback("UserLeft", (user,))]
        out += self._clear_slot(user)
        if self.room.host is not None and self.room.host.user_id == user_id and self.room.users:
            self.room.host = self.room.users[0]
            out.append(Callback("HostChanged", (self.room.host.user_id,)))
        return out + (self.update_room_state() if self.room.users else [])

    # ---- Match types and match requests ----

    def join_match_type(self, user: MultiplayerRoomUser) -> list[Callback]:
        """HandleUserJoined: a team for team versus, and a slot when the room has slots."""
        out: list[Callback] = []
        state = self.room.match_state
        if isinstance(state, TeamVersusRoomState) and user.role != MultiplayerRoomUserRole.REFEREE:
            user.match_state = TeamVersusUserState(team_id=best_available_team(self.room, state))
            out.append(Callback("MatchUserStateChanged", (user.user_id, user.match_state)))
        slots = state.slots if isinstance(state, StandardMatchRoomState) else None
        if slots is not None and user.user_id not in slots and None in slots:
            slots[slots.index(None)] = user.user_id
            out.append(Callback("MatchRoomStateChanged", (state,)))
        return out

    def _clear_slot(self, user: MultiplayerRoomUser) -> list[Callback]:
        state = self.room.match_state
        if (
            isinstance(state, StandardMatchRoomState)
            and state.slots
            and user.user_id in state.slots
        ):
            state.slots[state.slots.index(user.user_id)] = None
            return [Callback("MatchRoomStateChanged", (state,))]
        return []

    def match_request(self, user_id: int, request: Any) -> Outcome:
        """SendMatchRequest's match-type part: roll, lock, slot and team requests."""
        user = find_user(self.room, user_id)
        if user is None:
            return NOT_IN_ROOM
        state = self.room.match_state
        if not isinstance(state, StandardMatchRoomState):
            return []
        if isinstance(request, RollRequest):
            if request.max is not None and not 2 <= request.max <= DEFAULT_ROLL_MAX:
                return Refusal("Invalid roll request. Max must be in [2, 100] range inclusive.")
            top = DEFAULT_ROLL_MAX if request.max is None else request.max
            event = RollEvent(user_id=user_id, max=top, result=self._roll(top))
            return [Callback("MatchEvent", (event,))]
        if isinstance(request, SetLockStateRequest):
            if state.locked == request.locked:
                return []
            state.locked = request.locked
            return [Callback("MatchRoomStateChanged", (state,))]
        if isinstance(request, ChangeSlotRequest):
            if state.locked:
                return Refusal("Slots are currently locked.")
            return self._change_slot(user, state, request.slot_id)
        if isinstance(request, ChangeTeamRequest) and isinstance(state, TeamVersusRoomState):
            if state.locked:
                return Refusal("Teams are currently locked.")
            if request.team_id not in {team.id for team in state.teams}:
                return Refusal("Attempted to set team out of valid range")
            if user.role == MultiplayerRoomUserRole.REFEREE:
                return Refusal("Referees cannot join teams.")
            user.match_state = TeamVersusUserState(team_id=request.team_id)
            return [Callback("MatchUserStateChanged", (user_id, user.match_state))]
        return []

    def _change_slot(
        self, user: MultiplayerRoomUser, state: StandardMatchRoomState, slot: int
    ) -> Outcome:
        if state.slots is None:
            return Refusal("The room does not have slots.")
        if not 0 <= slot < len(state.slots):
            return Refusal("Invalid slot.")
        if state.slots[slot] is not None:
            return Refusal("The requested slot is already taken.")
        if user.user_id in state.slots:
            state.slots[state.slots.index(user.user_id)] = None
        state.slots[slot] = user.user_id
        return [Callback("MatchRoomStateChanged", (state,))]
