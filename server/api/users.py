"""GET /me, users/{user}[/{mode}], users?ids[], users/lookup."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.http import JSONResponse, fail, int_param, require_session, require_user, services
from server.models.rulesets import known_rulesets
from server.models.users import UsersEnvelope
from server.repositories.users import UserAccount

_MAX_IDS = 50


def _ruleset(request: Request) -> str | None:
    mode = request.path_params.get("mode")
    if mode is None:
        return None
    if mode not in known_rulesets(services(request).settings.enable_relax_rulesets):
        fail(404, "unknown ruleset")
    return str(mode)


async def me(request: Request) -> Response:
    """GET /me[/{mode}]: APIMe of the signed-in user."""
    _, account = await require_user(request, "identify")
    return JSONResponse(await services(request).profiles.me_json(account, _ruleset(request)))


async def show_user(request: Request) -> Response:
    """GET /users/{user}[/{mode}]: by id or name (`@name`, or `?key=username`)."""
    await require_session(request, "public")
    svc = services(request)
    ruleset = _ruleset(request)
    raw: str = request.path_params["user"]
    key = request.query_params.get("key")
    account: UserAccount | None = None
    if raw.startswith("@"):
        account = await svc.users.by_username(raw[1:])
    elif key == "username":
        account = await svc.users.by_username(raw)
    elif raw.isascii() and raw.isdigit() and len(raw) < 12:
        account = await svc.users.cached_by_id(int(raw))
        if account is None and key != "id":
            account = await svc.users.by_username(raw)
    elif key != "id":
        account = await svc.users.by_username(raw)
    if account is None or account.is_restricted:
        fail(404, "User not found! ;_;")
    return JSONResponse(await svc.profiles.user_json(account, ruleset))


def _ids(request: Request) -> list[int]:
    raw = request.query_params.getlist("ids[]") or request.query_params.getlist("ids")
    ids = [int_param(v, "ids[]", minimum=1) for v in raw[:_MAX_IDS]]
    return [i for i in ids if i is not None]


async def list_users(request: Request) -> Response:
    """GET /users?ids[]=: up to 50 users (multiplayer and lookups)."""
    await require_session(request, "public")
    svc = services(request)
    accounts = [a for a in await svc.users.by_ids(_ids(request)) if not a.is_restricted]
    ruleset_id = int_param(request.query_params.get("ruleset_id"), "ruleset_id", minimum=0)
    ruleset = None
    if ruleset_id is not None:
        names = known_rulesets(False)
        if ruleset_id >= len(names):
            fail(422, "unknown ruleset_id")
        ruleset = names[ruleset_id]
    return JSONResponse(UsersEnvelope(users=await svc.profiles.compact_many(accounts, ruleset)))


async def lookup_users(request: Request) -> Response:
    """GET /users/lookup?ids[]=: ids, or `@name` entries, as lazer's UserLookupCache sends."""
    await require_session(request, "public")
    svc = services(request)
    raw = (request.query_params.getlist("ids[]") or request.query_params.getlist("ids"))[:_MAX_IDS]
    ids: list[int] = []
    found: dict[int, UserAccount] = {}
    for value in raw:
        if value.startswith("@"):
            account = await svc.users.by_username(value[1:])
            if account is not None:
                found[account.id] = account
        else:
            number = int_param(value, "ids[]", minimum=1)
            if number is not None:
                ids.append(number)
    for account in await svc.users.by_ids(ids):
        found[account.id] = account
    accounts = [a for _, a in sorted(found.items()) if not a.is_restricted]
    return JSONResponse(UsersEnvelope(users=await svc.profiles.compact_many(accounts)))
