"""The UserCompact presenter (osu-web UserCompactTransformer) and the parts every user
shape shares: avatar and cover URLs, the country."""

from __future__ import annotations

from typing import Final

from msgspec import UNSET, UnsetType

from server.models.users import Country, Cover, UserCompact, UserStatistics
from server.repositories.users import UserAccount
from server.services.countries import country_name

# osu-web's preset covers (App\Libraries\User\Cover): with no custom cover a user shows
# preset `id % 8`, served from the site's own images (lazer loads images only from
# *.ppy.sh, so the official URL is the one that shows).
_COVER_PRESETS: Final = ("1", "2", "3", "4", "5", "6", "7", "8")
_COVER_PRESET_URL: Final = "https://osu.ppy.sh/images/headers/profile-covers/c{}.jpg"


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
    """UserCompact with `country` and `cover` (what score and ranking rows include); with
    `listing`, also the groups, support level and team that user lists include."""
    return UserCompact(
        avatar_url=avatar_url(account),
        country_code=account.country_code,
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
        groups=[] if listing else UNSET,
        support_level=(1 if account.is_supporter else 0) if listing else UNSET,
        statistics=statistics,
        team=None if listing else UNSET,
    )
