"""ossapi 5.3.6 against the live server: its strict typed models are a check on our user shapes."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pytest
import requests
from ossapi import GameMode, Ossapi, UserLookupKey  # type: ignore[import-untyped]
from ossapi.models import DailyChallengeUserStats, User  # type: ignore[import-untyped]

from tests.conformance.conftest import HTTP_TIMEOUT, register
from tests.conformance.live_server import LiveServer, ThirdPartyClient
from tests.helpers import LAZER_BOUNDARY, LAZER_CLIENT_ID, LAZER_SECRET, Account, lazer_multipart

T = TypeVar("T")

# ossapi sets no request timeouts and re-authenticates on some errors; every call is bounded.
CALL_TIMEOUT = 20.0


def bounded(call: Callable[[], T]) -> T:
    """Run a blocking ossapi call in a worker thread, failing the test if it outlives the bound."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ossapi")
    try:
        return pool.submit(call).result(timeout=CALL_TIMEOUT)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def ossapi_class(live_server: LiveServer) -> type[Ossapi]:
    """ossapi pointed at the live server (its documented override: class attributes)."""
    return type(
        "LiveOssapi",
        (Ossapi,),
        {
            "TOKEN_URL": f"{live_server.url}/oauth/token",
            "AUTH_CODE_URL": f"{live_server.url}/oauth/authorize",
            "BASE_URL": f"{live_server.url}/api/v2",
        },
    )


@pytest.fixture(autouse=True)
def _plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    # ossapi (through oauthlib) refuses http:// unless told the transport is a test loopback.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture(autouse=True)
def _osu_web_nullable_daily_challenge_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    # ossapi 5.3.6 types these as non-null, but osu-web sends null for anyone who never played
    # a daily challenge (DailyChallengeUserStatsTransformer: json_time(null); UserTransformer
    # makes an empty stats row), so ossapi fails on real osu.ppy.sh too. Loosen just these two.
    for name in ("last_update", "last_weekly_streak"):
        monkeypatch.setitem(DailyChallengeUserStats.__annotations__, name, "Datetime | None")


