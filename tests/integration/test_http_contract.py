"""Transport-level promises: no redirects, size limits, 4xx for malformed input, JSON errors."""

from __future__ import annotations

import httpx

from tests.helpers import SignedIn


async def test_trailing_slash_variants_never_redirect(
    client: httpx.AsyncClient, player: SignedIn
) -> None:
    """A redirect drops Authorization and logs lazer out (lazer-protocol.md §8.2 #1)."""
    for path in (
        "/api/v2/me",
        "/api/v2/friends",
        "/api/v2/notifications",
        "/api/v2/chat/channels",
        "/api/v2/seasonal-backgrounds",
        "/api/v2/me/beatmapset-favourites",
        f"/api/v2/users/{player.id}/osu",
    ):
        for variant in (path, path + "/"):
            response = await client.get(variant, headers=player.headers, follow_redirects=False)
            assert response.status_code == 200, variant


async def test_unknown_routes_and_methods_answer_json(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v2/no-such-thing")
    assert missing.status_code == 404 and missing.json() == {"error": "Not found"}
    wrong_method = await client.put("/api/v2/me")
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()


async def test_oversized_bodies_are_refused(client: httpx.AsyncClient, settings) -> None:  # type: ignore[no-untyped-def]
    big = b"x" * (settings.max_body_bytes + 1)
    declared = await client.post(
        "/oauth/token", content=big, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413

    async def stream():  # type: ignore[no-untyped-def]
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"y" * 65536

    streamed = await client.post(
        "/users", content=stream(), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert streamed.status_code == 413


async def test_multipart_limits_and_files_are_refused(client: httpx.AsyncClient) -> None:
    with_file = await client.post("/oauth/token", files={"grant_type": ("x.txt", b"password")})
    assert with_file.status_code == 400
    many = {f"f{i}": (None, "v") for i in range(100)}
    too_many = await client.post("/users", files=many)
    assert too_many.status_code == 400


async def test_health_is_public(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "up"}


async def test_empty_bearer_on_a_public_route_is_anonymous(client: httpx.AsyncClient) -> None:
    """aiosu sends `Authorization: Bearer ` before it has a token: that is not a 400."""
    response = await client.get("/health", headers={"Authorization": "Bearer "})
    assert response.status_code == 200


async def _edge_status(settings, app, version: str, headers: list[tuple[bytes, bytes]]) -> int:  # type: ignore[no-untyped-def]
    """The status the edge answers a POST whose body streams past MAX_BODY_BYTES with."""
    from server.middleware import EdgeMiddleware

    part = b"z" * 65536
    parts = settings.max_body_bytes // len(part) + 2
    sent = iter(range(parts))
    statuses: list[int] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": part, "more_body": next(sent) < parts - 1}

    async def send(message) -> None:  # type: ignore[no-untyped-def]
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {
        "type": "http",
        "http_version": version,
        "method": "POST",
        "path": "/users",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("192.0.2.9", 1),
    }
    await EdgeMiddleware(app, settings)(scope, receive, send)
    (status,) = statuses
    return status


async def test_bodies_not_bounded_by_http1_framing_are_counted(settings) -> None:  # type: ignore[no-untyped-def]
    """The edge counts a streamed body unless HTTP/1.x framing bounds it: a chunked body, or
    any body of another protocol (a Content-Length there is only a claim)."""
    read: list[int] = []

    async def reader(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        total = 0
        while True:
            message = await receive()
            total += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        read.append(total)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    chunked = [(b"transfer-encoding", b"chunked")]
    assert await _edge_status(settings, reader, "1.1", chunked) == 413
    assert await _edge_status(settings, reader, "2", [(b"content-length", b"10")]) == 413
    assert read == []


async def _through_edge(settings, inner) -> tuple[list[dict[str, object]], BaseException | None]:  # type: ignore[no-untyped-def]
    """The messages the app's own edge layer (as create_app builds it) sends for a GET whose
    route is `inner`, and what it raised."""
    from server.app import create_app

    edge = create_app(settings).build_middleware_stack()
    edge.app = inner  # type: ignore[attr-defined]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message) -> None:  # type: ignore[no-untyped-def]
        sent.append(message)

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "path": "/health",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": ("192.0.2.9", 1),
    }
    try:
        await edge(scope, receive, send)
    except Exception as exc:
        return sent, exc
    return sent, None


async def test_a_bug_answers_500_without_detail_and_reaches_the_server(settings) -> None:  # type: ignore[no-untyped-def]
    """S-INT-2 through the one edge layer: no exception text in the body, and the exception
    raised again so the server logs it."""

    async def buggy(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        raise ValueError("secret detail")

    sent, raised = await _through_edge(settings, buggy)
    assert isinstance(raised, ValueError)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 500
    assert sent[1]["body"] == b'{"error":"An internal error occurred."}'


async def test_expected_errors_get_their_handlers_answer_with_the_request_id(settings) -> None:  # type: ignore[no-untyped-def]
    from server.http import fail

    async def refusing(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        fail(422, "no")

    sent, raised = await _through_edge(settings, refusing)
    assert raised is None
    assert sent[0]["status"] == 422 and sent[1]["body"] == b'{"error":"no"}'
    assert any(name == b"x-request-id" for name, _ in sent[0]["headers"])  # type: ignore[attr-defined]


async def test_an_expected_error_after_the_response_started_is_a_bug(settings) -> None:  # type: ignore[no-untyped-def]
    """As Starlette's ExceptionMiddleware: a handled exception cannot start a second
    response; it becomes an error the server logs, and nothing more is sent."""
    from server.http import fail

    async def late(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        fail(422, "too late")

    sent, raised = await _through_edge(settings, late)
    assert isinstance(raised, RuntimeError)
    assert [m["type"] for m in sent] == ["http.response.start"]
