"""Pure ASGI middleware (no BaseHTTPMiddleware): body size limit, the API rate limit and
request logging."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.api.params import BEARER_DIGEST, bearer_token
from server.http import client_ip

log = logging.getLogger("server.access")

# Secrets that can appear in query strings: v1 API keys (`k`) and stable-client password
# hashes (`h`, `ha`, `p`, `pass`), plus OAuth tokens. Never logged (S-TOK-9).
_SECRET_PARAMS = re.compile(
    r"(?i)(^|&)(k|h|ha|p|pass|password|access_token|token|refresh_token)=[^&]*"
)


def redact_query(query: str) -> str:
    """The query string with secret parameters' values replaced."""
    return _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}{m.group(2)}=[redacted]", query)


class BodyTooLarge(Exception):
    """The request body went past the configured limit."""


class BodyLimitMiddleware:
    """Refuse request bodies over `max_bytes` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_error(send, 400, b'{"error":"invalid Content-Length"}')
                    return
                if declared > self.max_bytes:
                    await _send_error(send, 413, b'{"error":"request body too large"}')
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _send_error(send, 413, b'{"error":"request body too large"}')


class AccessLogMiddleware:
    """One log line per request, with secrets in the query string redacted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            path = scope["path"] + (f"?{redact_query(query)}" if query else "")
            log.info(
                "%s %s %s %.1fms",
                scope["method"],
                path,
                status["code"],
                (time.perf_counter() - start) * 1000,
            )


# osu! API v1 paths (`/api/get_*`), and the texts v1 and v2 clients know a 429 by: v1
# clients match this exact message (clients.md §3) and wait for the window.
V1_PREFIX = "/api/get_"
_TOO_FAST = b'{"error":"Too Many Attempts."}'
_V1_TOO_FAST = b'{"error":"Requesting too fast! Slow your operation, cap\'n!"}'


class ApiRateLimitMiddleware:
    """S-RL-1 on every /api/ request: osu-web's X-RateLimit-Limit and X-RateLimit-Remaining
    headers, and 429 with Retry-After past the limit. Keyed by bearer token (see
    TokenService.rate_key), by client IP without a valid-looking one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = scope.get("state", {}).get("services")
        if scope["type"] != "http" or services is None or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        limiter = services.api_limiter
        if not limiter.enabled:
            await self.app(scope, receive, send)
            return
        allowance = await limiter.hit(_rate_key(scope, services))
        limit_headers = [
            (b"x-ratelimit-limit", str(allowance.limit).encode()),
            (b"x-ratelimit-remaining", str(allowance.remaining).encode()),
        ]
        if not allowance.allowed:
            await _send_error(
                send,
                429,
                _V1_TOO_FAST if scope["path"].startswith(V1_PREFIX) else _TOO_FAST,
                [*limit_headers, (b"retry-after", str(allowance.retry_after).encode())],
            )
            return

        async def with_limit_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *limit_headers]
            await send(message)

        await self.app(scope, receive, with_limit_headers)


def _rate_key(scope: Scope, services: Any) -> str:
    request = Request(scope)
    if scope["path"].startswith(V1_PREFIX):
        # v1 sends its key in `k`; counted per key like a bearer token (S-RL-1).
        key = services.api_keys.rate_key(request.query_params.get("k", ""))
        if key is not None:
            return f"v1key:{key}"
    token = bearer_token(request.headers)
    if token:
        digest = services.tokens.rate_key(token)
        if digest is not None:
            scope[BEARER_DIGEST] = (token, digest)  # authentication reuses it
            return f"token:{digest}"
    return f"ip:{client_ip(request, services.settings.trusted_proxy_hops)}"


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
