"""The one line logged per request: address, method, path, status, bytes and milliseconds.

Written by the app for the requests it handles and by the page cache for its hits, to the
logger `blog.requests`, like any other log: gunicorn.conf.py writes it to stderr through a
plain Formatter in LINE_FORMAT. The request's own strings are escaped before they reach the
record, so whatever handler writes the line, a decoded %0A in a path or a forwarded address
cannot forge a line of its own.
"""

from __future__ import annotations

import logging

log = logging.getLogger("blog.requests")
REQUEST_LINE = '%s "%s %s" %s %d %.1fms'
# The project's log line, with logging.Formatter's default asctime.
LINE_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s %(message)s"


def printable(text: str) -> str:
    """The text with each non-printable character (a decoded %0A, say) written as an escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def log_request(
    address: str | None, method: str, path: str, status: int, size: int, elapsed_ms: float
) -> None:
    """Log one request's line (INFO on `blog.requests`), when that level is on."""
    if not log.isEnabledFor(logging.INFO):
        return
    args = (printable(address or "-"), printable(method), printable(path), status, size, elapsed_ms)
    # Logger.makeRecord and Logger.handle are the logger's public API; building the record here
    # skips Logger.info's walk up the stack for the caller, which this one line never names.
    log.handle(log.makeRecord(log.name, logging.INFO, "", 0, REQUEST_LINE, args, None))
