"""GET scores/{score}/download: the `.osr` built from a play's spectator frames."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.api.params import path_id, require_session
from server.http import fail, services
from server.services.limits import LimiterUnavailable


async def download_replay(request: Request) -> Response:
    """The replay file, rate-limited per user (per token for a client-credentials token,
    as osu-web's throttle keys by token); 404 unless the score is visible and has one.

    osu-web's ScoresController exempts `download` from `auth`: any `public` token reads it."""
    session = await require_session(request, "public")
    score_id = path_id(request, "score")
    replays = services(request).replays
    key = str(session.user_id) if session.user_id is not None else f"token:{session.token_sha256}"
    try:
        allowance = await replays.download_limiter.hit(key)
    except LimiterUnavailable:
        allowance = None  # a general limiter fails open (reliability.md S-RL-4)
    if allowance is not None and not allowance.allowed:
        fail(429, "Too many replay downloads. Try again shortly.",
             {"Retry-After": str(allowance.retry_after)})  # fmt: skip
    download = await replays.download(score_id)
    if download is None:
        fail(404, "Not found")
    # osu-web's content type and attachment name (ScoresController::download).
    return Response(
        download.data,
        media_type="application/x-osu-replay",
        headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
    )
