"""The access line (client IP, user id, route template, status, duration, request id) and
X-Request-ID, in process; uvicorn's own lines and LOG_FORMAT=json from a real `serve`."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest
import websockets
import websockets.exceptions

from tests.helpers import SignedIn
from tests.serve_process import ServeProcess, child_env


async def test_request_id_is_taken_or_made_and_returned(client: httpx.AsyncClient) -> None:
    given = await client.get("/health", headers={"X-Request-ID": "proxy-abc.123"})
    assert given.headers["x-request-id"] == "proxy-abc.123"
    made = await client.get("/health")
    other = await client.get("/health")
    assert len(made.headers["x-request-id"]) == 16
    assert made.headers["x-request-id"] != other.headers["x-request-id"]
    forged = await client.get("/health", headers={"X-Request-ID": "a b\tc"})
    assert forged.headers["x-request-id"] != "a b\tc"
    # Refusals by the edge layer carry it too.
    too_large = await client.post(
        "/users", content=b"x", headers={"Content-Length": str(10**9), "X-Request-ID": "r1"}
    )
    assert too_large.status_code == 413 and too_large.headers["x-request-id"] == "r1"


async def test_access_line_fields(
    client: httpx.AsyncClient, player: SignedIn, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="server.access"):
        await client.get(
            f"/api/v2/users/{player.id}/osu?access_token=SECRET1&k=SECRET2",
            headers={**player.headers, "X-Request-ID": "req-42"},
        )
    (record,) = [r for r in caplog.records if r.name == "server.access"]
    method, path, status, duration, ip, user, route, request_id = record.args  # type: ignore[misc]
    assert (method, status, ip, user, request_id) == (
        "GET",
        200,
        "203.0.113.7",
        player.id,
        "req-42",
    )
    assert route == "/api/v2/users/{user}/{mode}"
    assert "SECRET" not in path and "access_token=[redacted]" in path
    assert duration > 0


@pytest.mark.slow
async def test_served_lines_are_redacted_escaped_and_json(tmp_path: Path) -> None:
    env = child_env(tmp_path / "data", LOG_FORMAT="json", LOG_LEVEL="info")
    server = ServeProcess(tmp_path, env)
    try:
        server.wait_ready()
        ws_url = server.url.replace("http", "ws") + "/signalr/spectator?access_token=TOPSECRET"
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with websockets.connect(ws_url):
                pass
        async with httpx.AsyncClient(base_url=server.url) as client:
            await client.get("/health%0d%0aFORGED%20LINE?k=APIKEY")
    finally:
        server.stop()
    text = server.log
    assert "TOPSECRET" not in text and "APIKEY" not in text
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert any(e["logger"].startswith("uvicorn") for e in entries)  # uvicorn's lines too
    assert any("access_token=[redacted]" in e["message"] for e in entries), text
    forged = [e for e in entries if e.get("route") == "-" and "FORGED" in e.get("path", "")]
    assert forged and "\\x0d\\x0a" in forged[0]["path"], text
