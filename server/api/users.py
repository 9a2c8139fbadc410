"""GET /me, users/{user}[/{mode}], users?ids[], users/lookup."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.api import params
from server.http import JSONResponse, fail, services, unauthenticated
from server.models.rulesets import RULESETS
from server.models.users import UsersEnvelope


def _mode(request: Request) -> str | None:
    # osu-web's UsersController answers an unknown `{mode}` with 404.
    if "mode" not in request.path_params:
        return None
    return params.path_ruleset(request, 404, "unknown ruleset")


async def me(request: Request) -> Response:
    """GET /me[/{mode}]: APIMe of the signed-in user."""
    session, user_id = await params.require_user_session(request, "identify", unverified_ok=True)
    svc = services(request)
    if session.verified:
        rendered = await svc.profiles.me_json_by_id(user_id, _mode(request))
        if rendered is None:
            unauthenticated()
        return JSONResponse(rendered)
    # A sign-in awaiting verification: its own answer, naming the method (a code mailed).
    account = await svc.profiles.account(user_id)
    if account is None:
        unauthenticated()
    method = await svc.verification.pending_method(session, account)
    return JSONResponse(await svc.profiles.me_json(account, _mode(request), method))


async def show_user(request: Request) -> Response:
    """GET /users/{user}[/{mode}]: by id or name (`@name`, or `?key=username`)."""
    await params.require_session(request, "public")
    mode = _mode(request)
    profiles = services(request).profiles
    user_id = params.path_user_id(request)
    if user_id is None:  # by name
        return JSONResponse(await profiles.user_json(await params.user_from_path(request), mode))
    rendered = await profiles.user_json_by_id(user_id, mode)
    if rendered is None:
        fail(404, params.USER_NOT_FOUND)
    return JSONResponse(rendered)


async def list_users(request: Request) -> Response:
    """GET /users?ids[]=: up to 50 users (multiplayer and lookups)."""
    await params.require_session(request, "public")
    svc = services(request)
    found = await svc.profiles.accounts(params.id_list_ints(request))
    accounts = [account for account in found if not account.is_restricted]
    ruleset_id = params.ruleset_id(request.query_params.get("ruleset_id"))
    ruleset = RULESETS[ruleset_id] if ruleset_id is not None else None
    return JSONResponse(UsersEnvelope(users=await svc.profiles.compact_many(accounts, ruleset)))


async def lookup_users(request: Request) -> Response:
    """GET /users/lookup?ids[]=: ids, `@name` or bare names, as osu-web's LookupController."""
    await params.require_session(request, "public")
    accounts = await params.users_from_lookup(request)
    ruleset_id = params.ruleset_id(request.query_params.get("ruleset_id"))
    ruleset = RULESETS[ruleset_id] if ruleset_id is not None else None
    shaped = await services(request).profiles.compact_many(accounts, ruleset)
    return JSONResponse(UsersEnvelope(users=shaped))
