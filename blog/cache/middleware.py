"""The WSGI side of the page cache: hits answered before Flask, misses stored after it.

A hit costs a dict lookup, one os.stat (the version check) and a clock read: no request
context, no routing, no session, no query and no template, so a cached page is served at
close to the speed of a constant WSGI app. The stored headers are the final ones, security
headers included, captured from the response the app gave when the page was rendered.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.http import (
    parse_cookie,
    parse_date,
    parse_etags,
    remove_entity_headers,
    unquote_etag,
)

from blog.cache.http import CACHE_KEY_ENVIRON
from blog.web.request_log import log_request

if TYPE_CHECKING:
    from blog.cache.pages import PageCache
    from blog.cache.stores import CachedPage

ENTRY_ENVIRON = "blog.cache.entry"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def has_cookie(environ: dict[str, Any], name: str) -> bool:
    """True when the request carries the named cookie (any value, as Flask would see it)."""
    header = environ.get("HTTP_COOKIE")
    if not header or name not in header:
        return False
    return name in parse_cookie(header)


def not_modified(environ: dict[str, Any], etag: str | None, last_modified: int | None) -> bool:
    """The request's If-None-Match / If-Modified-Since say the client's copy is current."""
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match:
        return etag is not None and parse_etags(if_none_match).contains_weak(etag)
    since = environ.get("HTTP_IF_MODIFIED_SINCE")
    if since and last_modified is not None:
        parsed = parse_date(since)
        return parsed is not None and last_modified <= parsed.timestamp()
    return False


def answer(
    environ: dict[str, Any],
    start_response: Callable[..., Any],
    status: str,
    headers: list[tuple[str, str]],
    body: Iterable[bytes],
    etag: str | None,
    last_modified: int | None,
) -> Iterable[bytes] | None:
    """Start the response; None when it became a 304 (the client's copy is current)."""
    if status.startswith("200") and not_modified(environ, etag, last_modified):
        headers = list(headers)
        remove_entity_headers(headers)
        close = getattr(body, "close", None)
        if close is not None:
            close()
        start_response("304 Not Modified", headers)
        return None
    start_response(status, headers)
    return body


class PageCacheMiddleware:
    """Wraps the app (outermost): serves fresh pages, and stores the pages the app marked."""

    def __init__(self, app: WSGIApp, cache: PageCache) -> None:
        self.app = app
        self.cache = cache
        # Off when the app must run something first (the development sync-on-request hook).
        self.serve_hits = cache.hits_in_middleware

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Serve a hit, or run the app and keep what it rendered."""
        key = self.cache.key_for(environ)
        if key is None:
            return self.app(environ, start_response)
        if self.serve_hits:
            started = time.perf_counter()
            page = self.cache.lookup(key)
            if page is not None:
                return self._hit(environ, start_response, page, started)
        environ[CACHE_KEY_ENVIRON] = key
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if exc_info is not None:
                return start_response(status, headers, exc_info)
            captured[:] = [status, headers]
            return lambda data: None  # the old write() API: werkzeug never uses it

        body = self.app(environ, capture)
        if not captured:
            return body
        status, headers = captured
        entry = environ.pop(ENTRY_ENVIRON, None)
        if entry is not None and status.startswith("200"):
            self.cache.keep(key, entry, headers)
        etag = next((unquote_etag(v)[0] for k, v in headers if k.lower() == "etag"), None)
        modified = next((v for k, v in headers if k.lower() == "last-modified"), None)
        parsed = parse_date(modified) if modified else None
        last_modified = int(parsed.timestamp()) if parsed else None
        sent = answer(environ, start_response, status, headers, body, etag, last_modified)
        return [] if sent is None else sent

    def _hit(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        page: CachedPage,
        started: float,
    ) -> Iterable[bytes]:
        self.cache.hits += 1
        head = environ["REQUEST_METHOD"] == "HEAD"
        body = [] if head else [page.body]
        sent = answer(
            environ, start_response, "200 OK", list(page.headers), body, page.etag,
            page.last_modified,
        )  # fmt: skip
        log_request(
            self.cache.client_address(environ),
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO", ""),
            304 if sent is None else 200,
            0 if sent is None else len(page.body),
            (time.perf_counter() - started) * 1000,
        )
        return [] if sent is None else sent
