"""Rules of a realtime room that need no room history: predicates, checks, queue order.

Pure functions over the wire Structs (`server.models.multiplayer`); `room.py` applies them.
Refusals carry the official exception type and text, which lazer shows after the colon.

Sources (ppy/osu-server-spectator at 6b142c7): `Hubs/Multiplayer/ServerMultiplayerRoom.cs`,
`Hubs/Multiplayer/MultiplayerHub.cs`, `Hubs/Multiplayer/MultiplayerRoomController.cs`,
`Hubs/Multiplayer/Standard/{Standard,HeadToHead,TeamVersus}MatchController.cs`,
`Extensions/MultiplayerRoomUserExtensions.cs`, `Extensions/MultiplayerUserStateExtensions.cs`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from server.models.multiplayer import (
    APIMod,
    DownloadState,
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
    StandardMatchRoomState,
    TeamVersusRoomState,
    TeamVersusUserState,
)
from server.services import mods as lazer_mods

HOST_PLAYLIST_LIMIT = 50
GUEST_PLAYLIST_LIMIT = 3
MIN_PARTICIPANTS = 2
MAX_PARTICIPANTS = 16
DEFAULT_ROLL_MAX = 100
MAX_LEGACY_RULESET_ID = 3
# PlaylistOrder of a new item until the queue is renumbered (ushort.MaxValue).
END_OF_QUEUE = 0xFFFF

_GAMEPLAY_STATES = frozenset(
    {
        MultiplayerUserState.WAITING_FOR_LOAD,
        MultiplayerUserState.LOADED,
        MultiplayerUserState.READY_FOR_GAMEPLAY,
        MultiplayerUserState.PLAYING,
    }
)


class Refusal(msgspec.Struct, frozen=True):
    """An official hub error: lazer shows `message` (it follows "<exception>: ")."""

    message: str
    exception: str = "InvalidStateException"


class Callback(msgspec.Struct, frozen=True):
    """One `IMultiplayerClient` call: to the whole room group, or to `user_id` only."""

    target: str
    args: tuple[Any, ...] = ()
    user_id: int | None = None


class BeatmapFacts(msgspec.Struct, frozen=True):
    """What AddPlaylistItem and EditPlaylistItem look up about the item's beatmap;
    `difficulties`: (beatmap id, ruleset) of every beatmap of its set, which freestyle
    styles are checked against when the item becomes the current one."""

    checksum: str
    ruleset_id: int
    star_rating: float
    difficulties: tuple[tuple[int, int], ...] = ()


class StyleFacts(msgspec.Struct, frozen=True):
    """What ChangeUserStyle looks up: the set of the current item's beatmap, and the set and
    ruleset of the beatmap the user picked (`None` when there is no such beatmap)."""

    item_set_id: int
    beatmap_set_id: int | None = None
    beatmap_ruleset_id: int = 0


NOT_HOST = Refusal(
    "User is attempting to perform a host level operation while not the host", "NotHostException"
)
NOT_IN_ROOM = Refusal("User is not in the room.")
# MultiplayerHub.getLocalUserRoom: the caller has no room (osu.Game NotJoinedRoomException).
NOT_JOINED = Refusal("This user has not yet joined a multiplayer room.", "NotJoinedRoomException")
# The official InvalidPasswordException has no message of its own: clients see .NET's default.
INVALID_PASSWORD = Refusal(
    "Exception of type 'osu.Game.Online.Multiplayer.InvalidPasswordException' was thrown.",
    "InvalidPasswordException",
)


def invalid_state_change(old: MultiplayerUserState, new: MultiplayerUserState) -> Refusal:
    """InvalidStateChangeException, whose text names both states as C# spells them."""
    return Refusal(
        f"Cannot change from {csharp_name(old)} to {csharp_name(new)}",
        "InvalidStateChangeException",
    )


def csharp_name(state: MultiplayerUserState) -> str:
    """`READY_FOR_GAMEPLAY` -> `ReadyForGameplay`."""
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


def check_state_switch(
    room: MultiplayerRoom, user: MultiplayerRoomUser, new: MultiplayerUserState
) -> Refusal | None:
    """ServerMultiplayerRoom.ensureValidStateSwitch: what a client may ask for."""
    old = user.state
    s = MultiplayerUserState
    if new == s.IDLE:
        if is_gameplay_state(old):
            return Refusal("Cannot return to idle without aborting gameplay.")
    elif new == s.READY:
        if old != s.IDLE:
            return invalid_state_change(old, new)
        if current_item(room).expired:
            return Refusal("Cannot ready up while all items have been played.")
    elif new in (s.WAITING_FOR_LOAD, s.PLAYING, s.RESULTS):
        return invalid_state_change(old, new)  # the server sets these
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


