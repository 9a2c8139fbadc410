"""Wire shapes of users: APIUser/APIMe as lazer reads them and osu-web's transformers emit.

Field order follows osu-web's output. Non-nullable value types in lazer (bools, counters,
`level`, `grade_counts`, `join_date`) always carry a value: a null there makes lazer's
Newtonsoft reader throw and fails the whole response (lazer-protocol.md §8.2 #2).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec
from msgspec import UNSET, UnsetType


class Level(msgspec.Struct, frozen=True):
    current: int
    progress: int


class GradeCounts(msgspec.Struct, frozen=True):
    ss: int
    ssh: int
    s: int
    sh: int
    a: int


class RankCountry(msgspec.Struct, frozen=True):
    country: int | None


class UserStatistics(msgspec.Struct, frozen=True, kw_only=True):
    count_100: int = 0
    count_300: int = 0
    count_50: int = 0
    count_miss: int = 0
    level: Level
    global_rank: int | None
    global_rank_percent: float | None
    global_rank_exp: int | None = None
    pp: float
    pp_exp: float = 0.0
    ranked_score: int
    hit_accuracy: float
    accuracy: float
    play_count: int
    play_time: int
    total_score: int
    total_hits: int
    maximum_combo: int
    replays_watched_by_others: int
    is_ranked: bool
    grade_counts: GradeCounts
    country_rank: int | None
    rank: RankCountry
    rank_change_since_30_days: int | None = None


class Country(msgspec.Struct, frozen=True):
    code: str
    name: str


class Cover(msgspec.Struct, frozen=True):
    """osu-web's `cover` include: a custom upload, else one of its eight preset covers."""

    custom_url: str | None
    url: str
    id: str | None


class Kudosu(msgspec.Struct, frozen=True):
    available: int
    total: int


class UserPage(msgspec.Struct, frozen=True):
    html: str
    raw: str


class RankHistory(msgspec.Struct, frozen=True):
    mode: str
    data: list[int]


class DailyChallengeUserStats(msgspec.Struct, frozen=True, kw_only=True):
    daily_streak_best: int = 0
    daily_streak_current: int = 0
    last_update: datetime | None = None
    last_weekly_streak: datetime | None = None
    playcount: int = 0
    top_10p_placements: int = 0
    top_50p_placements: int = 0
    user_id: int
    weekly_streak_best: int = 0
    weekly_streak_current: int = 0


class UserGroup(msgspec.Struct, frozen=True, kw_only=True):
    colour: str | None
    has_listing: bool
    has_playmodes: bool
    id: int
    identifier: str
    is_probationary: bool
    name: str
    short_name: str
    playmodes: list[str] | None = None


class StatisticsRulesets(msgspec.Struct, frozen=True, omit_defaults=True):
    osu: UserStatistics | None = None
    taiko: UserStatistics | None = None
    fruits: UserStatistics | None = None
    mania: UserStatistics | None = None


class UserCompact(msgspec.Struct, frozen=True, kw_only=True):
    """osu-web's UserCompact, the one user shape inside every other shape (scores, lookups,
    relations, rankings, chat). Its includes are left out (UNSET) unless the route includes
    them, as osu-web's transformer includes do."""

    avatar_url: str
    country_code: str
    default_group: str = "default"
    id: int
    is_active: bool
    is_bot: bool
    is_deleted: bool = False
    is_online: bool
    is_supporter: bool
    last_visit: datetime | None
    pm_friends_only: bool
    profile_colour: str | None
    username: str
    country: Country | UnsetType = UNSET
    cover: Cover | UnsetType = UNSET
    groups: list[UserGroup] | UnsetType = UNSET
    support_level: int | UnsetType = UNSET
    statistics: UserStatistics | UnsetType = UNSET
    team: UnsetType | None = UNSET


