"""Wire shapes of the multiplayer hub (lazer-protocol.md §7.2), as msgspec Structs.

The Rust codec owns the MessagePack-CSharp layout (key indices, union ids, ticks,
DateTimeOffset pairs, APIMod settings) in `rust_core/src/msgpack/schema.rs` and hands Python
plain maps keyed by the C# member name, unions tagged with `"type"` = the C# class name.
These Structs read and write those maps: attributes are snake_case, the wire name is
PascalCase (`rename="pascal"`) or given per field where C# spells `ID` in capitals. A unit
test holds every Struct here to the codec's schema, so the two cannot drift.

Conventions:
- enums are IntEnums; an out-of-range value fails to decode (a bad argument, not a crash);
- `TimeSpan` is an int of 100 ns ticks (`TICKS_PER_SECOND`), as on the wire;
- `DateTimeOffset` is an aware UTC datetime;
- defaults are the C# defaults, so a shorter array from an older client decodes as
  MessagePack-CSharp would read it;
- union members the server does not model (matchmaking, ranked play) keep their payload
  undecoded in `raw`.

Why Structs over the generic codec, rather than decoding hub arguments in Rust into
Python objects: it is the spectator hub's design (one key table in schema.rs, both
directions, plain maps across the FFI), APIMod's settings quirk stays in Rust where it is
handled once, and the cost is small: a MatchUserRequest argument takes ~6 µs to the Struct
(Rust transcode ~5 µs, msgspec ~1 µs); a 16-user room with 50 items decodes in ~50 µs
and encodes in ~140 µs (the Rust plain-to-wire direction is the slower one).

Unlike REST shapes these are mutable: a room is live state the hub changes in place, as
osu-server-spectator does with the same classes.

Sources: ppy/osu `osu.Game/Online/Multiplayer/**`, `osu.Game/Online/Rooms/
{MultiplayerPlaylistItem,BeatmapAvailability,MatchType}.cs`, `SignalRWorkaroundTypes.cs`.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import msgspec

TICKS_PER_SECOND = 10_000_000


class MultiplayerRoomState(enum.IntEnum):
    """osu.Game.Online.Multiplayer.MultiplayerRoomState (Closed is never used)."""

    OPEN = 0
    WAITING_FOR_LOAD = 1
    PLAYING = 2
    CLOSED = 3


class MultiplayerUserState(enum.IntEnum):
    """osu.Game.Online.Multiplayer.MultiplayerUserState."""

    IDLE = 0
    READY = 1
    WAITING_FOR_LOAD = 2
    LOADED = 3
    READY_FOR_GAMEPLAY = 4
    PLAYING = 5
    FINISHED_PLAY = 6
    RESULTS = 7
    SPECTATING = 8


class MultiplayerRoomUserRole(enum.IntEnum):
    """osu.Game.Online.Multiplayer.MultiplayerRoomUserRole."""

    PLAYER = 0
    REFEREE = 1


class MatchType(enum.IntEnum):
    """osu.Game.Online.Rooms.MatchType."""

    PLAYLISTS = 0
    HEAD_TO_HEAD = 1
    TEAM_VERSUS = 2
    MATCHMAKING = 3
    RANKED_PLAY = 4


class QueueMode(enum.IntEnum):
    """osu.Game.Online.Multiplayer.QueueMode."""

    HOST_ONLY = 0
    ALL_PLAYERS = 1
    ALL_PLAYERS_ROUND_ROBIN = 2


class DownloadState(enum.IntEnum):
    """osu.Game.Online.DownloadState."""

    UNKNOWN = 0
    NOT_DOWNLOADED = 1
    DOWNLOADING = 2
    IMPORTING = 3
    LOCALLY_AVAILABLE = 4


class GameplayAbortReason(enum.IntEnum):
    """osu.Game.Online.Multiplayer.GameplayAbortReason."""

    LOAD_TOOK_TOO_LONG = 0
    HOST_ABORTED_THE_MATCH = 1


class APIMod(msgspec.Struct, rename="pascal"):
    """A mod as lazer sends it; settings hold only values that differ from the defaults."""

    acronym: str
    settings: dict[str, Any] = msgspec.field(default_factory=dict)


class BeatmapAvailability(msgspec.Struct, rename="pascal"):
    """A user's copy of the current item's beatmap; `download_progress` is a .NET float."""

    state: DownloadState = DownloadState.UNKNOWN
    download_progress: float | None = None


# ---- MatchRoomState union (ids 0 TeamVersus, 1 Matchmaking, 2 RankedPlay, 3 Standard) ----


class MultiplayerTeam(msgspec.Struct, rename="pascal"):
    """One team of a team-versus room."""

    id: int = msgspec.field(default=0, name="ID")
    name: str = ""


class StandardMatchRoomState(msgspec.Struct, rename="pascal", tag_field="type", kw_only=True):
    """Head-to-head's room state: C# keys 1 and 2 only, so `[nil, Locked, Slots]` on the wire.

    `slots` holds a user id per slot (None: free), present only when MaxParticipants is set.
    """

    locked: bool = False
    slots: list[int | None] | None = None


class TeamVersusRoomState(StandardMatchRoomState, kw_only=True):
    """Team versus: the teams at key 0, plus the inherited Locked and Slots."""

    teams: list[MultiplayerTeam] = msgspec.field(default_factory=list)


class MatchmakingRoomState(msgspec.Struct, tag_field="type"):
    """Quick play's room state; not modelled, its payload kept as received."""

    raw: Any = None


