"""friends and blocks: GET (list), POST ?target= (add), DELETE /{id} (remove)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.http import JSONResponse, fail, int_param, read_fields, require_user, services
from server.models.users import UserRelationEnvelope
from server.repositories.relations import RelationKind
from server.services.relations import RelationRefused


def _kind(request: Request) -> RelationKind:
    return "friend" if request.url.path.rstrip("/").split("/")[3] == "friends" else "block"


async def list_relations(request: Request) -> Response:
    """GET friends | blocks: [APIRelation]."""
    _, user = await require_user(request, "friends.read")
    return JSONResponse(await services(request).relations.list(user, _kind(request)))


async def add_relation(request: Request) -> Response:
    """POST friends?target= | blocks?target=: lazer puts `target` in the query string."""
    _, user = await require_user(request, "friends.read")
    fields = await read_fields(request)
    target = int_param(fields.get("target"), "target", minimum=1)
    if target is None:
        fail(422, "target is required")
    outcome = await services(request).relations.add(user, target, _kind(request))
    if isinstance(outcome, RelationRefused):
        fail(outcome.status, outcome.message)
    return JSONResponse(UserRelationEnvelope(outcome))


async def remove_relation(request: Request) -> Response:
    """DELETE friends/{id} | blocks/{id}."""
    _, user = await require_user(request, "friends.read")
    target = int_param(request.path_params["target"], "target", minimum=1)
    assert target is not None
    if not await services(request).relations.remove(user, target, _kind(request)):
        fail(404, "User not found! ;_;")
    return Response(status_code=204)
