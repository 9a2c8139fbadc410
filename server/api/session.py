"""What lazer fetches right after sign-in besides the user: favourites, seasonal backgrounds,
notifications and chat state."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import ALL_ACCESS, int_param, require_user
from server.http import JSONResponse, read_field_lists, read_fields, services
from server.models.beatmaps import BeatmapsetFavouriteIds
from server.models.chat import NotificationIdentity
from server.models.seasonal_backgrounds import SeasonalBackground, SeasonalBackgrounds


async def beatmapset_favourites(request: Request) -> Response:
    """GET me/beatmapset-favourites: `{"beatmapset_ids": [...]}`."""
    _, user = await require_user(request, "identify")
    ids = await services(request).favourites.beatmapset_ids(user.id)
    return JSONResponse(BeatmapsetFavouriteIds(ids))


async def seasonal_backgrounds(request: Request) -> Response:
    """GET seasonal-backgrounds: configured URLs and when the season ends (no token needed:
    osu-web's RequireScopes::NO_TOKEN_REQUIRED)."""
    settings = services(request).settings
    # `ends_at` is a non-nullable DateTimeOffset in lazer: with no season configured, the
    # (empty) list is valid for a week and lazer asks again next launch.
    ends_at = settings.seasonal_backgrounds_ends_at or (
        datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    )
    backgrounds = [SeasonalBackground(url) for url in settings.seasonal_backgrounds]
    return JSONResponse(SeasonalBackgrounds(ends_at, backgrounds))


async def notifications(request: Request) -> Response:
    """GET notifications: newest notifications plus the socket endpoint (also before the
    sign-in is verified: the socket carries the `verified` event)."""
    # osu-web names no scope: `*`.
    _, user = await require_user(request, ALL_ACCESS, unverified_ok=True)
    return JSONResponse(await services(request).notifications.bundle(user))


_IDENTITY_FIELD = re.compile(r"^(notifications|identities)\[(\d*)\]\[(\w+)\]$")


async def mark_notifications_read(request: Request) -> Response:
    """POST notifications/mark-read (`notifications[][id]` or `identities[][object_type,
    object_id]`, form or JSON): 204."""
    _, user = await require_user(request, "identify")
    await read_fields(request)
    groups: dict[tuple[str, str], dict[str, str]] = {}
    for key, values in (await read_field_lists(request)).items():
        if (match := _IDENTITY_FIELD.match(key)) is None:
            continue
        kind, index, field = match.groups()
        for position, value in enumerate(values):
            groups.setdefault((kind, index or str(position)), {})[field] = value
    identities = []
    for (kind, _), fields in sorted(groups.items()):
        number = int_param(fields.get("id"), "id", minimum=1)
        if kind == "notifications" and number is None:
            continue  # osu-web takes only entries with an id from `notifications`
        identities.append(
            NotificationIdentity(
                id=number if kind == "notifications" else None,
                category=fields.get("category"),
                object_type=fields.get("object_type"),
                object_id=int_param(fields.get("object_id"), "object_id", minimum=0),
            )
        )
    await services(request).notifications.mark_read(user, identities)
    return Response(status_code=204)


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
