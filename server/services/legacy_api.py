"""osu! API v1 (`/api/get_*`, clients.md §3) over the same data the v2 API reads.

Everything v1 sends is a string: `v1_number` and `v1_date` give the official renderings.
Mods travel as the legacy bitmask (osr.LEGACY_MOD_BITS, osu-web's LegacyMods); lazer-only
mods have no bit and drop out, as they do in a stable replay header.
"""

from __future__ import annotations

import base64
import enum
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import msgspec

from server.models.rulesets import RULESETS
from server.models.v1 import (
    V1Beatmap,
    V1BeatmapScore,
    V1BestScore,
    V1Event,
    V1Match,
    V1MatchGame,
    V1MatchInfo,
    V1MatchScore,
    V1RecentScore,
    V1Replay,
    V1User,
)
from server.repositories.beatmaps import BeatmapRecord, BeatmapsetRecord
from server.repositories.legacy import LegacyBeatmapFilter, LegacyRepository
from server.repositories.rooms import (
    PlaylistItemRow,
    RoomEventRow,
    RoomMatchScore,
    RoomRepository,
    RoomRow,
)
from server.repositories.scores import BoardFilter, ScoreRecord
from server.repositories.users import StatisticsRow, UserAccount, UserRepository
from server.services.beatmap_attributes import AttributesRejected, BeatmapAttributes
from server.services.beatmap_statuses import has_leaderboard
from server.services.beatmaps import BeatmapService
from server.services.limits import LimiterUnavailable
from server.services.osr import LEGACY_MOD_BITS, achievable_combo, frame_stream, legacy_counts
from server.services.profiles import required_score_for_level

if TYPE_CHECKING:
    from server.services.replays import ReplayService
    from server.services.scores import ScoreService

log = logging.getLogger(__name__)

# Mods that change a beatmap's difficulty attributes (what get_beatmaps' `mods` applies):
# EZ, TD, HD (with FL), HR, DT, HT, NC, FL.
_DIFFICULTY_MODS: Final = 2 | 4 | 8 | 16 | 64 | 256 | 512 | 1024
# Acronyms by bitmask, the ones that carry a second bit (NC = DT + 512, PF = SD + 16384)
# first, so a mask decodes to NC rather than NC and DT.
_ACRONYMS_BY_BITS: Final = sorted(
    LEGACY_MOD_BITS.items(), key=lambda item: (-bin(item[1]).count("1"), item[1])
)
# Aliases clients send for acronyms (aiosu writes ScoreV2 as "SV2", no mod as "NM").
_ACRONYM_ALIASES: Final = {"V2": "SV2"}
_RECENT_HOURS: Final = 24


class ReplayRefused(enum.Enum):
    """Why get_replay answers with an error; the values are v1's exact texts."""

    NOT_AVAILABLE = "Replay not available."
    RETRIEVAL_FAILED = "Replay retrieval failed."
    TOO_FAST = "Requesting too fast! Slow your operation, cap'n!"


class UserRef(msgspec.Struct, frozen=True):
    """v1's `u` with its `type` ("id", "string", or None to guess as v1 does)."""

    value: str
    kind: str | None = None


class BeatmapsQuery(msgspec.Struct, frozen=True, kw_only=True):
    """get_beatmaps' parameters, parsed."""

    since: datetime | None = None
    beatmapset_id: int | None = None
    beatmap_id: int | None = None
    user: UserRef | None = None
    mode: int | None = None
    converts: bool = False
    checksum: str | None = None
    limit: int = 500
    mods: int = 0


class MatchRoom(msgspec.Struct, frozen=True, kw_only=True):
    """What get_match shows of a multiplayer room."""

    id: int
    name: str
    starts_at: datetime
    ends_at: datetime | None


class RoomEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One event of a realtime room, as osu-web's multiplayer_realtime_room_events keeps
    them: `game_started`, `game_completed` and `game_aborted` bound the games; the rest
    (joins, host changes) are skipped. `detail` of game_started may carry `team_type`
    (lazer's MatchType: "head_to_head", "team_versus") and `teams` (user id → "red" or
    "blue")."""

    id: int
    event_type: str
    created_at: datetime
    playlist_item_id: int | None = None
    user_id: int | None = None
    detail: dict[str, Any] | None = None


class MatchItem(msgspec.Struct, frozen=True, kw_only=True):
    """The playlist item a game played."""

    id: int
    beatmap_id: int
    ruleset_id: int
    required_mods: list[str]
    freestyle: bool = False  # free mods: players pick their own on top of the required


class MatchScore(msgspec.Struct, frozen=True, kw_only=True):
    """One player's score on a playlist item (lazer JSON statistics)."""

    user_id: int
    total_score: int
    max_combo: int
    statistics: dict[str, int]
    maximum_statistics: dict[str, int]
    mods: list[str]
    passed: bool
    ended_at: datetime


_TEAM_TYPES: Final = {"head_to_head": 0, "tag_coop": 1, "team_versus": 2, "tag_team_versus": 3}
_TEAMS: Final = {"blue": 1, "red": 2}


def v1_date(value: datetime | None) -> str | None:
    """v1's `YYYY-MM-DD HH:MM:SS` in UTC (stored datetimes are naive UTC)."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S")


def v1_number(value: float | int) -> str:
    """A number as v1 writes it: integers bare, fractions to at most five places."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return format(round(float(value), 5), "f").rstrip("0").rstrip(".")


def v1_flag(value: bool) -> str:
    """A v1 boolean."""
    return "1" if value else "0"


def parse_mods(raw: str) -> int | None:
    """A mods parameter: a bitmask, or acronyms (aiosu sends "HDDT", "NM"); None if neither."""
    text = raw.strip().upper()
    if text.isdigit():
        value = int(text)
        return value if value < 2**31 else None
    bits = 0
    for part in text.replace("+", ",").replace(" ", ",").split(","):
        rest = part
        while rest:
            if rest.startswith("NM"):
                rest = rest[2:]
                continue
            for size in (3, 2):
                acronym = _ACRONYM_ALIASES.get(rest[:size], rest[:size])
                if acronym in LEGACY_MOD_BITS:
                    bits |= LEGACY_MOD_BITS[acronym]
                    rest = rest[size:]
                    break
            else:
                return None
    return bits


def acronyms_of(bits: int) -> list[str]:
    """The mods of a legacy bitmask, sorted (NC and PF stand for their base mod too)."""
    found = []
    for acronym, mask in _ACRONYMS_BY_BITS:
        if bits & mask == mask:
            found.append(acronym)
            bits &= ~mask
    return sorted(found)


def _mods_bits(acronyms: Sequence[str]) -> int:
    bits = 0
    for acronym in acronyms:
        bits |= LEGACY_MOD_BITS.get(acronym.upper(), 0)
    return bits


class _Counts(msgspec.Struct, frozen=True):
    c300: str
    c100: str
    c50: str
    geki: str
    katu: str
    miss: str


def _counts(ruleset_id: int, statistics: Mapping[str, int]) -> _Counts:
    return _Counts(*(str(n) for n in legacy_counts(ruleset_id, statistics)))


def _stats(text: str) -> dict[str, int]:
    return msgspec.json.decode(text, type=dict[str, int])


def _grade(passed: bool, grade: str) -> str:
    # lazer stores the grade a failed play would have had; v1 shows every fail as F.
    return grade if passed else "F"


def _mods_of(record: ScoreRecord) -> str:
    return str(_mods_bits([a for a in record.mods_key.split(",") if a]))


def _perfect(record: ScoreRecord) -> str:
    return v1_flag(record.max_combo >= achievable_combo(_stats(record.maximum_statistics)))


def _pp(record: ScoreRecord) -> str | None:
    return None if record.pp is None else v1_number(record.pp)


def _level(total_score: int) -> float:
    """The fractional level v1 sends (level 12 at 34 % is 12.34)."""
    level = 1
    while level < 120 and required_score_for_level(level + 1) <= total_score:
        level += 1
    low, high = required_score_for_level(level), required_score_for_level(level + 1)
    return level + ((total_score - low) / (high - low) if high > low else 0.0)


