"""The log line format: secrets redacted, control characters escaped, JSON fields, and an
outage written without a traceback per request."""

from __future__ import annotations

import io
import json
import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from server import logs


def test_redacts_every_secret_parameter_in_a_line() -> None:
    line = (
        '127.0.0.1:5 - "WebSocket /signalr/spectator?access_token=eyJ.abc&x=1" [accepted] '
        "/get_scores.php?k=apikey&h=md5&c=ok&code=authcode&client_secret=s&id=1700000000.5.mac"
    )
    cleaned = logs.clean(line)
    for secret in ("eyJ.abc", "apikey", "md5", "authcode", "client_secret=s", "mac"):
        assert secret not in cleaned
    assert "access_token=[redacted]" in cleaned and "x=1" in cleaned and "c=ok" in cleaned


def test_escapes_control_characters() -> None:
    forged = "GET /a\r\n2026-01-01 INFO server.access: GET /admin 200\x1b[31m"
    cleaned = logs.clean(forged)
    assert "\n" not in cleaned and "\r" not in cleaned and "\x1b" not in cleaned
    assert "\\x0d\\x0a" in cleaned and "\\x1b" in cleaned


def _capture(fmt: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    logger = logging.getLogger(f"test.logs.{fmt}")
    logger.handlers = [logs.handler(fmt, stream)]  # type: ignore[arg-type]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_json_access_line_has_named_fields() -> None:
    stream = io.StringIO()
    access = logging.getLogger(logs.ACCESS_LOGGER)
    out = logs.handler("json", stream)
    access.addHandler(out)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        access.info(
            logs.ACCESS_FORMAT, "GET", "/x?k=[redacted]", 200, 1.25, "1.2.3.4", 7, "/x", "rid"
        )
    finally:
        access.removeHandler(out)
        access.setLevel(level)
    entry = json.loads(stream.getvalue())
    assert entry["logger"] == "server.access" and entry["level"] == "info"
    assert entry["status"] == 200 and entry["client_ip"] == "1.2.3.4" and entry["user_id"] == 7
    assert entry["route"] == "/x" and entry["request_id"] == "rid"
    assert entry["duration_ms"] == pytest.approx(1.25)
    assert entry["time"].endswith("Z")


def test_outage_tracebacks_are_one_line_per_window() -> None:
    logger, stream = _capture("text")
    for _ in range(50):
        try:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379.")
        except RedisConnectionError:
            logger.warning("leaderboard read from Redis failed", exc_info=True)
    try:
        raise ValueError("a bug")
    except ValueError:
        logger.warning("something else", exc_info=True)
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith(
        "leaderboard read from Redis failed (ConnectionError: Error 111 connecting to "
        "127.0.0.1:6379.)"
    )
    # The other 49 are held back; a bug still gets its traceback.
    assert sum("leaderboard" in line for line in lines) == 1
    assert "Traceback" in stream.getvalue() and "ValueError: a bug" in stream.getvalue()