class User(UserCompact, frozen=True, kw_only=True):
    """osu-web's full User (GET users/{id}/{mode}): UserCompact plus the profile; APIMe adds
    to it. Here the includes lazer's profile reads are always present."""

    country: Country
    cover: Cover
    groups: list[UserGroup] = msgspec.field(default_factory=list)
    support_level: int = 0
    team: None = None
    cover_url: str
    discord: str | None
    has_supported: bool
    interests: str | None
    join_date: datetime
    location: str | None
    max_blocks: int
    max_friends: int
    occupation: str | None
    playmode: str
    # osu-web sends null, not [], when no play style is set (User::getOsuPlaystyleAttribute);
    # ossapi cannot parse an empty list and lazer reads null as "none".
    playstyle: list[Literal["mouse", "keyboard", "tablet", "touch"]] | None
    post_count: int = 0
    profile_hue: int | None = None
    profile_order: list[str]
    title: str | None
    title_url: str | None = None
    twitter: str | None
    website: str | None
    kudosu: Kudosu
    account_history: list[object] = msgspec.field(default_factory=list)
    active_tournament_banner: None = None
    active_tournament_banners: list[object] = msgspec.field(default_factory=list)
    badges: list[object] = msgspec.field(default_factory=list)
    beatmap_playcounts_count: int = 0
    comments_count: int = 0
    current_season_stats: None = None
    daily_challenge_user_stats: DailyChallengeUserStats
    favourite_beatmapset_count: int
    follower_count: int
    graveyard_beatmapset_count: int = 0
    guest_beatmapset_count: int = 0
    loved_beatmapset_count: int = 0
    mapping_follower_count: int = 0
    matchmaking_stats: list[object] = msgspec.field(default_factory=list)
    monthly_playcounts: list[object] = msgspec.field(default_factory=list)
    nominated_beatmapset_count: int = 0
    page: UserPage
    pending_beatmapset_count: int = 0
    previous_usernames: list[str] = msgspec.field(default_factory=list)
    rank_highest: None = None
    ranked_beatmapset_count: int = 0
    replays_watched_counts: list[object] = msgspec.field(default_factory=list)
    scores_best_count: int = 0
    scores_first_count: int = 0
    scores_pinned_count: int = 0
    scores_recent_count: int = 0
    statistics: UserStatistics  # required on full users (optional on UserCompact)
    user_achievements: list[object] = msgspec.field(default_factory=list)
    rank_history: RankHistory | None = None
    rankHistory: RankHistory | None = None  # osu-web still sends the old name too
    ranked_and_approved_beatmapset_count: int = 0
    unranked_beatmapset_count: int = 0


class Me(User, frozen=True, kw_only=True):
    """APIMe: the full user plus what only its owner sees."""

    is_restricted: bool
    # "totp" or "mail" while the sign-in awaits session verification (lazer's 2FA screen).
    session_verification_method: Literal["totp", "mail"] | None = None
    statistics_rulesets: StatisticsRulesets


class UsersEnvelope(msgspec.Struct, frozen=True):
    """`{"users": [...]}` of users?ids[] and users/lookup."""

    users: list[UserCompact]


class UserRelation(msgspec.Struct, frozen=True):
    """APIRelation (osu-web api >= 20241022): a friend or block with its target."""

    target_id: int
    relation_type: Literal["friend", "block"]
    mutual: bool
    target: UserCompact


class UserRelationEnvelope(msgspec.Struct, frozen=True):
    """POST friends answers with the new relation under `user_relation`."""

    user_relation: UserRelation


# The roles this server has, shown as osu-web user groups (identifiers, names and short
# names as osu-web's; the ids are ours).
ROLE_GROUPS: dict[str, UserGroup] = {
    "admin": UserGroup(
        colour="#E45678",
        has_listing=True,
        has_playmodes=False,
        id=1,
        identifier="admin",
        is_probationary=False,
        name="Administrators",
        short_name="ADM",
    ),
    "moderator": UserGroup(
        colour="#99EB47",
        has_listing=True,
        has_playmodes=False,
        id=4,
        identifier="gmt",
        is_probationary=False,
        name="Global Moderation Team",
        short_name="GMT",
    ),
    "bot": UserGroup(
        colour=None,
        has_listing=False,
        has_playmodes=False,
        id=29,
        identifier="bot",
        is_probationary=False,
        name="Chat Bots",
        short_name="BOT",
    ),
}


def role_groups(*, is_admin: bool, is_moderator: bool, is_bot: bool) -> list[UserGroup]:
    """The groups an account's roles show as, most senior first."""
    held = {"admin": is_admin, "moderator": is_moderator, "bot": is_bot}
    return [group for role, group in ROLE_GROUPS.items() if held[role]]
