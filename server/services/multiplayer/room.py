"""A realtime room's state machine as osu-server-spectator runs it, over the wire Structs.

No I/O: no database, no sockets, no timers. Each operation checks the official
preconditions, changes the `MultiplayerRoom` in place and returns the callbacks to send, in
the official order, or a `Refusal`; a refusal leaves the room as it was. What needs the
outside world comes in as arguments (the clock, new playlist item ids, the dice, facts about
a beatmap) or goes out as a value: a started countdown is in `room.active_countdowns` and
announced by a `MatchEvent`; the caller runs the timer and calls `countdown_elapsed(id)`.

Not here yet: room end dates; chat-filtering the room name.
The hub (`server/hubs/multiplayer.py`) and its database side
(`server/services/multiplayer/hosting.py`) drive this; InvitePlayer and the room events
log live there.

Sources as in `rules.py`; method names follow the official ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import msgspec

from server.models.multiplayer import (
    TICKS_PER_SECOND,
    APIMod,
    BeatmapAvailability,
    ChangeSlotRequest,
    ChangeTeamRequest,
    CountdownStartedEvent,
    CountdownStoppedEvent,
    ForceGameplayStartCountdown,
    GameplayAbortReason,
    MatchStartCountdown,
    MatchUserRequest,
    MultiplayerCountdown,
    MultiplayerPlaylistItem,
    MultiplayerRoom,
    MultiplayerRoomSettings,
    MultiplayerRoomState,
    MultiplayerRoomUser,
    MultiplayerRoomUserRole,
    MultiplayerUserState,
    QueueMode,
    RollEvent,
    RollRequest,
    ServerCountdown,
    ServerShuttingDownCountdown,
    SetLockStateRequest,
    StandardMatchRoomState,
    StartMatchCountdownRequest,
    StopCountdownRequest,
    TeamVersusRoomState,
    TeamVersusUserState,
)
from server.services.multiplayer.rules import (
    DEFAULT_ROLL_MAX,
    END_OF_QUEUE,
    MAX_LEGACY_RULESET_ID,
    NOT_HOST,
    NOT_IN_ROOM,
    BeatmapFacts,
    Callback,
    Refusal,
    StyleFacts,
    best_available_team,
    can_start_gameplay,
    check_item_beatmap,
    check_item_mods,
    check_queue_limits,
    check_settings,
    check_state_switch,
    current_item,
    find_user,
    is_gameplay_state,
    is_host_or_referee,
    is_ready_for_gameplay,
    new_match_state,
    next_best_slot,
    ordered_active_items,
    select_current_item,
    upcoming_items,
    validate_user_mods,
)

Outcome = list[Callback] | Refusal

# ServerMultiplayerRoom.gameplay_load_timeout.
LOAD_TIMEOUT_TICKS = 30 * TICKS_PER_SECOND


class RoomMachine:
    """One room's rules.

    `now` stamps PlayedAt; `allocate_item_id` numbers new playlist items (the database does
    in the official server); `roll(max)` draws 1..max; `load_timeout_ticks` is the
    ForceGameplayStartCountdown after StartMatch (configurable for tests); `difficulties`:
    for the beatmap of each playlist item, its set's beatmaps and their rulesets (what
    ensureAllUsersValidStyle reads from the database), kept up to date from the
    `BeatmapFacts` of items added or edited.
    """

    def __init__(
        self,
        room: MultiplayerRoom,
        *,
        now: Callable[[], datetime],
        allocate_item_id: Callable[[], int],
        roll: Callable[[int], int],
        load_timeout_ticks: int = LOAD_TIMEOUT_TICKS,
        difficulties: Mapping[int, Mapping[int, int]] | None = None,
    ) -> None:
        self.room = room
        self._sets = {k: dict(v) for k, v in (difficulties or {}).items()}
        self._now = now
        self._allocate_item_id = allocate_item_id
        self._roll = roll
        self._load_timeout = load_timeout_ticks
        self._queue_mode = room.settings.queue_mode
        self._last_countdown_id = max(
            (c.id for c in room.active_countdowns if isinstance(c, MultiplayerCountdown)),
            default=0,
        )

    def initialise(self) -> list[Callback]:
        """A new room: its match type's controller (queue order, current item, slots)."""
        return self._change_match_type()

    # ---- Membership (MultiplayerRoomController) ----

    def add_user(self, user: MultiplayerRoomUser) -> list[Callback]:
        """AddUser: everyone hears UserJoined before match-type updates about the user."""
        out = [Callback("UserJoined", (user,))]
        self.room.users.append(user)
        return out + self._handle_user_joined(user)

    def remove_user(self, user_id: int, *, kicked: bool = False) -> Outcome:
        """Leave, kick or disconnect (removeUserFromRoom). The host passes to the first user
        left; an empty room (`is_empty`) is the caller's to disband."""
        user = find_user(self.room, user_id)
        if user is None:
            return NOT_IN_ROOM
        self.room.users.remove(user)
        out = self._check_votes_to_skip()
        out += self._clear_slot(user)
        if self.room.users:
            out += self.update_room_state()
            if self.room.host is not None and self.room.host.user_id == user_id:
                out += self._set_host(self.room.users[0])
        out.append(Callback("UserKicked" if kicked else "UserLeft", (user,)))
        return out

    @property
    def is_empty(self) -> bool:
        """Nobody is left: the room is disbanded."""
        return not self.room.users

    def transfer_host(self, caller_id: int, target_id: int) -> Outcome:
        """TransferHost: host or referee; the target must be in the room."""
        if not is_host_or_referee(self.room, caller_id):
            return NOT_HOST
        target = find_user(self.room, target_id)
        if target is None:
            return NOT_IN_ROOM
        return self._set_host(target)

    def _set_host(self, user: MultiplayerRoomUser) -> list[Callback]:
        self.room.host = user
        return [Callback("HostChanged", (user.user_id,))]

    def check_kick(self, caller_id: int, target_id: int) -> Refusal | None:
        """KickUser's checks, in the hub's order (then `remove_user(target, kicked=True)`)."""
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

    # ---- User states ----

    def change_user_state(self, user_id: int, new: MultiplayerUserState) -> Outcome:
        """ChangeState from a client (ServerMultiplayerRoom.ChangeUserState)."""
        user = find_user(self.room, user_id)
        if user is None:
            return NOT_IN_ROOM
        if user.state == new:
            return []
        # Messages that crossed one from the server in flight are dropped silently: Idle
        # sent before WaitingForLoad arrived, Loaded/ReadyForGameplay after a load abort.
        if new == MultiplayerUserState.IDLE and is_gameplay_state(user.state):
            return []
        crossed = (MultiplayerUserState.LOADED, MultiplayerUserState.READY_FOR_GAMEPLAY)
        if new in crossed and not is_gameplay_state(user.state):
            return []
        refusal = check_state_switch(self.room, user, new)
        if refusal is not None:
            return refusal
        out = self._set_user_state(user, new)
        if new == MultiplayerUserState.SPECTATING and self.room.state in (
            MultiplayerRoomState.WAITING_FOR_LOAD,
            MultiplayerRoomState.PLAYING,
        ):
            out.append(Callback("LoadRequested", user_id=user.user_id))
        return out + self.update_room_state()

    def change_beatmap_availability(
        self, user_id: int, availability: BeatmapAvailability
    ) -> Outcome:
        """ChangeBeatmapAvailability: announced only when it differs."""
        user = find_user(self.room, user_id)
        if user is None:
            return NOT_IN_ROOM
        return self._set_availability(user, availability)

    def change_user_style(
        self, user_id: int, beatmap_id: int | None, ruleset_id: int | None, facts: StyleFacts
    ) -> Outcome:
        """ChangeUserStyle: a legacy ruleset; a beatmap or ruleset only on a freestyle item,
        the beatmap from the item's set and the ruleset one it can be played in (`facts`,
        looked up by the caller). Mods the new style does not allow are dropped."""
        user = find_user(self.room, user_id)
        if user is None:
            return NOT_IN_ROOM
        if user.role == MultiplayerRoomUserRole.REFEREE:
            return Refusal(
                "Referees do not participate in the match and cannot set their own style."
            )
        if user.beatmap_id == beatmap_id and user.ruleset_id == ruleset_id:
            return []
        if ruleset_id is not None and not 0 <= ruleset_id <= MAX_LEGACY_RULESET_ID:
            return Refusal("Attempted to select an unsupported ruleset.")
        if beatmap_id is not None or ruleset_id is not None:
            if not current_item(self.room).freestyle:
                return Refusal("Current item does not allow free user styles.")
            if facts.beatmap_set_id is None:
                return Refusal("Invalid beatmap selected.")
            if facts.beatmap_set_id != facts.item_set_id:
                return Refusal("Selected beatmap is not from the same beatmap set.")
            if (
                ruleset_id is not None
                and facts.beatmap_ruleset_id != 0
                and ruleset_id != facts.beatmap_ruleset_id
            ):
                return Refusal("Selected ruleset is not supported for the given beatmap.")
        return self._apply_style(user, beatmap_id, ruleset_id)

    def _apply_style(
        self, user: MultiplayerRoomUser, beatmap_id: int | None, ruleset_id: int | None
    ) -> list[Callback]:
        """changeUserStyle once checked: mods the new style does not allow are dropped."""
        if user.beatmap_id == beatmap_id and user.ruleset_id == ruleset_id:
            return []
        user.beatmap_id = beatmap_id
        user.ruleset_id = ruleset_id
        out = self._drop_invalid_mods(user)
        return [*out, Callback("UserStyleChanged", (user.user_id, beatmap_id, ruleset_id))]

    def _drop_invalid_mods(self, user: MultiplayerRoomUser) -> list[Callback]:
        valid, kept = validate_user_mods(current_item(self.room), user, user.mods)
        if valid:
            return []
        user.mods = kept
        return [Callback("UserModsChanged", (user.user_id, user.mods))]

    def _ensure_all_users_valid_style(self) -> list[Callback]:
        """ensureAllUsersValidStyle, when the current item changes: styles are reset off
        freestyle; on a freestyle item a beatmap outside its set, or a ruleset its beatmap
        cannot be played in, is dropped; then everyone's mods are re-checked. (A set whose
        beatmaps are unknown here leaves the styles alone.)"""
        item = current_item(self.room)
        out: list[Callback] = []
        if not item.freestyle:
            for user in self.room.users:
                out += self._apply_style(user, None, None)
        elif item.beatmap_id in self._sets:
            modes = self._sets[item.beatmap_id]
            for user in self.room.users:
                beatmap_id, ruleset_id = user.beatmap_id, user.ruleset_id
                if beatmap_id is not None and beatmap_id not in modes:
                    beatmap_id = None
                playable_in = modes.get(
                    beatmap_id if beatmap_id is not None else item.beatmap_id, 0
                )
                if ruleset_id is not None and playable_in > 0 and ruleset_id != playable_in:
                    ruleset_id = None
                out += self._apply_style(user, beatmap_id, ruleset_id)
        for user in self.room.users:
            out += self._drop_invalid_mods(user)
        return out

    def change_user_mods(self, user_id: int, mods: list[APIMod]) -> Outcome:
        """ChangeUserMods: every mod valid for the user's ruleset, allowed by the current item
        (any on a freestyle item) and compatible with its required mods."""
        user = find_user(self.room, user_id)
        if user is None:
            return NOT_IN_ROOM
        if user.role == MultiplayerRoomUserRole.REFEREE:
            return Refusal(
                "Referees do not participate in the match and cannot set their own mods."
            )
        valid, kept = validate_user_mods(current_item(self.room), user, mods)
        if not valid:
            refused = [m for m in mods if m not in kept]
            return Refusal(
                f"Incompatible mods were selected: {','.join(m.acronym for m in refused)}"
            )
        if user.mods == mods:
            return []
        user.mods = list(mods)
        return [Callback("UserModsChanged", (user_id, user.mods))]

    def _set_availability(
        self, user: MultiplayerRoomUser, availability: BeatmapAvailability
    ) -> list[Callback]:
        if user.beatmap_availability == availability:
            return []
        user.beatmap_availability = availability
        return [Callback("UserBeatmapAvailabilityChanged", (user.user_id, availability))]

    def _set_user_state(
        self, user: MultiplayerRoomUser, new: MultiplayerUserState
    ) -> list[Callback]:
        user.state = new
        return [Callback("UserStateChanged", (user.user_id, new))]

    def _set_room_state(self, new: MultiplayerRoomState) -> list[Callback]:
        self.room.state = new
        return [Callback("RoomStateChanged", (new,))]

    def _unready_all(self, *, reset_availability: bool) -> list[Callback]:
        out: list[Callback] = []
        for user in [u for u in self.room.users if u.state == MultiplayerUserState.READY]:
            out += self._set_user_state(user, MultiplayerUserState.IDLE)
        if reset_availability:
            for user in self.room.users:
                out += self._set_availability(user, BeatmapAvailability())
        # Whatever made everyone unready also cancels a pending match start.
        return out + self._stop_all(MatchStartCountdown)

    # ---- Room states and the match ----

    def update_room_state(self) -> list[Callback]:
        """UpdateRoomStateIfRequired: auto-start, end of loading, end of play."""
        room = self.room
        if room.state == MultiplayerRoomState.OPEN:
            wants_countdown = (
                room.settings.auto_start_duration != 0
                and not current_item(room).expired
                and any(u.state == MultiplayerUserState.READY for u in room.users)
            )
            if wants_countdown and not self._active(MatchStartCountdown):
                countdown = MatchStartCountdown(time_remaining=room.settings.auto_start_duration)
                return self._start_countdown(countdown)
        elif room.state == MultiplayerRoomState.WAITING_FOR_LOAD:
            in_gameplay = sum(1 for u in room.users if is_gameplay_state(u.state))
            loaded = sum(
                1 for u in room.users if u.state == MultiplayerUserState.READY_FOR_GAMEPLAY
            )
            if loaded == in_gameplay:
                return self._start_or_stop_gameplay()
        elif room.state == MultiplayerRoomState.PLAYING and all(
            u.state != MultiplayerUserState.PLAYING for u in room.users
        ):
            out: list[Callback] = []
            finished = [u for u in room.users if u.state == MultiplayerUserState.FINISHED_PLAY]
            for user in finished:
                out += self._set_user_state(user, MultiplayerUserState.RESULTS)
            out += self._set_room_state(MultiplayerRoomState.OPEN)
            if finished:  # otherwise the game counts as aborted
                out.append(Callback("ResultsReady"))
            return out + self._complete_current_item()
        return []

    def start_match(self, caller_id: int) -> Outcome:
        """StartMatch from a client: MultiplayerHub's checks, then the room's."""
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
        return self._begin_match()

    def _begin_match(self) -> Outcome:
        """ServerMultiplayerRoom.StartMatch, also the end of a MatchStartCountdown."""
        room = self.room
        if room.state != MultiplayerRoomState.OPEN:
            return Refusal("Can't start match when already in a running state.")
        if current_item(room).expired:
            return Refusal("Cannot start an expired playlist item.")
        if all(u.state != MultiplayerUserState.READY for u in room.users):
            return self._complete_current_item()  # nobody ready: the item is skipped
        out: list[Callback] = []
        for user in room.users:
            out += self._set_skip_vote(user, False)
        for user in [u for u in room.users if is_ready_for_gameplay(u)]:
            out += self._set_user_state(user, MultiplayerUserState.WAITING_FOR_LOAD)
        out += self._set_room_state(MultiplayerRoomState.WAITING_FOR_LOAD)
        out.append(Callback("LoadRequested"))
        timeout = ForceGameplayStartCountdown(time_remaining=self._load_timeout)
        return out + self._start_countdown(timeout)

    def _start_or_stop_gameplay(self) -> list[Callback]:
        """End of the load phase: loaded users play, those still loading go back to Idle."""
        out = self._stop_all(ForceGameplayStartCountdown)
        anyone_playing = False
        for user in self.room.users:
            if can_start_gameplay(user):
                out += self._set_user_state(user, MultiplayerUserState.PLAYING)
                out.append(Callback("GameplayStarted", user_id=user.user_id))
                anyone_playing = True
            elif user.state == MultiplayerUserState.WAITING_FOR_LOAD:
                out += self._set_user_state(user, MultiplayerUserState.IDLE)
                reason = GameplayAbortReason.LOAD_TOOK_TOO_LONG
                out.append(Callback("GameplayAborted", (reason,), user_id=user.user_id))
        if anyone_playing:
            return out + self._set_room_state(MultiplayerRoomState.PLAYING)
        out += self._set_room_state(MultiplayerRoomState.OPEN)
        return out + self._complete_current_item()

    def abort_match(self, caller_id: int) -> Outcome:
        """AbortMatch: host or referee, while a match runs; everyone back to Idle."""
        if not is_host_or_referee(self.room, caller_id):
            return NOT_HOST
        if self.room.state not in (
            MultiplayerRoomState.WAITING_FOR_LOAD,
            MultiplayerRoomState.PLAYING,
        ):
            return Refusal("Cannot abort a match that hasn't started.")
        out: list[Callback] = []
        for user in self.room.users:
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

    def vote_to_skip_intro(self, user_id: int) -> Outcome:
        """VoteToSkipIntro: passes at floor(playing / 2) + 1 votes."""
        user = find_user(self.room, user_id)
        if user is None:
            return NOT_IN_ROOM
        if user.role == MultiplayerRoomUserRole.REFEREE:
            return Refusal("Referees do not participate in the match and cannot vote to skip.")
        if not is_gameplay_state(user.state):
            return Refusal("Cannot skip while not in gameplay.")
        return self._set_skip_vote(user, True) + self._check_votes_to_skip()

    def _set_skip_vote(self, user: MultiplayerRoomUser, voted: bool) -> list[Callback]:
        if user.voted_to_skip_intro == voted:
            return []
        user.voted_to_skip_intro = voted
        return [Callback("UserVotedToSkipIntro", (user.user_id, voted))]

    def _check_votes_to_skip(self) -> list[Callback]:
        playing = [u for u in self.room.users if u.state == MultiplayerUserState.PLAYING]
        votes = sum(1 for u in playing if u.voted_to_skip_intro)
        return [Callback("VoteToSkipIntroPassed")] if votes >= len(playing) // 2 + 1 else []

    # ---- Countdowns ----

    def _active(self, kind: type[MultiplayerCountdown]) -> list[MultiplayerCountdown]:
        return [c for c in self.room.active_countdowns if isinstance(c, kind)]

    def _start_countdown(self, countdown: ServerCountdown) -> list[Callback]:
        """Every modelled countdown is exclusive: one of the same type is stopped first."""
        out = self._stop_all(type(countdown))
        self._last_countdown_id += 1
        countdown.id = self._last_countdown_id
        self.room.active_countdowns.append(countdown)
        return [*out, Callback("MatchEvent", (CountdownStartedEvent(countdown),))]

    def _stop(self, countdown: MultiplayerCountdown) -> list[Callback]:
        self.room.active_countdowns = [c for c in self.room.active_countdowns if c is not countdown]
        return [Callback("MatchEvent", (CountdownStoppedEvent(countdown.id),))]

    def _stop_all(self, kind: type[MultiplayerCountdown]) -> list[Callback]:
        out: list[Callback] = []
        for countdown in self._active(kind):
            out += self._stop(countdown)
        return out

    def _find_countdown(self, countdown_id: int) -> MultiplayerCountdown | None:
        return next(
            (
                c
                for c in self.room.active_countdowns
                if isinstance(c, MultiplayerCountdown) and c.id == countdown_id
            ),
            None,
        )

    def countdown_elapsed(self, countdown_id: int) -> list[Callback]:
        """The caller's timer for a countdown ran out: stop it and run what it was for.
        A countdown stopped meanwhile does nothing."""
        countdown = self._find_countdown(countdown_id)
        if countdown is None:
            return []
        out = self._stop(countdown)
        if isinstance(countdown, MatchStartCountdown):
            # A start no longer possible (e.g. the item expired meanwhile) does nothing more;
            # the official countdown's exception goes unobserved the same way.
            started = self._begin_match()
            return out + started if isinstance(started, list) else out
        if (
            isinstance(countdown, ForceGameplayStartCountdown)
            and self.room.state == MultiplayerRoomState.WAITING_FOR_LOAD
        ):
            return out + self._start_or_stop_gameplay()
        return out

    def server_shutting_down(self, remaining_ticks: int) -> list[Callback]:
        """Announce that the owning server stops in `remaining_ticks`."""
        return self._start_countdown(ServerShuttingDownCountdown(time_remaining=remaining_ticks))

    def _start_match_countdown(self, caller_id: int, duration: int) -> Outcome:
        if not is_host_or_referee(self.room, caller_id):
            return NOT_HOST
        if self.room.state != MultiplayerRoomState.OPEN:
            return Refusal("Cannot start a countdown during ongoing play.")
        if self.room.settings.auto_start_duration != 0:
            return Refusal("Cannot start manual countdown if auto-start is enabled.")
        return self._start_countdown(MatchStartCountdown(time_remaining=duration))

    def _stop_countdown(self, caller_id: int, countdown_id: int) -> Outcome:
        if not is_host_or_referee(self.room, caller_id):
            return NOT_HOST
        countdown = self._find_countdown(countdown_id)
        if countdown is None:
            return []
        system = isinstance(countdown, ForceGameplayStartCountdown | ServerShuttingDownCountdown)
        auto = (
            isinstance(countdown, MatchStartCountdown)
            and self.room.settings.auto_start_duration != 0
        )
        if system or auto:
            return Refusal("Cannot stop the requested countdown.")
        return self._stop(countdown)

    # ---- Settings ----

    def change_settings(self, caller_id: int, new: MultiplayerRoomSettings) -> Outcome:
        """ChangeSettings: host or referee, then ServerMultiplayerRoom.ChangeRoomSettings.
        (The official server also runs the name through the chat filters.)"""
        if not is_host_or_referee(self.room, caller_id):
            return NOT_HOST
        refusal = check_settings(self.room, new)
        if refusal is not None:
            return refusal
        if new == self.room.settings:
            return []
        previous = self.room.settings
        self.room.settings = new
        out: list[Callback] = []
        if previous.match_type != new.match_type:
            out += self._change_match_type()
        # The controller's HandleSettingsChanged: queue mode, then slots.
        out += self._update_queue_mode()
        if self._update_slots():
            out.append(Callback("MatchRoomStateChanged", (self.room.match_state,)))
        out += self._handle_settings_changed(item_changed=False)
        return out + self.update_room_state()

    def _handle_settings_changed(self, *, item_changed: bool) -> list[Callback]:
        out = self._ensure_all_users_valid_style()
        out += self._unready_all(reset_availability=item_changed)
        return [*out, Callback("SettingsChanged", (self.room.settings,))]

    # ---- Queue ----

    def add_item(
        self, user_id: int, item: MultiplayerPlaylistItem, beatmap: BeatmapFacts | None
    ) -> Outcome:
        """AddPlaylistItem: limits, beatmap checks, mods (EnsureModsValid), then queued."""
        user = find_user(self.room, user_id)
        if user is None:
            return NOT_IN_ROOM
        refusal = (
            check_queue_limits(self.room, user, item)
            or check_item_beatmap(item, beatmap)
            or check_item_mods(item)
        )
        if refusal is not None:
            return refusal
        assert beatmap is not None
        item.owner_id = user_id
        item.star_rating = beatmap.star_rating
        self._learn_set(item, beatmap)
        out = self._add_item(item)
        if self.room.state == MultiplayerRoomState.OPEN:
            out += self._update_current_item()
        return out

    def edit_item(
        self, user_id: int, item: MultiplayerPlaylistItem, beatmap: BeatmapFacts | None
    ) -> Outcome:
        """EditPlaylistItem: the checks of AddPlaylistItem but the limits; the item keeps its
        place in the queue."""
        user = find_user(self.room, user_id)
        if user is None:
            return NOT_IN_ROOM
        refusal = check_item_beatmap(item, beatmap) or check_item_mods(item)
        if refusal is not None:
            return refusal
        assert beatmap is not None
        existing = next((i for i in self.room.playlist if i.id == item.id), None)
        if (
            existing is not None
            and existing.id == self.room.settings.playlist_item_id
            and self.room.state != MultiplayerRoomState.OPEN
        ):
            return Refusal(
                "The current item in the room cannot be edited when currently being played."
            )
        if existing is None:
            return Refusal("Attempted to change an item that doesn't exist.")
        if existing.owner_id != user_id and not is_host_or_referee(self.room, user_id):
            return Refusal("Attempted to change an item which is not owned by the user.")
        if existing.expired:
            return Refusal("Attempted to change an item which has already been played.")
        item.owner_id = user_id
        item.star_rating = beatmap.star_rating
        item.playlist_order = existing.playlist_order
        self._learn_set(item, beatmap)
        self.room.playlist[self.room.playlist.index(existing)] = item
        return self._item_changed(
            item, beatmap_changed=existing.beatmap_checksum != item.beatmap_checksum
        )

    def _learn_set(self, item: MultiplayerPlaylistItem, beatmap: BeatmapFacts) -> None:
        if beatmap.difficulties:
            self._sets[item.beatmap_id] = dict(beatmap.difficulties)

    def remove_item(self, user_id: int, item_id: int, *, has_score_tokens: bool) -> Outcome:
        """RemovePlaylistItem; `has_score_tokens`: someone was given a token to play it."""
        user = find_user(self.room, user_id)
        if user is None:
            return NOT_IN_ROOM
        item = next((i for i in self.room.playlist if i.id == item_id), None)
        if item is None:
            return Refusal("Item does not exist in the room.")
        if item.id == self.room.settings.playlist_item_id:
            if len(upcoming_items(self.room)) == 1:
                return Refusal("The only item in the room cannot be removed.")
            if self.room.state != MultiplayerRoomState.OPEN:
                return Refusal(
                    "The current item in the room cannot be removed when currently being played."
                )
        if item.owner_id != user_id and not is_host_or_referee(self.room, user_id):
            return Refusal("Attempted to remove an item which is not owned by the user.")
        if item.expired or has_score_tokens:
            return Refusal("Attempted to remove an item which has already been played.")
        self.room.playlist.remove(item)
        out: list[Callback] = []
        if self.room.state == MultiplayerRoomState.OPEN:
            out += self._reorder()
            out += self._update_current_item()
        # After the settings: PlaylistItemId must always name an item the client has.
        return [*out, Callback("PlaylistItemRemoved", (item_id,))]

    def _item_changed(
        self, item: MultiplayerPlaylistItem, *, beatmap_changed: bool
    ) -> list[Callback]:
        """HandlePlaylistItemChanged: a change to the current item unreadies everyone."""
        out: list[Callback] = []
        if item.id == self.room.settings.playlist_item_id:
            out += self._ensure_all_users_valid_style()
            out += self._unready_all(reset_availability=beatmap_changed)
        return [*out, Callback("PlaylistItemChanged", (item,))]

    def _complete_current_item(self) -> list[Callback]:
        """HandleGameplayCompleted: expire the current item, reorder, keep one item in
        host-only mode, advance."""
        item = current_item(self.room)
        item.expired = True
        item.played_at = self._now()
        out = self._item_changed(item, beatmap_changed=True)
        out += self._reorder()
        if self.room.settings.queue_mode == QueueMode.HOST_ONLY and all(
            i.expired for i in self.room.playlist
        ):
            out += self._add_item(_copy(item))
        return out + self._update_current_item()

    def _update_queue_mode(self) -> list[Callback]:
        """A queue mode change reorders and, in host-only mode, keeps one live item."""
        if self._queue_mode == self.room.settings.queue_mode:
            return []
        self._queue_mode = self.room.settings.queue_mode
        out: list[Callback] = []
        if self._queue_mode == QueueMode.HOST_ONLY and all(i.expired for i in self.room.playlist):
            out += self._add_item(_copy(current_item(self.room)))
        if self.room.state == MultiplayerRoomState.OPEN:
            out += self._reorder()
            out += self._update_current_item()
        return out

    def _add_item(self, item: MultiplayerPlaylistItem) -> list[Callback]:
        item.id = self._allocate_item_id()
        item.playlist_order = END_OF_QUEUE
        item.expired = False
        item.played_at = None
        self.room.playlist.append(item)
        out = [Callback("PlaylistItemAdded", (item,))]
        if self.room.state == MultiplayerRoomState.OPEN:
            out += self._reorder()
        return out

    def _reorder(self) -> list[Callback]:
        """updatePlaylistOrder: renumber active items in queue order; moved items announced."""
        out: list[Callback] = []
        for order, item in enumerate(ordered_active_items(self.room)):
            if item.playlist_order != order:
                item.playlist_order = order
                out += self._item_changed(item, beatmap_changed=False)
        return out

    def _update_current_item(self) -> list[Callback]:
        """updateCurrentItem: Settings.PlaylistItemId follows the queue; a change unreadies
        everyone and resets beatmap availability."""
        nxt = select_current_item(self.room)
        if nxt.id == self.room.settings.playlist_item_id:
            return []
        self.room.settings.playlist_item_id = nxt.id
        return self._handle_settings_changed(item_changed=True)

    # ---- Match types and match requests ----

    def _change_match_type(self) -> list[Callback]:
        """ChangeMatchType: a new controller, which takes the current queue mode as its own,
        orders the queue, picks the current item and sets up slots; then every user joins
        it again (teams, slots)."""
        self.room.match_state = new_match_state(self.room.settings.match_type)
        self._queue_mode = self.room.settings.queue_mode
        out = self._reorder()
        out += self._update_current_item()
        self._update_slots()
        out.append(Callback("MatchRoomStateChanged", (self.room.match_state,)))
        for user in self.room.users:
            out += self._handle_user_joined(user)
        return out

    def _state(self) -> StandardMatchRoomState:
        state = self.room.match_state
        assert isinstance(state, StandardMatchRoomState), "a room is head-to-head or team versus"
        return state

    def _handle_user_joined(self, user: MultiplayerRoomUser) -> list[Callback]:
        state = self._state()
        out: list[Callback] = []
        if isinstance(state, TeamVersusRoomState):
            if user.role != MultiplayerRoomUserRole.REFEREE:
                user.match_state = TeamVersusUserState(best_available_team(self.room, state))
                out.append(Callback("MatchUserStateChanged", (user.user_id, user.match_state)))
            return out + self._assign_slot(user)
        out += self._assign_slot(user)
        if user.match_state is not None:  # head-to-head has no user state
            user.match_state = None
            out.append(Callback("MatchUserStateChanged", (user.user_id, None)))
        return out

    def _assign_slot(self, user: MultiplayerRoomUser) -> list[Callback]:
        state = self._state()
        if state.slots is None or user.user_id in state.slots:
            return []
        state.slots[next_best_slot(user, state, state.slots)] = user.user_id
        return [Callback("MatchRoomStateChanged", (state,))]

    def _clear_slot(self, user: MultiplayerRoomUser) -> list[Callback]:
        state = self._state()
        if state.slots is None:
            return []
        if user.user_id in state.slots:
            state.slots[state.slots.index(user.user_id)] = None
        return [Callback("MatchRoomStateChanged", (state,))]

    def _update_slots(self) -> bool:
        """updateSlotsFromSettings: slots follow MaxParticipants. Whether they changed."""
        state = self._state()
        limit = self.room.settings.max_participants
        if limit is None:
            changed = state.slots is not None
            state.slots = None
            return changed
        old = state.slots
        if old is not None and len(old) == limit:
            return False
        slots: list[int | None] = [None] * limit
        state.slots = slots
        if old is None:
            for user in self.room.users:
                slots[next_best_slot(user, state, slots)] = user.user_id
            return True
        for index in range(min(limit, len(old))):
            slots[index] = old[index]
        for user_id in old[limit:]:
            moved = find_user(self.room, user_id) if user_id is not None else None
            if moved is not None:
                slots[next_best_slot(moved, state, slots)] = moved.user_id
        return True

    def match_request(self, user_id: int, request: MatchUserRequest) -> Outcome:
        """SendMatchRequest: countdown requests (host), else the match type's requests.
        Requests of match types we do not run (quick play, ranked play) do nothing."""
        user = find_user(self.room, user_id)
        if user is None:
            return Refusal(
                "Local user was not found in the expected room", "InvalidOperationException"
            )
        if isinstance(request, StartMatchCountdownRequest):
            return self._start_match_countdown(user_id, request.duration)
        if isinstance(request, StopCountdownRequest):
            return self._stop_countdown(user_id, request.id)
        state = self._state()
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
            return self._change_team(user, state, request.team_id)
        return []

    def _change_slot(
        self, user: MultiplayerRoomUser, state: StandardMatchRoomState, slot: int
    ) -> Outcome:
        if state.slots is None:
            return Refusal("The room does not have slots.")
        if slot >= len(state.slots):
            return Refusal("Invalid slot.")
        if user.user_id not in state.slots:
            return NOT_IN_ROOM
        if state.slots[slot] is not None:
            return Refusal("The requested slot is already taken.")
        state.slots[state.slots.index(user.user_id)] = None
        state.slots[slot] = user.user_id
        return [Callback("MatchRoomStateChanged", (state,))]

    def _change_team(
        self, user: MultiplayerRoomUser, state: TeamVersusRoomState, team_id: int
    ) -> Outcome:
        if team_id not in {team.id for team in state.teams}:
            return Refusal("Attempted to set team out of valid range")
        if user.role == MultiplayerRoomUserRole.REFEREE:
            return Refusal("Referees cannot join teams.")
        user.match_state = TeamVersusUserState(team_id)
        return [Callback("MatchUserStateChanged", (user.user_id, user.match_state))]


def _copy(item: MultiplayerPlaylistItem) -> MultiplayerPlaylistItem:
    """MultiplayerPlaylistItem.Clone: the mod lists are copied, not shared."""
    return msgspec.structs.replace(
        item, required_mods=list(item.required_mods), allowed_mods=list(item.allowed_mods)
    )