class RankedPlayRoomState(msgspec.Struct, tag_field="type"):
    """Ranked play's room state; not modelled, its payload kept as received."""

    raw: Any = None


MatchRoomState = (
    TeamVersusRoomState | MatchmakingRoomState | RankedPlayRoomState | StandardMatchRoomState
)


# ---- MatchUserState union (id 0 TeamVersusUserState) ----


class TeamVersusUserState(msgspec.Struct, rename="pascal", tag_field="type"):
    """The team a user plays for in team versus."""

    team_id: int = msgspec.field(default=0, name="TeamID")


MatchUserState = TeamVersusUserState


# ---- MultiplayerCountdown union (ids 0-4); base keys 0 ID, 1 TimeRemaining ----


class MultiplayerCountdown(msgspec.Struct, rename="pascal", tag_field="type", kw_only=True):
    """Fields every modelled countdown carries; `time_remaining` in ticks."""

    id: int = msgspec.field(default=0, name="ID")
    time_remaining: int = 0


class MatchStartCountdown(MultiplayerCountdown, kw_only=True):
    """Starts the match when it ends (host request or auto-start)."""


class ForceGameplayStartCountdown(MultiplayerCountdown, kw_only=True):
    """The load timeout: gameplay starts for whoever has loaded when it ends."""


class ServerShuttingDownCountdown(MultiplayerCountdown, kw_only=True):
    """Announces that the room's server is stopping."""


class MatchmakingStageCountdown(msgspec.Struct, tag_field="type"):
    """Quick play's stage countdown; not modelled."""

    raw: Any = None


class RankedPlayStageCountdown(msgspec.Struct, tag_field="type"):
    """Ranked play's stage countdown; not modelled."""

    raw: Any = None


# The countdowns this server runs.
ServerCountdown = MatchStartCountdown | ForceGameplayStartCountdown | ServerShuttingDownCountdown

Countdown = (
    MatchStartCountdown
    | ForceGameplayStartCountdown
    | ServerShuttingDownCountdown
    | MatchmakingStageCountdown
    | RankedPlayStageCountdown
)


# ---- MatchServerEvent union (ids 0-4) ----


class CountdownStartedEvent(msgspec.Struct, rename="pascal", tag_field="type"):
    """A countdown began (the countdown itself travels inside its own union envelope)."""

    countdown: Countdown | None = None


class CountdownStoppedEvent(msgspec.Struct, rename="pascal", tag_field="type"):
    """A countdown ended or was stopped."""

    id: int = msgspec.field(default=0, name="ID")


class MatchmakingAvatarActionEvent(msgspec.Struct, tag_field="type"):
    """Quick play; not modelled."""

    raw: Any = None


class RankedPlayCardHandReplayEvent(msgspec.Struct, tag_field="type"):
    """Ranked play; not modelled."""

    raw: Any = None


class RollEvent(msgspec.Struct, rename="pascal", tag_field="type"):
    """The result of a user's RollRequest (.NET uint Max and Result)."""

    user_id: int = msgspec.field(default=0, name="UserID")
    max: int = 0
    result: int = 0


MatchServerEvent = (
    CountdownStartedEvent
    | CountdownStoppedEvent
    | MatchmakingAvatarActionEvent
    | RankedPlayCardHandReplayEvent
    | RollEvent
)


# ---- MatchUserRequest union (ids 0-7) ----


class ChangeTeamRequest(msgspec.Struct, rename="pascal", tag_field="type"):
    """Team versus: move the caller to a team."""

    team_id: int = msgspec.field(default=0, name="TeamID")


class StartMatchCountdownRequest(msgspec.Struct, rename="pascal", tag_field="type"):
    """Host: start the match after `duration` ticks."""

    duration: int = 0


class StopCountdownRequest(msgspec.Struct, rename="pascal", tag_field="type"):
    """Host: stop the countdown with this id."""

    id: int = msgspec.field(default=0, name="ID")