def check_joiner(*, restricted: bool, in_another_room: bool) -> Refusal | None:
    """CreateRoom's and JoinRoomWithPassword's checks of the caller, before any room."""
    if restricted:
        return Refusal("Can't join a room when restricted.")
    if in_another_room:
        return Refusal("Can't join a room when already in another room.")
    return None


def user_can_join(room: MultiplayerRoom, *, banned: bool) -> bool:
    """ServerMultiplayerRoom.UserCanJoin: not banned, and a free place if places are limited."""
    full = (
        room.settings.max_participants is not None
        and len(room.users) >= room.settings.max_participants
    )
    return not (banned or full)


def check_join(room: MultiplayerRoom, password: str, *, banned: bool) -> Refusal | None:
    """MultiplayerRoomController.joinOrCreateRoom's room checks (restriction and "already in
    another room" are the hub's, before it reaches the room)."""
    if not user_can_join(room, banned=banned):
        return Refusal("Not eligible to join this room.")
    if room.settings.password and room.settings.password != password:
        return INVALID_PASSWORD
    return None


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


def check_item_beatmap(
    item: MultiplayerPlaylistItem, beatmap: BeatmapFacts | None
) -> Refusal | None:
    """The beatmap and ruleset checks of AddPlaylistItem and EditPlaylistItem."""
    if item.freestyle and item.allowed_mods:
        return Refusal("Cannot enqueue freestyle item with mods.")
    if beatmap is None:
        return Refusal("Attempted to add a beatmap which does not exist online.")
    if item.beatmap_checksum != beatmap.checksum:
        return Refusal("Attempted to add a beatmap which has been modified.")
    if not 0 <= item.ruleset_id <= MAX_LEGACY_RULESET_ID:
        return Refusal("Attempted to select an unsupported ruleset.")
    if beatmap.ruleset_id != 0 and item.ruleset_id != beatmap.ruleset_id:
        return Refusal("Attempted to select an invalid beatmap and ruleset combination.")
    return None


# ---- Mods (Extensions/MultiplayerPlaylistItemExtensions.cs, osu.Game ModUtils) ----


def _known(ruleset_id: int, mods: list[APIMod]) -> list[APIMod]:
    """ModUtils.InstantiateValidModsForRuleset: the mods the ruleset has."""
    return [m for m in mods if lazer_mods.definition(ruleset_id, m.acronym) is not None]


def incompatible_mods(ruleset_id: int, mods: list[APIMod]) -> list[APIMod]:
    """ModUtils.CheckCompatibleSet's invalid list: for each mod, every other mod of the set it
    excludes (a mod excluded by several appears once per exclusion)."""
    invalid: list[APIMod] = []
    for mod in mods:
        found = lazer_mods.definition(ruleset_id, mod.acronym)
        if found is None:
            continue
        for excluded in found.incompatible:
            invalid += [m for m in mods if m is not mod and m.acronym == excluded]
    return invalid


def _valid_for_match(ruleset_id: int, acronym: str, *, required: bool, freestyle: bool) -> bool:
    """ModUtils.IsValidModForMatch for a realtime (non-playlists) room."""
    if not lazer_mods.user_playable(ruleset_id, acronym):
        return False
    if (
        freestyle
        and required
        and not lazer_mods.valid_for_freestyle_as_required(ruleset_id, acronym)
    ):
        return False
    if required:
        return lazer_mods.valid_for_multiplayer(ruleset_id, acronym)
    return lazer_mods.valid_for_multiplayer_as_free_mod(ruleset_id, acronym)


def _acronyms(mods: list[APIMod]) -> str:
    return ",".join(m.acronym for m in mods)


def check_item_mods(item: MultiplayerPlaylistItem) -> Refusal | None:
    """EnsureModsValid: required and allowed mods exist in the item's ruleset, required mods
    are compatible with each other and valid as required mods in multiplayer, allowed mods
    valid as free mods, and each allowed mod compatible with the required ones. Acronyms are
    upper-cased first, as the official server does for uncontrolled clients."""
    for mod in (*item.required_mods, *item.allowed_mods):
        mod.acronym = mod.acronym.upper()
    ruleset = item.ruleset_id
    for mods in (item.required_mods, item.allowed_mods):
        unknown = [m for m in mods if lazer_mods.definition(ruleset, m.acronym) is None]
        if unknown:
            return Refusal(
                f"Invalid mods were selected for specified ruleset: {_acronyms(unknown)}"
            )
    required, allowed = item.required_mods, item.allowed_mods
    invalid = incompatible_mods(ruleset, required)
    if invalid:
        return Refusal(f"Invalid combination of required mods: {_acronyms(invalid)}")
    invalid = [
        m
        for m in required
        if not _valid_for_match(ruleset, m.acronym, required=True, freestyle=item.freestyle)
    ]
    if invalid:
        return Refusal(f"Invalid required mods were selected: {_acronyms(invalid)}")
    invalid = [
        m
        for m in allowed
        if not _valid_for_match(ruleset, m.acronym, required=False, freestyle=item.freestyle)
    ]
    if invalid:
        return Refusal(f"Invalid free mods were selected: {_acronyms(invalid)}")
    for mod in allowed:
        invalid = incompatible_mods(ruleset, [*required, mod])
        if invalid:
            return Refusal(
                f"Invalid combination of required and allowed mods: {_acronyms(invalid)}"
            )
    return None


