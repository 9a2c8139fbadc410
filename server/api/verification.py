"""`POST session/verify`, `session/verify/reissue`, `session/verify/mail-fallback` (lazer's
VerifySessionRequest, ReissueVerificationCodeRequest, VerificationMailFallbackRequest)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import require_user
from server.http import JSONResponse, fail, read_fields, services
from server.services.limits import LimiterUnavailable
from server.services.session_verification import Reissued, Verified, VerifyFailed


async def verify(request: Request) -> Response:
    """POST session/verify (`verification_key`): 204, or 422 with `error` and `method`."""
    session, user = await require_user(request, "identify", unverified_ok=True)
    fields = await read_fields(request)
    try:
        outcome = await services(request).verification.verify(
            session, user, fields.get("verification_key", "")
        )
    except LimiterUnavailable:
        fail(503, "Verification is temporarily unavailable.", {"Retry-After": "5"})
    if isinstance(outcome, VerifyFailed):
        return JSONResponse({"error": outcome.message, "method": outcome.method}, status_code=422)
    return Response(status_code=204)


async def _answer(outcome: Verified | Reissued) -> Response:
    if outcome is Verified.DONE:
        return Response(status_code=204)
    assert isinstance(outcome, Reissued)
    return JSONResponse({"message": outcome.message})


async def reissue(request: Request) -> Response:
    """POST session/verify/reissue: mail a new code."""
    session, user = await require_user(request, "identify", unverified_ok=True)
    try:
        return await _answer(await services(request).verification.reissue(session, user))
    except LimiterUnavailable:
        fail(503, "Verification is temporarily unavailable.", {"Retry-After": "5"})


async def mail_fallback(request: Request) -> Response:
    """POST session/verify/mail-fallback: verify by mail instead of TOTP."""
    session, user = await require_user(request, "identify", unverified_ok=True)
    try:
        return await _answer(await services(request).verification.mail_fallback(session, user))
    except LimiterUnavailable:
        fail(503, "Verification is temporarily unavailable.", {"Retry-After": "5"})
