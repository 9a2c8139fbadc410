"""The log line format: secrets redacted, control characters escaped, JSON fields, and an
outage written without a traceback per request."""

from __future__ import annotations

import asyncio
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


def _access_args(path: str) -> tuple[object, ...]:
    return ("GET", path, 200, 1.25, "1.2.3.4", 7, "/x", "rid")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_access_line_made_without_a_record_is_the_records_line(fmt: str) -> None:
    out = logs.handler(fmt, io.StringIO())  # type: ignore[arg-type]
    formatter = out.formatter
    assert isinstance(formatter, logs.LineFormatter | logs.JsonFormatter)
    for path in ("/x", "/x\r\nFORGED", "/a?b=1&access_token=[redacted]", "/p%3Fk=SECRET"):
        args = _access_args(path.replace("%3F", "?"))
        record = logging.getLogger(logs.ACCESS_LOGGER).makeRecord(
            logs.ACCESS_LOGGER, logging.INFO, "(unknown file)", 0, logs.ACCESS_FORMAT, args, None
        )
        assert formatter.format_access(record.created, args) == formatter.format(record)
        assert "SECRET" not in formatter.format_access(record.created, args)


async def test_deferred_handler_writes_loop_access_lines_in_one_batch_in_order() -> None:
    stream = io.StringIO()
    out = logs.handler("text", stream, deferred=True)
    assert isinstance(out, logs.DeferredStreamHandler)
    out.delay = 0.01
    # Unregistered loggers with the real names: the access logger's lines are kept, any
    # other logger's are written at once.
    access = logging.Logger(logs.ACCESS_LOGGER)
    app = logging.Logger("server.app")
    for logger in (access, app):
        logger.handlers = [out]
        logger.setLevel(logging.INFO)
    access.info("first %s", 1)
    out.defer_access(1_700_000_000.5, _access_args("/second"))
    access.info("third %s", {"mutable": True})  # formatted on the spot
    assert stream.getvalue() == ""  # nothing written on the request's path
    await asyncio.sleep(0.05)
    lines = stream.getvalue().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        "first 1",
        "GET /second 200 1.2ms ip=1.2.3.4 user=7 route=/x request_id=rid",
        "third {'mutable': True}",
    ]
    # Another logger's line (uvicorn's, the app's) writes what is kept first, then itself,
    # at once: a process that ends without logging.shutdown loses none of those.
    access.info("kept")
    app.info("shutdown complete")
    assert [line.rsplit(": ", 1)[1] for line in stream.getvalue().splitlines()[3:]] == [
        "kept",
        "shutdown complete",
    ]
    # flush() (the lifespan's last step, logging.shutdown at exit) writes what is kept.
    access.info("last")
    assert not stream.getvalue().endswith(": last\n")
    out.flush()
    assert stream.getvalue().endswith(": last\n")


def test_deferred_handler_writes_at_once_outside_a_loop() -> None:
    stream = io.StringIO()
    out = logs.handler("text", stream, deferred=True)
    logger = logging.getLogger("test.logs.deferred.sync")
    logger.handlers = [out]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.info("now")
    assert stream.getvalue().endswith(": now\n")


def test_access_lines_skip_the_record_only_when_nothing_else_listens() -> None:
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    try:
        logs.configure("info", "text")
        sink = logs.access_sink()
        assert sink is not None and root.handlers == [sink]
        other = logging.StreamHandler(io.StringIO())
        root.addHandler(other)  # pytest's caplog, an operator's own handler
        assert logs.access_sink() is None
        root.removeHandler(other)
        logging.getLogger(logs.ACCESS_LOGGER).addFilter(logging.Filter("x"))
        assert logs.access_sink() is None
    finally:
        logging.getLogger(logs.ACCESS_LOGGER).filters.clear()
        root.handlers = saved
        root.setLevel(level)
        logs._sink = None


def test_deferred_handler_reschedules_after_its_loop_stopped() -> None:
    stream = io.StringIO()
    out = logs.handler("text", stream, deferred=True)
    assert isinstance(out, logs.DeferredStreamHandler)
    out.delay = 0.01

    async def log_one(path: str, wait: float) -> None:
        out.defer_access(1_700_000_000.0, _access_args(path))
        await asyncio.sleep(wait)

    # The first loop stops before its batch is due; the next loop's batch writes both.
    asyncio.run(log_one("/one", 0))
    assert stream.getvalue() == ""
    asyncio.run(log_one("/two", 0.05))
    paths = [line.split(" ")[5] for line in stream.getvalue().splitlines()]
    assert paths == ["/one", "/two"]


async def test_deferred_handler_never_raises_into_the_loop_when_its_stream_closed() -> None:
    stream = io.StringIO()
    out = logs.handler("text", stream, deferred=True)
    assert isinstance(out, logs.DeferredStreamHandler)
    out.delay = 0.01
    errors: list[dict[str, object]] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    raise_exceptions = logging.raiseExceptions
    logging.raiseExceptions = False  # handleError stays quiet, as in production
    try:
        out.defer_access(1_700_000_000.0, _access_args("/closed"))
        stream.close()
        await asyncio.sleep(0.05)
    finally:
        loop.set_exception_handler(previous)
        logging.raiseExceptions = raise_exceptions
    assert errors == []