def match_from_events(
    room: MatchRoom | None,
    events: Sequence[RoomEvent],
    items: Mapping[int, MatchItem],
    scores: Mapping[int, Sequence[MatchScore]],
) -> V1Match:
    """get_match from a realtime room's events: one game per `game_started`, ended by the
    next `game_completed` (or `game_aborted`: no end time) of the same playlist item; its
    scores are that item's scores set between the two. An unknown room is v1's
    `{"match": 0, "games": []}`."""
    if room is None:
        return V1Match(match=0, games=[])
    games: list[V1MatchGame] = []
    open_games: dict[int, tuple[RoomEvent, MatchItem]] = {}

    def close(started: RoomEvent, item: MatchItem, ended: datetime | None) -> None:
        detail = started.detail or {}
        teams: dict[str, str] = detail.get("teams") or {}
        until = ended or datetime.max
        played = [
            s
            for s in scores.get(item.id, ())
            if started.created_at <= s.ended_at.replace(tzinfo=None) <= until
        ]
        required = _mods_bits(item.required_mods)
        rows = []
        for slot, score in enumerate(played):
            counts = _counts(item.ruleset_id, score.statistics)
            own = _mods_bits(score.mods) & ~required
            rows.append(
                V1MatchScore(
                    slot=str(slot),
                    team=str(_TEAMS.get(str(teams.get(str(score.user_id), "")), 0)),
                    user_id=str(score.user_id),
                    score=str(score.total_score),
                    maxcombo=str(score.max_combo),
                    rank="0",  # unused by v1, always "0" there
                    count50=counts.c50,
                    count100=counts.c100,
                    count300=counts.c300,
                    countmiss=counts.miss,
                    countgeki=counts.geki,
                    countkatu=counts.katu,
                    perfect=v1_flag(score.max_combo >= achievable_combo(score.maximum_statistics)),
                    passed=v1_flag(score.passed),
                    enabled_mods=str(own) if item.freestyle else "0",
                )
            )
        games.append(
            V1MatchGame(
                game_id=str(started.id),
                start_time=v1_date(started.created_at) or "",
                end_time=v1_date(ended),
                beatmap_id=str(item.beatmap_id),
                play_mode=str(item.ruleset_id),
                match_type="0",
                # Every lazer room scores by standardised score, v1's ScoreV2.
                scoring_type="3",
                team_type=str(_TEAM_TYPES.get(str(detail.get("team_type", "")), 0)),
                mods=str(required),
                scores=rows,
            )
        )

    for event in sorted(events, key=lambda e: e.id):
        item_id = event.playlist_item_id
        if item_id is None or item_id not in items:
            continue
        if event.event_type == "game_started":
            open_games[item_id] = (event, items[item_id])
        elif event.event_type in ("game_completed", "game_aborted") and item_id in open_games:
            started, item = open_games.pop(item_id)
            close(started, item, event.created_at if event.event_type == "game_completed" else None)
    for started, item in open_games.values():  # still being played
        close(started, item, None)
    games.sort(key=lambda g: int(g.game_id))
    return V1Match(
        match=V1MatchInfo(
            match_id=str(room.id),
            name=room.name,
            start_time=v1_date(room.starts_at) or "",
            end_time=v1_date(room.ends_at),
        ),
        games=games,
    )


class _Mod(msgspec.Struct):
    acronym: str


# The rooms.type of a realtime room; a playlists room is no v1 match.
_REALTIME_TYPES: Final = frozenset({"head_to_head", "team_versus"})


def _acronyms(text: str) -> list[str]:
    return [m.acronym for m in msgspec.json.decode(text, type=list[_Mod])]


def _naive(value: datetime) -> datetime:
    # The builder compares times: all naive UTC, however the database driver returned them.
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def _match_room(row: RoomRow) -> MatchRoom:
    ends_at = None if row.ends_at is None else _naive(row.ends_at)
    return MatchRoom(id=row.id, name=row.name, starts_at=_naive(row.starts_at), ends_at=ends_at)


