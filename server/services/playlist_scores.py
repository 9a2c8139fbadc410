"""Playlist plays: tokens for a room's playlist item, the submission through the solo
path plus the room's rules, and the item boards the results screens read (osu-web
Rooms\\Playlist\\ScoresController, Room::startPlay / completePlay, ScoreLink)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import msgspec

from server.models.rooms import ItemScoreStats, RoomScoreSet
from server.repositories.rooms import (
    BoardEntry,
    PlaylistItemRow,
    RoomRepository,
    RoomRow,
    ScoreLink,
)
from server.repositories.scores import NewScore
from server.repositories.users import UserAccount
from server.services import mods as lazer_mods
from server.services import scoring
from server.services.beatmaps import BeatmapService
from server.services.rooms import (
    CLOSE_GRACE_MINUTES,
    ITEM_NOT_FOUND,
    NOT_FOUND,
    Refused,
    RoomService,
    aware,
    int_param,
    invariant,
    is_realtime,
    mods_of,
    multiplayer_scores,
    naive,
)
from server.services.scores import PlayRefused, ScoreService, SubmitRejected, TokenRejected

_json = msgspec.json.Encoder()

# lazer MultiplayerPlaylistItemStats.TOTAL_SCORE_DISTRIBUTION_BINS, each 100,000 wide; the
# last bin takes everything above.
SCORE_DISTRIBUTION_BINS: Final = 13
SCORE_BIN_WIDTH: Final = 100_000

# osu-web ScoreTransformer::includeScoresAround.
SCORES_AROUND_LIMIT: Final = 10
ITEM_SCORES_LIMIT_MAX: Final = 50
_NO_TOKEN: Final = Refused(404, "Specified ScoreToken couldn't be found.")
_ITEM_MISSING: Final = Refused(404, ITEM_NOT_FOUND)
_TRIES: Final = "You have reached the maximum number of tries allowed."


class _PlaylistPlay:
    """The room's rules and records for one playlist submission (scores.PlaylistPlay)."""

    def __init__(
        self,
        repo: RoomRepository,
        room: RoomRow,
        item: PlaylistItemRow,
        user_id: int,
        ruleset_id: int,
    ) -> None:
        self.playlist_item_id = item.id
        self._repo = repo
        self._room = room
        self._item = item
        self._user_id = user_id
        self._ruleset_id = ruleset_id

    def refuse(self, checked: scoring.CheckedScore) -> str | None:
        """osu-web ScoreLink::complete: the item's required mods present, no mod outside the
        required and allowed ones (freestyle allows any); mods always valid for submission
        are not counted."""
        played = {
            a
            for a in checked.acronyms
            if not lazer_mods.always_valid_for_submission(self._ruleset_id, a)
        }
        required = {m.acronym for m in mods_of(self._item.required_mods)}
        if required - played:
            return "This play does not include the mods required."
        allowed = {m.acronym for m in mods_of(self._item.allowed_mods)}
        if not self._item.freestyle and played - required - allowed:
            return "This play includes mods that are not allowed."
        return None

    async def record(self, score_id: int, score: NewScore) -> None:
        """Link the score to its item; a pass (any play in realtime) that beats the user's
        best on the item becomes it, and the room totals follow."""
        link = ScoreLink(
            score_id=score_id,
            room_id=self._room.id,
            playlist_item_id=self._item.id,
            user_id=self._user_id,
        )
        await self._repo.link_score(link)
        now = naive(datetime.now(UTC))
        counts = score.passed or is_realtime(self._room.type)
        if counts and await self._repo.raise_best(link, score.total_score, score.accuracy, now):
            await self._repo.refresh_total(self._room.id, self._user_id, now)


def _cursor_string(cursor: dict[str, int] | None) -> str | None:
    if cursor is None:
        return None
    return base64.urlsafe_b64encode(_json.encode(cursor)).decode().rstrip("=")


