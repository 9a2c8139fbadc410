"""GET rankings/{mode}/{performance|score|country}: paged by `page` or `cursor[page]`."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import page, path_ruleset, require_session
from server.http import JSONResponse, fail, services

_COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")


async def rankings(request: Request) -> Response:
    """User rankings by pp or ranked score (optionally one country), or country rankings."""
    await require_session(request, "public")
    svc = services(request)
    mode = path_ruleset(request, 404, "invalid ruleset specified")
    kind = request.path_params["type"]
    query = request.query_params
    number = page(query.get("cursor[page]") or query.get("page"))
    if kind == "country":
        return JSONResponse(await svc.rankings.countries(mode, number))
    if kind not in ("performance", "score"):
        fail(404, "Not found")
    country = query.get("country") or None
    if country is not None and not _COUNTRY_RE.match(country):
        fail(422, "country must be a two-letter code")
    return JSONResponse(
        await svc.rankings.users(mode, kind, number, country.upper() if country else None)
    )
