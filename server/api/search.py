"""GET search?mode=all|user|wiki_page&query=&page= (osu-web HomeController::search)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import int_param, require_session
from server.http import JSONResponse, fail, services
from server.services.site_search import SearchRejected


async def search(request: Request) -> Response:
    """Users by name and wiki pages."""
    await require_session(request, "public")
    query = request.query_params
    page = int_param(query.get("page"), "page", minimum=1) or 1
    outcome = await services(request).site_search.search(
        (query.get("mode") or "all").strip(), (query.get("query") or "").strip(), page
    )
    if isinstance(outcome, SearchRejected):
        fail(422, outcome.value)
    return JSONResponse(outcome)
