"""The one line logged per request: address, method, path, status, bytes and milliseconds.

Written by the app for the requests it handles and by the page cache for its hits. The
lines go to the logger `blog.requests`, like any other log. `RequestLineHandler` is the
handler that gunicorn.conf.py gives it: when it is the logger's only way out, a line is
written straight to the stream, the same text a LogRecord would have become, in under half
the time (a cached page is served in about as long as its log line used to take).
"""

from __future__ import annotations

import logging
import os
import time
from typing import IO, Any

log = logging.getLogger("blog.requests")
REQUEST_LINE = '%s "%s %s" %s %d %.1fms'
# The project's log line, with logging.Formatter's default asctime.
LINE_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s %(message)s"


def printable(text: str) -> str:
    """The text with each non-printable character (a decoded %0A, say) written as an escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


class RequestLineHandler(logging.StreamHandler[Any]):
    """A StreamHandler in LINE_FORMAT that can also write a request's line without a record."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__(stream)
        self.setFormatter(logging.Formatter(LINE_FORMAT))
        self._second = -1
        self._stamp = ""
        self._middle = ""

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        """Take LINE_FORMAT only: a line written directly must read as its record would."""
        if fmt is None or fmt._fmt != LINE_FORMAT or fmt.datefmt is not None:
            raise ValueError(f"RequestLineHandler writes {LINE_FORMAT!r} lines only")
        super().setFormatter(fmt)

    def write_request(self, message: str) -> None:
        """Write one INFO line of `blog.requests` holding `message`, as a record would read."""
        now = time.time()
        second = int(now)
        formatter = self.formatter
        assert formatter is not None  # set in __init__, and setFormatter takes no None
        if second != self._second:
            # The time to the second and the process id: made again once a second.
            self._stamp = time.strftime(formatter.default_time_format, formatter.converter(second))
            self._middle = f" {os.getpid()} INFO {log.name} "
            self._second = second
        millis = int((now - second) * 1000)
        stamp = formatter.default_msec_format % (self._stamp, millis)  # type: ignore[operator]
        line = f"{stamp}{self._middle}{message}{self.terminator}"
        with self.lock:  # type: ignore[union-attr]
            try:
                self.stream.write(line)
                self.stream.flush()
            except Exception:
                record = log.makeRecord(log.name, logging.INFO, __file__, 0, message, (), None)
                self.handleError(record)


def _reset_after_fork() -> None:
    # A forked worker has a new process id: the next line makes a new prefix.
    for handler in log.handlers:
        if isinstance(handler, RequestLineHandler):
            handler._second = -1


os.register_at_fork(after_in_child=_reset_after_fork)


def direct_handler() -> RequestLineHandler | None:
    """The logger's one handler when a line may skip the record: no filter, nothing else."""
    handlers = log.handlers
    if len(handlers) != 1 or log.propagate or log.filters:
        return None
    handler = handlers[0]
    if type(handler) is not RequestLineHandler or handler.filters or handler.level > logging.INFO:
        return None
    return handler


def log_request(
    address: str | None, method: str, path: str, status: int, size: int, elapsed_ms: float
) -> None:
    """Log one request's line (INFO on `blog.requests`), when that level is on."""
    if not log.isEnabledFor(logging.INFO):
        return
    # The request's own strings are escaped: a newline in them would forge a line of its own.
    args: tuple[Any, ...] = (
        printable(address or "-"),
        printable(method),
        printable(path),
        status,
        size,
        elapsed_ms,
    )
    handler = direct_handler()
    if handler is not None:
        handler.write_request(REQUEST_LINE % args)
        return
    # A record made directly: `log.info` would walk the stack for a caller it never prints.
    log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, REQUEST_LINE, args, None))
