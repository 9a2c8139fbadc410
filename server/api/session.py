"""What lazer fetches right after sign-in besides the user: favourites, seasonal backgrounds,
notifications and chat state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from server.http import (
    JSONResponse,
    int_param,
    read_fields,
    require_session,
    require_user,
    services,
)


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


async def chat_channels(request: Request) -> Response:
    """GET chat/channels: public channels."""
    await require_user(request, "chat.read")
    return JSONResponse(await services(request).chat.public_channels())


async def chat_updates(request: Request) -> Response:
    """GET chat/updates?since=&history_since=: the user's channels, messages and silences."""
    _, user = await require_user(request, "chat.read")
    query = request.query_params
    since = int_param(query.get("since"), "since", minimum=0) or 0
    history_since = int_param(query.get("history_since"), "history_since", minimum=0)
    return JSONResponse(await services(request).chat.updates(user, since, history_since))


async def chat_ack(request: Request) -> Response:
    """POST chat/ack: heartbeat; returns silences after `history_since`."""
    _, user = await require_user(request, "chat.read")
    fields = await read_fields(request)
    history_since = int_param(fields.get("history_since"), "history_since", minimum=0)
    if history_since is None:
        history_since = int_param(fields.get("since"), "since", minimum=0)
    return JSONResponse(await services(request).chat.ack(user, history_since))


async def health(request: Request) -> Response:
    """GET /health: liveness for load balancers and PaaS probes (also bench's baseline)."""
    return JSONResponse({"status": "up"})


async def ready(request: Request) -> Response:
    """GET /ready: readiness (database, Redis, migrations current, file store writable);
    503 naming the failed parts, so a balancer sends no traffic to an instance that cannot
    serve it."""
    readiness = await services(request).health.readiness()
    return JSONResponse(
        readiness,
        status_code=503 if readiness.failed else 200,
        headers={"Cache-Control": "no-store"},
    )
