"""GET scores/{score}/download: the `.osr` built from a play's spectator frames."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.http import fail, int_param, require_user, services
from server.services.limits import LimiterUnavailable


async def download_replay(request: Request) -> Response:
    """The replay file, rate-limited per user; 404 unless the score is visible and has one."""
    _, user = await require_user(request, "public")
    score_id = int_param(request.path_params["score"], "score", minimum=1)
    assert score_id is not None
    replays = services(request).replays
    try:
        allowance = await replays.download_limiter.hit(str(user.id))
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
