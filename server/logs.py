"""Logging: one format for the server's lines and uvicorn's, text or JSON (`LOG_FORMAT`).

Every line, whoever wrote it, goes through `LineFormatter`: secret-bearing query parameters
are redacted (uvicorn's own WebSocket lines carry `?access_token=`), and control characters
(CR, LF, ESC …) in the message are escaped so a request path cannot forge a log line.

The access line is written by server/middleware with positional arguments in ACCESS_FIELDS
order; the JSON formatter turns them into named fields without building a dict per request
in text mode.

`serve` writes through a `DeferredStreamHandler`: a record logged inside the event loop is
kept and formatted and written with the others of its batch a moment later (one write for
many lines, none of it on the request's path); warnings and errors, and anything logged
outside the loop, are written at once, after what was kept, so the order stays the order
of logging. Handlers added beside it (pytest's caplog) still see every record at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
import time
from typing import Any, Literal

import msgspec

# Query parameters that can carry a secret: v1 API keys (`k`), stable-client password hashes
# (`h`, `ha`, `p`, `pass`, `password`), OAuth tokens, codes and client secrets (S-TOK-9).
SECRET_PARAMS = (
    "k",
    "h",
    "ha",
    "p",
    "pass",
    "password",
    "access_token",
    "token",
    "refresh_token",
    "code",
    "client_secret",
    "api_key",
    "secret",
)
_NAMES = "|".join(SECRET_PARAMS)
# In a query string on its own (the access line builds its path from the raw query).
_SECRET_QUERY = re.compile(rf"(?i)(^|&)({_NAMES})=[^&]*")
# Anywhere in a line (uvicorn's "WebSocket /path?access_token=…"); also a SignalR connection
# token (`id=<expiry>.<…>`), which authenticates the hub socket.
_SECRET_IN_LINE = re.compile(rf"(?i)([?&])({_NAMES}|id(?==\d+\.))=[^&\s\"']*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Queries redact_query found nothing to redact in (see there).
_PLAIN_QUERIES: set[str] = set()
_PLAIN_QUERIES_MAX = 1024
_PLAIN_QUERY_MAX_CHARS = 256

# The access line's arguments, in order.
ACCESS_FIELDS = (
    "method",
    "path",
    "status",
    "duration_ms",
    "client_ip",
    "user_id",
    "route",
    "request_id",
)
ACCESS_FORMAT = "%s %s %s %.1fms ip=%s user=%s route=%s request_id=%s"
ACCESS_LOGGER = "server.access"
_access_logger = logging.getLogger(ACCESS_LOGGER)


def redact_query(query: str) -> str:
    """A query string with secret parameters' values replaced.

    Queries found to hold no secret are remembered (short ones, a bounded number), so the
    leaderboard query lazer repeats on every song-select move is scanned once, not on every
    access line; a query that held a secret is never kept."""
    if "=" not in query or query in _PLAIN_QUERIES:
        return query
    redacted = _SECRET_QUERY.sub(lambda m: f"{m.group(1)}{m.group(2)}=[redacted]", query)
    if redacted == query and len(query) <= _PLAIN_QUERY_MAX_CHARS:
        if len(_PLAIN_QUERIES) >= _PLAIN_QUERIES_MAX:
            _PLAIN_QUERIES.clear()
        _PLAIN_QUERIES.add(query)
    return redacted


def clean(message: str) -> str:
    """A message safe to write as one log line: secrets redacted, control chars escaped."""
    # The pattern needs `?` or `&` before a name: a line without either (most access lines)
    # has nothing to redact.
    if "=" in message and ("?" in message or "&" in message):
        message = _SECRET_IN_LINE.sub(lambda m: f"{m.group(1)}{m.group(2)}=[redacted]", message)
    if not message.isprintable():
        message = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", message)
    return message


class LineFormatter(logging.Formatter):
    """`time level logger: message`, cleaned. The time's text is made once per second (an
    access line per request made strftime a visible part of a request's cost)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._second = -1
        self._second_text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        second = int(record.created)
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
            self._second = second
        return f"{self._second_text},{int(record.msecs):03d}"

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = clean(record.message)
        return super().formatMessage(record)

    def format_access(self, created: float, args: tuple[Any, ...]) -> str:
        """The access line `format` gives a record of `created` with `args`, made without
        the record."""
        second = int(created)
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
            self._second = second
        msecs = int((created - second) * 1000)
        message = clean(ACCESS_FORMAT % args)
        return f"{self._second_text},{msecs:03d} INFO {ACCESS_LOGGER}: {message}"


