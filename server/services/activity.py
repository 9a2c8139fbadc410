"""A user's activity: per-beatmap play counts (profile "most played") and the event log
(`recent_activity`, API v1's `events`), written where those things happen.

Events follow osu-web's Event::generate: the same types, texts, links and epic factors. The
details osu-web parses back out of the text are stored as JSON beside it."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Final

import msgspec

from server.models.beatmaps import STATUS_NAMES
from server.models.events import Event, EventDetails, EventLink, EventUser
from server.models.rulesets import RULESETS
from server.repositories.beatmaps import BeatmapRecord, BeatmapRepository, BeatmapsetRecord
from server.repositories.scores import BestRecord, ScoreRepository
from server.repositories.user_activity import ActivityRepository, EventRecord, NewEvent
from server.repositories.users import UserRepository

# osu-web writes a rank event for positions in a beatmap's top 50 only.
RANK_EVENT_POSITIONS: Final = 50
# osu-web's beatmaps.mode.* names, as event texts show rulesets.
_RULESET_TITLES: Final = {
    "osu": "osu!",
    "taiko": "osu!taiko",
    "fruits": "osu!catch",
    "mania": "osu!mania",
}
_APPROVALS: Final = frozenset({"ranked", "approved", "qualified", "loved"})
_details_encoder = msgspec.json.Encoder()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _link(url: str, text: str) -> str:
    return f"<a href='{html.escape(url)}'>{html.escape(text)}</a>"


def _user_url(user_id: int) -> str:
    return f"/users/{user_id}"


def _beatmap_title(beatmap: BeatmapRecord, beatmapset: BeatmapsetRecord) -> str:
    return f"{beatmapset.artist} - {beatmapset.title} [{beatmap.version}]"


def event_shape(record: EventRecord) -> Event:
    """An Event as osu-web's EventTransformer sends it."""
    details = msgspec.json.decode(record.details, type=EventDetails)
    created = record.created_at.replace(tzinfo=UTC)
    return Event(
        created_at=created,
        createdAt=created,
        id=record.id,
        type=record.event_type,
        **{f: getattr(details, f) for f in EventDetails.__struct_fields__},
    )


class EventLog:
    """Writes events (score submission, beatmap ingest and renames each hold one)."""

    def __init__(self, repo: ActivityRepository) -> None:
        self.repo = repo

    async def record(
        self,
        user_id: int,
        event_type: str,
        details: EventDetails,
        display_html: str,
        epicfactor: int,
        beatmap_id: int | None = None,
        beatmapset_id: int | None = None,
    ) -> None:
        """Store one event, now."""
        await self.repo.insert_event(
            NewEvent(
                user_id=user_id,
                event_type=event_type,
                beatmap_id=beatmap_id,
                beatmapset_id=beatmapset_id,
                epicfactor=epicfactor,
                details=_details_encoder.encode(details).decode(),
                display_html=display_html,
            ),
            _now(),
        )

    async def beatmapset_uploaded(self, beatmapset: BeatmapsetRecord) -> None:
        """A beatmapset new to this server (`beatmapsetUpload`, on its mapper's activity)."""
        title = f"{beatmapset.artist} - {beatmapset.title}"
        url = f"/beatmapsets/{beatmapset.id}"
        await self.record(
            beatmapset.user_id,
            "beatmapsetUpload",
            EventDetails(
                beatmapset=EventLink(title, url),
                user=EventUser(beatmapset.creator, _user_url(beatmapset.user_id)),
            ),
            f"<b>{_link(_user_url(beatmapset.user_id), beatmapset.creator)}</b> has submitted a "
            f'new beatmap "{_link(url, title)}"',
            4,
            None,
            beatmapset.id,
        )

    async def beatmapset_approved(self, beatmapset: BeatmapsetRecord) -> None:
        """A beatmapset became ranked, approved, qualified or loved (`beatmapsetApprove`)."""
        approval = STATUS_NAMES.get(beatmapset.status, "")
        if approval not in _APPROVALS:
            return
        title = f"{beatmapset.artist} - {beatmapset.title}"
        url = f"/beatmapsets/{beatmapset.id}"
        await self.record(
            beatmapset.user_id,
            "beatmapsetApprove",
            EventDetails(
                approval=approval,
                beatmapset=EventLink(title, url),
                user=EventUser(beatmapset.creator, _user_url(beatmapset.user_id)),
            ),
            f"{_link(url, title)} by <b>{_link(_user_url(beatmapset.user_id), beatmapset.creator)}"
            f"</b> has just been {approval}!",
            8,
            None,
            beatmapset.id,
        )

    async def username_changed(self, user_id: int, previous: str, current: str) -> None:
        """A user took a new name (`usernameChange`); for whatever renames accounts."""
        await self.record(
            user_id,
            "usernameChange",
            EventDetails(user=EventUser(current, _user_url(user_id), previous)),
            f"<b>{_link(_user_url(user_id), previous)}</b> has changed their username to "
            f"{html.escape(current)}!",
            4,
        )


