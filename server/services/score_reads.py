"""Reading scores back: beatmap leaderboards, a user's best on a beatmap, score pages and
profile lists, each in the score format the request's `x-api-version` picks.

The global leaderboard is the hottest read (lazer asks after every play and on every
song-select move) and is answered through four tiers, all in `beatmap_scores`:

1. this process's near cache keeps the whole answer per (query, viewer, format), keyed by
   the map's checksum and status too, and holds the page shared by every viewer;
2. Redis keeps each rendered page and viewer entry under the board's generation;
3. Redis' sorted set gives the page's score ids and the board's size;
4. SQL is the truth when Redis has no board or is down.

The near cache's stamp is taken before anything is read and passed to every `put`, so an
invalidation that raced the read wins and nothing stale is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

import msgspec
from msgspec import UNSET

from server.db import DatabaseError
from server.models.beatmaps import Beatmap
from server.models.rulesets import RULESETS
from server.models.scores import (
    BeatmapScores,
    BeatmapUserScore,
    Score,
    ScoreFormat,
    ScoreWeight,
    SoloScore,
)
from server.presenters import scores as present
from server.presenters.users import user_compact
from server.repositories.beatmaps import BeatmapRecord
from server.repositories.scores import BoardFilter, ScoreRecord, ScoreRepository
from server.repositories.users import UserAccount, UserRepository
from server.services.beatmap_statuses import has_leaderboard
from server.services.beatmaps import BeatmapService
from server.services.leaderboards import Leaderboards

log = logging.getLogger(__name__)

# A cached leaderboard page is `[score_count, [scores]]`; the scores stay raw JSON on the way
# back out, so a cache hit costs no re-encoding.
_page_encoder = msgspec.json.Encoder()
_page_decoder = msgspec.json.Decoder(tuple[int, msgspec.Raw])

# osu-web BeatmapsController::scores: limit 1..100, default 50.
LEADERBOARD_DEFAULT: Final = 50
LEADERBOARD_MAX: Final = 100
_EMPTY_BOARD: Final = BeatmapScores(scores=[], user_score=None, score_count=0)


class BoardQuery(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed leaderboard request. `raw_query` keys the kept answer: the same bytes from
    the same viewer get the same answer."""

    beatmap_id: int
    ruleset: str | None  # None: the beatmap's own
    scope: str
    mods: tuple[str, ...]
    limit: int
    form: ScoreFormat
    raw_query: bytes


def relax_ruleset(ruleset_id: int, acronyms: Sequence[str], relax_enabled: bool) -> str:
    """The statistics/leaderboard key: the ruleset name, or its relax/autopilot variant."""
    name = RULESETS[ruleset_id]
    if relax_enabled:
        if "RX" in acronyms and ruleset_id in (0, 1, 2):
            return f"{name}rx"
        if "AP" in acronyms and ruleset_id == 0:
            return "osuap"
    return name


def _naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


