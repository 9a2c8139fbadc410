"""Wire shapes of rooms: lazer's Room, PlaylistItem and APILeaderboard as osu-web's
RoomTransformer, PlaylistItemTransformer and UserScoreAggregateTransformer emit them.

Field order follows osu-web. Includes that a response does not carry are left out (UNSET),
as osu-web leaves out includes it was not asked for. In a playlist item `beatmap_id` comes
before `beatmap`: lazer's `beatmap_id` setter replaces the beatmap with a bare stub
(lazer-protocol.md §4.7, §4.11). `channel_id` is an int in lazer (never null).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from server.models.beatmaps import Beatmap, Beatmapset
from server.models.users import UserCompact


class RoomMod(msgspec.Struct, frozen=True):
    """APIMod as a playlist item stores it (settings always present, possibly empty)."""

    acronym: str
    settings: dict[str, Any]


class PlaylistItem(msgspec.Struct, frozen=True, kw_only=True):
    """A playlist item; `beatmap` (with its set) when included."""

    id: int
    room_id: int
    beatmap_id: int
    created_at: datetime
    ruleset_id: int
    allowed_mods: list[RoomMod]
    required_mods: list[RoomMod]
    freestyle: bool
    expired: bool
    owner_id: int
    playlist_order: int | None
    played_at: datetime | None
    beatmap: Beatmap | UnsetType = UNSET
    details: dict[str, Any] | UnsetType = UNSET
    # MultiplayerScore JSON (the score presenter's dicts until scores have a Struct).
    scores: list[dict[str, Any]] | UnsetType = UNSET


class ItemAttemptsCount(msgspec.Struct, frozen=True):
    """lazer's ItemAttemptsCount."""

    attempts: int
    id: int
    passed: bool


class RoomScore(msgspec.Struct, frozen=True, kw_only=True):
    """osu-web's UserScoreAggregate JSON: a user's totals in a room (`accuracy` averaged)."""

    accuracy: float
    attempts: int
    completed: int
    pp: float = 0.0
    room_id: int
    total_score: int
    user_id: int
    playlist_item_attempts: list[ItemAttemptsCount] | UnsetType = UNSET
    position: int | UnsetType | None = UNSET
    user: UserCompact | UnsetType = UNSET


class DifficultyRange(msgspec.Struct, frozen=True):
    max: float
    min: float


class PlaylistItemStats(msgspec.Struct, frozen=True):
    count_active: int
    count_total: int
    ruleset_ids: list[int]


class Room(msgspec.Struct, frozen=True, kw_only=True):
    """A room (osu-web RoomTransformer) with the includes of its response."""

    id: int
    name: str
    description: str | None
    category: str
    status: str
    type: str
    user_id: int
    starts_at: datetime
    ends_at: datetime | None
    max_attempts: int | None
    max_participants: int | None
    participant_count: int
    channel_id: int
    active: bool
    has_password: bool
    queue_mode: str
    auto_skip: bool
    pinned: bool
    current_playlist_item: PlaylistItem | UnsetType | None = UNSET
    current_user_score: RoomScore | UnsetType = UNSET
    difficulty_range: DifficultyRange | UnsetType = UNSET
    host: UserCompact | UnsetType = UNSET
    playlist: list[PlaylistItem] | UnsetType = UNSET
    playlist_item_stats: PlaylistItemStats | UnsetType = UNSET
    recent_participants: list[UserCompact] | UnsetType = UNSET


class RoomLeaderboard(msgspec.Struct, frozen=True):
    """GET rooms/{id}/leaderboard (lazer's APILeaderboard)."""

    leaderboard: list[RoomScore]
    user_score: RoomScore | None


class RoomEvent(msgspec.Struct, frozen=True, kw_only=True):
    """osu-web RealtimeRoomEventTransformer."""

    created_at: datetime
    event_type: str
    id: int
    playlist_item_id: int | None
    user_id: int | None


class RoomEvents(msgspec.Struct, frozen=True, kw_only=True):
    """GET rooms/{id}/events."""

    beatmaps: list[Beatmap]
    beatmapsets: list[Beatmapset]
    current_playlist_item_id: int | None
    events: list[RoomEvent]
    first_event_id: int
    last_event_id: int
    playlist_items: list[PlaylistItem]
    room: Room
    users: list[UserCompact]


class ItemScoreStats(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    rename={
        "playlist_item_id": "PlaylistItemID",
        "total_score_distribution": "TotalScoreDistribution",
        "cumulative_score": "CumulativeScore",
        "last_processed_score_id": "LastProcessedScoreID",
    },
):
    """lazer's MultiplayerPlaylistItemStats (metadata hub, BeginWatchingMultiplayerRoom):
    the item's passing scores counted in bins of 100,000 total score, their sum and the
    newest score counted. `to_builtins` gives the hub's key names."""

    playlist_item_id: int
    total_score_distribution: list[int]
    cumulative_score: int
    last_processed_score_id: int


class RoomScoreSet(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    rename={
        "room_id": "RoomID",
        "playlist_item_id": "PlaylistItemID",
        "score_id": "ScoreID",
        "user_id": "UserID",
        "total_score": "TotalScore",
        "new_rank": "NewRank",
    },
):
    """lazer's MultiplayerRoomScoreSetEvent: a playlist score was stored; `new_rank` is the
    user's room rank when the score became their best on the item, else null."""

    room_id: int
    playlist_item_id: int
    score_id: int
    user_id: int
    total_score: int
    new_rank: int | None
