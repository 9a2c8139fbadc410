"""GET tags; PUT and DELETE beatmaps/{beatmap}/tags/{tag} (the caller's vote)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import int_param, require_session, require_user
from server.http import JSONResponse, fail, services
from server.services.tags import TagRejected

_STATUS = {
    TagRejected.UNKNOWN_BEATMAP: 404,
    TagRejected.UNKNOWN_TAG: 404,
    TagRejected.NO_SCORE: 403,
    TagRejected.WRONG_RULESET: 422,
}


def _ids(request: Request) -> tuple[int, int]:
    beatmap_id = int_param(request.path_params["beatmap"], "beatmap", minimum=1)
    tag_id = int_param(request.path_params["tag"], "tag", minimum=1)
    assert beatmap_id is not None and tag_id is not None
    return beatmap_id, tag_id


async def list_tags(request: Request) -> Response:
    """Every tag."""
    await require_session(request, "public")
    return JSONResponse(await services(request).tags.tags())


async def vote(request: Request) -> Response:
    """Put the caller's tag on a beatmap they set a score on."""
    _, account = await require_user(request, "public")
    beatmap_id, tag_id = _ids(request)
    refused = await services(request).tags.vote(account.id, beatmap_id, tag_id)
    if refused is not None:
        fail(_STATUS[refused], refused.value)
    return Response(status_code=204)


async def unvote(request: Request) -> Response:
    """Take the caller's tag off a beatmap."""
    _, account = await require_user(request, "public")
    beatmap_id, tag_id = _ids(request)
    await services(request).tags.unvote(account.id, beatmap_id, tag_id)
    return Response(status_code=204)