class ScoreReads:
    """Every score read the API serves."""

    def __init__(
        self,
        repo: ScoreRepository,
        users: UserRepository,
        beatmaps: BeatmapService,
        leaderboards: Leaderboards,
        *,
        relax_enabled: bool,
        all_statuses: bool,
    ) -> None:
        self._repo = repo
        self._users = users
        self._beatmaps = beatmaps
        self._leaderboards = leaderboards
        self._relax = relax_enabled
        self._all_statuses = all_statuses

    # -- shaping ---------------------------------------------------------------------------

    async def _shape(
        self,
        records: Sequence[ScoreRecord],
        form: ScoreFormat,
        *,
        with_beatmap: bool = False,
        pins: set[int] | None = None,
    ) -> list[Score]:
        """Scores with their users (and beatmaps), each loaded in one query."""
        if not records:
            return []
        accounts = {a.id: a for a in await self._users.by_ids(sorted({r.user_id for r in records}))}
        beatmaps: dict[int, Beatmap] = {}
        if with_beatmap:
            ids = sorted({r.beatmap_id for r in records})
            beatmaps = {b.id: b for b in await self._beatmaps.beatmaps_with_sets(ids)}
        shaped: list[Score] = []
        for record in records:
            account = accounts.get(record.user_id)
            shaped.append(
                present.score(
                    record,
                    form,
                    pinned=pins is not None and record.id in pins,
                    user=user_compact(account) if account is not None else UNSET,
                    beatmap=beatmaps.get(record.beatmap_id),
                )
            )
        return shaped

    async def scores_by_ids(self, ids: Sequence[int], form: ScoreFormat) -> list[Score]:
        """These scores in `form`, with their users, in the order of `ids` found."""
        return await self._shape(await self._repo.scores_by_ids(ids), form)

    # -- leaderboards ----------------------------------------------------------------------

    async def beatmap_scores(
        self, query: BoardQuery, viewer: UserAccount | None
    ) -> BeatmapScores | None:
        """GET beatmaps/{id}/scores (APIScoresCollection); None for an unknown beatmap.
        `viewer` is None for a client-credentials token: the global board without
        `user_score` (the handler refuses the viewer-relative scopes to it)."""
        beatmap = await self._beatmaps.repo.cached_beatmap(query.beatmap_id)
        if beatmap is None:
            return None
        rendered = self._leaderboards.rendered
        kept_field = (
            "response",
            query.raw_query,
            query.form.value,
            viewer.id if viewer is not None else 0,
            beatmap.status,
            beatmap.checksum,
        )
        if rendered is not None and (kept := rendered.get(beatmap.id, kept_field)) is not None:
            assert isinstance(kept, BeatmapScores)
            return kept
        stamp = rendered.stamp() if rendered is not None else 0
        board = await self._board(beatmap, query, viewer)
        if rendered is not None and query.scope == "global" and not query.mods:
            rendered.put(beatmap.id, board, stamp, kept_field)
        return board

    async def _board(
        self, beatmap: BeatmapRecord, query: BoardQuery, viewer: UserAccount | None
    ) -> BeatmapScores:
        if not has_leaderboard(beatmap.status, self._all_statuses):
            return _EMPTY_BOARD
        ruleset = query.ruleset or RULESETS[beatmap.mode]
        acronyms = sorted(set(query.mods) - {"NM"})
        if self._relax and ruleset in RULESETS:
            ruleset = relax_ruleset(RULESETS.index(ruleset), acronyms, True)
        if query.scope == "global" and not query.mods:
            return await self._global_board(beatmap.id, ruleset, query.limit, viewer, query.form)
        if query.scope == "team" or viewer is None:
            # osu-web's team scope is the caller's team members; this schema has no teams, so
            # the board is empty (lazer shows "no scores") rather than a stand-in group.
            return _EMPTY_BOARD
        board = BoardFilter(
            beatmap_id=beatmap.id,
            ruleset=ruleset,
            # NM alone selects plays without mods; several mods select that exact set.
            mods_key=",".join(acronyms) if query.mods else None,
            # The handler gives these scopes only to a signed-in viewer.
            country_code=viewer.country_code if viewer and query.scope == "country" else None,
            friends_of=viewer.id if viewer and query.scope == "friend" else None,
        )
        ids = await self._repo.filtered_board(board, query.limit)
        return BeatmapScores(
            scores=await self.scores_by_ids(ids, query.form),
            user_score=(
                await self._filtered_user_score(board, viewer, query.form) if viewer else None
            ),
            # The board's real size (osu-web UserRank::getCount), not the rows returned.
            score_count=await self._repo.filtered_board_count(board),
        )

    async def _global_board(
        self,
        beatmap_id: int,
        ruleset: str,
        limit: int,
        viewer: UserAccount | None,
        form: ScoreFormat,
    ) -> BeatmapScores:
        """The global board: this process's near cache, then Redis' rendering, then a build
        from the sorted set (or SQL). A hit does no I/O and never decodes the page."""
        rendered = self._leaderboards.rendered
        page: tuple[int, msgspec.Raw] | None = None
        entry: msgspec.Raw | None = None
        stamp = 0
        page_field = (ruleset, "page", form.value, limit)
        viewer_id = viewer.id if viewer is not None else 0
        entry_field = (ruleset, "user", form.value, viewer_id)
        if rendered is not None:
            page = rendered.get(beatmap_id, page_field)
            entry = rendered.get(beatmap_id, entry_field)
            stamp = rendered.stamp()
        if page is None or entry is None:
            generation, stored_page, stored_entry = await self._leaderboards.cached_page(
                beatmap_id, ruleset, limit, viewer_id, form.value
            )
            if stored_page is None:
                ids, count = await self._leaderboards.top(beatmap_id, ruleset, limit)
                stored_page = _page_encoder.encode([count, await self.scores_by_ids(ids, form)])
                await self._leaderboards.store_page(
                    beatmap_id, ruleset, limit, form.value, generation, stored_page
                )
            if stored_entry is None:
                own = (
                    await self._own_entry(beatmap_id, ruleset, viewer, form)
                    if viewer is not None
                    else None
                )
                stored_entry = _page_encoder.encode(own)
                await self._leaderboards.store_user_entry(
                    beatmap_id, ruleset, viewer_id, form.value, generation, stored_entry
                )
            page = _page_decoder.decode(stored_page)
            entry = msgspec.Raw(stored_entry)
            if rendered is not None:
                rendered.put(beatmap_id, page, stamp, page_field)
                rendered.put(beatmap_id, entry, stamp, entry_field)
        count, raw_scores = page
        return BeatmapScores(scores=raw_scores, user_score=entry, score_count=count)

    async def _filtered_user_score(
        self, board: BoardFilter, viewer: UserAccount, form: ScoreFormat
    ) -> BeatmapUserScore | None:
        """The caller's entry on a filtered board with its position there (osu-web
        BeatmapScores::userBest and ::rank use the board's own filters)."""
        if viewer.is_restricted:
            return None
        entry = await self._repo.filtered_board_entry(board, viewer.id)
        record = await self._repo.score(entry[0]) if entry else None
        if entry is None or record is None:
            return None
        position = await self._repo.filtered_board_position(board, entry[1], entry[0])
        return BeatmapUserScore(position, present.score(record, form, user=user_compact(viewer)))

    async def _own_entry(
        self, beatmap_id: int, ruleset: str, viewer: UserAccount, form: ScoreFormat
    ) -> BeatmapUserScore | None:
        """The caller's own best with its global position (APIScoresCollection.user_score)."""
        best = await self._repo.best(beatmap_id, ruleset, viewer.id)
        if best is None or viewer.is_restricted:
            return None
        record = await self._repo.score(best.score_id)
        if record is None:
            return None
        position = await self._leaderboards.position(
            beatmap_id, ruleset, record.id, record.total_score
        )
        return BeatmapUserScore(position, present.score(record, form, user=user_compact(viewer)))

    # -- one user on one beatmap -----------------------------------------------------------

    async def _hidden(self, user_id: int) -> bool:
        owner = await self._users.cached_by_id(user_id)
        return owner is None or owner.is_restricted

    async def _ruleset_of(self, beatmap_id: int, ruleset: str | None) -> str | None:
        beatmap = await self._beatmaps.repo.beatmap(beatmap_id)
        if beatmap is None:
            return None
        return ruleset or RULESETS[beatmap.mode]

    async def user_best(
        self, beatmap_id: int, ruleset: str | None, user_id: int, form: ScoreFormat
    ) -> BeatmapUserScore | None:
        """A user's best on a beatmap with its position; None when the beatmap or the score
        is unknown, or the player is restricted (hidden everywhere)."""
        if await self._hidden(user_id):
            return None
        mode = await self._ruleset_of(beatmap_id, ruleset)
        best = await self._repo.best(beatmap_id, mode, user_id) if mode else None
        record = await self._repo.score(best.score_id) if best else None
        if mode is None or record is None:
            return None
        shaped = await self._shape([record], form)
        position = await self._leaderboards.position(
            beatmap_id, mode, record.id, record.total_score
        )
        return BeatmapUserScore(position, shaped[0])

    async def user_scores_on_beatmap(
        self, beatmap_id: int, ruleset: str | None, user_id: int, form: ScoreFormat
    ) -> list[Score] | None:
        """Every ranked score of a user on a beatmap, best first; None for an unknown map
        (none for a restricted player)."""
        mode = await self._ruleset_of(beatmap_id, ruleset)
        if mode is None:
            return None
        if await self._hidden(user_id):
            return []
        ids = await self._repo.user_scores_on_beatmap(beatmap_id, mode, user_id)
        return await self.scores_by_ids(ids, form)

    # -- single scores ---------------------------------------------------------------------

    async def visible_score(self, score_id: int) -> ScoreRecord | None:
        """One score as reads show it: hidden when its player is restricted (osu-web's
        `visibleUsers()`; this server has no admins to exempt)."""
        record = await self._repo.score(score_id)
        if record is None:
            return None
        owner = await self._users.by_id(record.user_id)
        return record if owner is not None and not owner.is_restricted else None

    async def position(self, score: ScoreRecord) -> int | None:
        """Position of a ranked score on its beatmap's global board (as if it were the best)."""
        if not score.ranked:
            return None
        try:  # Redis down falls back to SQL inside; SQL failing too only loses the position
            return await self._leaderboards.position(
                score.beatmap_id, score.ruleset, score.id, score.total_score
            )
        except DatabaseError:
            log.warning("position of score %s unavailable", score.id, exc_info=True)
            return None

    async def submitted(self, score_id: int, account: UserAccount) -> SoloScore | None:
        """The answer to a submission: SoloScoreInfo with its board position (osu-web
        answers every submission in the solo format)."""
        record = await self._repo.score(score_id)
        return None if record is None else await self.answer(record, account)

    async def answer(self, record: ScoreRecord, account: UserAccount) -> SoloScore:
        """The answer to a submission for a stored score (read back, or just inserted)."""
        shaped = present.score(record, ScoreFormat.SOLO, user=user_compact(account))
        assert isinstance(shaped, SoloScore)
        return msgspec.structs.replace(shaped, position=await self.position(record))

    async def show(self, score_id: int, viewer_id: int | None, form: ScoreFormat) -> Score | None:
        """GET scores/{id}: the score with beatmap, set, user and rank fields."""
        record = await self.visible_score(score_id)
        if record is None:
            return None
        pins = (
            await self._pins_of(viewer_id, record.ruleset) if viewer_id == record.user_id else None
        )
        shaped = (await self._shape([record], form, with_beatmap=True, pins=pins))[0]
        rank_country = None
        owner = await self._users.by_id(record.user_id)
        if record.ranked and owner is not None:
            rank_country = await self._repo.board_position_in_country(
                record.beatmap_id,
                record.ruleset,
                record.total_score,
                record.id,
                owner.country_code,
            )
        return msgspec.structs.replace(
            shaped, rank_global=await self.position(record), rank_country=rank_country
        )

    async def _pins_of(self, user_id: int | None, ruleset: str) -> set[int]:
        if user_id is None:
            return set()
        return set(await self._repo.user_pinned_ids(user_id, ruleset, 100, 0))

    # -- profile lists ---------------------------------------------------------------------

    async def user_scores(
        self,
        user_id: int,
        kind: str,
        ruleset: str,
        limit: int,
        offset: int,
        include_fails: bool,
        viewer_id: int | None,
        form: ScoreFormat,
    ) -> list[Score]:
        """A user's best, recent, firsts or pinned scores with beatmaps (profile lists)."""
        if kind == "best":
            ids = await self._repo.user_best_ids(user_id, ruleset, limit, offset)
        elif kind == "recent":
            since = _naive(datetime.now(UTC) - timedelta(hours=24))
            ids = await self._repo.user_recent_ids(
                user_id, ruleset, since, include_fails, limit, offset
            )
        elif kind == "firsts":
            ids = await self._repo.user_first_ids(user_id, ruleset, limit, offset)
        else:
            ids = await self._repo.user_pinned_ids(user_id, ruleset, limit, offset)
        records = await self._repo.scores_by_ids(ids)
        pins = await self._pins_of(viewer_id, ruleset) if viewer_id == user_id else None
        shaped = await self._shape(records, form, with_beatmap=True, pins=pins)
        if kind != "best":
            return shaped
        # osu-web adds the weight each top play counts with.
        return [
            msgspec.structs.replace(
                score,
                weight=ScoreWeight(
                    percentage=0.95 ** (offset + i) * 100,
                    pp=(score.pp or 0.0) * 0.95 ** (offset + i),
                ),
            )
            for i, score in enumerate(shaped)
        ]
