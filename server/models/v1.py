"""osu! API v1 wire shapes (`/api/get_*`, clients.md §3) and the v1 key shape.

v1 sends every value as a JSON string (numbers, flags "0"/"1", dates as
`YYYY-MM-DD HH:MM:SS` UTC) or null; field order follows the official responses, which some
scrapers read positionally."""

from __future__ import annotations

import msgspec


class LegacyApiKey(msgspec.Struct, frozen=True):
    """osu-web's LegacyApiKeyTransformer: the key is only ever sent once, when it is made."""

    api_key: str
    app_name: str
    app_url: str


class KeyFormError(msgspec.Struct, frozen=True):
    """osu-web's ModelNotSavedException response for a key (`form_error.legacy_api_key`)."""

    form_error: dict[str, dict[str, list[str]]]
    error: str | None = None


class V1Error(msgspec.Struct, frozen=True):
    """Every v1 failure: `{"error": "..."}`; clients match the exact texts."""

    error: str


class V1Beatmap(msgspec.Struct, frozen=True, kw_only=True):
    """One difficulty of get_beatmaps."""

    beatmapset_id: str
    beatmap_id: str
    approved: str
    total_length: str
    hit_length: str
    version: str
    file_md5: str
    diff_size: str
    diff_overall: str
    diff_approach: str
    diff_drain: str
    mode: str
    count_normal: str
    count_slider: str
    count_spinner: str
    submit_date: str
    approved_date: str | None
    last_update: str
    artist: str
    artist_unicode: str
    title: str
    title_unicode: str
    creator: str
    creator_id: str
    bpm: str
    source: str
    tags: str
    genre_id: str
    language_id: str
    favourite_count: str
    rating: str
    storyboard: str
    video: str
    download_unavailable: str
    audio_unavailable: str
    playcount: str
    passcount: str
    packs: str | None
    max_combo: str | None
    diff_aim: str | None
    diff_speed: str | None
    difficultyrating: str


class V1Event(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of get_user's `events`."""

    display_html: str
    beatmap_id: str | None
    beatmapset_id: str | None
    date: str
    epicfactor: str


class V1User(msgspec.Struct, frozen=True, kw_only=True):
    """get_user's one user (in a list)."""

    user_id: str
    username: str
    join_date: str
    count300: str
    count100: str
    count50: str
    playcount: str
    ranked_score: str
    total_score: str
    pp_rank: str
    level: str
    pp_raw: str
    accuracy: str
    count_rank_ss: str
    count_rank_ssh: str
    count_rank_s: str
    count_rank_sh: str
    count_rank_a: str
    country: str
    total_seconds_played: str
    pp_country_rank: str
    events: list[V1Event]


class V1BeatmapScore(msgspec.Struct, frozen=True, kw_only=True):
    """A get_scores entry (a beatmap's leaderboard)."""

    score_id: str
    score: str
    username: str
    count300: str
    count100: str
    count50: str
    countmiss: str
    maxcombo: str
    countkatu: str
    countgeki: str
    perfect: str
    enabled_mods: str
    user_id: str
    date: str
    rank: str
    pp: str | None
    replay_available: str


class V1RecentScore(msgspec.Struct, frozen=True, kw_only=True):
    """A get_user_recent entry (no pp, no replay flag)."""

    beatmap_id: str
    score_id: str
    score: str
    maxcombo: str
    count50: str
    count100: str
    count300: str
    countmiss: str
    countkatu: str
    countgeki: str
    perfect: str
    enabled_mods: str
    user_id: str
    date: str
    rank: str


class V1BestScore(V1RecentScore, frozen=True, kw_only=True):
    """A get_user_best entry: a recent entry plus pp and the replay flag, in v1's order."""

    pp: str | None
    replay_available: str


class V1Replay(msgspec.Struct, frozen=True):
    """get_replay: the LZMA frame stream of the replay, base64."""

    content: str
    encoding: str = "base64"


class V1MatchInfo(msgspec.Struct, frozen=True, kw_only=True):
    """get_match's `match`."""

    match_id: str
    name: str
    start_time: str
    end_time: str | None


class V1MatchScore(msgspec.Struct, frozen=True, kw_only=True):
    """One player's score in a game."""

    slot: str
    team: str
    user_id: str
    score: str
    maxcombo: str
    rank: str
    count50: str
    count100: str
    count300: str
    countmiss: str
    countgeki: str
    countkatu: str
    perfect: str
    # `pass` is a Python keyword.
    passed: str = msgspec.field(name="pass")
    # The player's own mods under free mods. v1 sent null without free mods; "0" says the
    # same, and osuapi's strict model (int(enabled_mods)) fails on null.
    enabled_mods: str


class V1MatchGame(msgspec.Struct, frozen=True, kw_only=True):
    """One game (a beatmap played) of a match."""

    game_id: str
    start_time: str
    end_time: str | None
    beatmap_id: str
    play_mode: str
    match_type: str
    scoring_type: str
    team_type: str
    mods: str
    scores: list[V1MatchScore]


class V1Match(msgspec.Struct, frozen=True):
    """get_match. An unknown match is `{"match": 0, "games": []}`."""

    match: V1MatchInfo | int
    games: list[V1MatchGame]
