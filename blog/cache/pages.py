"""The page cache: lookups and stores by key, tags and expiry, and the app's hooks."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, g, request
from werkzeug.wrappers import Response

from blog.cache.http import CACHE_KEY_ENVIRON, session_touched
from blog.cache.middleware import ENTRY_ENVIRON, has_cookie
from blog.cache.stores import CachedPage, MemoryStore, PageStore
from blog.cache.tracking import LOADED, SHOWN_TAGS, ContentHooks
from blog.cache.versions import Versions
from blog.clock import Clock, utcnow
from blog.extensions import db
from blog.models.base import SITE, post_tag
from blog.web.request_log import printable

log = logging.getLogger(__name__)
CACHEABLE_METHODS = frozenset({"GET", "HEAD"})
# Headers that belong to one response, never to the stored page.
UNSTORED_HEADERS = frozenset({"date", "server", "connection", "transfer-encoding", "keep-alive"})


@dataclasses.dataclass(frozen=True)
class Entry:
    """What the app hands the middleware for a page it may keep."""

    page: CachedPage
    seq: int
    path: str


class PageCache:
    """Anonymous pages by scheme, host and path, checked against tag versions on every hit."""

    def __init__(
        self,
        app: Flask,
        store: PageStore,
        versions: Versions,
        fingerprint: str,
        hooks: ContentHooks,
    ) -> None:
        cfg = app.config
        self.store = store
        self.versions = versions
        self.hooks = hooks
        self.fingerprint = fingerprint
        self.clock: Clock = app.extensions["blog.clock"]
        self.key_prefix = fingerprint[:16] + "|"
        self.cookie_name = str(cfg["SESSION_COOKIE_NAME"])
        # Behind a proxy the page's scheme and host come from its X-Forwarded-* headers.
        self.proxy_hops = int(cfg.get("PROXY_HOPS") or 0)
        self.forwarded = self.proxy_hops > 0
        self.max_seconds = float(cfg["PAGE_CACHE_SECONDS"])
        # Memory entries remember the last check; a page from Redis is checked every time.
        self.shortcut = isinstance(store, MemoryStore)
        # In development a hook syncs posts/ before each request: hits wait for it (in Flask).
        self.hits_in_middleware = not cfg.get("SYNC_ON_REQUEST")
        self.hits = 0
        self.stored = 0

    # Lookups: no query, no template, a dict lookup and a stat or two.

    def key_for(self, environ: dict[str, Any]) -> str | None:
        """The cache key of an anonymous GET/HEAD without a query string, else None."""
        if environ["REQUEST_METHOD"] not in CACHEABLE_METHODS or environ.get("QUERY_STRING"):
            return None
        if has_cookie(environ, self.cookie_name):
            return None
        forwarded = ""
        if self.forwarded:
            # Every header ProxyFix turns into the page's origin, which links without a
            # BLOG_SITE_URL are built from: one left out would let a request choose the links
            # every other reader gets.
            forwarded = (
                f"{environ.get('HTTP_X_FORWARDED_PROTO', '')}"
                f"|{environ.get('HTTP_X_FORWARDED_HOST', '')}"
                f"|{environ.get('HTTP_X_FORWARDED_PORT', '')}"
            )
        return (
            f"{self.key_prefix}{environ['wsgi.url_scheme']}|{environ.get('HTTP_HOST', '')}"
            f"|{forwarded}|{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}"
        )

    def client_address(self, environ: dict[str, Any]) -> str:
        """The reader's address for the log, as ProxyFix finds it for the app's own requests."""
        if self.proxy_hops:
            hops = [h.strip() for h in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            if len(hops) >= self.proxy_hops and hops[-self.proxy_hops]:
                return hops[-self.proxy_hops]
        return str(environ.get("REMOTE_ADDR", ""))

    def lookup(self, key: str) -> CachedPage | None:
        """The stored page if it is still fresh; None on a miss (or a broken backend)."""
        try:
            return self._lookup(key)
        except Exception:
            log.exception("page cache: lookup failed; rendering instead")
            return None

    def _lookup(self, key: str) -> CachedPage | None:
        page = self.store.get(key)
        if page is None:
            return None
        if page.expires <= self.clock.now().timestamp():
            self.store.delete(key)
            return None
        if self.shortcut:
            # `done` first, then the tags: a bump moves the tags before `done`.
            done = self.versions.done()
            if done == page.checked_seq:
                return page
            if self.versions.current(page.tags) != page.versions:
                self.store.delete(key)
                return None
            page.checked_seq = done
            return page
        if self.versions.current(page.tags) != page.versions:
            self.store.delete(key)
            return None
        return page

    # The app's hooks.

    def before(self) -> Response | None:
        """before_request (registered last): a hit in development; else get ready to store."""
        key = request.environ.get(CACHE_KEY_ENVIRON)
        if key is None:
            return None
        view = current_app.view_functions.get(request.endpoint or "")
        if not getattr(view, "public_page", False):
            return None
        if not self.hits_in_middleware:
            page = self.lookup(key)
            if page is not None:
                self.hits += 1
                return current_app.response_class(page.body, headers=list(page.headers))
        try:
            # Before the view reads anything: a write that commits from now on is noticed.
            g.page_cache_seq = self.versions.seq()
        except Exception:
            log.exception("page cache: version store unreachable; not caching")
            return None
        setattr(g, LOADED, set())
        setattr(g, SHOWN_TAGS, set())
        return None

    def after(self, response: Response) -> Response:
        """after_request (runs first): hand a page with nothing personal to the middleware."""
        seq: int | None = g.get("page_cache_seq")
        if seq is None or response.status_code != 200 or not response.cache_control.public:
            return response
        # Checked before later hooks read the session for their own reasons.
        if session_touched() or "Set-Cookie" in response.headers or response.is_streamed:
            return response
        try:
            request.environ[ENTRY_ENVIRON] = self._entry(response, seq)
        except Exception:
            log.exception("page cache: preparing %s failed", printable(request.path))
        return response

    def _entry(self, response: Response, seq: int) -> Entry | None:
        body = response.get_data()
        etag, _weak = response.get_etag()
        if etag is None:
            return None
        now = utcnow()
        post_ids = set(g.get(LOADED) or ()) | self.hooks.posts_in_session(db.session())
        tags = (
            SITE,
            *sorted(post_tag(p) for p in post_ids),
            *sorted(g.get(SHOWN_TAGS) or ()),
        )
        last_modified = response.last_modified
        page = CachedPage(
            body=body,
            headers=(),
            etag=etag,
            last_modified=int(last_modified.timestamp()) if last_modified else None,
            tags=tags,
            versions=self.versions.current(tags),
            expires=self._expires(now, post_ids).timestamp(),
        )
        return Entry(page, seq, request.path)

    def _expires(self, now: datetime, post_ids: set[int]) -> datetime:
        """The first moment the page may change by itself: a post going live, comments closing."""
        longest = now + timedelta(seconds=self.max_seconds)
        changes = self.hooks.changes_at(now, post_ids)
        return longest if changes is None else min(longest, changes)

    def keep(self, key: str, entry: Entry, headers: list[tuple[str, str]]) -> None:
        """Store a rendered page with the final headers the app sent (middleware, after the app)."""
        try:
            self._keep(key, entry, headers)
        except Exception:
            log.exception("page cache: storing %s failed", printable(entry.path))

    def _keep(self, key: str, entry: Entry, headers: list[tuple[str, str]]) -> None:
        names = {k.lower(): v for k, v in headers}
        if "set-cookie" in names or "public" not in names.get("cache-control", ""):
            return
        if names.get("content-length", str(len(entry.page.body))) != str(len(entry.page.body)):
            return
        kept = tuple((k, v) for k, v in headers if k.lower() not in UNSTORED_HEADERS)
        page = dataclasses.replace(entry.page, headers=kept)
        if self.versions.seq() != entry.seq:
            # A write committed while this page rendered: it may show the old state.
            return
        self.store.put(key, page, ttl=page.expires - self.clock.now().timestamp())
        self.stored += 1

    # Writes.

    def invalidate(self, tags: set[str]) -> None:
        """Make every page showing these tags stale, here and in every other process."""
        self.versions.bump(tags)
        log.debug("page cache: invalidated %s", sorted(tags))

    def clear(self) -> None:
        """Forget every page: bump `site`, empty the store."""
        self.versions.bump({SITE})
        self.store.clear()
