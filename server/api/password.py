"""Password change (`PUT /api/v2/me/password`) and reset by emailed code (`POST
/password-reset`, `POST /password-reset/reset`, osu-web's web routes, here answering JSON)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import require_user
from server.http import JSONResponse, client_ip, fail, read_fields, services
from server.services.credentials import PasswordRejected, ResetRequest
from server.services.limits import LimiterUnavailable


def _field(fields: dict[str, str], name: str) -> str | None:
    # osu-web's forms send `user[password]`; plain names are accepted too.
    return fields.get(f"user[{name}]", fields.get(name))


def _rejected(outcome: PasswordRejected) -> JSONResponse:
    return JSONResponse({"form_error": {"user": outcome.errors}}, status_code=422)


async def change_password(request: Request) -> Response:
    """PUT me/password: `current_password`, `password` (and `password_confirmation`)."""
    session, user = await require_user(request, "*")
    fields = await read_fields(request)
    svc = services(request)
    try:
        outcome = await svc.credentials.change_password(
            user,
            _field(fields, "current_password") or "",
            _field(fields, "password") or "",
            _field(fields, "password_confirmation"),
            session.family_id,
            client_ip(request, svc.settings.trusted_proxy_hops),
        )
    except LimiterUnavailable:
        fail(503, "Password changes are temporarily unavailable.", {"Retry-After": "5"})
    if outcome is not None:
        return _rejected(outcome)
    return Response(status_code=204)


async def request_reset(request: Request) -> Response:
    """POST password-reset: `username` (a name or an email); a code is mailed."""
    fields = await read_fields(request)
    svc = services(request)
    login = fields.get("username", "")
    if not login.strip():
        fail(422, "Enter a username or email address.")
    try:
        outcome = await svc.credentials.request_reset(
            login, client_ip(request, svc.settings.trusted_proxy_hops)
        )
    except LimiterUnavailable:
        fail(503, "Password reset is temporarily unavailable.", {"Retry-After": "5"})
    if outcome is ResetRequest.LIMITED:
        fail(429, "Too many reset requests. Try again later.", {"Retry-After": "600"})
    if outcome is ResetRequest.MAIL_FAILED:
        fail(503, "The reset mail could not be sent. Try again later.")
    # The same answer whether or not the account exists.
    return JSONResponse(
        {"message": "If that account exists, a reset code has been sent to its email address."}
    )


async def reset_password(request: Request) -> Response:
    """POST password-reset/reset: `username`, `key` (the mailed code), `password`."""
    fields = await read_fields(request)
    try:
        outcome = await services(request).credentials.reset_password(
            fields.get("username", ""),
            fields.get("key", ""),
            _field(fields, "password") or "",
            _field(fields, "password_confirmation"),
        )
    except LimiterUnavailable:
        fail(503, "Password reset is temporarily unavailable.", {"Retry-After": "5"})
    if outcome is not None:
        return _rejected(outcome)
    return JSONResponse({"message": "Your password has been changed. Sign in again."})
