"""The one memo: values kept in this process until their tags change.

`kept(key, tags, build)` is the value built for `key` as of the current versions of `tags`
(blog/cache/versions.py, shared by every process of the blog), built and kept on a miss. A
write anywhere moves the versions of the tags it touches, so a kept value is never stale: it
is no longer found, and ages out. A value that shows the live posts as of `now` also ends
when the next scheduled post goes live.

One LRU, bounded in bytes (BLOG_MEMO_BYTES), holds what pages reuse: rendered post shells,
comment threads, listings, search results, and the site-wide queries behind them. It serves
logged-in readers, and every reader when the page cache is off.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from typing import TypeVar, cast

from cachetools import LRUCache
from flask import Flask, current_app, g, has_request_context, request

from blog.cache.tracking import HOOKS, ContentHooks
from blog.cache.versions import Versions
from blog.models.base import SITE

T = TypeVar("T")
EXTENSION = "blog.cache.memo"
VERSIONS_EXTENSION = "blog.cache.versions"
# Bookkeeping per entry besides the value: the key, its versions, the LRU's links.
ENTRY_OVERHEAD = 300
_MISSING = object()


@dataclass(frozen=True)
class _Live:
    """While the `site` version stays `site`, from `since` until `until` no post goes live."""

    site: tuple[int, ...]
    since: datetime
    until: datetime | None

    def covers(self, site: tuple[int, ...], now: datetime) -> bool:
        """True when `until` is still the next change for content at `site`, seen at `now`."""
        return site == self.site and self.since <= now and (self.until is None or now < self.until)


def footprint(value: object) -> int:
    """Bytes a value costs in memory, roughly: its strings, containers and dataclass fields."""
    size = sys.getsizeof(value)
    if isinstance(value, str | bytes):
        return size
    if isinstance(value, list | tuple | set | frozenset):
        return size + sum(footprint(item) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        return size + sum(footprint(getattr(value, f.name)) for f in fields(value))
    return size


class Memo:
    """Kept values by key, least recently used out first beyond `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self._values: LRUCache[Hashable, object] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda value: footprint(value) + ENTRY_OVERHEAD
        )
        # gthread workers serve requests from several threads; a read reorders the LRU.
        self._lock = threading.Lock()
        self.live: _Live | None = None

    def get(self, key: Hashable) -> object:
        """The value kept under `key`, or _MISSING; a hit becomes the most recently used."""
        with self._lock:
            return self._values.get(key, _MISSING)

    def put(self, key: Hashable, value: object) -> None:
        """Keep a value, dropping the least recently used to make room."""
        # A value larger than the whole memo is refused: it is simply not kept.
        with self._lock, contextlib.suppress(ValueError):
            self._values[key] = value

    @property
    def used(self) -> int:
        """Bytes the kept values cost, roughly."""
        return int(self._values.currsize)

    def __len__(self) -> int:
        return len(self._values)


def memo(app: Flask | None = None) -> Memo:
    """The app's memo (BLOG_MEMO_BYTES; 0 keeps nothing)."""
    app = app or current_app
    found: Memo | None = app.extensions.get(EXTENSION)
    if found is None:
        found = app.extensions[EXTENSION] = Memo(int(app.config["MEMO_BYTES"]))
    return found


def tag_versions(app: Flask | None = None) -> Versions | None:
    """The app's tag versions (None only for an app made without init_page_cache)."""
    return (app or current_app).extensions.get(VERSIONS_EXTENSION)


def read_versions_first() -> None:
    """Note the write sequence before anything reads the database (a before_request hook).

    On SQLite a request reads one snapshot, taken at its first query (the user's session may
    be loaded before the view): a version read after it could be newer than what it shows.
    So a value is kept only if no write moved the sequence since it was noted here.
    """
    versions = tag_versions()
    if versions is not None:
        g.versions_seq = versions.seq()
        g.versions_read = {}


def _current(versions: Versions, tags: Sequence[str]) -> tuple[int, ...]:
    """The versions of `tags`, each read once per request: one stat, or one Redis round trip."""
    if not has_request_context():
        return versions.current(tags)
    read: dict[str, int] = g.setdefault("versions_read", {})
    missing = [tag for tag in tags if tag not in read]
    if missing:
        read.update(zip(missing, versions.current(missing), strict=True))
    return tuple(read[tag] for tag in tags)


def kept(
    key: Hashable, tags: Sequence[str], build: Callable[[], T], now: datetime | None = None
) -> T:
    """The value for `key` as of the current versions of `tags`, built and kept on a miss.

    With `now`, the value shows the posts live at that moment: it also ends when the next
    scheduled post goes live. A value built while a write committed is not kept: it may show
    an older snapshot than its versions say.
    """
    versions = tag_versions()
    if versions is None:
        return build()
    seq: int | None = g.get("versions_seq") if has_request_context() else None
    if seq is None:
        seq = versions.seq()
    store = memo()
    full_key: tuple[Hashable, ...] = (key, _current(versions, tags))
    if now is not None:
        full_key += (_live_until(store, versions, seq, now),)
    found = store.get(full_key)
    if found is not _MISSING:
        return cast(T, found)
    value = build()
    if versions.seq() == seq:
        store.put(full_key, value)
    return value


def _live_until(store: Memo, versions: Versions, seq: int, now: datetime) -> datetime | None:
    """When the next scheduled post after `now` goes live (None: none is due)."""
    site = _current(versions, (SITE,))
    live = store.live
    if live is not None and live.covers(site, now):
        return live.until
    hooks: ContentHooks | None = current_app.extensions.get(HOOKS)
    until = hooks.changes_at(now, ()) if hooks is not None else None
    if versions.seq() == seq:  # no write between the versions and the query: they agree
        store.live = _Live(site, now, until)
    return until


def link_base() -> tuple[str, str]:
    """What a page's links depend on besides its content: where the app is mounted, and the
    request's scheme and host when absolute links come from them (no BLOG_SITE_URL)."""
    if current_app.config["SITE_URL"]:
        return request.script_root, ""
    # The raw scheme and host name the links' origin: finer than `host_url`, and cheaper.
    return request.script_root, f"{request.scheme}://{request.host}"
