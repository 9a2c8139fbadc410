"""Request parameters, each parsed here once, with the status code osu-web answers.

- Path ids (`{beatmap}`, `{beatmapset}`, `{score}`, `{token}`, `{target}`): ASCII digits,
  1 to 2**63-1; anything else is 404 (osu-web's `findOrFail`, `parseIdOrFail`).
- Query and form integers (`ids[]`, `ruleset_id`, `since`, `target`, ...): ASCII digits with
  an optional `-`, within 64 bits; anything else is 422 naming the parameter.
- `{user}`: `123` (an id), `@name` or `name`; `?key=id` or `?key=username` narrows it; 404.
- `users/lookup?ids[]=`: ids, `@name` or bare names; unknown ones left out; over 50 is 422.
- Ruleset names (`osu`, `taiko`, `fruits`, `mania`, relax names when enabled): the route's own
  osu-web status, 404 on profiles, rankings and score lists, 422 on leaderboards.
- Ruleset ids (0-3): 422.
- `limit`, `offset`, `page`: clamped to the route's range; absent or malformed is the
  default, as osu-web's `get_int` never rejects them.
- `cursor_string`: osu-web's URL-safe base64 JSON object; anything else is 422.
- Bearer token: `Authorization: Bearer <token>` (sockets also `?access_token=`); without a
  valid one 401 where a token is needed, and a token without the route's scope is 403.

Ids are checked as ASCII digits before `int()`: `str.isdigit()` is true for other scripts'
digits and for superscripts (`int("²")` then raises, a 500), and an id past 64 bits would
overflow the database's BIGINT. Neither reaches the database.

Query integers are a deliberate divergence: osu-web casts them (`(int) "abc"` is 0) and
answers with whatever that finds; a 422 that names the parameter is clearer to a client and
never matches a row by accident. Pagination keeps osu-web's leniency: clients send odd
`limit` values and expect a page back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, NoReturn

from starlette.requests import Request

from server.http import ApiError, fail, services, unauthenticated
from server.models.cursors import decode_cursor_string
from server.models.rulesets import RULESET_IDS, RULESETS, known_rulesets
from server.repositories.users import UserAccount
from server.services.tokens import Bearer, Session

MAX_ID: Final = 2**63 - 1
# At most 19 digits: 2**63-1 has 19, so a longer run cannot be an id.
_ID_RE: Final = re.compile(r"[0-9]{1,19}")
_INT_RE: Final = re.compile(r"-?[0-9]+")
MAX_LOOKUP_IDS: Final = 50
USER_NOT_FOUND: Final = "User not found! ;_;"


def query_value(request: Request, name: str) -> str | None:
    """A query parameter (its first value), or None; a request without a query string is
    not parsed (the hot reads have none)."""
    if not request.scope.get("query_string"):
        return None
    return request.query_params.get(name)


def ascii_id(raw: str | None) -> int | None:
    """`raw` as a positive 64-bit id when it is one (ASCII digits only), else None."""
    if raw is None or not _ID_RE.fullmatch(raw):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def path_id(request: Request, name: str, missing: str = "Not found") -> int:
    """The `{name}` path id; anything but a positive 64-bit id is osu-web's 404."""
    value = ascii_id(str(request.path_params.get(name, "")))
    if value is None:
        fail(404, missing)
    return value


def int_param(value: str | None, name: str, minimum: int | None = None) -> int | None:
    """An optional query or form integer (None when absent or empty); a malformed one, one
    below `minimum` or one past 64 bits is a 422."""
    if value is None or value == "":
        return None
    if not _INT_RE.fullmatch(value):
        fail(422, f"{name} must be an integer")
    if len(value.removeprefix("-")) > 19:  # past 64 bits, without converting a long string
        fail(422, f"{name} is out of range")
    number = int(value)
    if minimum is not None and number < minimum:
        fail(422, f"{name} must be at least {minimum}")
    if abs(number) > MAX_ID:
        fail(422, f"{name} is out of range")
    return number


def bool_param(value: str | None) -> bool:
    """osu-web's get_bool: 1/true/on/yes are true, anything else false."""
    return value is not None and value.strip().lower() in ("1", "true", "on", "yes")


def id_list(request: Request, name: str = "ids") -> list[str]:
    """The raw `ids[]` (or `ids`) values, at most 50 (osu-web takes the first 50)."""
    query = request.query_params
    return (query.getlist(f"{name}[]") or query.getlist(name))[:MAX_LOOKUP_IDS]


def id_list_ints(request: Request, name: str = "ids") -> list[int]:
    """`ids[]` as positive ids; a malformed entry is a 422."""
    values = (int_param(raw, f"{name}[]", minimum=1) for raw in id_list(request, name))
    return [value for value in values if value is not None]


# -- rulesets --------------------------------------------------------------------------------