class ActivityService:
    """Records and reads play counts and events."""

    def __init__(
        self,
        repo: ActivityRepository,
        users: UserRepository,
        beatmaps: BeatmapRepository,
        scores: ScoreRepository,
    ) -> None:
        self.repo = repo
        self.log = EventLog(repo)
        self._users = users
        self._beatmaps = beatmaps
        self._scores = scores

    async def play_counted(self, user_id: int, beatmap_id: int) -> None:
        """One more play of the beatmap by the user (inside the submission's transaction)."""
        await self.repo.add_play(user_id, beatmap_id)

    async def new_best(
        self,
        *,
        user_id: int,
        beatmap: BeatmapRecord,
        board: str,
        ruleset_id: int,
        grade: str,
        score_id: int,
        total_score: int,
        old_best: BestRecord | None,
    ) -> None:
        """A score became the user's best on a beatmap's board (inside the submission's
        transaction, after the best is stored): a `rank` event when it places in the top 50,
        and `rankLost` for whoever it pushed off first place."""
        position = await self._scores.board_position(beatmap.id, board, total_score, score_id)
        if position > RANK_EVENT_POSITIONS:
            return
        user = await self._users.cached_by_id(user_id)
        beatmapset = await self._beatmaps.cached_beatmapset(beatmap.beatmapset_id)
        if user is None or user.is_restricted or beatmapset is None:
            return
        ruleset = RULESETS[ruleset_id]
        title = _beatmap_title(beatmap, beatmapset)
        beatmap_link = EventLink(title, f"/beatmaps/{beatmap.id}?mode={ruleset}")
        rank_text = f"<b>rank #{position}</b>"
        # osu-web's epic factor (copied there from osu-web-10's score submission).
        if position == 1 and ruleset == "osu" and beatmap.passcount > 250:
            epic = 8
        else:
            epic = 4 if position < 10 else 2 if position < 40 else 1
        await self.log.record(
            user_id,
            "rank",
            EventDetails(
                scoreRank=grade,
                rank=position,
                mode=ruleset,
                beatmap=beatmap_link,
                user=EventUser(user.username, _user_url(user.id)),
            ),
            f"<img src='/images/{grade}_small.png'/> <b>"
            f"{_link(_user_url(user.id), user.username)}</b> achieved {rank_text} on "
            f"{_link(beatmap_link.url, title)} ({_RULESET_TITLES[ruleset]})",
            epic,
            beatmap.id,
            beatmap.beatmapset_id,
        )
        if position != 1:
            return
        leaders = await self.repo.board_leaders(beatmap.id, board)
        if len(leaders) < 2 or leaders[1].user_id == user_id:
            return
        second = leaders[1]
        held_first = old_best is not None and (old_best.total_score, -old_best.score_id) > (
            second.total_score,
            -second.score_id,
        )
        loser = None if held_first else await self._users.cached_by_id(second.user_id)
        if loser is None:
            return
        await self.log.record(
            loser.id,
            "rankLost",
            EventDetails(
                mode=ruleset,
                beatmap=beatmap_link,
                user=EventUser(loser.username, _user_url(loser.id)),
            ),
            f"<b>{_link(_user_url(loser.id), loser.username)}</b> has lost first place on "
            f"{_link(beatmap_link.url, title)} ({_RULESET_TITLES[ruleset]})",
            2,
            beatmap.id,
            beatmap.beatmapset_id,
        )

    async def recent(self, user_id: int, limit: int, offset: int) -> list[Event]:
        """users/{user}/recent_activity."""
        return [event_shape(r) for r in await self.repo.events(user_id, limit, offset)]

    async def since(self, user_id: int, since: datetime) -> list[EventRecord]:
        """Events since a time (API v1's event_days)."""
        return await self.repo.events_since(user_id, since)
