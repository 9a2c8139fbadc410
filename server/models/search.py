"""GET search (osu-web HomeController::search, AllSearch::toJson): one section per mode."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from server.models.users import UserCompact


class UserResults(msgspec.Struct, frozen=True):
    """The `user` section: a page of users and how many match."""

    data: list[UserCompact]
    total: int


class WikiResults(msgspec.Struct, frozen=True):
    """The `wiki_page` section (this server keeps no wiki: always empty)."""

    data: list[dict[str, Any]]
    total: int


class SearchResults(msgspec.Struct, frozen=True, omit_defaults=True):
    """The sections of the mode asked for (`all`: both)."""

    user: UserResults | UnsetType = UNSET
    wiki_page: WikiResults | UnsetType = UNSET
