"""What lazer fetches right after sign-in besides the user: favourites, seasonal backgrounds,
notifications and chat state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import ALL_ACCESS, int_param, require_user
from server.http import JSONResponse, read_fields, services
from server.models.beatmaps import BeatmapsetFavouriteIds
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


async def chat_channels(request: Request) -> Response:
    """GET chat/channels: public channels."""
    await require_user(request, "chat.read")
    return JSONResponse(await services(request).chat.public_channels())


async def chat_updates(request: Request) -> Response:
    """GET chat/updates?since=&history_since=: the user's channels, messages and silences."""
    _, user = await require_user(request, ALL_ACCESS)  # osu-web scopes only ack: `*` here
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