def _lazer_tokens(live_server: LiveServer, account: Account) -> dict[str, str]:
    """Sign in as lazer does: the multipart password grant with client 5."""
    body, headers = lazer_multipart(
        {
            "username": account.username,
            "password": account.password,
            "grant_type": "password",
            "client_id": LAZER_CLIENT_ID,
            "client_secret": LAZER_SECRET,
            "scope": "*",
        }
    )
    assert LAZER_BOUNDARY in headers["Content-Type"]
    response = requests.post(
        f"{live_server.url}/oauth/token", data=body, headers=headers, timeout=HTTP_TIMEOUT
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _assert_fresh_user(user: User, account: Account) -> None:
    """Fields a just-registered account must show through ossapi's models."""
    assert isinstance(user, User)
    assert user.id == account.id
    assert user.username == account.username
    assert isinstance(user.join_date, datetime)
    assert user.join_date.tzinfo is not None
    assert user.is_bot is False
    assert user.is_deleted is False
    assert user.playmode == "osu"
    assert user.kudosu.total == 0
    assert user.daily_challenge_user_stats.user_id == account.id
    assert user.country is not None and user.country.code == user.country_code
    statistics = user.statistics
    assert statistics is not None
    assert statistics.level.current == 1
    assert statistics.level.progress == 0
    assert statistics.grade_counts.ss == 0
    assert statistics.grade_counts.a == 0
    assert statistics.play_count == 0
    assert statistics.global_rank is None
    assert statistics.is_ranked is False


def test_client_credentials_reads_users_through_typed_models(
    live_server: LiveServer,
    live_account: Account,
    third_party_client: ThirdPartyClient,
    tmp_path: Path,
) -> None:
    """ossapi's default grant fetches a token (HTTP Basic) and parses users/{id}[/{mode}]."""
    api = bounded(
        lambda: ossapi_class(live_server)(
            str(third_party_client.id), third_party_client.secret, token_directory=str(tmp_path)
        )
    )
    by_mode = bounded(lambda: api.user(live_account.id, mode=GameMode.OSU))
    _assert_fresh_user(by_mode, live_account)

    # Without a mode ossapi asks for `users/{id}/` (trailing slash): the user's own playmode.
    default = bounded(lambda: api.user(live_account.id))
    _assert_fresh_user(default, live_account)

    by_name = bounded(lambda: api.user(live_account.username, key=UserLookupKey.USERNAME))
    assert by_name.id == live_account.id

    # ossapi pickled the client-credentials token under token_directory, not site-packages.
    assert list(tmp_path.glob("*.pickle"))


def test_unknown_user_is_an_error_not_a_model(
    live_server: LiveServer, third_party_client: ThirdPartyClient, tmp_path: Path
) -> None:
    """A missing user is osu-web's `{"error": ...}` 404, which ossapi turns into ValueError."""
    api = bounded(
        lambda: ossapi_class(live_server)(
            str(third_party_client.id), third_party_client.secret, token_directory=str(tmp_path)
        )
    )
    with pytest.raises(ValueError, match="api returned an error"):
        bounded(lambda: api.user(999_999_999, mode=GameMode.OSU))


def _lazer_ossapi(live_server: LiveServer, tokens: dict[str, str], tmp_path: Path) -> Ossapi:
    """ossapi holding a pre-issued lazer token, with the user scopes it checks client-side."""
    # get_me/friends need `identify`/`friends.read` client-side, which ossapi only allows
    # with the authorization code grant; a pre-issued token skips that grant's browser step.
    return bounded(
        lambda: ossapi_class(live_server)(
            LAZER_CLIENT_ID,
            LAZER_SECRET,
            redirect_uri="http://127.0.0.1:9/",
            scopes=["public", "identify", "friends.read"],
            grant="authorization",
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            token_directory=str(tmp_path),
        )
    )


def test_user_lists_and_seasonal_backgrounds_parse(
    live_server: LiveServer,
    live_account: Account,
    third_party_client: ThirdPartyClient,
    tmp_path: Path,
) -> None:
    """users?ids[], users/lookup (ids and @names) and seasonal-backgrounds through the models."""
    other = register(live_server)
    api = bounded(
        lambda: ossapi_class(live_server)(
            str(third_party_client.id), third_party_client.secret, token_directory=str(tmp_path)
        )
    )
    listed = bounded(lambda: api.users([live_account.id, other.id, 999_999_999]))
    assert sorted(u.id for u in listed) == sorted([live_account.id, other.id])
    assert all(u.statistics is not None and u.statistics.level.current == 1 for u in listed)

    looked_up = bounded(lambda: api.users_lookup([live_account.id, f"@{other.username}"]))
    assert sorted(u.username for u in looked_up) == sorted([live_account.username, other.username])

    backgrounds = bounded(api.seasonal_backgrounds)
    assert backgrounds.backgrounds == []
    assert isinstance(backgrounds.ends_at, datetime)


def test_friends_in_the_relation_format(
    live_server: LiveServer, live_account: Account, tmp_path: Path
) -> None:
    """A friend added as lazer does comes back through ossapi's UserRelation (api >= 20241022)."""
    friend = register(live_server)
    tokens = _lazer_tokens(live_server, live_account)
    added = requests.post(
        f"{live_server.url}/api/v2/friends",
        params={"target": friend.id},
        headers={"Authorization": f"Bearer {tokens['access_token']}", "x-api-version": "20251101"},
        timeout=HTTP_TIMEOUT,
    )
    assert added.status_code == 200, added.text

    api = _lazer_ossapi(live_server, tokens, tmp_path)
    relations = bounded(api.friends)
    assert [r.target_id for r in relations] == [friend.id]
    assert relations[0].relation_type.value == "friend"
    assert relations[0].mutual is False
    assert relations[0].target.username == friend.username


def test_pre_issued_lazer_token_reads_me(
    live_server: LiveServer, live_account: Account, tmp_path: Path
) -> None:
    """A token from lazer's password grant, handed to ossapi, reads /me/ through its models."""
    api = _lazer_ossapi(live_server, _lazer_tokens(live_server, live_account), tmp_path)
    me = bounded(api.get_me)
    _assert_fresh_user(me, live_account)
    assert me.is_restricted is False
    assert me.statistics_rulesets is not None
    for ruleset in ("osu", "taiko", "fruits", "mania"):
        statistics = getattr(me.statistics_rulesets, ruleset)
        assert statistics is not None, ruleset
        assert statistics.level.current == 1

    taiko = bounded(lambda: api.get_me(GameMode.TAIKO))
    assert taiko.id == live_account.id
    assert taiko.statistics is not None


def test_revoke_token_signs_ossapi_out(
    live_server: LiveServer, live_account: Account, tmp_path: Path
) -> None:
    """ossapi's revoke_token (DELETE oauth/tokens/current) ends the sign-in: the same
    token is refused afterwards."""
    tokens = _lazer_tokens(live_server, live_account)
    api = _lazer_ossapi(live_server, tokens, tmp_path)
    assert bounded(api.get_me).id == live_account.id
    # ossapi then deletes its saved token file, which a pre-issued token never had.
    with contextlib.suppress(FileNotFoundError):
        bounded(api.revoke_token)
    response = requests.get(
        f"{live_server.url}/api/v2/me",
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 401