def _match_event(row: RoomEventRow) -> RoomEvent:
    # The hub records the match type as `room_type` (the rooms.type name); the builder
    # reads it as `team_type`.
    stored = msgspec.json.decode(row.event_detail) if row.event_detail else {}
    detail: dict[str, Any] = {}
    if isinstance(stored, dict):
        if "room_type" in stored:
            detail["team_type"] = stored["room_type"]
        if isinstance(stored.get("teams"), dict):
            detail["teams"] = stored["teams"]
    return RoomEvent(
        id=row.id,
        event_type=row.event_type,
        created_at=_naive(row.created_at),
        playlist_item_id=row.playlist_item_id,
        user_id=row.user_id,
        detail=detail,
    )


def _match_item(row: PlaylistItemRow) -> MatchItem:
    return MatchItem(
        id=row.id,
        beatmap_id=row.beatmap_id,
        ruleset_id=row.ruleset_id,
        required_mods=_acronyms(row.required_mods),
        freestyle=row.freestyle,
    )


def _match_score(row: RoomMatchScore) -> MatchScore:
    return MatchScore(
        user_id=row.user_id,
        total_score=row.total_score,
        max_combo=row.max_combo,
        statistics=_stats(row.statistics),
        maximum_statistics=_stats(row.maximum_statistics),
        mods=_acronyms(row.mods),
        passed=row.passed,
        # Room events keep whole seconds; a score ended within the second its game
        # completed is part of that game.
        ended_at=_naive(row.ended_at).replace(microsecond=0),
    )


