"""GET scores/{score}/download: the `.osr` built from a play's spectator frames."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from server.http import fail, int_param, require_user, services
from server.services.limits import LimiterUnavailable


async def download_replay(request: Request) -> Response:
    """The replay file, rate-limited per user; 404 when the play had no spectator stream."""
    _, user = await require_user(request, "public")
    score_id = int_param(request.path_params["score"], "score", minimum=1)
    assert score_id is not None
    realtime = services(request).realtime
    try:
        allowance = await realtime.replay_downloads.hit(str(user.id))
    except LimiterUnavailable:
        allowance = None  # a general limiter fails open (reliability.md S-RL-4)
    if allowance is not None and not allowance.allowed:
        fail(429, "Too many replay downloads. Try again shortly.",
             {"Retry-After": str(allowance.retry_after)})  # fmt: skip
    data = await realtime.replay_file(score_id)
    if data is None:
        fail(404, "Not found")
    return Response(
        data,
        media_type="application/x-osu-replay",
        headers={"Content-Disposition": f'attachment; filename="replay-{score_id}.osr"'},
    )
