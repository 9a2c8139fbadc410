"""GET beatmaps/packs[?type=&cursor_string=] and GET beatmaps/packs/{pack}."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import require_session
from server.http import JSONResponse, fail, services
from server.services.packs import PackRejected, decode_pack_cursor


async def list_packs(request: Request) -> Response:
    """A page of one type's packs (default standard), newest first."""
    await require_session(request, "public")
    query = request.query_params
    outcome = await services(request).packs.packs(
        query.get("type") or "standard", decode_pack_cursor(query.get("cursor_string"))
    )
    if isinstance(outcome, PackRejected):
        fail(404, "Not found")
    return JSONResponse(outcome)


async def show_pack(request: Request) -> Response:
    """One pack by tag, with its beatmapsets and the caller's completion."""
    session = await require_session(request, "public")
    outcome = await services(request).packs.pack(request.path_params["pack"], session.user_id)
    if isinstance(outcome, PackRejected):
        fail(404, outcome.value)
    return JSONResponse(outcome)