class LegacyApi:
    """The seven v1 reads."""

    def __init__(
        self,
        repo: LegacyRepository,
        rooms: RoomRepository,
        users: UserRepository,
        beatmaps: BeatmapService,
        attributes: BeatmapAttributes,
        scores: ScoreService,
        replays: ReplayService,
        *,
        all_statuses: bool,
    ) -> None:
        self._repo = repo
        self._rooms = rooms
        self._users = users
        self._beatmaps = beatmaps
        self._attributes = attributes
        self._scores = scores
        self._replays = replays
        self._all_statuses = all_statuses

    async def find_user(self, ref: UserRef) -> UserAccount | None:
        """`u` by `type`: an id, a name, or (no type) an id when it is all digits and such a
        user exists, else a name. Restricted users are not found."""
        account: UserAccount | None = None
        numeric = ref.value.isdigit() and len(ref.value) < 12
        if ref.kind == "id":
            account = await self._users.cached_by_id(int(ref.value)) if numeric else None
        elif ref.kind == "string":
            account = await self._users.by_username(ref.value)
        else:
            if numeric:
                account = await self._users.cached_by_id(int(ref.value))
            if account is None:
                account = await self._users.by_username(ref.value)
        return None if account is None or account.is_restricted else account

    # -- get_beatmaps --------------------------------------------------------------------

    async def beatmaps(self, query: BeatmapsQuery) -> list[V1Beatmap]:
        """get_beatmaps."""
        creator_id = None
        if query.user is not None:
            creator = await self.find_user(query.user)
            if creator is None:
                return []
            creator_id = creator.id
        unfiltered = all(
            v is None for v in (query.beatmap_id, query.beatmapset_id, query.checksum, creator_id)
        )
        since = query.since
        if since is None and unfiltered:
            since = datetime(1970, 1, 1)
        records = await self._repo.beatmaps(
            LegacyBeatmapFilter(
                beatmap_id=query.beatmap_id,
                beatmapset_id=query.beatmapset_id,
                checksum=query.checksum,
                creator_id=creator_id,
                ranked_since=since,
                mode=query.mode,
                with_converts=query.converts and query.mode not in (None, 0),
                limit=query.limit,
            )
        )
        set_ids = sorted({r.beatmapset_id for r in records})
        sets = {s.id: s for s in await self._beatmaps.repo.beatmapsets_by_ids(set_ids)}
        shaped = []
        for record in records:
            beatmapset = sets.get(record.beatmapset_id)
            if beatmapset is not None:
                mode = query.mode if query.mode is not None else record.mode
                shaped.append(await self._beatmap(record, beatmapset, mode, query.mods))
        return shaped

    async def _beatmap(
        self, record: BeatmapRecord, beatmapset: BeatmapsetRecord, mode: int, mods: int
    ) -> V1Beatmap:
        stars: float = record.difficulty_rating
        max_combo: int = record.max_combo
        if mode != record.mode:  # a convert: its own stored star rating and combo
            for difficulty in await self._beatmaps.repo.difficulties(record.id):
                if difficulty.ruleset_id == mode:
                    stars, max_combo = difficulty.stars, difficulty.max_combo
        aim = speed = None
        mods &= _DIFFICULTY_MODS
        if mode == 0 or mods:
            attributes = await self._attributes.attributes(record.id, mode, mods)
            if isinstance(attributes, AttributesRejected):
                log.info("v1: no attributes for beatmap %d: %s", record.id, attributes.name)
            else:
                stars, max_combo = attributes.star_rating, attributes.max_combo
                aim, speed = attributes.aim_difficulty, attributes.speed_difficulty
        status = record.status
        if self._all_statuses and status <= 0:
            status = 1  # LEADERBOARDS_FOR_ALL_STATUSES: shown as ranked, as on v2
        return V1Beatmap(
            beatmapset_id=str(record.beatmapset_id),
            beatmap_id=str(record.id),
            approved=str(status),
            total_length=str(record.total_length),
            hit_length=str(record.hit_length),
            version=record.version,
            file_md5=record.checksum,
            diff_size=v1_number(record.cs),
            diff_overall=v1_number(record.od),
            diff_approach=v1_number(record.ar),
            diff_drain=v1_number(record.hp),
            mode=str(mode),
            count_normal=str(record.count_circles),
            count_slider=str(record.count_sliders),
            count_spinner=str(record.count_spinners),
            submit_date=v1_date(beatmapset.submitted_date) or "",
            approved_date=v1_date(beatmapset.ranked_date),
            last_update=v1_date(record.last_updated) or "",
            artist=beatmapset.artist,
            artist_unicode=beatmapset.artist_unicode or beatmapset.artist,
            title=beatmapset.title,
            title_unicode=beatmapset.title_unicode or beatmapset.title,
            creator=beatmapset.creator,
            creator_id=str(beatmapset.user_id),
            bpm=v1_number(record.bpm),
            source=beatmapset.source,
            tags=beatmapset.tags,
            genre_id=str(beatmapset.genre_id),
            language_id=str(beatmapset.language_id),
            favourite_count=str(beatmapset.favourite_count),
            rating="0",  # this server keeps no user ratings
            storyboard=v1_flag(beatmapset.storyboard),
            video=v1_flag(beatmapset.video),
            download_unavailable=v1_flag(beatmapset.download_disabled),
            audio_unavailable="0",
            playcount=str(record.playcount),
            passcount=str(record.passcount),
            packs=None,
            max_combo=str(max_combo),
            diff_aim=None if aim is None else v1_number(aim),
            diff_speed=None if speed is None else v1_number(speed),
            difficultyrating=v1_number(stars),
        )

    # -- get_user ------------------------------------------------------------------------

    async def user(self, ref: UserRef, mode: int, event_days: int) -> list[V1User]:
        """get_user: a list of zero or one user."""
        account = await self.find_user(ref)
        if account is None:
            return []
        ruleset = RULESETS[mode]
        row = (await self._users.statistics(account.id)).get(ruleset) or StatisticsRow(
            user_id=account.id, ruleset=ruleset
        )
        global_rank = country_rank = 0
        if row.pp > 0:
            global_rank = await self._users.global_rank(ruleset, row.pp, account.id)
            country_rank = await self._users.country_rank(
                ruleset, row.pp, account.id, account.country_code
            )
        # v1 counts every 300, 100 and 50 ever hit. No counter holds them, so they are summed
        # from the stored plays (one indexed read of the user's plays in the ruleset).
        c300 = c100 = c50 = 0
        for play in await self._scores.repo.user_plays(account.id, ruleset):
            counts = legacy_counts(play.ruleset_id, _stats(play.statistics))
            c300, c100, c50 = c300 + counts[0], c100 + counts[1], c50 + counts[2]
        since = (datetime.now(UTC) - timedelta(days=event_days)).replace(tzinfo=None)
        events = [
            V1Event(
                display_html=e.display_html,
                beatmap_id=None if e.beatmap_id is None else str(e.beatmap_id),
                beatmapset_id=None if e.beatmapset_id is None else str(e.beatmapset_id),
                date=v1_date(e.created_at) or "",
                epicfactor=str(e.epicfactor),
            )
            for e in await self._scores.activity.since(account.id, since)
        ]
        return [
            V1User(
                user_id=str(account.id),
                username=account.username,
                join_date=v1_date(account.created_at) or "",
                count300=str(c300),
                count100=str(c100),
                count50=str(c50),
                playcount=str(row.play_count),
                ranked_score=str(row.ranked_score),
                total_score=str(row.total_score),
                pp_rank=str(global_rank),
                level=v1_number(_level(row.total_score)),
                pp_raw=v1_number(row.pp),
                accuracy=v1_number(row.hit_accuracy),
                count_rank_ss=str(row.count_ss),
                count_rank_ssh=str(row.count_ssh),
                count_rank_s=str(row.count_s),
                count_rank_sh=str(row.count_sh),
                count_rank_a=str(row.count_a),
                country=account.country_code,
                total_seconds_played=str(row.play_time),
                pp_country_rank=str(country_rank),
                events=events,
            )
        ]

    # -- scores --------------------------------------------------------------------------

    async def _board_ids(
        self,
        beatmap: BeatmapRecord,
        ruleset: str,
        mods: int | None,
        user_id: int | None,
        limit: int,
    ) -> list[int]:
        if mods is None:
            if user_id is not None:
                best = await self._scores.repo.best(beatmap.id, ruleset, user_id)
                return [] if best is None else [best.score_id]
            ids, _ = await self._scores.leaderboards.top(beatmap.id, ruleset, limit)
            return ids
        board = BoardFilter(
            beatmap_id=beatmap.id, ruleset=ruleset, mods_key=",".join(acronyms_of(mods))
        )
        if user_id is not None:
            entry = await self._scores.repo.filtered_board_entry(board, user_id)
            return [] if entry is None else [entry[0]]
        return await self._scores.repo.filtered_board(board, limit)

    async def scores(
        self, beatmap_id: int, user: UserRef | None, mode: int, mods: int | None, limit: int
    ) -> list[V1BeatmapScore]:
        """get_scores: a beatmap's leaderboard (or one user's place on it)."""
        beatmap = await self._beatmaps.beatmap_by_id(beatmap_id)
        if beatmap is None or (beatmap.mode != 0 and beatmap.mode != mode):
            return []
        if not has_leaderboard(beatmap.status, self._all_statuses):
            return []
        user_id = None
        if user is not None:
            account = await self.find_user(user)
            if account is None:
                return []
            user_id = account.id
        ids = await self._board_ids(beatmap, RULESETS[mode], mods, user_id, limit)
        records = await self._scores.repo.scores_by_ids(ids)
        owners = {a.id: a for a in await self._users.by_ids(sorted({r.user_id for r in records}))}
        shaped = []
        for record in records:
            owner = owners.get(record.user_id)
            if owner is None or owner.is_restricted:
                continue
            counts = _counts(record.ruleset_id, _stats(record.statistics))
            shaped.append(
                V1BeatmapScore(
                    score_id=str(record.id),
                    score=str(record.total_score),
                    username=owner.username,
                    count300=counts.c300,
                    count100=counts.c100,
                    count50=counts.c50,
                    countmiss=counts.miss,
                    maxcombo=str(record.max_combo),
                    countkatu=counts.katu,
                    countgeki=counts.geki,
                    perfect=_perfect(record),
                    enabled_mods=_mods_of(record),
                    user_id=str(record.user_id),
                    date=v1_date(record.ended_at) or "",
                    rank=_grade(record.passed, record.grade),
                    pp=_pp(record),
                    replay_available=v1_flag(record.has_replay),
                )
            )
        return shaped

    async def user_best(self, ref: UserRef, mode: int, limit: int) -> list[V1BestScore]:
        """get_user_best: top plays by pp."""
        account = await self.find_user(ref)
        if account is None:
            return []
        ids = await self._scores.repo.user_best_ids(account.id, RULESETS[mode], limit, 0)
        return [
            V1BestScore(
                **msgspec.structs.asdict(_recent_entry(record)),
                pp=_pp(record),
                replay_available=v1_flag(record.has_replay),
            )
            for record in await self._scores.repo.scores_by_ids(ids)
        ]

    async def user_recent(self, ref: UserRef, mode: int, limit: int) -> list[V1RecentScore]:
        """get_user_recent: plays of the last 24 hours, fails included, newest first."""
        account = await self.find_user(ref)
        if account is None:
            return []
        since = (datetime.now(UTC) - timedelta(hours=_RECENT_HOURS)).replace(tzinfo=None)
        ids = await self._scores.repo.user_recent_ids(
            account.id, RULESETS[mode], since, True, limit, 0
        )
        return [_recent_entry(r) for r in await self._scores.repo.scores_by_ids(ids)]

    # -- get_replay ----------------------------------------------------------------------

    async def replay(
        self,
        requester_id: int,
        score_id: int | None,
        beatmap_id: int | None,
        user: UserRef | None,
        mode: int,
        mods: int | None,
    ) -> V1Replay | ReplayRefused:
        """get_replay by score id, or by beatmap and user (their best there, with exactly
        `mods` when given), under osu-web's replay download throttle for the key's owner."""
        try:
            allowance = await self._replays.download_limiter.hit(str(requester_id))
        except LimiterUnavailable:
            allowance = None  # a general limiter fails open (reliability.md S-RL-4)
        if allowance is not None and not allowance.allowed:
            return ReplayRefused.TOO_FAST
        if score_id is None:
            beatmap = await self._beatmaps.beatmap_by_id(beatmap_id or 0)
            account = await self.find_user(user) if user is not None else None
            if beatmap is None or account is None:
                return ReplayRefused.NOT_AVAILABLE
            ids = await self._board_ids(beatmap, RULESETS[mode], mods, account.id, 1)
            if not ids:
                return ReplayRefused.NOT_AVAILABLE
            score_id = ids[0]
        download = await self._replays.download(score_id)
        if download is None:
            return ReplayRefused.NOT_AVAILABLE
        try:
            frames = frame_stream(download.data)
        except ValueError:
            log.warning("stored replay of score %d is malformed", score_id)
            return ReplayRefused.RETRIEVAL_FAILED
        return V1Replay(content=base64.b64encode(frames).decode("ascii"))

    # -- get_match -----------------------------------------------------------------------

    async def match(self, match_id: int) -> V1Match:
        """get_match: a realtime room's games from its events, items and scores. A
        playlists room, like a missing one, is an unknown match."""
        row = await self._rooms.room(match_id)
        if row is None or row.type not in _REALTIME_TYPES:
            return match_from_events(None, (), {}, {})
        events = [_match_event(e) for e in await self._rooms.game_events(row.id)]
        items = {i.id: _match_item(i) for i in await self._rooms.playlist(row.id)}
        scores: dict[int, list[MatchScore]] = {}
        for score in await self._rooms.match_scores(row.id):
            scores.setdefault(score.playlist_item_id, []).append(_match_score(score))
        return match_from_events(_match_room(row), events, items, scores)


def _recent_entry(record: ScoreRecord) -> V1RecentScore:
    """A score as get_user_recent lists it (get_user_best adds pp and the replay flag)."""
    counts = _counts(record.ruleset_id, _stats(record.statistics))
    return V1RecentScore(
        beatmap_id=str(record.beatmap_id),
        score_id=str(record.id),
        score=str(record.total_score),
        maxcombo=str(record.max_combo),
        count50=counts.c50,
        count100=counts.c100,
        count300=counts.c300,
        countmiss=counts.miss,
        countkatu=counts.katu,
        countgeki=counts.geki,
        perfect=_perfect(record),
        enabled_mods=_mods_of(record),
        user_id=str(record.user_id),
        date=v1_date(record.ended_at) or "",
        rank=_grade(record.passed, record.grade),
    )
