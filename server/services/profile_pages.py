"""Profile lists beyond scores (osu-web UsersController::beatmapsets, ::kudosu,
::recentActivity and Users\\BeatmapsController::beatmapsPassed): set lists by kind, most
played, kudosu received, recent activity and which of some sets' beatmaps a user passed."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, Final

import msgspec

from server.models.beatmaps import Beatmapset
from server.models.events import Event
from server.models.profile_pages import (
    BeatmapPlaycount,
    BeatmapsPassed,
    KudosuGiver,
    KudosuHistory,
    KudosuPost,
)
from server.repositories.beatmaps import BeatmapRecord
from server.repositories.user_activity import SET_LIST_QUERIES
from server.services.activity import ActivityService
from server.services.beatmaps import BeatmapService

# osu-web's mapping of users/{user}/beatmapsets/{type}, deprecated names included.
SET_KINDS: Final = {
    **{kind: kind for kind in SET_LIST_QUERIES},
    "most_played": "most_played",
    "nominated": "nominated",
    "ranked_and_approved": "ranked",
    "unranked": "pending",
}
# lazer's ModType.DifficultyReduction acronyms: beatmaps-passed leaves such plays out unless
# asked not to (no_diff_reduction=false), as osu-web's BeatmapsPassedSearch does.
_DIFFICULTY_REDUCTION: Final = frozenset({"EZ", "NF", "HT", "DC", "NR"})
MAX_PASSED_SETS: Final = 50


class PassedRejected(enum.Enum):
    """Why beatmaps-passed refuses a request."""

    TOO_MANY_SETS = f"beatmapset_ids cannot have more than {MAX_PASSED_SETS} items."


class ProfilePages:
    """The profile lists."""

    def __init__(self, beatmaps: BeatmapService, activity: ActivityService) -> None:
        self._beatmaps = beatmaps
        self._activity = activity

    async def beatmapsets(
        self, user_id: int, kind: str, limit: int, offset: int, viewer_id: int | None
    ) -> list[Beatmapset] | list[BeatmapPlaycount]:
        """users/{user}/beatmapsets/{kind}; `kind` is one of SET_KINDS' values."""
        if kind == "most_played":
            return await self._most_played(user_id, limit, offset)
        if kind == "nominated":
            # Nominations are not kept (no modding on this server): nobody nominated a set.
            return []
        set_ids = await self._activity.repo.set_ids(kind, user_id, limit, offset)
        return await self._beatmaps.sets_with_beatmaps(set_ids, viewer_id)

    async def _most_played(self, user_id: int, limit: int, offset: int) -> list[BeatmapPlaycount]:
        counts = await self._activity.repo.most_played(user_id, limit, offset)
        beatmaps = {
            b.id: b for b in await self._beatmaps.repo.beatmaps_by_ids([i for i, _ in counts])
        }
        sets = {
            s.id: s
            for s in await self._beatmaps.repo.beatmapsets_by_ids(
                [b.beatmapset_id for b in beatmaps.values()]
            )
        }
        shaped = []
        for beatmap_id, count in counts:
            beatmap = beatmaps.get(beatmap_id)
            beatmapset = sets.get(beatmap.beatmapset_id) if beatmap else None
            if beatmap is None or beatmapset is None:
                continue
            shaped.append(
                BeatmapPlaycount(
                    beatmap_id=beatmap_id,
                    count=count,
                    beatmap=self._beatmaps.beatmap_shape(beatmap, extended=False),
                    beatmapset=self._beatmaps.beatmapset_shape(beatmapset),
                )
            )
        return shaped

    async def recent_activity(self, user_id: int, limit: int, offset: int) -> list[Event]:
        """users/{user}/recent_activity."""
        return await self._activity.recent(user_id, limit, offset)

    async def kudosu(self, user_id: int, limit: int, offset: int) -> list[KudosuHistory]:
        """users/{user}/kudosu."""
        return [
            KudosuHistory(
                id=r.id,
                action=r.action,
                amount=r.amount,
                model=r.model,
                created_at=r.created_at,
                giver=(
                    KudosuGiver(f"/users/{r.giver_id}", r.giver_username)
                    if r.giver_id is not None and r.giver_username is not None
                    else None
                ),
                post=KudosuPost(r.post_url, r.post_title),
                details=msgspec.json.decode(r.details, type=dict[str, Any]),
            )
            for r in await self._activity.repo.kudosu(user_id, limit, offset)
        ]

    async def beatmaps_passed(
        self,
        user_id: int,
        set_ids: Sequence[int],
        *,
        ruleset_id: int | None,
        exclude_converts: bool,
        no_diff_reduction: bool,
    ) -> BeatmapsPassed | PassedRejected:
        """Which beatmaps of these sets the user passed (with ranked-worthy mods unless
        `no_diff_reduction` is off)."""
        if len(set_ids) > MAX_PASSED_SETS:
            return PassedRejected.TOO_MANY_SETS
        if not set_ids:
            return BeatmapsPassed([])
        beatmaps = await self._beatmaps.repo.beatmaps_of_sets(list(dict.fromkeys(set_ids)))
        passed = await self.passed_ids(
            user_id,
            beatmaps,
            ruleset_id=ruleset_id,
            exclude_converts=exclude_converts,
            no_diff_reduction=no_diff_reduction,
        )
        return BeatmapsPassed(
            [self._beatmaps.beatmap_shape(b, extended=False) for b in beatmaps if b.id in passed]
        )

    async def passed_ids(
        self,
        user_id: int,
        beatmaps: Sequence[BeatmapRecord],
        *,
        ruleset_id: int | None,
        exclude_converts: bool,
        no_diff_reduction: bool,
    ) -> set[int]:
        """Which of these beatmaps the user passed (osu-web's BeatmapsPassedSearch)."""
        by_id = {b.id: b for b in beatmaps}
        passed: set[int] = set()
        for play in await self._activity.repo.passed_plays(user_id, list(by_id)):
            if ruleset_id is not None and play.ruleset_id != ruleset_id:
                continue
            if exclude_converts and play.ruleset_id != by_id[play.beatmap_id].mode:
                continue
            if no_diff_reduction and (
                not play.has_pp or _DIFFICULTY_REDUCTION & set(play.mods_key.split(","))
            ):
                continue
            passed.add(play.beatmap_id)
        return passed
