"""beatmaps/{id}/attributes: difficulty attributes from the core for a ruleset and mods,
cached in Redis by checksum, ruleset and mods, and in-process by the core's beatmap cache."""

from __future__ import annotations

import logging
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

import msgspec

from server.core import ConversionError, CoreError, InvalidArgument, SuspiciousBeatmap
from server.core import pp as core
from server.models.beatmaps import DifficultyAttributesOut
from server.services.beatmap_cache import BeatmapCache

if TYPE_CHECKING:
    from server.services.beatmaps import BeatmapService

log = logging.getLogger(__name__)

_ATTRIBUTES_PREFIX: Final = "beatmaps:attributes:"
_ATTRIBUTES_TTL: Final = 7 * 86_400


class AttributesRejected(Enum):
    """Expected failures of a difficulty-attributes request."""

    NOT_FOUND = "not_found"
    BAD_RULESET = "bad_ruleset"
    BAD_MODS = "bad_mods"
    SUSPICIOUS = "suspicious"
    FILE_MISSING = "file_missing"


class BeatmapAttributes:
    """Difficulty attributes of stored (or fetched) beatmaps."""

    def __init__(
        self, beatmaps: BeatmapService, cache: BeatmapCache, pp_cache: core.PpCache
    ) -> None:
        self._beatmaps = beatmaps
        self._cache = cache
        self._pp = pp_cache

    async def attributes(
        self, beatmap_id: int, ruleset: int | None, mods: core.Mods
    ) -> DifficultyAttributesOut | AttributesRejected:
        """Difficulty attributes from the core, cached in Redis and in-process."""
        beatmap = await self._beatmaps.beatmap_by_id(beatmap_id)
        if beatmap is None:
            return AttributesRejected.NOT_FOUND
        if beatmap.is_suspicious:
            return AttributesRejected.SUSPICIOUS
        target = beatmap.mode if ruleset is None else ruleset
        if target != beatmap.mode and beatmap.mode != 0:
            return AttributesRejected.BAD_RULESET
        try:
            mods_json = core.encode_mods(mods)
        except (TypeError, ValueError, msgspec.EncodeError):
            return AttributesRejected.BAD_MODS
        mods_key = mods_json.decode("utf-8", "replace")
        key = f"{_ATTRIBUTES_PREFIX}{beatmap.checksum}:{target}:{mods_key}"
        cached = await self._cache.get(key)
        if cached:
            try:
                return msgspec.json.decode(cached, type=DifficultyAttributesOut)
            except msgspec.DecodeError:
                pass
        data: bytes | None = None
        if self._pp.cached_beatmap(beatmap.checksum) is None:
            data = await self._beatmaps.osu_file(beatmap)
            if data is None:
                return AttributesRejected.FILE_MISSING
        loaded = data

        def load() -> bytes:
            if loaded is None:
                raise InvalidArgument("beatmap evicted while loading")
            return loaded

        try:
            attrs = await self._pp.difficulty_async(beatmap.checksum, load, target, mods_json)
        except SuspiciousBeatmap:
            return AttributesRejected.SUSPICIOUS
        except ConversionError:
            return AttributesRejected.BAD_RULESET
        except InvalidArgument:
            return AttributesRejected.BAD_MODS
        except CoreError:
            log.exception("difficulty failed for beatmap %s", beatmap_id)
            return AttributesRejected.FILE_MISSING
        shaped = _attributes_shape(attrs, target)
        await self._cache.set(key, msgspec.json.encode(shaped), _ATTRIBUTES_TTL)
        return shaped


def _attributes_shape(attrs: core.DifficultyAttributes, ruleset: int) -> DifficultyAttributesOut:
    """osu-web's per-ruleset attribute names for the core's values."""
    base: dict[str, Any] = {"star_rating": attrs.stars, "max_combo": attrs.max_combo}
    if ruleset == 0:
        base.update(
            aim_difficulty=attrs.aim,
            aim_difficult_slider_count=attrs.aim_difficult_slider_count,
            speed_difficulty=attrs.speed,
            speed_note_count=attrs.speed_note_count,
            slider_factor=attrs.slider_factor,
            aim_difficult_strain_count=attrs.aim_difficult_strain_count,
            speed_difficult_strain_count=attrs.speed_difficult_strain_count,
            flashlight_difficulty=attrs.flashlight,
            approach_rate=attrs.ar,
            # osu!'s great window is 80 - 6 * OD ms (after rate): the OD the client shows.
            overall_difficulty=(80 - attrs.great_hit_window) / 6,
            great_hit_window=attrs.great_hit_window,
            ok_hit_window=attrs.ok_hit_window,
            meh_hit_window=attrs.meh_hit_window,
        )
    elif ruleset == 1:
        base.update(
            stamina_difficulty=attrs.stamina,
            rhythm_difficulty=attrs.rhythm,
            colour_difficulty=attrs.color,
            great_hit_window=attrs.great_hit_window,
            ok_hit_window=attrs.ok_hit_window,
        )
    elif ruleset == 2:
        base.update(approach_rate=attrs.ar)
    else:
        base.update(great_hit_window=attrs.great_hit_window)
    return DifficultyAttributesOut(**base)
