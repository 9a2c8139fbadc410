"""GET search: users by name and wiki pages (osu-web's AllSearch for API requests).

Of AllSearch's modes only `user` and `wiki_page` have a transformer, so only they appear in
an API answer; `all` gives both. This server keeps no wiki, so `wiki_page` is always empty."""

from __future__ import annotations

import enum
from typing import Final

from server.models.search import SearchResults, UserResults, WikiResults
from server.repositories.user_search import UserSearchRepository
from server.repositories.users import UserRepository, username_safe
from server.services.profiles import ProfileService

# osu-web's UserSearch page size, and how deep its result window goes.
USERS_PER_PAGE: Final = 20
MAX_USER_RESULTS: Final = 10_000
SEARCH_MODES: Final = ("all", "user", "wiki_page")


class SearchRejected(enum.Enum):
    """Why a search is refused."""

    BAD_MODE = "invalid mode"


class SiteSearch:
    """Users and wiki pages."""

    def __init__(
        self, repo: UserSearchRepository, users: UserRepository, profiles: ProfileService
    ) -> None:
        self._repo = repo
        self._users = users
        self._profiles = profiles

    async def search(self, mode: str, query: str, page: int) -> SearchResults | SearchRejected:
        """The sections of `mode` for `query` (1-based `page` of users)."""
        if mode not in SEARCH_MODES:
            return SearchRejected.BAD_MODE
        users: UserResults | None = None
        if mode in ("all", "user"):
            users = UserResults([], 0)
            name = username_safe(query)
            offset = (page - 1) * USERS_PER_PAGE
            if name and offset < MAX_USER_RESULTS:
                ids, total = await self._repo.search(name, USERS_PER_PAGE, offset)
                found = {a.id: a for a in await self._users.by_ids(ids)}
                accounts = [found[i] for i in ids if i in found]
                users = UserResults(await self._profiles.compact_many(accounts), total)
        wiki = WikiResults([], 0) if mode in ("all", "wiki_page") else None
        if users is not None and wiki is not None:
            return SearchResults(user=users, wiki_page=wiki)
        if users is not None:
            return SearchResults(user=users)
        assert wiki is not None
        return SearchResults(wiki_page=wiki)
