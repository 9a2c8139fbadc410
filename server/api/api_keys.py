"""POST/DELETE /api/v2/me/legacy-api-key: the caller's osu! API v1 key.

osu-web issues the key from its website (`legacy-api-key` under a web session); this server
has no website, so the same actions sit on the API, for a token with the all-access scope
lazer's sign-in gets (a third-party token with `identify` must not mint keys for its user).
The request and response fields are osu-web's."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import require_user
from server.http import JSONResponse, read_fields, services
from server.models.v1 import KeyFormError
from server.services.api_keys import KeyRejected
from server.services.tokens import ALL_SCOPES


def _field(fields: dict[str, str], name: str) -> str:
    # osu-web reads `legacy_api_key[app_name]`; the flat name is accepted too.
    return fields.get(f"legacy_api_key[{name}]", fields.get(name, ""))


async def create_key(request: Request) -> Response:
    """A new key, shown this once; 422 with osu-web's form_error when invalid or one exists."""
    _, account = await require_user(request, ALL_SCOPES)
    fields = await read_fields(request)
    outcome = await services(request).api_keys.issue(
        account.id, _field(fields, "app_name"), _field(fields, "app_url")
    )
    if isinstance(outcome, KeyRejected):
        body = KeyFormError(form_error={"legacy_api_key": outcome.errors})
        return JSONResponse(body, status_code=422)
    return JSONResponse(outcome)


async def revoke_key(request: Request) -> Response:
    """Revoke the caller's key (204 whether or not there was one, as osu-web)."""
    _, account = await require_user(request, ALL_SCOPES)
    await services(request).api_keys.revoke(account.id)
    return Response(status_code=204)
