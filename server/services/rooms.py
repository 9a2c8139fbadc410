"""Rooms: creating and closing playlists, listing and showing rooms, joining and leaving a
room's chat channel, the room leaderboard and realtime room events.

Rules and error texts are osu-web's (`app/Models/Multiplayer/Room.php`, `PlaylistItem.php`,
`app/Singletons/Mods.php`, `Http/Controllers/Multiplayer/RoomsController.php`): a refusal is
a `Refused` value with osu-web's status and text, mapped to the response by the handler.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

import msgspec

from server.models.beatmaps import Beatmap, Beatmapset
from server.models.rooms import (
    DifficultyRange,
    ItemAttemptsCount,
    PlaylistItem,
    PlaylistItemStats,
    Room,
    RoomEvent,
    RoomEvents,
    RoomLeaderboard,
    RoomMod,
    RoomScore,
)
from server.models.scores import ScoreFormat
from server.models.users import UserCompact
from server.repositories.beatmaps import BeatmapRecord
from server.repositories.rooms import (
    NewPlaylistItem,
    NewRoom,
    PlaylistItemRow,
    RoomRepository,
    RoomRow,
    RoomSearch,
    RoomUserTotal,
)
from server.repositories.users import UserAccount, UserRepository
from server.services import mods as lazer_mods
from server.services.beatmaps import BeatmapService
from server.services.profiles import ProfileService
from server.services.scores import (
    ScoreService,
)

PLAYLIST_TYPE: Final = "playlists"
REALTIME_STANDARD_TYPES: Final = ("head_to_head", "team_versus")
MATCHMAKING_TYPES: Final = ("matchmaking", "ranked_play")
REALTIME_TYPES: Final = REALTIME_STANDARD_TYPES + MATCHMAKING_TYPES
TYPE_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "playlists": (PLAYLIST_TYPE,),
    "ranked-play": ("ranked_play",),
    "realtime": REALTIME_STANDARD_TYPES,
}
CATEGORIES: Final = ("normal", "spotlight", "featured_artist", "daily_challenge")
REALTIME_QUEUE_MODES: Final = ("host_only", "all_players", "all_players_round_robin")
STATUSES: Final = ("idle", "playing")
# osu-web config/osu.php defaults.
MAX_ATTEMPTS_LIMIT: Final = 128
MAX_PARTICIPANTS_LIMIT: Final = 16
MAX_ITEMS_IN_PLAYLIST: Final = 256
MAX_PLAYLISTS: Final = 1
MAX_PLAYLISTS_SUPPORTER: Final = 5
MAX_DURATION_DAYS: Final = 14
MAX_DURATION_DAYS_SUPPORTER: Final = 93
CLOSE_GRACE_MINUTES: Final = 5
MAX_NAME_LENGTH: Final = 100
ROOMS_LIMIT_MAX: Final = 250
LEADERBOARD_LIMIT_DEFAULT: Final = 50  # osu-web Model::PER_PAGE
LEADERBOARD_LIMIT_MAX: Final = 50
EVENTS_LIMIT_DEFAULT: Final = 100
EVENTS_LIMIT_MAX: Final = 101
# Participants shown: 10 per room in lists (withRecentParticipantIds), 50 on one room.
_LIST_PARTICIPANTS: Final = 10
_SHOW_PARTICIPANTS: Final = 50
_INT64_MAX: Final = 2**63 - 1
# Longer than any allowance (93 days), short enough for date arithmetic.
_MAX_DURATION_MINUTES: Final = 10**7
ROOM_NOT_FOUND: Final = "Specified Multiplayer\\Room couldn't be found."
ITEM_NOT_FOUND: Final = "Specified Multiplayer\\PlaylistItem couldn't be found."

_json = msgspec.json.Encoder()


class Refused(msgspec.Struct, frozen=True):
    """An osu-web refusal: status and `error` text (None where osu-web sends null)."""

    status: int
    error: str | None


def invariant(message: str) -> Refused:
    # osu-web's InvariantException renders as 422.
    return Refused(422, message)


NOT_FOUND: Final = Refused(404, ROOM_NOT_FOUND)


class RoomChannels(Protocol):
    """The room's chat channel, as the chat service provides it (osu-web
    Channel::createMultiplayer, addUser, removeUser: the member gets chat.channel.join /
    chat.channel.part on the notification socket)."""

    async def create_room_channel(self, room_id: int, room_name: str) -> int:
        """Create the room's MULTIPLAYER channel (or find it); its id."""
        ...

    async def add_member(self, channel_id: int, user_id: int) -> bool:
        """Add a user to the room's channel."""
        ...

    async def remove_member(self, channel_id: int, user_id: int) -> bool:
        """Remove a user from the room's channel."""
        ...


def aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def is_realtime(room_type: str) -> bool:
    """Whether a room type is a realtime (hub) room."""
    return room_type in REALTIME_TYPES


def int_param(value: Any) -> int | None:
    """osu-web get_int: an int, or a string of one; anything else is null."""
    number: int | None = None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit() and len(text) <= 20:
            number = int(text)
    # Beyond a 64-bit column every value is out of any range checked here.
    return number if number is not None and abs(number) <= _INT64_MAX else None


def _bool_param(value: Any) -> bool | None:
    """osu-web get_bool."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "on", "yes"):
            return True
        if lowered in ("0", "false", "off", "no", ""):
            return False
    return None


def _string_param(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _time_param(value: Any) -> datetime | None:
    """osu-web get_time: an ISO 8601 time (naive means UTC), else null."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return aware(parsed)


def _parse_mods(ruleset_id: int, raw: Any) -> list[RoomMod] | Refused:
    """osu-web Mods::parseInputArray: acronyms with known settings; a repeated acronym keeps
    the first position and the last value (PHP array keys)."""
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        return invariant("invalid mod array")
    found: dict[str, RoomMod] = {}
    for mod in raw:
        acronym = mod.get("acronym") if isinstance(mod, dict) else None
        if not isinstance(acronym, str) or not acronym.strip():
            return invariant("invalid mod array")
        settings = mod.get("settings")
        clean: dict[str, Any] = {}
        if isinstance(settings, dict):
            known = lazer_mods.definition(ruleset_id, acronym)
            for key, value in settings.items():
                if known is None or key not in known.settings:
                    return invariant(f"unknown setting for {acronym} ({key})")
                clean[key] = value
        found[acronym] = RoomMod(acronym, clean)
    if ruleset_id not in lazer_mods.MODS:
        return invariant("invalid ruleset")
    for acronym in found:
        if lazer_mods.definition(ruleset_id, acronym) is None:
            return invariant(f"invalid mod for ruleset: {acronym}")
    return list(found.values())


class _ItemInput(msgspec.Struct, frozen=True):
    beatmap_id: int
    ruleset_id: int
    freestyle: bool
    max_attempts: int | None
    allowed_mods: list[RoomMod]
    required_mods: list[RoomMod]


def _parse_item(raw: Any) -> _ItemInput | Refused:
    """osu-web PlaylistItem::fromJsonParams."""
    item = raw if isinstance(raw, dict) else {}
    beatmap_id = int_param(item.get("beatmap_id"))
    if beatmap_id is None:
        return invariant("beatmap_id is required.")
    ruleset_id = int_param(item.get("ruleset_id"))
    if ruleset_id is None:
        return invariant("ruleset_id is required.")
    allowed = _parse_mods(ruleset_id, item.get("allowed_mods"))
    if isinstance(allowed, Refused):
        return allowed
    required = _parse_mods(ruleset_id, item.get("required_mods"))
    if isinstance(required, Refused):
        return required
    return _ItemInput(
        beatmap_id=beatmap_id,
        ruleset_id=ruleset_id,
        freestyle=bool(_bool_param(item.get("freestyle"))),
        max_attempts=int_param(item.get("max_attempts")),
        allowed_mods=allowed,
        required_mods=required,
    )


