"""What lazer fetches right after sign-in besides the user: favourites, seasonal backgrounds,
notifications and chat state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from server.http import JSONResponse, require_session, require_user, services


async def beatmapset_favourites(request: Request) -> Response:
    """GET me/beatmapset-favourites: `{"beatmapset_ids": [...]}`."""
    _, user = await require_user(request, "identify")
    ids = await services(request).favourites.beatmapset_ids(user.id)
    return JSONResponse({"beatmapset_ids": ids})


async def seasonal_backgrounds(request: Request) -> Response:
    """GET seasonal-backgrounds: configured URLs and when the season ends."""
    await require_session(request, "public")
    settings = services(request).settings
    # `ends_at` is a non-nullable DateTimeOffset in lazer: with no season configured, the
    # (empty) list is valid for a week and lazer asks again next launch.
    ends_at = settings.seasonal_backgrounds_ends_at or (
        datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    )
    return JSONResponse(
        {"ends_at": ends_at, "backgrounds": [{"url": url} for url in settings.seasonal_backgrounds]}
    )


async def notifications(request: Request) -> Response:
    """GET notifications: newest notifications plus the socket endpoint."""
    _, user = await require_user(request, "identify")
    return JSONResponse(await services(request).notifications.bundle(user))


async def health(request: Request) -> Response:
    """GET /health: liveness for load balancers and PaaS probes (also bench's baseline)."""
    return JSONResponse({"status": "up"})
