"""SignalR endpoints: `POST /signalr/{hub}/negotiate` and the WebSocket at `/signalr/{hub}`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from server.http import JSONResponse, fail, services


async def negotiate(request: Request) -> Response:
    """Negotiate: a connection id/token and the one transport offered (WebSockets, Binary)."""
    transport = services(request).realtime.transport
    hub = request.path_params["hub"]
    if not transport.has_hub(hub):
        fail(404, "Not found")
    user_id = await transport.authenticate(request.headers, request.query_params)
    if user_id is None:
        # The client retries negotiation with backoff; it does not log out (§6.1).
        fail(401, "Unauthorized")
    try:
        version = int(request.query_params.get("negotiateVersion", "0"))
    except ValueError:
        version = 0
    return JSONResponse(transport.negotiate(version, hub, user_id))


async def hub_socket(websocket: WebSocket) -> None:
    """One hub connection, from the upgrade to the close."""
    realtime = websocket.state.services.realtime
    await realtime.transport.serve(websocket, websocket.path_params["hub"])
