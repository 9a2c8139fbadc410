"""GET rankings/{mode}/{performance|score|country}: paged by `page` or `cursor[page]`."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from server.http import JSONResponse, fail, int_param, require_session, services
from server.models.rulesets import known_rulesets

_COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")


async def rankings(request: Request) -> Response:
    """User rankings by pp or ranked score (optionally one country), or country rankings."""
    await require_session(request, "public")
    svc = services(request)
    mode = request.path_params["mode"]
    if mode not in known_rulesets(svc.settings.enable_relax_rulesets):
        fail(404, "unknown ruleset")
    kind = request.path_params["type"]
    query = request.query_params
    page = int_param(query.get("cursor[page]") or query.get("page"), "page", minimum=1) or 1
    if kind == "country":
        return JSONResponse(await svc.rankings.countries(mode, page))
    if kind not in ("performance", "score"):
        fail(404, "Not found")
    country = query.get("country") or None
    if country is not None and not _COUNTRY_RE.match(country):
        fail(422, "country must be a two-letter code")
    return JSONResponse(
        await svc.rankings.users(mode, kind, page, country.upper() if country else None)
    )