def item_cursor(query: dict[str, str]) -> tuple[int, int] | None:
    """An item board cursor from `cursor_string` or `cursor[total_score]`/`cursor[score_id]`;
    a malformed one starts from the top."""
    raw: Any = None
    if text := query.get("cursor_string"):
        try:
            raw = msgspec.json.decode(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (ValueError, msgspec.DecodeError):
            raw = None
    if not isinstance(raw, dict):
        raw = {k[7:-1]: v for k, v in query.items() if k.startswith("cursor[") and k.endswith("]")}
    total, score_id = int_param(raw.get("total_score")), int_param(raw.get("score_id"))
    return (total, score_id) if total is not None and score_id is not None else None


class PlaylistScores:
    """Playlist tokens, submission and item boards (osu-web Rooms\\Playlist\\ScoresController),
    through the solo submission path."""

    def __init__(
        self, db: Any, rooms: RoomService, scores: ScoreService, beatmaps: BeatmapService
    ) -> None:
        self._db = db
        self._rooms = rooms
        self._repo = rooms.repo
        self._scores = scores
        self._beatmaps = beatmaps
        self._score_set_listeners: list[Callable[[RoomScoreSet], None]] = []

    def on_score_set(self, listener: Callable[[RoomScoreSet], None]) -> None:
        """Call `listener` after a playlist score commits (the metadata hub tells the room's
        watchers). Listeners must not block."""
        self._score_set_listeners.append(listener)

    async def item_stats(self, room_id: int) -> list[ItemScoreStats]:
        """Per playlist item of the room: its passing scores in 13 bins of 100,000 total
        score, their sum and the newest one counted (osu-server-spectator MetadataHub's
        BeginWatchingMultiplayerRoom). An unknown room has no items."""
        stats = {
            item.id: ([0] * SCORE_DISTRIBUTION_BINS, [0, 0])
            for item in await self._repo.playlist(room_id)
        }
        for score in await self._repo.passing_scores(room_id):
            if (entry := stats.get(score.playlist_item_id)) is None:
                continue
            bins, sums = entry
            slot = min(max(score.total_score // SCORE_BIN_WIDTH, 0), SCORE_DISTRIBUTION_BINS - 1)
            bins[slot] += 1
            sums[0] += score.total_score
            sums[1] = score.score_id
        return [
            ItemScoreStats(
                playlist_item_id=item_id,
                total_score_distribution=bins,
                cumulative_score=cumulative,
                last_processed_score_id=last_id,
            )
            for item_id, (bins, (cumulative, last_id)) in stats.items()
        ]

    async def _announce(self, room_id: int, item_id: int, score: dict[str, Any]) -> None:
        """MultiplayerRoomScoreSet for a newly stored passing score, after its commit."""
        if not score.get("passed") or not self._score_set_listeners:
            return
        user_id, score_id = int(score["user_id"]), int(score["id"])
        new_rank: int | None = None
        best = await self._repo.item_best(item_id, user_id)
        if best is not None and best.score_id == score_id:
            total = await self._repo.user_total(room_id, user_id)
            if total is not None and total.completed > 0:
                new_rank = await self._repo.leaderboard_position(total)
        event = RoomScoreSet(
            room_id=room_id,
            playlist_item_id=item_id,
            score_id=score_id,
            user_id=user_id,
            total_score=int(score["total_score"]),
            new_rank=new_rank,
        )
        for listener in self._score_set_listeners:
            listener(event)

    async def _room_item(
        self, room_id: int, item_id: int
    ) -> tuple[RoomRow, PlaylistItemRow] | Refused:
        room = await self._repo.room(room_id)
        if room is None:
            return NOT_FOUND
        item = await self._repo.item(room_id, item_id)
        return (room, item) if item is not None else _ITEM_MISSING

    async def create_token(
        self, room_id: int, item_id: int, user: UserAccount, fields: dict[str, str]
    ) -> int | Refused:
        """POST rooms/{room}/playlist/{item}/scores (osu-web Room::startPlay)."""
        if not self._scores.submission_enabled:
            return invariant("score submission is disabled")
        found = await self._room_item(room_id, item_id)
        if isinstance(found, Refused):
            return found
        room, item = found
        now = datetime.now(UTC)
        if user.is_restricted:
            return Refused(403, "Can't do that while restricted.")
        if is_realtime(room.type) and (refused := self._rooms.clean_record(user, now)):
            return refused
        if room.ends_at is not None and now >= aware(room.ends_at):
            return invariant("Room has already ended.")
        beatmap_id = int_param(fields.get("beatmap_id"))
        ruleset_id = int_param(fields.get("ruleset_id"))
        if item.freestyle:
            played = await self._beatmaps.repo.beatmaps_by_ids(
                sorted({item.beatmap_id, beatmap_id or 0})
            )
            sets = {b.id: b.beatmapset_id for b in played}
            if beatmap_id not in sets or sets[beatmap_id] != sets.get(item.beatmap_id):
                return invariant("Specified beatmap_id is not allowed")
        else:
            if ruleset_id != item.ruleset_id:
                return invariant("Specified ruleset_id is not allowed")
            if beatmap_id != item.beatmap_id:
                return invariant("Specified beatmap_id is not allowed")
        assert beatmap_id is not None
        if room.max_attempts is not None:
            total = await self._repo.user_total(room.id, user.id)
            if total is not None and total.attempts >= room.max_attempts:
                return invariant(_TRIES)
        if item.max_attempts is not None:
            best = await self._repo.item_best(item.id, user.id)
            if best is not None and best.attempts >= item.max_attempts:
                return invariant(_TRIES)
        if item.expired:
            return invariant("Cannot play an expired playlist item.")
        if item.played_at is not None:
            return invariant("Cannot play a playlist item that has already been played.")
        async with self._db.transaction():
            token = await self._scores.create_token(
                user.id,
                beatmap_id,
                fields.get("beatmap_hash", ""),
                ruleset_id,
                fields.get("version_hash", ""),
                playlist_item_id=item.id,
            )
            if isinstance(token, TokenRejected):
                if token is TokenRejected.NOT_FOUND:
                    return Refused(404, "Specified beatmap difficulty couldn't be found.")
                return invariant(token.value)
            await self._repo.count_attempt(room.id, item.id, user.id, naive(now))
        return token

    async def submit(
        self, room_id: int, item_id: int, token_id: int, user: UserAccount, body: bytes
    ) -> dict[str, Any] | Refused:
        """PUT rooms/{room}/playlist/{item}/scores/{token}: the play stored once through the
        solo path plus the room's rules; a MultiplayerScore with position and scores_around."""
        found = await self._room_item(room_id, item_id)
        if isinstance(found, Refused):
            return found
        room, item = found
        token = await self._scores.repo.playlist_token(token_id, user.id, item.id)
        if token is None:
            return _NO_TOKEN
        if token.score_id is None:
            if user.is_restricted:
                return Refused(403, "Can't do that while restricted.")
            grace = timedelta(minutes=CLOSE_GRACE_MINUTES)
            if room.ends_at is not None and datetime.now(UTC) > aware(room.ends_at) + grace:
                return invariant("Room is no longer accepting scores.")
        play = _PlaylistPlay(self._repo, room, item, user.id, token.ruleset_id)
        outcome = await self._scores.submit(user, token.beatmap_id, token_id, body, play)
        if outcome is SubmitRejected.NOT_FOUND:
            return _NO_TOKEN
        if isinstance(outcome, (SubmitRejected, scoring.Rejected)):
            return invariant(outcome.value)
        if isinstance(outcome, PlayRefused):
            return invariant(outcome.error)
        shaped = await self._shaped(room.id, item.id, [outcome.score_id])
        if not shaped:
            return _NO_TOKEN
        if outcome.created:
            await self._announce(room.id, item.id, shaped[0])
        return await self._with_context(item.id, shaped[0])

    async def _shaped(
        self, room_id: int, item_id: int, score_ids: list[int]
    ) -> list[dict[str, Any]]:
        return await multiplayer_scores(self._scores, room_id, item_id, score_ids)

    async def _with_context(self, item_id: int, shaped: dict[str, Any]) -> dict[str, Any]:
        """Add `position` and `scores_around` (ten other users' bests each way)."""
        entry = BoardEntry(shaped["user_id"], shaped["id"], shaped["total_score"])
        shaped["position"] = await self._repo.item_position(
            item_id, entry.total_score, entry.score_id
        )
        around: dict[str, Any] = {}
        for name, higher in (("higher", True), ("lower", False)):
            found = await self._repo.item_neighbours(
                item_id, entry, higher, SCORES_AROUND_LIMIT + 1
            )
            page = found[:SCORES_AROUND_LIMIT]
            cursor = (
                {"total_score": page[-1].total_score, "score_id": page[-1].score_id}
                if len(found) > SCORES_AROUND_LIMIT
                else None
            )
            around[name] = {
                "scores": await self._shaped(
                    shaped["room_id"], item_id, [e.score_id for e in page]
                ),
                "params": {
                    "limit": SCORES_AROUND_LIMIT,
                    "sort": "score_asc" if higher else "score_desc",
                },
                "cursor": cursor,
                "cursor_string": _cursor_string(cursor),
            }
        shaped["scores_around"] = around
        return shaped

    async def index(
        self, room_id: int, item_id: int, query: dict[str, str], viewer_id: int | None
    ) -> dict[str, Any] | Refused:
        """GET rooms/{room}/playlist/{item}/scores: one page of the item's board."""
        found = await self._room_item(room_id, item_id)
        if isinstance(found, Refused):
            return found
        limit = int_param(query.get("limit"))
        limit = max(
            1, min(limit if limit is not None else ITEM_SCORES_LIMIT_MAX, ITEM_SCORES_LIMIT_MAX)
        )
        sort = (
            query.get("sort") if query.get("sort") in ("score_asc", "score_desc") else "score_desc"
        )
        entries = await self._repo.item_board(
            item_id, sort == "score_asc", item_cursor(query), limit + 1
        )
        page = entries[:limit]
        cursor = (
            {"total_score": page[-1].total_score, "score_id": page[-1].score_id}
            if len(entries) > limit
            else None
        )
        user_score = None
        if viewer_id is not None:
            best = await self._repo.item_best(item_id, viewer_id)
            if best is not None and best.score_id is not None:
                mine = await self._shaped(room_id, item_id, [best.score_id])
                if mine:
                    user_score = mine[0]
                    user_score["position"] = await self._repo.item_position(
                        item_id, user_score["total_score"], best.score_id
                    )
        return {
            "params": {"limit": limit, "sort": sort},
            "scores": await self._shaped(room_id, item_id, [e.score_id for e in page]),
            "total": await self._repo.item_board_size(item_id),
            "user_score": user_score,
            "cursor": cursor,
            "cursor_string": _cursor_string(cursor),
        }

    async def _located(self, room_id: int, item_id: int) -> Refused | None:
        if await self._repo.room(room_id) is None:
            return Refused(404, "Invalid room id")
        if await self._repo.item(room_id, item_id) is None:
            return Refused(404, "Invalid playlist id")
        return None

    async def show(self, room_id: int, item_id: int, score_id: int) -> dict[str, Any] | Refused:
        """GET rooms/{room}/playlist/{item}/scores/{score}: with position and scores_around."""
        if (refused := await self._located(room_id, item_id)) is not None:
            return refused
        link = await self._repo.score_link(score_id)
        shaped = await self._shaped(room_id, item_id, [score_id]) if link else []
        if link is None or link.playlist_item_id != item_id or not shaped:
            return Refused(404, "Specified Multiplayer\\ScoreLink couldn't be found.")
        return await self._with_context(item_id, shaped[0])

    async def show_user(self, room_id: int, item_id: int, user_id: int) -> dict[str, Any] | Refused:
        """GET rooms/{room}/playlist/{item}/scores/users/{user}: that user's best."""
        if (refused := await self._located(room_id, item_id)) is not None:
            return refused
        best = await self._repo.item_best(item_id, user_id)
        if best is None:
            return Refused(
                404, "Specified Multiplayer\\PlaylistItemUserHighScore couldn't be found."
            )
        shaped = await self._shaped(room_id, item_id, [best.score_id]) if best.score_id else []
        if not shaped:
            return Refused(404, None)
        return await self._with_context(item_id, shaped[0])
