"""The UserCompact presenter (osu-web UserCompactTransformer) and the parts every user
shape shares: avatar and cover URLs, the country."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import msgspec
from msgspec import UNSET, UnsetType

from server.models.users import (
    Country,
    Cover,
    DailyChallengeUserStats,
    Kudosu,
    Me,
    StatisticsRulesets,
    User,
    UserCompact,
    UserPage,
    UserStatistics,
    role_groups,
)
from server.repositories.users import ProfileCounts, UserAccount
from server.services.countries import country_name

# osu-web's preset covers (App\Libraries\User\Cover): with no custom cover a user shows
# preset `id % 8`, served from the site's own images (lazer loads images only from
# *.ppy.sh, so the official URL is the one that shows).
_COVER_PRESETS: Final = ("1", "2", "3", "4", "5", "6", "7", "8")
_COVER_PRESET_URL: Final = "https://osu.ppy.sh/images/headers/profile-covers/c{}.jpg"
# osu-web's limits for non-supporters and supporters; everyone is a supporter here by default.
_MAX_FRIENDS: Final = 500
_MAX_BLOCKS: Final = 100
_PROFILE_ORDER: Final = (
    "me",
    "recent_activity",
    "top_ranks",
    "medals",
    "historical",
    "beatmaps",
    "kudosu",
)


def avatar_url(account: UserAccount) -> str:
    """The avatar, or the official CDN's default for this id (osu-web's own fallback)."""
    return account.avatar_url or f"https://a.ppy.sh/{account.id}"


def cover(account: UserAccount) -> Cover:
    """The `cover` include: the custom cover, else osu-web's default preset for the id."""
    if account.cover_url:
        return Cover(custom_url=account.cover_url, url=account.cover_url, id=None)
    preset = _COVER_PRESETS[max(0, account.id) % len(_COVER_PRESETS)]
    return Cover(custom_url=None, url=_COVER_PRESET_URL.format(preset), id=preset)


def country(account: UserAccount) -> Country:
    """The `country` include."""
    return Country(account.country_code, country_name(account.country_code))


def user_compact(
    account: UserAccount,
    *,
    online: bool = False,
    statistics: UserStatistics | UnsetType = UNSET,
    listing: bool = False,
) -> UserCompact:
    """UserCompact with `country`, `cover` and `team` (osu-web's score includes, which
    ranking rows share; no teams here, so null); with `listing`, also the groups and support
    level that user lists include."""
    groups = role_groups(
        is_admin=account.is_admin, is_moderator=account.is_moderator, is_bot=account.is_bot
    )
    return UserCompact(
        avatar_url=avatar_url(account),
        country_code=account.country_code,
        default_group=groups[0].identifier if groups else "default",
        id=account.id,
        is_active=True,
        is_bot=account.is_bot,
        is_online=online,
        is_supporter=account.is_supporter,
        last_visit=account.last_visit_at,
        pm_friends_only=account.pm_friends_only,
        profile_colour=account.profile_colour,
        username=account.username,
        country=country(account),
        cover=cover(account),
        groups=groups if listing else UNSET,
        support_level=(1 if account.is_supporter else 0) if listing else UNSET,
        statistics=statistics,
        team=None,
    )


def full_user(
    account: UserAccount,
    *,
    online: bool,
    statistics: UserStatistics,
    counts: ProfileCounts,
    previous_usernames: list[str],
    challenge_stats: DailyChallengeUserStats,
    extras: Mapping[str, Any],
) -> User:
    """The full User of users/{id}/{mode}: UserCompact with the list includes, the profile,
    and what scores add (`extras`: rank history and score counts)."""
    compact = user_compact(account, online=online, statistics=statistics, listing=True)
    assert isinstance(compact.cover, Cover)
    return User(
        **msgspec.structs.asdict(compact),
        cover_url=compact.cover.url,
        discord=account.discord,
        has_supported=account.is_supporter,
        interests=account.interests,
        join_date=account.created_at,
        location=account.location,
        max_blocks=_MAX_BLOCKS,
        max_friends=_MAX_FRIENDS,
        occupation=account.occupation,
        playmode=account.playmode,
        # osu-web sends null when no play style is set; ossapi cannot parse [].
        playstyle=None,
        profile_order=list(_PROFILE_ORDER),
        title=account.title,
        twitter=account.twitter,
        website=account.website,
        kudosu=Kudosu(available=0, total=0),
        daily_challenge_user_stats=challenge_stats,
        favourite_beatmapset_count=counts.favourites,
        follower_count=counts.followers,
        page=UserPage(html="", raw=""),
        previous_usernames=previous_usernames,
        **extras,
    )


def me(user: User, account: UserAccount, per_ruleset: Mapping[str, UserStatistics]) -> Me:
    """APIMe: the full user plus what only its owner sees."""
    return Me(
        **msgspec.structs.asdict(user),
        is_restricted=account.is_restricted,
        statistics_rulesets=StatisticsRulesets(**per_ruleset),
    )