class MatchmakingAvatarActionRequest(msgspec.Struct, tag_field="type"):
    """Quick play; not modelled."""

    raw: Any = None


class RankedPlayCardHandReplayRequest(msgspec.Struct, tag_field="type"):
    """Ranked play; not modelled."""

    raw: Any = None


class SetLockStateRequest(msgspec.Struct, rename="pascal", tag_field="type"):
    """Lock or unlock teams and slots."""

    locked: bool = False


class RollRequest(msgspec.Struct, rename="pascal", tag_field="type"):
    """Roll 1..max (default 100); .NET uint?."""

    max: int | None = None


class ChangeSlotRequest(msgspec.Struct, rename="pascal", tag_field="type"):
    """Move the caller to a slot (.NET byte)."""

    slot_id: int = msgspec.field(default=0, name="SlotID")


MatchUserRequest = (
    ChangeTeamRequest
    | StartMatchCountdownRequest
    | StopCountdownRequest
    | MatchmakingAvatarActionRequest
    | RankedPlayCardHandReplayRequest
    | SetLockStateRequest
    | RollRequest
    | ChangeSlotRequest
)


# ---- Room objects ----


class MultiplayerRoomSettings(msgspec.Struct, rename="pascal"):
    """A room's settings; `password` is "" when there is none, never null."""

    name: str = "Unnamed room"
    playlist_item_id: int = 0
    password: str = ""
    match_type: MatchType = MatchType.HEAD_TO_HEAD
    queue_mode: QueueMode = QueueMode.HOST_ONLY
    auto_start_duration: int = 0
    auto_skip: bool = False
    max_participants: int | None = None


class MultiplayerRoomUser(msgspec.Struct, rename="pascal", kw_only=True):
    """A user in a room; lazer's `User` (the APIUser) is not serialised."""

    user_id: int = msgspec.field(default=0, name="UserID")
    state: MultiplayerUserState = MultiplayerUserState.IDLE
    beatmap_availability: BeatmapAvailability = msgspec.field(default_factory=BeatmapAvailability)
    mods: list[APIMod] = msgspec.field(default_factory=list)
    match_state: MatchUserState | None = None
    ruleset_id: int | None = None
    beatmap_id: int | None = None
    voted_to_skip_intro: bool = False
    role: MultiplayerRoomUserRole = MultiplayerRoomUserRole.PLAYER


class MultiplayerPlaylistItem(msgspec.Struct, rename="pascal", kw_only=True):
    """A playlist item of a realtime room (`playlist_order` is a .NET ushort)."""

    id: int = msgspec.field(default=0, name="ID")
    owner_id: int = msgspec.field(default=0, name="OwnerID")
    beatmap_id: int = msgspec.field(default=0, name="BeatmapID")
    beatmap_checksum: str = ""
    ruleset_id: int = msgspec.field(default=0, name="RulesetID")
    required_mods: list[APIMod] = msgspec.field(default_factory=list)
    allowed_mods: list[APIMod] = msgspec.field(default_factory=list)
    expired: bool = False
    playlist_order: int = 0
    played_at: datetime | None = None
    star_rating: float = 0.0
    freestyle: bool = False


class MultiplayerRoom(msgspec.Struct, rename="pascal", kw_only=True):
    """A realtime room as the hub sends it on create and join."""

    room_id: int = msgspec.field(default=0, name="RoomID")
    state: MultiplayerRoomState = MultiplayerRoomState.OPEN
    settings: MultiplayerRoomSettings = msgspec.field(default_factory=MultiplayerRoomSettings)
    users: list[MultiplayerRoomUser] = msgspec.field(default_factory=list)
    host: MultiplayerRoomUser | None = None
    match_state: MatchRoomState | None = None
    playlist: list[MultiplayerPlaylistItem] = msgspec.field(default_factory=list)
    active_countdowns: list[Countdown] = msgspec.field(default_factory=list)
    channel_id: int = msgspec.field(default=0, name="ChannelID")


# The codec's type name of each Struct (and union alias), for decode_as/encode callers and
# for the test that holds these shapes to the codec's schema.
WIRE_TYPES: dict[str, Any] = {
    "APIMod": APIMod,
    "BeatmapAvailability": BeatmapAvailability,
    "MultiplayerTeam": MultiplayerTeam,
    "MultiplayerRoomSettings": MultiplayerRoomSettings,
    "MultiplayerRoomUser": MultiplayerRoomUser,
    "MultiplayerPlaylistItem": MultiplayerPlaylistItem,
    "MultiplayerRoom": MultiplayerRoom,
    "MatchRoomState": MatchRoomState,
    "MatchUserState": MatchUserState,
    "MatchServerEvent": MatchServerEvent,
    "MatchUserRequest": MatchUserRequest,
    "MultiplayerCountdown": Countdown,
}