def _check_item(item: _ItemInput, beatmap: BeatmapRecord, realtime: bool) -> Refused | None:
    """osu-web PlaylistItem::assertValid and Mods::assertValidForMultiplayer /
    assertValidMultiplayerExclusivity."""
    if item.max_attempts is not None and not 1 <= item.max_attempts <= MAX_ATTEMPTS_LIMIT:
        return invariant(f"field 'max_attempts' must be between 1 and {MAX_ATTEMPTS_LIMIT}")
    # osu! beatmaps convert to every ruleset; the others only play as themselves.
    if beatmap.mode != 0 and beatmap.mode != item.ruleset_id:
        return invariant(f"invalid ruleset_id for beatmap {beatmap.id}")
    if item.freestyle and item.allowed_mods:
        return invariant("allowed mods cannot be specified on freestyle items")
    allowed = [m.acronym for m in item.allowed_mods]
    required = [m.acronym for m in item.required_mods]
    both = [a for a in allowed if a in required]
    if both:
        return invariant("mod cannot be listed as both allowed and required: " + ", ".join(both))
    ruleset = item.ruleset_id
    for ids, is_required in ((allowed, False), (required, True)):
        for acronym in ids:
            if (
                item.freestyle
                and is_required
                and not lazer_mods.valid_for_freestyle_as_required(ruleset, acronym)
            ):
                return invariant(f"mod cannot be set as required on freestyle items: {acronym}")
            if realtime:
                valid = (
                    lazer_mods.valid_for_multiplayer(ruleset, acronym)
                    if is_required
                    else lazer_mods.valid_for_multiplayer_as_free_mod(ruleset, acronym)
                )
            else:
                valid = lazer_mods.user_playable(ruleset, acronym)
            if not valid:
                kind = "required" if is_required else "allowed"
                return invariant(f"mod cannot be set as {kind}: {acronym}")
    return _check_exclusivity(ruleset, required, allowed)


def _incompatible_with(ruleset_id: int, acronyms: Sequence[str]) -> list[str]:
    out: list[str] = []
    for acronym in acronyms:
        found = lazer_mods.definition(ruleset_id, acronym)
        for other in found.incompatible if found else ():
            if other != acronym and other not in out:
                out.append(other)
    return out


def _check_exclusivity(ruleset_id: int, required: list[str], allowed: list[str]) -> Refused | None:
    clashing = [a for a in _incompatible_with(ruleset_id, required) if a in required]
    if clashing:
        return invariant("incompatible mods: " + ", ".join(clashing))
    disallowed = list(dict.fromkeys([*required, *_incompatible_with(ruleset_id, required)]))
    conflicting = [a for a in disallowed if a in allowed]
    if conflicting:
        return invariant("allowed mods conflict with required mods: " + ", ".join(conflicting))
    return None


def _mods_json(mods: list[RoomMod]) -> str:
    return _json.encode(mods).decode()


def mods_of(text: str) -> list[RoomMod]:
    return msgspec.json.decode(text, type=list[RoomMod])