def validate_user_mods(
    item: MultiplayerPlaylistItem, user: MultiplayerRoomUser, proposed: list[APIMod]
) -> tuple[bool, list[APIMod]]:
    """ValidateUserMods: whether every proposed mod is valid for the user's ruleset (their
    style's, else the item's), among the item's allowed mods (any mod on a freestyle item)
    and compatible with the required mods; and the proposed mods that are."""
    ruleset = user.ruleset_id if user.ruleset_id is not None else item.ruleset_id
    valid = _known(ruleset, proposed)
    all_valid = len(valid) == len(proposed)
    if not item.freestyle:
        allowed = {m.acronym.upper() for m in item.allowed_mods}
        kept = [m for m in valid if m.acronym.upper() in allowed]
        all_valid = all_valid and len(kept) == len(valid)
        valid = kept
    required = _known(ruleset, item.required_mods)
    invalid = incompatible_mods(ruleset, [*required, *valid])
    if invalid:
        all_valid = False
        valid = [m for m in valid if not any(m is i for i in invalid)]
    return all_valid, valid


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


def addition_order(item: MultiplayerPlaylistItem) -> tuple[bool, int]:
    """Sort key: the order items were added, which is the official server's id order.

    An item added in the operation under way has a temporary negative id (-1, -2, ... in
    order of addition; hosting.py stores it and renames it afterwards), so it comes after
    every stored item rather than before them.
    """
    return (item.id < 0, abs(item.id))


def ordered_active_items(room: MultiplayerRoom) -> list[MultiplayerPlaylistItem]:
    """Active items in queue order: by id, or interleaved by owner in round robin.

    Round robin takes each owner's first item (owners in order of their first item's id),
    then each owner's second, and so on. The first round keeps the existing order (ties by
    id); later rounds follow the owners' order in the first round.
    """
    active = sorted((i for i in room.playlist if not i.expired), key=addition_order)
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
            batch.sort(key=lambda i: (i.playlist_order, addition_order(i)))
            owner_rank = {item.owner_id: rank for rank, item in enumerate(batch)}
        else:
            batch.sort(key=lambda i: owner_rank[i.owner_id])
        ordered.extend(batch)
    return ordered


def check_queue_limits(
    room: MultiplayerRoom, user: MultiplayerRoomUser, item: MultiplayerPlaylistItem
) -> Refusal | None:
    """AddPlaylistItem's queue rules: host-only mode, 50 host / 3 guest active items."""
    privileged = is_host_or_referee(room, user.user_id)
    if room.settings.queue_mode == QueueMode.HOST_ONLY and not privileged:
        return NOT_HOST
    limit = HOST_PLAYLIST_LIMIT if privileged else GUEST_PLAYLIST_LIMIT
    if sum(1 for i in room.playlist if i.owner_id == user.user_id and not i.expired) >= limit:
        return Refusal(f"Can't enqueue more than {limit} items at once.")
    return None


# ---- Match types ----


def new_match_state(match_type: MatchType) -> StandardMatchRoomState:
    """A controller's fresh room state (slots are added from the settings afterwards)."""
    if match_type == MatchType.TEAM_VERSUS:
        teams = [MultiplayerTeam(0, "Team Red"), MultiplayerTeam(1, "Team Blue")]
        return TeamVersusRoomState(teams=teams)
    return StandardMatchRoomState()


def best_available_team(room: MultiplayerRoom, state: TeamVersusRoomState) -> int:
    """A team nobody is in (first by team order), else the one with fewest users; ties go to
    the team whose first member comes first in the room's user list."""
    team_of = [
        u.match_state.team_id for u in room.users if isinstance(u.match_state, TeamVersusUserState)
    ]
    for team in state.teams:
        if team.id not in team_of:
            return team.id
    counts: dict[int, int] = {}
    for team_id in team_of:
        counts[team_id] = counts.get(team_id, 0) + 1
    return min(counts, key=lambda team_id: counts[team_id], default=0)


def next_best_slot(
    user: MultiplayerRoomUser, state: StandardMatchRoomState, slots: list[int | None]
) -> int:
    """The first free slot, in the user's team's half when teams split the slots."""
    if isinstance(state, TeamVersusRoomState) and isinstance(user.match_state, TeamVersusUserState):
        size = len(slots) // len(state.teams)
        start = user.match_state.team_id * size
        for index in range(start, min(start + size, len(slots))):
            if slots[index] is None:
                return index
    # A full room cannot be joined (check_join), so a free slot exists.
    return slots.index(None)
