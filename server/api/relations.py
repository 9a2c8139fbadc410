"""friends and blocks: GET (list), POST ?target= (add), DELETE /{id} (remove)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import ALL_ACCESS, int_param, path_id, require_user
from server.http import JSONResponse, fail, read_fields, services
from server.models.users import UserRelationEnvelope
from server.repositories.relations import RelationKind
from server.services.relations import RelationRefused


def _kind(request: Request) -> RelationKind:
    return "friend" if request.url.path.rstrip("/").split("/")[3] == "friends" else "block"


def _scope(kind: RelationKind, listing: bool) -> str:
    # osu-web's FriendsController scopes only its index (`friends.read`); adding and removing
    # friends, and every blocks action, name no scope and so need `*`.
    return "friends.read" if kind == "friend" and listing else ALL_ACCESS


async def list_relations(request: Request) -> Response:
    """GET friends | blocks: [APIRelation]."""
    kind = _kind(request)
    _, user = await require_user(request, _scope(kind, listing=True))
    return JSONResponse(await services(request).relations.list(user, kind))


async def add_relation(request: Request) -> Response:
    """POST friends?target= | blocks?target=: lazer puts `target` in the query string."""
    kind = _kind(request)
    _, user = await require_user(request, _scope(kind, listing=False))
    fields = await read_fields(request)
    target = int_param(fields.get("target"), "target", minimum=1)
    if target is None:
        fail(422, "target is required")
    outcome = await services(request).relations.add(user, target, kind)
    if isinstance(outcome, RelationRefused):
        fail(outcome.status, outcome.message)
    return JSONResponse(UserRelationEnvelope(outcome))


async def remove_relation(request: Request) -> Response:
    """DELETE friends/{id} | blocks/{id}."""
    kind = _kind(request)
    _, user = await require_user(request, _scope(kind, listing=False))
    target = path_id(request, "target", "User not found! ;_;")
    if not await services(request).relations.remove(user, target, kind):
        fail(404, "User not found! ;_;")
    return Response(status_code=204)
