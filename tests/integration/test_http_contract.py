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
