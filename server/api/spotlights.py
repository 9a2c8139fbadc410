"""GET spotlights, rankings/{mode}/charts[?spotlight=] and rankings/kudosu[?page=]."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import int_param, require_session
from server.http import JSONResponse, fail, services
from server.models.rulesets import RULESETS
from server.services.spotlights import ChartRejected


async def spotlights(request: Request) -> Response:
    """Every spotlight, newest first."""
    await require_session(request, "public")
    return JSONResponse(await services(request).spotlights.spotlights())


async def charts(request: Request) -> Response:
    """A spotlight's sets and ranking (the newest spotlight without `spotlight`)."""
    session = await require_session(request, "public")
    mode = request.path_params["mode"]
    if mode not in RULESETS:
        fail(404, "unknown ruleset")
    spotlight_id = int_param(request.query_params.get("spotlight"), "spotlight", minimum=1)
    outcome = await services(request).spotlights.chart(mode, spotlight_id, session.user_id)
    if isinstance(outcome, ChartRejected):
        fail(404, outcome.value)
    return JSONResponse(outcome)


async def kudosu_ranking(request: Request) -> Response:
    """Users by kudosu received."""
    await require_session(request, "public")
    page = int_param(request.query_params.get("page"), "page", minimum=1) or 1
    return JSONResponse(await services(request).spotlights.kudosu(page))