_json = msgspec.json.Encoder()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (cleaned), the access line's
    fields by name, and the traceback, if any, as `exc_info`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": clean(record.getMessage()),
        }
        if record.name == ACCESS_LOGGER and isinstance(record.args, tuple):
            for name, value in zip(ACCESS_FIELDS, record.args, strict=False):
                entry[name] = clean(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return _json.encode(entry).decode()

    def format_access(self, created: float, args: tuple[Any, ...]) -> str:
        """The access line `format` gives a record of `created` with `args`."""
        second = int(created)
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            + f".{int((created - second) * 1000):03d}Z",
            "level": "info",
            "logger": ACCESS_LOGGER,
            "message": clean(ACCESS_FORMAT % args),
        }
        for name, value in zip(ACCESS_FIELDS, args, strict=False):
            entry[name] = clean(value) if isinstance(value, str) else value
        return _json.encode(entry).decode()


class OutageFilter(logging.Filter):
    """Keeps an unreachable database or Redis from writing a traceback per request.

    A record whose exception (or its cause) is one of `errors` is written without its
    traceback, once per logger and message per `window` seconds, with the exception's one-line
    summary and how many like it were held back since the last one. The DependencyMonitor
    (server/services/health.py) writes the state changes themselves."""

    def __init__(self, errors: tuple[type[BaseException], ...], window: float = 30.0) -> None:
        super().__init__()
        self._errors = errors
        self._window = window
        self._seen: dict[tuple[str, object], list[float]] = {}

    def _outage(self, exc: BaseException | None) -> BaseException | None:
        for _ in range(6):
            if exc is None or isinstance(exc, self._errors):
                return exc
            exc = exc.__cause__ or exc.__context__
        return None

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info:
            return True
        exc = self._outage(record.exc_info[1])
        if exc is None:
            return True
        key = (record.name, record.msg)
        now = time.monotonic()
        seen = self._seen.get(key)
        if seen is not None and now - seen[0] < self._window:
            seen[1] += 1
            return False
        held_back = int(seen[1]) if seen is not None else 0
        self._seen[key] = [now, 0]
        message = f"{record.getMessage()} ({type(exc).__name__}: {exc})"
        if held_back:
            message += f"; {held_back} more like it in the last {self._window:.0f} s"
        record.msg, record.args = message, ()
        record.exc_info = record.exc_text = None
        return True


# Argument types a record can be formatted from later with the same result.
_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes})


def _deferrable(record: logging.LogRecord) -> bool:
    """Whether formatting `record` later gives the line it would give now: a plain message
    with immutable arguments, no traceback."""
    if record.exc_info or record.stack_info or type(record.msg) is not str:
        return False
    args = record.args
    if not args:
        return True
    return type(args) is tuple and all(type(arg) in _IMMUTABLE for arg in args)


class DeferredStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler that writes the access lines logged in a running event loop in
    batches.

    Such a line is kept (formatted on the spot only when its arguments could change before
    the batch is written) and the batch is formatted and written in one write `delay`
    seconds after its first line, or as soon as `max_pending` are kept. Any other record
    (uvicorn's and the app's own lines, which are few) and `flush()` write what is kept
    first, then the record, so the order stays the order of logging.

    What is kept when the process ends is written by `flush()`: by the app's lifespan as
    its last step (after the last request; uvicorn ends a SIGTERM'd process by raising the
    signal again, which skips logging.shutdown) and by logging.shutdown otherwise."""

    def __init__(self, stream: Any, delay: float = 0.05, max_pending: int = 256) -> None:
        super().__init__(stream)
        self.delay = delay
        self.max_pending = max_pending
        self._pending: list[logging.LogRecord | str | tuple[float, tuple[Any, ...]]] = []
        self._scheduled_on: asyncio.AbstractEventLoop | None = None

    def defer_access(self, created: float, args: tuple[Any, ...]) -> None:
        """Keep an access line (`created` as time.time(), ACCESS_FIELDS `args`) for the next
        batch without making a record: what `log.info(ACCESS_FORMAT, *args)` would write,
        for when this handler is the only one the access logger reaches (`access_sink`).
        Called from the event loop."""
        with self.lock:  # type: ignore[union-attr]
            self._pending.append((created, args))
            loop = asyncio.get_running_loop()
            if len(self._pending) >= self.max_pending:
                self._write_pending()
            elif self._scheduled_on is not loop:
                loop.call_later(self.delay, self._drain)
                self._scheduled_on = loop

    def emit(self, record: logging.LogRecord) -> None:
        # Handler.handle holds self.lock here.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        try:
            if loop is None or record.name != ACCESS_LOGGER or record.levelno >= logging.WARNING:
                self._pending.append(self.format(record))
                self._write_pending()
                return
            self._pending.append(record if _deferrable(record) else self.format(record))
            if len(self._pending) >= self.max_pending:
                self._write_pending()
            elif self._scheduled_on is not loop:
                # Also when a batch was scheduled on a loop that has stopped since.
                loop.call_later(self.delay, self._drain)
                self._scheduled_on = loop
        except Exception:
            self.handleError(record)

    def _drain(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._scheduled_on = None
            self._write_pending()

    def _write_pending(self, *, raise_errors: bool = False) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        lines = [line for item in pending if (line := self._line(item)) is not None]
        if lines:
            try:
                self.stream.write(self.terminator.join(lines) + self.terminator)
                self.stream.flush()
            except (OSError, ValueError):
                if raise_errors:
                    raise
                # A closed or broken stream: reported as StreamHandler.emit reports it
                # (handleError), never raised into the event loop's callback.
                lost = {"msg": "%d log lines could not be written", "args": (len(lines),)}
                self.handleError(logging.makeLogRecord(lost))

    def _line(self, item: logging.LogRecord | str | tuple[float, tuple[Any, ...]]) -> str | None:
        """A kept item's line; None when it fails to format (reported as logging's own
        handlers report it, handleError)."""
        if type(item) is str:
            return item
        record = item if isinstance(item, logging.LogRecord) else None
        try:
            if record is not None:
                return self.format(record)
            assert isinstance(item, tuple)
            return self._format_access(*item)
        except Exception:
            self.handleError(record or self._access_record(*item))  # type: ignore[misc]
            return None

    def _format_access(self, created: float, args: tuple[Any, ...]) -> str:
        fmt = self.formatter
        if isinstance(fmt, LineFormatter | JsonFormatter):
            return fmt.format_access(created, args)
        return self.format(self._access_record(created, args))

    @staticmethod
    def _access_record(created: float, args: tuple[Any, ...]) -> logging.LogRecord:
        record = _access_logger.makeRecord(
            ACCESS_LOGGER, logging.INFO, "(unknown file)", 0, ACCESS_FORMAT, args, None
        )
        record.created = created
        record.msecs = int((created - int(created)) * 1000)
        return record

    def flush(self) -> None:
        """Write what is kept, then flush the stream; a closed or broken stream raises, as
        StreamHandler.flush does (logging.shutdown at exit ignores it)."""
        with self.lock:  # type: ignore[union-attr]
            self._write_pending(raise_errors=True)
        super().flush()


def handler(
    fmt: Literal["text", "json"], stream: Any = None, *, deferred: bool = False
) -> logging.Handler:
    """The one handler every line goes through: cleaned, outages without tracebacks
    (`deferred`: lines logged in the event loop written in batches, as `serve` does)."""
    from server.db import DB_UNAVAILABLE_ERRORS
    from server.redis_store import REDIS_UNAVAILABLE_ERRORS

    target = sys.stderr if stream is None else stream
    out = DeferredStreamHandler(target) if deferred else logging.StreamHandler(target)
    out.setFormatter(JsonFormatter() if fmt == "json" else LineFormatter())
    out.addFilter(OutageFilter((*DB_UNAVAILABLE_ERRORS, *REDIS_UNAVAILABLE_ERRORS)))
    return out


_sink: DeferredStreamHandler | None = None


def access_sink() -> DeferredStreamHandler | None:
    """The handler configure() installed, when the access logger's records would reach it
    and nothing else (no other handler or filter on the way: pytest's caplog, or an
    operator's own logging set-up, get real records); else None."""
    sink = _sink
    if sink is None:
        return None
    root = logging.root
    if (
        root.filters
        or len(root.handlers) != 1
        or root.handlers[0] is not sink
        or sink.level > logging.INFO
    ):
        return None
    logger: logging.Logger | None = _access_logger
    while logger is not None and logger is not root:
        if logger.handlers or logger.filters or logger.disabled or not logger.propagate:
            return None
        logger = logger.parent
    return sink


def flush_deferred() -> None:
    """Write the access lines configure()'s handler keeps (the lifespan's last step); a
    stream that can no longer be written is left alone, as logging.shutdown leaves it."""
    sink = _sink
    if sink is not None and sink in logging.root.handlers:
        with contextlib.suppress(OSError, ValueError):
            sink.flush()


def configure(level: str, fmt: Literal["text", "json"]) -> None:
    """Route every logger (ours, uvicorn's, libraries') to one stderr handler in `fmt`."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    global _sink
    out = handler(fmt, deferred=True)
    assert isinstance(out, DeferredStreamHandler)
    root.addHandler(out)
    _sink = out
    # What the lines do not show is not collected (the logging HOWTO's "Optimization"): no
    # caller lookup, thread or process names per record.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root.setLevel(level.upper())
    # uvicorn's loggers write through the root handler (serve passes log_config=None); its
    # access logger stays off: server/middleware writes the access line.
    for name in ("uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True