def ruleset(request: Request, value: str | None, status: int, message: str) -> str | None:
    """A ruleset name (None when absent). osu-web answers an unknown one with 404 on profile,
    ranking and score-list routes and 422 on leaderboards, so each route passes its own."""
    if value is None or value == "":
        return None
    if value not in known_rulesets(services(request).settings.enable_relax_rulesets):
        fail(status, message)
    return value


def path_ruleset(request: Request, status: int, message: str, name: str = "mode") -> str:
    """The `{mode}` path segment as a ruleset name (the route matched, so it is present)."""
    found = ruleset(request, str(request.path_params.get(name, "")), status, message)
    if found is None:
        fail(status, message)
    return found


def ruleset_id_by_name(value: str | None, status: int, message: str) -> int | None:
    """The id of one of the four official rulesets by name (None when absent): routes that
    compute per ruleset (difficulty attributes) know no relax variants."""
    if value is None or value == "":
        return None
    if value not in RULESET_IDS:
        fail(status, message)
    return RULESET_IDS[value]


def ruleset_id(value: str | None, name: str = "ruleset_id") -> int | None:
    """A ruleset id 0-3 (None when absent); anything else is osu-web's 422."""
    number = int_param(value, name, minimum=0)
    if number is not None and number >= len(RULESETS):
        fail(422, f"invalid {name} specified")
    return number


# -- pagination ------------------------------------------------------------------------------


_LENIENT_INT_RE: Final = re.compile(r"(-?)([0-9]+)")


def _lenient_int(value: str | None) -> int | None:
    """An integer for clamping: a run of ASCII digits past 64 bits saturates at the bound
    (without converting a long string), anything else is None."""
    match = _LENIENT_INT_RE.fullmatch(value) if value is not None else None
    if match is None:
        return None
    sign, digits = match.groups()
    number = int(digits) if len(digits) <= 19 else MAX_ID
    return -number if sign else number


def lenient_int(value: str | None) -> int | None:
    """An optional query integer as osu-web's `get_int` reads it: malformed counts as absent,
    and a run of digits past 64 bits saturates at the bound."""
    return _lenient_int(value)


def limit(value: str | None, default: int, maximum: int) -> int:
    """`limit` clamped to 1...maximum; absent or malformed is the default (osu-web's
    `get_int` then `clamp`)."""
    number = _lenient_int(value)
    return default if number is None else max(1, min(number, maximum))


def offset(value: str | None, maximum: int) -> int:
    """`offset` clamped to 0...maximum; absent or malformed is 0."""
    number = _lenient_int(value)
    return 0 if number is None else max(0, min(number, maximum))


def page(value: str | None) -> int:
    """`page` (or `cursor[page]`) from 1; absent or malformed is the first page."""
    number = _lenient_int(value)
    return 1 if number is None else max(1, number)


def cursor_string(value: str | None) -> dict[str, str] | None:
    """osu-web's opaque `cursor_string` as its fields; None when absent, 422 when it is not
    one we could have issued."""
    if not value:
        return None
    fields = decode_cursor_string(value)
    if fields is None:
        fail(422, "invalid cursor")
    return fields


# -- users -----------------------------------------------------------------------------------


async def user_from_path(request: Request, key: str | None = None) -> UserAccount:
    """The `{user}` path parameter as osu-web's `FindForProfilePage` reads it:

    - `key=id`: an id only; `key=username`: a name only (a leading `@` is dropped);
    - otherwise all digits is an id (never a name: a numeric name needs `@` or
      `key=username`), anything else a name, `@name` included.

    `key` is the route's own (osu-web looks score lists up by id only); by default the
    request's `?key=`. Unknown and restricted users are 404."""
    users = services(request).profiles
    user_id = path_user_id(request, key)
    account: UserAccount | None = None
    if user_id is not None:
        account = await users.account(user_id)
    elif name := str(request.path_params.get("user", "")).removeprefix("@"):
        account = await users.account_named(name)
    if account is None or account.is_restricted:
        fail(404, USER_NOT_FOUND)
    return account


def path_user_id(request: Request, key: str | None = None) -> int | None:
    """The `{user}` path parameter's id when `user_from_path` reads it as one (a malformed id
    is a 404), None when it names a user by name."""
    raw = str(request.path_params.get("user", ""))
    key = key if key is not None else query_value(request, "key")
    if key == "id" or (key != "username" and raw.isascii() and raw.isdigit()):
        user_id = ascii_id(raw)
        if user_id is None:
            fail(404, USER_NOT_FOUND)
        return user_id
    return None