class RoomService:
    """Rooms over REST."""

    def __init__(
        self,
        db: Any,
        repo: RoomRepository,
        users: UserRepository,
        profiles: ProfileService,
        beatmaps: BeatmapService,
        scores: ScoreService,
        channels: RoomChannels,
    ) -> None:
        self._db = db
        self._scores = scores
        self.repo = repo
        self._accounts = users
        self._profiles = profiles
        self._beatmaps = beatmaps
        self.channels = channels

    # -- creating and closing ------------------------------------------------------------

    async def create(self, host: UserAccount, params: dict[str, Any]) -> Room | Refused:
        """POST rooms (osu-web Room::startGame): a playlist, or a realtime room as osu-web
        still allows; the host joins the room's chat channel."""
        now = datetime.now(UTC).replace(microsecond=0)
        refused = self.clean_record(host, now)
        if refused is not None:
            return refused
        name = _string_param(params.get("name"))
        if name is None:
            return invariant("field 'name' is required")
        room_type = _string_param(params.get("type"))
        queue_mode = _string_param(params.get("queue_mode"))
        category = _string_param(params.get("category"))
        realtime = (room_type in REALTIME_TYPES) or category == "realtime"
        password: str | None = None
        max_participants: int | None = None
        auto_start = int_param(params.get("auto_start_duration"))
        ends_at: datetime | None = None
        if realtime:
            if room_type not in REALTIME_TYPES:
                room_type = REALTIME_STANDARD_TYPES[0]
            if queue_mode not in REALTIME_QUEUE_MODES:
                queue_mode = "host_only"
            # lazer's AutoStartDuration is a ushort (seconds).
            auto_start = max(0, min(auto_start or 0, 65535))
            password = _string_param(params.get("password")) or None
            # The hub marks a realtime room active once its host joined (WP3).
            ends_at = now + timedelta(seconds=30)
            max_participants = int_param(params.get("max_participants"))
        else:
            room_type, queue_mode, auto_start = PLAYLIST_TYPE, "host_only", 0
            ends_at = _time_param(params.get("ends_at"))
            duration = int_param(params.get("duration"))
            if ends_at is None and duration is not None:
                minutes = max(-_MAX_DURATION_MINUTES, min(duration, _MAX_DURATION_MINUTES))
                ends_at = now + timedelta(minutes=minutes)
        assert room_type is not None and queue_mode is not None
        if room_type in MATCHMAKING_TYPES:
            return invariant("matchmaking rooms cannot be created")
        # Compared at full precision: a room closed a moment ago ended within this second.
        exact = naive(datetime.now(UTC))
        active = (
            await self.repo.active_realtime_rooms_of(host.id, exact)
            if realtime
            else await self.repo.active_playlists_of(host.id, exact)
        )
        allowance = (
            1 if realtime else (MAX_PLAYLISTS_SUPPORTER if host.is_supporter else MAX_PLAYLISTS)
        )
        if active >= allowance:
            return invariant("number of simultaneously active rooms reached")
        if ends_at is None:
            return invariant("'ends_at' is required")
        if not name:
            return invariant("'name' is required")
        if not realtime and now + timedelta(minutes=30) > ends_at:
            return invariant("'ends_at' must be at least 30 minutes after 'starts_at'")
        days = MAX_DURATION_DAYS_SUPPORTER if host.is_supporter else MAX_DURATION_DAYS
        if now + timedelta(days=days) < ends_at:
            return invariant("Duration is too long.")
        max_attempts = int_param(params.get("max_attempts"))
        if max_attempts is not None and not 1 <= max_attempts <= MAX_ATTEMPTS_LIMIT:
            return invariant(f"field 'max_attempts' must be between 1 and {MAX_ATTEMPTS_LIMIT}")
        if max_participants is not None and not 2 <= max_participants <= MAX_PARTICIPANTS_LIMIT:
            return invariant(
                f"field 'max_participants' must be between 2 and {MAX_PARTICIPANTS_LIMIT}"
            )
        raw_playlist = params.get("playlist")
        if not isinstance(raw_playlist, list):
            return invariant("field 'playlist' must be an array")
        items: list[_ItemInput] = []
        for raw in raw_playlist:
            parsed = _parse_item(raw)
            if isinstance(parsed, Refused):
                return parsed
            items.append(parsed)
        if realtime and len(items) != 1:
            return invariant("realtime room must have exactly one playlist item")
        if not realtime and not items:
            return invariant("room must have at least one playlist item")
        if not realtime and len(items) > MAX_ITEMS_IN_PLAYLIST:
            return invariant("Too many playlist items.")
        # osu-web also runs the name through its chat filters; this server has none.
        if len(name) > MAX_NAME_LENGTH:
            return invariant("Room name is too long.")
        beatmaps = {
            b.id: b
            for b in await self._beatmaps.repo.beatmaps_by_ids(
                sorted({i.beatmap_id for i in items})
            )
        }
        missing = [str(i.beatmap_id) for i in items if i.beatmap_id not in beatmaps]
        if missing:
            return invariant("beatmaps not found: " + ", ".join(missing))
        for item in items:
            refused = _check_item(item, beatmaps[item.beatmap_id], realtime)
            if refused is not None:
                return refused
        room = NewRoom(
            user_id=host.id,
            name=name,
            description=None,
            type=room_type,
            category="normal",
            queue_mode=queue_mode,
            password=password,
            starts_at=naive(now),
            ends_at=naive(ends_at),
            max_attempts=max_attempts,
            max_participants=max_participants,
            auto_start_duration=auto_start or 0,
            auto_skip=bool(_bool_param(params.get("auto_skip"))),
        )
        room_id = await self._insert(room, items, host.id, naive(now))
        # The channel is made after the room's rows commit (chat has its own tables), with
        # the host in it (osu-web's createMultiplayer then addUser).
        channel_id = await self.channels.create_room_channel(room_id, name)
        await self.repo.set_channel(room_id, channel_id)
        await self.channels.add_member(channel_id, host.id)
        shown = await self.show(room_id, host)
        assert shown is not None
        return shown

    async def check_item(self, raw: dict[str, Any]) -> Refused | None:
        """A playlist item as POST rooms takes it for a playlist: parsed and checked against
        its beatmap (the daily challenge queue checks its items so)."""
        parsed = _parse_item(raw)
        if isinstance(parsed, Refused):
            return parsed
        found = await self._beatmaps.repo.beatmaps_by_ids([parsed.beatmap_id])
        if not found:
            return invariant(f"beatmaps not found: {parsed.beatmap_id}")
        return _check_item(parsed, found[0], realtime=False)

    async def open_playlist(
        self,
        host_id: int,
        name: str,
        category: str,
        starts_at: datetime,
        ends_at: datetime,
        raw_item: dict[str, Any],
    ) -> int | Refused:
        """A one-item playlist the server opens itself (osu-web DailyChallengeCreateNext's
        Room::startGame): no host allowance or duration limits; its chat channel made as for
        any room. Returns the room id."""
        refused = await self.check_item(raw_item)
        if refused is not None:
            return refused
        item = _parse_item(raw_item)
        assert not isinstance(item, Refused)
        room = NewRoom(
            user_id=host_id,
            name=name,
            description=None,
            type=PLAYLIST_TYPE,
            category=category,
            queue_mode="host_only",
            password=None,
            starts_at=naive(starts_at),
            ends_at=naive(ends_at),
            max_attempts=None,
            max_participants=None,
            auto_start_duration=0,
            auto_skip=False,
        )
        room_id = await self._insert(room, [item], host_id, naive(datetime.now(UTC)))
        channel_id = await self.channels.create_room_channel(room_id, name)
        await self.repo.set_channel(room_id, channel_id)
        await self.channels.add_member(channel_id, host_id)
        return room_id

    def clean_record(self, host: UserAccount, now: datetime) -> Refused | None:
        """osu-web checkMultiplayerRoomCreate: a clean record."""
        if host.is_restricted:
            return Refused(403, "Can't do that while restricted.")
        if host.silence_end_at is not None and aware(host.silence_end_at) > now:
            return Refused(403, "Can't do that while silenced.")
        return None

    async def _insert(
        self, room: NewRoom, items: list[_ItemInput], owner_id: int, now: datetime
    ) -> int:
        async with self._db.transaction():
            room_id = await self.repo.insert_room(room, now)
            for item in items:
                await self.repo.insert_item(
                    room_id,
                    NewPlaylistItem(
                        owner_id=owner_id,
                        beatmap_id=item.beatmap_id,
                        ruleset_id=item.ruleset_id,
                        required_mods=_mods_json(item.required_mods),
                        allowed_mods=_mods_json(item.allowed_mods),
                        freestyle=item.freestyle,
                        max_attempts=item.max_attempts,
                    ),
                    now,
                )
        return room_id

    async def close(self, room_id: int, user: UserAccount) -> Refused | None:
        """DELETE rooms/{id} (osu-web Room::endGame): the host ends a playlist within the grace
        period after its start."""
        room = await self.repo.room(room_id)
        if room is None:
            return NOT_FOUND
        now = datetime.now(UTC)
        refused = self.clean_record(user, now)
        if refused is not None:
            return refused
        if room.user_id != user.id:
            return Refused(403, "Only room owner can close it.")
        if is_realtime(room.type):
            return invariant("Realtime rooms cannot be closed.")
        if aware(room.starts_at) + timedelta(minutes=CLOSE_GRACE_MINUTES) < now:
            return invariant("The grace period for closing this room has expired.")
        await self.repo.end(room_id, naive(now))
        return None

    # -- joining and leaving ---------------------------------------------------------------

    async def join(self, room_id: int, user: UserAccount, password: str | None) -> Room | Refused:
        """PUT rooms/{id}/users/{user}: the password is checked, then the user joins the room's
        channel; the answer is the room as GET rooms/{id} shows it."""
        room = await self.repo.room(room_id)
        if room is None:
            return NOT_FOUND
        if room.password and not hmac.compare_digest(
            (password or "").encode(), room.password.encode()
        ):
            return Refused(403, "Invalid room password")
        if room.channel_id is not None:
            await self.channels.add_member(room.channel_id, user.id)
        shown = await self.show(room_id, user)
        return shown if shown is not None else NOT_FOUND

    async def part(self, room_id: int, user: UserAccount) -> Refused | None:
        """DELETE rooms/{id}/users/{user}: the user leaves the room's channel."""
        room = await self.repo.room(room_id)
        if room is None:
            return NOT_FOUND
        if room.channel_id is not None:
            await self.channels.remove_member(room.channel_id, user.id)
        return None

    # -- reading ---------------------------------------------------------------------------

    async def _users(self, ids: Sequence[int]) -> dict[int, UserCompact]:
        # Restricted users are left out of participants, boards and events (osu-web lists
        # them among a room's recent participants; every other read here hides them).
        accounts = [a for a in await self._users_repo_by_ids(ids) if not a.is_restricted]
        return {u.id: u for u in await self._profiles.compact_plain(accounts)}

    async def _users_repo_by_ids(self, ids: Sequence[int]) -> list[UserAccount]:
        return await self._accounts.by_ids(list(dict.fromkeys(ids))) if ids else []

    async def _beatmaps_of(self, ids: Sequence[int]) -> dict[int, Beatmap]:
        wanted = sorted(set(ids))
        return {b.id: b for b in await self._beatmaps.beatmaps_with_sets(wanted)} if wanted else {}

    def _item(self, row: PlaylistItemRow, beatmaps: dict[int, Beatmap] | None) -> PlaylistItem:
        item = PlaylistItem(
            id=row.id,
            room_id=row.room_id,
            beatmap_id=row.beatmap_id,
            created_at=aware(row.created_at),
            ruleset_id=row.ruleset_id,
            allowed_mods=mods_of(row.allowed_mods),
            required_mods=mods_of(row.required_mods),
            freestyle=row.freestyle,
            expired=row.expired,
            owner_id=row.owner_id,
            playlist_order=row.playlist_order,
            played_at=aware(row.played_at) if row.played_at else None,
        )
        if beatmaps is not None and row.beatmap_id in beatmaps:
            item = msgspec.structs.replace(item, beatmap=beatmaps[row.beatmap_id])
        return item

    def _room(self, row: RoomRow, now: datetime) -> Room:
        starts, ends = aware(row.starts_at), aware(row.ends_at) if row.ends_at else None
        return Room(
            id=row.id,
            name=row.name,
            description=row.description,
            category=row.category,
            status=row.status,
            type=row.type,
            user_id=row.user_id,
            starts_at=starts,
            ends_at=ends,
            max_attempts=row.max_attempts,
            max_participants=row.max_participants,
            participant_count=row.participant_count,
            channel_id=row.channel_id or 0,
            active=ends is None or starts <= now <= ends,
            has_password=bool(row.password),
            queue_mode=row.queue_mode,
            auto_skip=row.auto_skip,
            pinned=row.pinned,
        )

    @staticmethod
    def _current_item(room: RoomRow, items: list[PlaylistItemRow]) -> PlaylistItemRow | None:
        """osu-web Room::findAndSetCurrentPlaylistItem: a playlist's first item; in realtime
        the first unexpired by order, else the last played."""
        if not items:
            return None
        if not is_realtime(room.type):
            return items[0]
        open_items = [i for i in items if not i.expired]
        if open_items:
            return min(open_items, key=lambda i: (i.playlist_order or 0, i.id))
        return max(
            items,
            key=lambda i: (
                aware(i.played_at) if i.played_at else datetime.min.replace(tzinfo=UTC),
                i.id,
            ),
        )

    @staticmethod
    def _stats(items: list[PlaylistItemRow]) -> PlaylistItemStats:
        active = [i for i in items if not i.expired]
        counted = active or items
        return PlaylistItemStats(
            count_active=len(active),
            count_total=len(items),
            ruleset_ids=list(dict.fromkeys(i.ruleset_id for i in counted)),
        )

    @staticmethod
    def _range(items: list[PlaylistItemRow], beatmaps: dict[int, Beatmap]) -> DifficultyRange:
        active = [i for i in items if not i.expired]
        ratings = [
            beatmaps[i.beatmap_id].difficulty_rating
            for i in (active or items)
            if i.beatmap_id in beatmaps
        ]
        return DifficultyRange(max=max(ratings, default=0.0), min=min(ratings, default=0.0))

    async def show(self, room_id: int, viewer: UserAccount | None) -> Room | None:
        """GET rooms/{id} (osu-web RoomTransformer::createShowResponse): host, playlist with
        beatmaps and sets, recent participants, and the viewer's attempts."""
        row = await self.repo.room(room_id)
        if row is None:
            return None
        items = await self.repo.playlist(room_id)
        beatmaps = await self._beatmaps_of([i.beatmap_id for i in items])
        in_room_only = is_realtime(row.type) and row.ends_at is None
        participant_ids = await self.repo.recent_participants(
            room_id, _SHOW_PARTICIPANTS, in_room_only
        )
        users = await self._users([row.user_id, *participant_ids])
        room = self._room(row, datetime.now(UTC))
        fields: dict[str, Any] = {
            "playlist": [self._item(i, beatmaps) for i in items],
            "recent_participants": [users[u] for u in participant_ids if u in users],
        }
        if row.user_id in users:
            fields["host"] = users[row.user_id]
        if viewer is not None:
            fields["current_user_score"] = await self._current_user_score(row.id, viewer.id)
        return msgspec.structs.replace(room, **fields)

    async def _current_user_score(self, room_id: int, user_id: int) -> RoomScore:
        total = await self.repo.user_total(room_id, user_id)
        attempts = await self.repo.item_attempts(room_id, user_id)
        shaped = self._score(total, room_id, user_id)
        return msgspec.structs.replace(
            shaped,
            playlist_item_attempts=[
                ItemAttemptsCount(a.attempts, a.playlist_item_id, a.passed) for a in attempts
            ],
        )

    @staticmethod
    def _score(total: RoomUserTotal | None, room_id: int, user_id: int) -> RoomScore:
        if total is None:  # osu-web UserScoreAggregate::lookupOrDefault
            return RoomScore(
                accuracy=0.0,
                attempts=0,
                completed=0,
                room_id=room_id,
                total_score=0,
                user_id=user_id,
            )
        return RoomScore(
            accuracy=total.accuracy / total.completed if total.completed > 0 else 0.0,
            attempts=total.attempts,
            completed=total.completed,
            room_id=room_id,
            total_score=total.total_score,
            user_id=user_id,
        )

    async def search(self, query: dict[str, str], viewer_id: int | None) -> list[Room]:
        """GET rooms (osu-web Room::search and RoomsController::index)."""
        category = query.get("category")
        type_group = query.get("type_group")
        if category == "realtime":  # the old parameter lazer's lounge still sends
            type_group, category = "realtime", None
        types = TYPE_GROUPS.get(type_group or "", TYPE_GROUPS["playlists"])
        status = query.get("status")
        mode = query.get("mode") or "active"
        sort = query.get("sort")
        if mode == "ended":
            sort = sort or "ended"
        sort = sort if sort in ("ended", "created") else "created"
        limit = int_param(query.get("limit"))
        now = datetime.now(UTC)
        search = RoomSearch(
            types=types,
            status=status if status in STATUSES else None,
            category=category if category in CATEGORIES else None,
            mode=mode if mode in ("ended", "participated", "owned", "all") else "active",
            viewer_id=viewer_id,
            sort=sort,
            cursor=_cursor(query, sort),
            limit=max(1, min(limit if limit is not None else ROOMS_LIMIT_MAX, ROOMS_LIMIT_MAX)),
            now=naive(now),
        )
        rows = await self.repo.search(search)
        room_ids = [r.id for r in rows]
        playlists = await self.repo.playlists(room_ids)
        participants = await self.repo.recent_participants_of(room_ids, _LIST_PARTICIPANTS)
        beatmaps = await self._beatmaps_of(
            [i.beatmap_id for items in playlists.values() for i in items]
        )
        users = await self._users(
            [r.user_id for r in rows] + [u for ids in participants.values() for u in ids]
        )
        result = []
        for row in rows:
            items = playlists[row.id]
            current = self._current_item(row, items)
            fields: dict[str, Any] = {
                "current_playlist_item": self._item(current, beatmaps) if current else None,
                "difficulty_range": self._range(items, beatmaps),
                "playlist_item_stats": self._stats(items),
                "recent_participants": [users[u] for u in participants[row.id] if u in users],
            }
            if row.user_id in users:
                fields["host"] = users[row.user_id]
            result.append(msgspec.structs.replace(self._room(row, now), **fields))
        return result

    async def leaderboard(
        self, room_id: int, limit: int, page: int, viewer_id: int | None
    ) -> RoomLeaderboard | None:
        """GET rooms/{id}/leaderboard: the room's ranking and the viewer's entry."""
        if await self.repo.room(room_id) is None:
            return None
        totals = await self.repo.leaderboard(room_id, limit, (page - 1) * limit)
        own = await self.repo.user_total(room_id, viewer_id) if viewer_id is not None else None
        ranked_own = own if own is not None and own.completed > 0 else None
        users = await self._users(
            [t.user_id for t in totals] + ([ranked_own.user_id] if ranked_own else [])
        )
        if ranked_own is not None and ranked_own.user_id not in users:
            ranked_own = None  # restricted: not on the board
        board = [
            msgspec.structs.replace(self._score(t, room_id, t.user_id), user=users[t.user_id])
            for t in totals
            if t.user_id in users
        ]
        user_score = None
        if ranked_own is not None:
            user_score = msgspec.structs.replace(
                self._score(ranked_own, room_id, ranked_own.user_id),
                position=await self.repo.leaderboard_position(ranked_own),
                user=users[ranked_own.user_id],
            )
        return RoomLeaderboard(leaderboard=board, user_score=user_score)

    async def events(
        self, room_id: int, after: int | None, before: int | None, limit: int
    ) -> RoomEvents | Refused:
        """GET rooms/{id}/events: a realtime room's history with the items, beatmaps and
        users it mentions."""
        row = await self.repo.room(room_id)
        if row is None:
            return NOT_FOUND
        if not is_realtime(row.type):
            return invariant("retrieving events is only supported for realtime rooms")
        events = await self.repo.events(room_id, after, before, limit)
        items = await self.repo.playlist(room_id)
        by_id = {i.id: i for i in items}
        mentioned = [
            by_id[i]
            for i in dict.fromkeys(e.playlist_item_id for e in events if e.playlist_item_id)
            if i in by_id
        ]
        beatmaps = await self._beatmaps_of([i.beatmap_id for i in mentioned])
        user_ids = [e.user_id for e in events if e.user_id]
        users = await self._users(user_ids)
        first, last = await self.repo.event_bounds(room_id)
        details = {e.playlist_item_id: e for e in events if e.event_type == "game_started"}
        playlist_items = []
        for item in mentioned:
            started = details.get(item.id)
            detail: dict[str, Any] = (
                msgspec.json.decode(started.event_detail)
                if started is not None and started.event_detail
                else {"room_type": REALTIME_STANDARD_TYPES[0]}
            )
            detail["started_at"] = aware(started.created_at if started else item.created_at)
            scores = await multiplayer_scores(
                self._scores, room_id, item.id, await self.repo.item_score_ids(item.id)
            )
            playlist_items.append(
                msgspec.structs.replace(self._item(item, None), details=detail, scores=scores)
            )
        sets: dict[int, Beatmapset] = {}
        for beatmap in beatmaps.values():
            if not isinstance(beatmap.beatmapset, msgspec.UnsetType):
                sets.setdefault(beatmap.beatmapset.id, beatmap.beatmapset)
        current = self._current_item(row, items)
        return RoomEvents(
            beatmaps=[
                msgspec.structs.replace(b, beatmapset=msgspec.UNSET) for b in beatmaps.values()
            ],
            beatmapsets=list(sets.values()),
            current_playlist_item_id=current.id if current else None,
            events=[
                RoomEvent(
                    created_at=aware(e.created_at),
                    event_type=e.event_type,
                    id=e.id,
                    playlist_item_id=e.playlist_item_id,
                    user_id=e.user_id,
                )
                for e in events
            ],
            first_event_id=first,
            last_event_id=last,
            playlist_items=playlist_items,
            room=self._room(row, datetime.now(UTC)),
            users=[users[u] for u in dict.fromkeys(user_ids) if u in users],
        )


def _cursor(query: dict[str, str], sort: str) -> tuple[Any, int] | None:
    """The room listing cursor: `cursor[pinned]`+`cursor[id]` (created) or `cursor[ends_at]`
    +`cursor[id]` (ended), as osu-web's cursor helper reads it; a malformed one is ignored."""
    raw_id = int_param(query.get("cursor[id]"))
    if raw_id is None:
        return None
    if sort == "ended":
        ends = _time_param(query.get("cursor[ends_at]"))
        return (naive(ends), raw_id) if ends is not None else None
    pinned = _bool_param(query.get("cursor[pinned]"))
    return (int(pinned), raw_id) if pinned is not None else None


async def multiplayer_scores(
    scores: ScoreService, room_id: int, item_id: int, score_ids: list[int]
) -> list[dict[str, Any]]:
    """MultiplayerScore JSON (osu-web ScoreTransformer on a ScoreLink): the room fields, then
    the score as the score presenter shows it (always the solo format), with its user."""
    shaped = await scores.reads.scores_by_ids(score_ids, ScoreFormat.SOLO)
    return [
        {
            "playlist_item_id": item_id,
            "room_id": room_id,
            "solo_score_id": s.id,
            **msgspec.to_builtins(s),
        }
        for s in shaped
    ]
