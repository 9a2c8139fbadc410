"""POST /oauth/token and POST /users (registration), as lazer and RFC 6749 clients send them."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from server.api.params import ANY_SCOPE, require_session
from server.http import (
    JSONResponse,
    client_ip,
    fail,
    read_fields,
    read_token_fields,
    services,
)
from server.services.accounts import RegistrationInput, RegistrationRejected
from server.services.countries import normalise_country
from server.services.limits import LimiterUnavailable
from server.services.oauth import OAuthFailure, TokenRequest


def _oauth_error(failure: OAuthFailure) -> JSONResponse:
    # Passport's body: lazer shows `hint`, else `error`; OAuth libraries read `error`.
    body = {
        "error": failure.error,
        "error_description": failure.description,
        "message": failure.description,
    }
    if failure.hint is not None:
        body["hint"] = failure.hint
    return JSONResponse(body, status_code=failure.status)


async def issue_token(request: Request) -> Response:
    """POST /oauth/token: password, refresh_token and client_credentials grants."""
    svc = services(request)
    ip = client_ip(request, svc.settings.trusted_proxy_hops)
    try:
        allowance = await svc.token_limiter.hit(ip)
    except LimiterUnavailable:
        fail(503, "Sign-in is temporarily unavailable.", {"Retry-After": "5"})
    if not allowance.allowed:
        return JSONResponse(
            {"error": "too_many_requests", "hint": "Too many sign-in requests. Try again shortly."},
            status_code=429,
            headers={"Retry-After": str(allowance.retry_after)},
        )
    fields = await read_token_fields(request)
    if not fields.get("grant_type"):
        return _oauth_error(
            OAuthFailure(
                400,
                "invalid_request",
                "The request is missing a required parameter.",
                "Check the `grant_type` parameter",
            )
        )
    token_request = msgspec.convert(
        {k: v for k, v in fields.items() if k in TokenRequest.__struct_fields__}, TokenRequest
    )
    try:
        outcome = await svc.oauth.grant(token_request, ip)
    except LimiterUnavailable:
        fail(503, "Sign-in is temporarily unavailable.", {"Retry-After": "5"})
    if isinstance(outcome, OAuthFailure):
        return _oauth_error(outcome)
    return JSONResponse(outcome, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def register(request: Request) -> Response:
    """POST /users: create an account from lazer's multipart `user[...]` fields."""
    svc = services(request)
    if not svc.settings.registration_enabled:
        fail(403, "Registration is disabled on this server.")
    ip = client_ip(request, svc.settings.trusted_proxy_hops)
    try:
        allowance = await svc.registration_limiter.hit(ip)
    except LimiterUnavailable:
        fail(503, "Registration is temporarily unavailable.", {"Retry-After": "5"})
    if not allowance.allowed:
        fail(
            429,
            "Too many registrations from this address. Try again later.",
            {"Retry-After": str(allowance.retry_after)},
        )
    fields = await read_fields(request)
    data = RegistrationInput(
        username=fields.get("user[username]", ""),
        email=fields.get("user[user_email]", ""),
        password=fields.get("user[password]", ""),
    )
    country = (
        normalise_country(request.headers.get(svc.settings.country_header))
        if svc.settings.country_header
        else "XX"
    )
    outcome = await svc.accounts.register(data, country)
    if isinstance(outcome, RegistrationRejected):
        return JSONResponse({"form_error": {"user": outcome.errors}}, status_code=422)
    users = await svc.profiles.compact_many([outcome.user])
    return JSONResponse(users[0])


async def revoke_current_token(request: Request) -> Response:
    """DELETE /api/v2/oauth/tokens/current: sign out (ossapi's revoke_token, bots, sites).

    osu-web revokes the token and its refresh token; here the whole sign-in family goes,
    which is the same set plus the already-rotated ones."""
    session = await require_session(request, ANY_SCOPE)  # any token may sign itself out
    await services(request).tokens.revoke_family(session.family_id)
    return Response(status_code=204)
