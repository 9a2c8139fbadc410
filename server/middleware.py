"""The server's one pure-ASGI layer (no BaseHTTPMiddleware) around the routes: request id,
body size limit, the API rate limit, the answer to an unavailable database or Redis, the
app's exception handlers and the access line. One layer rather than six: each layer costs a
closure and a send wrapper on every request, `/health` included.

For HTTP the edge also does the work of Starlette's two layers (server/app.py puts it in
their place): the app's exception handlers for expected errors (ApiError, HTTPException,
ClientDisconnect), as ExceptionMiddleware maps them, and for anything else the 500 handler,
then the exception raised again for the server to log, as ServerErrorMiddleware does.
WebSocket and lifespan scopes still go through Starlette's stack.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server import metrics
from server.api.params import BEARER, USER_ID, bearer_token
from server.db import DB_UNAVAILABLE_ERRORS
from server.http import scope_client_ip
from server.logs import ACCESS_FORMAT, ACCESS_LOGGER, access_sink, redact_query
from server.redis_store import REDIS_UNAVAILABLE_ERRORS
from server.routes import ROUTE_TEMPLATE
from server.settings import Settings

log = logging.getLogger(ACCESS_LOGGER)

# An X-Request-ID from the proxy is kept when it is a plain token; anything else is replaced.
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:@+=/-]{1,128}")
# Made request ids: a random per-process prefix and a counter (no syscall per request).
_ID_PREFIX = os.urandom(4).hex().encode()
_ids = itertools.count()
_UNAVAILABLE_BODY = b'{"error":"Service temporarily unavailable."}'
RETRY_AFTER_SECONDS = b"5"
# osu! API v1 paths (`/api/get_*`), and the texts v1 and v2 clients know a 429 by: v1
# clients match this exact message (clients.md §3) and wait for the window.
V1_PREFIX = "/api/get_"
_TOO_FAST = b'{"error":"Too Many Attempts."}'
_V1_TOO_FAST = b'{"error":"Requesting too fast! Slow your operation, cap\'n!"}'

__all__ = ["EdgeMiddleware", "redact_query"]


# An exception handler of the app: (request, exception) -> the response to send.
Handler = Callable[[Request, Exception], Awaitable[Response]]


class BodyTooLarge(Exception):
    """The request body went past the configured limit."""


class EdgeMiddleware:
    """Per HTTP request: take or make the request id (returned as X-Request-ID); refuse bodies
    over MAX_BODY_BYTES with 413 (by Content-Length or while streaming); apply S-RL-1 to
    /api/ (X-RateLimit-* headers, 429 with Retry-After); answer 503 with Retry-After and no
    detail when the database or Redis is unreachable (logged once per outage by the
    DependencyMonitor, not per request); map exceptions to the app's handlers; write one
    access line.

    `app` gets the HTTP requests; `others` (by default `app`) the WebSocket and lifespan
    scopes. `handlers` maps exception classes to their handlers (the most specific class of
    an exception's MRO wins) and `server_error` answers any other exception."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        *,
        others: ASGIApp | None = None,
        handlers: Mapping[type[Exception], Handler] | None = None,
        server_error: Handler | None = None,
    ) -> None:
        self.app = app
        self.others = others if others is not None else app
        self.max_bytes = settings.max_body_bytes
        self.trusted_hops = settings.trusted_proxy_hops
        self.handlers = dict(handlers or {})
        self.server_error = server_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.others(scope, receive, send)
            return
        start = time.perf_counter()
        request_id: bytes | None = None
        declared: bytes | None = None
        chunked = False
        authorization = ""
        # One pass over the headers for everything the edge reads (Starlette's Headers
        # would build a list per lookup).
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"x-request-id":
                request_id = value
            elif name == b"authorization" and not authorization:  # the first, as Headers.get
                authorization = value.decode("latin-1")
        if request_id is None or not _REQUEST_ID.fullmatch(request_id):
            request_id = b"%s%08x" % (_ID_PREFIX, next(_ids))
        state: list[Any] = [500, False]  # status, response started
        try:
            await self._handle(
                scope, receive, send, request_id, declared, chunked, authorization, state
            )
        except Exception as exc:
            if self.server_error is None:
                raise
            # ServerErrorMiddleware's part: the 500 handler's answer when nothing was sent
            # yet, and the exception raised again for the server to log.
            response = await self.server_error(Request(scope), exc)
            if not state[1]:
                await response(scope, receive, send)
            raise
        finally:
            if log.isEnabledFor(logging.INFO):
                self._log(scope, state[0], start, request_id)
            if metrics.enabled():
                template = scope.get(ROUTE_TEMPLATE)
                route = scope.get("root_path", "") + template if template else "unmatched"
                metrics.request(scope["method"], route, state[0], time.perf_counter() - start)
                if state[0] == 429:  # any limiter: the API's, sign-in, registration, replays
                    metrics.rate_limited(route)

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        request_id: bytes,
        declared: bytes | None,
        chunked: bool,
        authorization: str,
        state: list[Any],
    ) -> None:
        extra_headers = [(b"x-request-id", request_id)]

        async def reply(status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
            state[0] = status
            state[1] = True
            await _send_error(send, status, body, [*headers, *extra_headers])

        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                await reply(400, b'{"error":"invalid Content-Length"}', [])
                return
            if too_large:
                await reply(413, b'{"error":"request body too large"}', [])
                return

        services = scope.get("state", {}).get("services")
        if services is not None and scope["path"].startswith("/api/"):
            limiter = services.api_limiter
            if limiter.enabled:
                allowance = await limiter.hit(_rate_key(scope, services, authorization))
                limit_headers = [
                    (b"x-ratelimit-limit", b"%d" % allowance.limit),
                    (b"x-ratelimit-remaining", b"%d" % allowance.remaining),
                ]
                if not allowance.allowed:
                    retry = (b"retry-after", b"%d" % allowance.retry_after)
                    too_fast = _V1_TOO_FAST if scope["path"].startswith(V1_PREFIX) else _TOO_FAST
                    await reply(429, too_fast, [*limit_headers, retry])
                    return
                extra_headers.extend(limit_headers)

        if chunked or scope.get("http_version") not in ("1.0", "1.1"):
            # A body is counted as it streams unless HTTP/1.x framing bounds it: without
            # Transfer-Encoding it ends at its Content-Length (checked above), or is empty.
            receive = _limited(receive, self.max_bytes)

        async def edge_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state[0] = message["status"]
                state[1] = True
                message["headers"] = [*message.get("headers", ()), *extra_headers]
            await send(message)

        try:
            try:
                await self.app(scope, receive, edge_send)
            except Exception as exc:
                handler = self._handler_for(exc)
                if handler is None:
                    raise
                if state[1]:
                    raise RuntimeError(
                        "Caught handled exception, but response already started."
                    ) from exc
                response = await handler(Request(scope, receive), exc)
                await response(scope, receive, edge_send)
                exc.__traceback__ = None  # a reused exception would collect tracebacks
        except BodyTooLarge:
            if not state[1]:
                await reply(413, b'{"error":"request body too large"}', [])
        except DB_UNAVAILABLE_ERRORS as exc:
            await self._unavailable(services, "database", exc, state, reply)
        except REDIS_UNAVAILABLE_ERRORS as exc:
            await self._unavailable(services, "redis", exc, state, reply)

    def _handler_for(self, exc: Exception) -> Handler | None:
        """The app's handler for `exc`: the first class of its MRO that has one."""
        handlers = self.handlers
        if handlers:
            for cls in type(exc).__mro__:
                handler = handlers.get(cls)
                if handler is not None:
                    return handler
        return None

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Hub and notification sockets: an unreachable database or Redis while connecting
        refuses the upgrade (or closes with 1013, try again later) and is reported to the
        dependency monitor, instead of a traceback per reconnecting client."""
        accepted = False

        async def tracking_send(message: Message) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept":
                accepted = True
            await send(message)

        try:
            await self.others(scope, receive, tracking_send)
        except DB_UNAVAILABLE_ERRORS as exc:
            await self._socket_unavailable(scope, send, "database", exc, accepted)
        except REDIS_UNAVAILABLE_ERRORS as exc:
            await self._socket_unavailable(scope, send, "redis", exc, accepted)

    @staticmethod
    async def _socket_unavailable(
        scope: Scope, send: Send, dependency: str, exc: Exception, accepted: bool
    ) -> None:
        services = scope.get("state", {}).get("services")
        if services is not None:
            services.health.monitor.failed(dependency, exc)
        # Before the accept a close refuses the upgrade (403); after it, 1013 asks the
        # client to try again later.
        with contextlib.suppress(OSError, RuntimeError):
            await send({"type": "websocket.close", "code": 1013 if accepted else 1008})

    @staticmethod
    async def _unavailable(
        services: Any, dependency: str, exc: Exception, state: list[Any], reply: Any
    ) -> None:
        if services is not None:
            services.health.monitor.failed(dependency, exc)
        if state[1]:
            raise exc  # the response is under way: nothing better to send
        await reply(503, _UNAVAILABLE_BODY, [(b"retry-after", RETRY_AFTER_SECONDS)])

    def _log(self, scope: Scope, status: int, start: float, request_id: bytes) -> None:
        duration_ms = (time.perf_counter() - start) * 1000
        path: str = scope["path"]
        query: bytes = scope["query_string"]
        if query:
            path = f"{path}?{redact_query(query.decode('latin-1'))}"
        template = scope.get(ROUTE_TEMPLATE)
        args = (
            scope["method"],
            path,
            status,
            duration_ms,
            scope_client_ip(scope, self.trusted_hops),
            scope.get(USER_ID) or "-",
            scope.get("root_path", "") + template if template is not None else "-",
            request_id.decode("latin-1"),
        )
        sink = access_sink()
        if sink is not None:
            # The line is formatted and written with its batch, after the response.
            sink.defer_access(time.time(), args)
        else:
            log.info(ACCESS_FORMAT, *args)


def _limited(receive: Receive, max_bytes: int) -> Receive:
    """`receive` raising BodyTooLarge once the body passes `max_bytes`."""
    received = 0

    async def limited_receive() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                raise BodyTooLarge
        return message

    return limited_receive


def _rate_key(scope: Scope, services: Any, authorization: str) -> str:
    if scope["path"].startswith(V1_PREFIX):
        # v1 sends its key in `k`; counted per key like a bearer token (S-RL-1).
        key = services.api_keys.rate_key(Request(scope).query_params.get("k", ""))
        if key is not None:
            return f"v1key:{key}"
    token = bearer_token({"authorization": authorization})
    if token:
        bearer = services.tokens.rate_key(token)
        if bearer is not None:
            scope[BEARER] = bearer  # authentication reuses it
            return f"token:{bearer.digest}"
    return f"ip:{scope_client_ip(scope, services.settings.trusted_proxy_hops)}"


async def _send_error(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