async def users_from_lookup(request: Request) -> list[UserAccount]:
    """`users/lookup?ids[]=`: each entry all digits is an id, anything else a name (`@name`
    or bare, as osu-web's `LookupController`); unknown and restricted users are left out,
    and more than 50 entries is osu-web's 422."""
    users = services(request).profiles
    query = request.query_params
    values = [v for v in query.getlist("ids[]") or query.getlist("ids") if v]
    if len(values) > MAX_LOOKUP_IDS:  # osu-web's RequestTooLargeException
        fail(422, f"ids parameter has a maximum of {MAX_LOOKUP_IDS} items")
    ids: list[int] = []
    found: dict[int, UserAccount] = {}
    for value in values:
        if value.isascii() and value.isdigit():
            if (user_id := ascii_id(value)) is not None:
                ids.append(user_id)
        elif name := value.removeprefix("@"):
            account = await users.account_named(name)
            if account is not None:
                found[account.id] = account
    for account in await users.accounts(ids):
        found[account.id] = account
    return [account for _, account in sorted(found.items()) if not account.is_restricted]


# -- bearer tokens and scopes ---------------------------------------------------------------
#
# Scopes as osu-web's `require-scopes` middleware applies them: a route names the scope it
# needs (`public` for reads, `identify` for `me`, `friends.read`, `chat.read`, ...); a route
# that names none needs the all-access scope `*` that lazer's tokens carry (`ALL_ACCESS`),
# and `oauth/tokens/current` takes any token. A client-credentials token (no user) reads every
# `public` route osu-web serves without `auth`; routes that act as a user also need one.
# `seasonal-backgrounds` is in osu-web's NO_TOKEN_REQUIRED list and takes no token at all.

ALL_ACCESS: Final = "*"
ANY_SCOPE: Final = "any"
# Scope key under which the API rate limiter leaves the bearer token it read, hashed and
# looked up (services.tokens.Bearer), so authentication does not do it again.
BEARER: Final = "osu.bearer"
# Scope key under which authentication leaves the caller's user id for the access log.
USER_ID: Final = "osu.user_id"


def bearer_token(headers: Mapping[str, str], query: Mapping[str, str] | None = None) -> str:
    """The token of `Authorization: Bearer <token>`, or "" when none was sent (an empty
    `Bearer ` is anonymous: aiosu sends one before it has a token). Sockets pass `query`:
    browser WebSocket clients cannot set headers and send `?access_token=` instead."""
    scheme, _, value = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return query.get("access_token", "") if query is not None else ""


async def optional_session(request: Request) -> Session | None:
    """The caller's session when a valid bearer token came with the request."""
    bearer: Bearer | None = request.scope.get(BEARER)
    if bearer is not None:
        # The edge read this request's bearer token (the first Authorization header, as
        # Headers.get) for the rate limit.
        token = bearer.token
    else:
        token = bearer_token(request.headers)
        if not token:
            return None
    session = await services(request).tokens.authenticate(token, bearer)
    if session is not None:
        request.scope[USER_ID] = session.user_id
    return session


def _check_scope(session: Session, scope: str) -> None:
    if scope == ANY_SCOPE or session.allows(scope):
        return
    if scope == ALL_ACCESS:  # Passport's MissingScopeException() default text
        fail(403, "Invalid scope(s) provided.")
    fail(403, "A required scope is missing.")


def _unverified() -> NoReturn:
    # osu-web's answer to a sign-in that still awaits session verification.
    raise ApiError(401, {"authentication": "verify"})


async def require_session(request: Request, scope: str = "public") -> Session:
    """The caller's session, a user's or a client's; 401 without a valid (verified) token,
    403 when the token lacks `scope`."""
    session = await optional_session(request)
    if session is None:
        unauthenticated()
    if not session.verified:
        _unverified()
    _check_scope(session, scope)
    return session


async def require_user_session(
    request: Request, scope: str = ALL_ACCESS, *, unverified_ok: bool = False
) -> tuple[Session, int]:
    """A user's session and user id (osu-web's `auth` middleware: a client-credentials
    token has none, 401), with `scope`. A sign-in awaiting session verification gets 401
    unless the route is one it needs (`unverified_ok`: me, session/verify, notifications).
    The account is not read: `require_user` does."""
    session = await optional_session(request)
    if session is None or session.user_id is None:
        unauthenticated()
    if not session.verified and not unverified_ok:
        _unverified()
    _check_scope(session, scope)
    return session, session.user_id


async def require_user(
    request: Request, scope: str = ALL_ACCESS, *, unverified_ok: bool = False
) -> tuple[Session, UserAccount]:
    """The signed-in user behind the token, as `require_user_session` checks it, and their
    account (401 when it is gone)."""
    session, user_id = await require_user_session(request, scope, unverified_ok=unverified_ok)
    account = await services(request).profiles.account(user_id)
    if account is None:
        unauthenticated()
    return session, account


async def viewer(request: Request, session: Session) -> UserAccount | None:
    """The account behind a session; None for a client-credentials token."""
    if session.user_id is None:
        return None
    return await services(request).profiles.account(session.user_id)
