"""Client management for users, on osu-web's paths (OAuth/ClientsController.php,
AuthorizedClientsController.php): `oauth/clients[/{client}[/reset-secret]]` and
`oauth/authorized-clients[/{client}]`. osu-web serves them to its web session; here they take
a bearer token with the all-access scope (`*`)."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import path_id, require_user
from server.http import JSONResponse, fail, read_fields, services
from server.models.oauth import AuthorizedClientShape, OAuthClientShape
from server.repositories.oauth import OAuthClient
from server.services.oauth_apps import AppRejected

_SEPARATORS = re.compile(r"[\s,]+")


def _shape(client: OAuthClient, secret: str | None = None) -> OAuthClientShape:
    return OAuthClientShape(
        id=client.id,
        name=client.name,
        redirect=client.redirect,
        revoked=client.revoked,
        user_id=client.owner_user_id,
        secret=secret,
    )


def _client_id(request: Request) -> int:
    return path_id(request, "client")


def _rejected(outcome: AppRejected) -> JSONResponse:
    return JSONResponse({"form_error": {"oauth_client": outcome.errors}}, status_code=422)


async def _form(request: Request) -> tuple[str, list[str]]:
    fields = await read_fields(request)
    name = fields.get("name", fields.get("oauth_client[name]", ""))
    redirect = fields.get("redirect", fields.get("oauth_client[redirect]", ""))
    return name, [uri for uri in _SEPARATORS.split(redirect) if uri]


async def list_clients(request: Request) -> Response:
    """GET oauth/clients: the caller's own clients."""
    _, user = await require_user(request, "*")
    return JSONResponse([_shape(c) for c in await services(request).apps.clients(user.id)])


async def create_client(request: Request) -> Response:
    """POST oauth/clients (`name`, `redirect`: URIs separated by spaces, commas or lines)."""
    _, user = await require_user(request, "*")
    name, uris = await _form(request)
    outcome = await services(request).apps.create(user.id, name, uris)
    if isinstance(outcome, AppRejected):
        return _rejected(outcome)
    return JSONResponse(_shape(outcome.client, outcome.secret), status_code=201)


async def update_client(request: Request) -> Response:
    """PUT oauth/clients/{client}: new name and redirect URIs."""
    _, user = await require_user(request, "*")
    name, uris = await _form(request)
    outcome = await services(request).apps.update(user.id, _client_id(request), name, uris)
    if outcome is None:
        fail(404, "Not found")
    if isinstance(outcome, AppRejected):
        return _rejected(outcome)
    return JSONResponse(_shape(outcome))


async def delete_client(request: Request) -> Response:
    """DELETE oauth/clients/{client}: its tokens stop working."""
    _, user = await require_user(request, "*")
    if not await services(request).apps.delete(user.id, _client_id(request)):
        fail(404, "Not found")
    return Response(status_code=204)


async def reset_secret(request: Request) -> Response:
    """POST oauth/clients/{client}/reset-secret: a new secret, shown once."""
    _, user = await require_user(request, "*")
    outcome = await services(request).apps.reset_secret(user.id, _client_id(request))
    if outcome is None:
        fail(404, "Not found")
    return JSONResponse(_shape(outcome.client, outcome.secret))


async def list_authorized(request: Request) -> Response:
    """GET oauth/authorized-clients: apps holding live tokens of the caller."""
    _, user = await require_user(request, "*")
    found = await services(request).apps.authorized(user.id)
    return JSONResponse(
        [
            AuthorizedClientShape(id=c.id, name=c.name, user_id=c.owner_user_id, scopes=c.scopes)
            for c in found
        ]
    )


async def revoke_authorized(request: Request) -> Response:
    """DELETE oauth/authorized-clients/{client}: every token of that app for the caller."""
    _, user = await require_user(request, "*")
    await services(request).apps.revoke_authorized(user.id, _client_id(request))
    return Response(status_code=204)
