"""Wire shapes of beatmaps: APIBeatmap and APIBeatmapSet as lazer reads them.

Field order follows osu-web's transformers. Non-nullable value types in lazer (`covers`,
`availability`, `genre`, `language`, bools, counters, `submitted_date`, beatmap
`last_updated`) always carry a value; optional parts are left out (UNSET), never null,
because a null there fails the whole response (lazer-protocol.md §4.3-4.4, §8.2 #2).
A beatmapset never carries `"user": null` for the same reason: the key is left out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import msgspec
from msgspec import UNSET, UnsetType

STATUS_NAMES: Final[dict[int, str]] = {
    -2: "graveyard",
    -1: "wip",
    0: "pending",
    1: "ranked",
    2: "approved",
    3: "qualified",
    4: "loved",
}
STATUS_IDS: Final[dict[str, int]] = {name: value for value, name in STATUS_NAMES.items()}
MODE_NAMES: Final[tuple[str, ...]] = ("osu", "taiko", "fruits", "mania")

GENRES: Final[dict[int, str]] = {
    0: "Any",
    1: "Unspecified",
    2: "Video Game",
    3: "Anime",
    4: "Rock",
    5: "Pop",
    6: "Other",
    7: "Novelty",
    9: "Hip Hop",
    10: "Electronic",
    11: "Metal",
    12: "Classical",
    13: "Folk",
    14: "Jazz",
}
LANGUAGES: Final[dict[int, str]] = {
    0: "Any",
    1: "Unspecified",
    2: "English",
    3: "Japanese",
    4: "Chinese",
    5: "Instrumental",
    6: "Korean",
    7: "French",
    8: "German",
    9: "Swedish",
    10: "Spanish",
    11: "Italian",
    12: "Russian",
    13: "Polish",
    14: "Other",
}


class Covers(msgspec.Struct, frozen=True):
    cover: str
    cover_2x: str = msgspec.field(name="cover@2x")
    card: str
    card_2x: str = msgspec.field(name="card@2x")
    list: str
    list_2x: str = msgspec.field(name="list@2x")
    slimcover: str
    slimcover_2x: str = msgspec.field(name="slimcover@2x")


class Availability(msgspec.Struct, frozen=True):
    download_disabled: bool
    more_information: str | None = None


class NamedId(msgspec.Struct, frozen=True):
    id: int
    name: str


class Hype(msgspec.Struct, frozen=True):
    current: int
    required: int


class NominationsSummary(msgspec.Struct, frozen=True):
    current: int
    required_meta: dict[str, int]
    eligible_main_rulesets: list[str]


class Failtimes(msgspec.Struct, frozen=True):
    fail: list[int]
    exit: list[int]


class Owner(msgspec.Struct, frozen=True):
    id: int
    username: str


class Beatmapset(msgspec.Struct, frozen=True, kw_only=True):
    """APIBeatmapSet (osu-web BeatmapsetTransformer), with `beatmaps` when included."""

    anime_cover: bool = False
    artist: str
    artist_unicode: str
    covers: Covers
    creator: str
    favourite_count: int
    genre_id: int
    hype: Hype | None = None
    id: int
    language_id: int
    nsfw: bool
    offset: int = 0
    play_count: int
    preview_url: str
    source: str
    spotlight: bool = False
    status: str
    title: str
    title_unicode: str
    track_id: int | None = None
    user_id: int
    video: bool
    bpm: float
    can_be_hyped: bool = False
    deleted_at: datetime | None = None
    discussion_enabled: bool = True
    discussion_locked: bool = False
    is_scoreable: bool
    last_updated: datetime
    legacy_thread_url: str | None = None
    nominations_summary: NominationsSummary
    ranked: int
    ranked_date: datetime | None
    rating: float = 0.0
    storyboard: bool
    submitted_date: datetime
    tags: str
    availability: Availability
    genre: NamedId
    language: NamedId
    ratings: list[int]
    has_favourited: bool
    version_count: int = 0
    related_tags: list[int] = msgspec.field(default_factory=list)
    beatmaps: list[Beatmap] | UnsetType = UNSET
    converts: list[Beatmap] | UnsetType = UNSET
    description: dict[str, str] | UnsetType = UNSET
    recent_favourites: list[int] | UnsetType = UNSET


class TagCount(msgspec.Struct, frozen=True):
    """A tag on a beatmap and how many players put it there (osu-web's top_tag_ids)."""

    tag_id: int
    count: int


class Beatmap(msgspec.Struct, frozen=True, kw_only=True):
    """APIBeatmap (osu-web BeatmapTransformer), with `beatmapset` when included."""

    beatmapset_id: int
    difficulty_rating: float
    id: int
    mode: str
    status: str
    total_length: int
    user_id: int
    version: str
    # osu-web marks maps only lazer can play (mechanics stable lacks); aiosu requires it.
    lazer_only: bool = False
    accuracy: float
    ar: float
    bpm: float
    convert: bool
    count_circles: int
    count_sliders: int
    count_spinners: int
    cs: float
    deleted_at: datetime | None = None
    drain: float
    hit_length: int
    is_scoreable: bool
    last_updated: datetime
    mode_int: int
    passcount: int
    playcount: int
    ranked: int
    url: str
    checksum: str
    max_combo: int
    current_user_playcount: int = 0
    top_tag_ids: list[TagCount] = msgspec.field(default_factory=list)
    current_user_tag_ids: list[int] = msgspec.field(default_factory=list)
    beatmapset: Beatmapset | UnsetType = UNSET
    failtimes: Failtimes | UnsetType = UNSET
    owners: list[Owner] | UnsetType = UNSET


class BeatmapsEnvelope(msgspec.Struct, frozen=True):
    beatmaps: list[Beatmap]


class SearchResult(msgspec.Struct, frozen=True):
    """beatmapsets/search: `cursor` is null on the last page (lazer stops asking)."""

    beatmapsets: list[Beatmapset]
    search: dict[str, str]
    recommended_difficulty: float | None
    error: str | None
    total: int
    cursor: dict[str, str | int] | None
    cursor_string: str | None


class DifficultyAttributesOut(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """beatmaps/{id}/attributes `attributes`: the osu-web names, per ruleset."""

    star_rating: float
    max_combo: int
    aim_difficulty: float | None = None
    aim_difficult_slider_count: float | None = None
    speed_difficulty: float | None = None
    speed_note_count: float | None = None
    slider_factor: float | None = None
    aim_difficult_strain_count: float | None = None
    speed_difficult_strain_count: float | None = None
    flashlight_difficulty: float | None = None
    approach_rate: float | None = None
    overall_difficulty: float | None = None
    stamina_difficulty: float | None = None
    rhythm_difficulty: float | None = None
    colour_difficulty: float | None = None
    great_hit_window: float | None = None
    ok_hit_window: float | None = None
    meh_hit_window: float | None = None


class DifficultyAttributesEnvelope(msgspec.Struct, frozen=True):
    """POST beatmaps/{id}/attributes: `{"attributes": {...}}`."""

    attributes: DifficultyAttributesOut


class FavouriteCount(msgspec.Struct, frozen=True):
    """POST beatmapsets/{id}/favourites: the set's new favourite count."""

    favourite_count: int


class BeatmapsetFavouriteIds(msgspec.Struct, frozen=True):
    """GET me/beatmapset-favourites: the ids of the sets the user favourited."""

    beatmapset_ids: list[int]
