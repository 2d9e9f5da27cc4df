"""The one line logged per request: address, method, path, status, bytes and milliseconds.

Written by the app for the requests it handles and by the page cache for its hits.
"""

from __future__ import annotations

import logging

log = logging.getLogger("blog.requests")
REQUEST_LINE = '%s "%s %s" %s %d %.1fms'


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
    # The request's own strings are escaped: a newline in them would forge a line of its own.
    args = (printable(address or "-"), printable(method), printable(path), status, size, elapsed_ms)
    # A record made directly: `log.info` would walk the stack for a caller it never prints.
    log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, REQUEST_LINE, args, None))
