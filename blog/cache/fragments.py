"""Rendered HTML fragments kept in this process, bounded in bytes, least recently used out first.

Keys name everything a fragment was rendered from (a content stamp, the rows it shows), so an
entry is never stale: a change makes a new key, and the old entry ages out. That keeps pages
fast with the full-page cache off, or for readers it never serves (logged in).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

from flask import Flask, current_app, g, request

EXTENSION = "blog.cache.fragments"
# Bookkeeping per entry besides the text: key, tuple, node.
ENTRY_OVERHEAD = 300
T = TypeVar("T")


class FragmentCache:
    """An LRU mapping from keys to (value, size), bounded by the sum of the sizes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> object | None:
        """The value for `key`, or None; a hit becomes the most recently used."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: object, size: int) -> None:
        """Keep `value` (about `size` bytes), dropping the least recently used to make room."""
        size += ENTRY_OVERHEAD
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.used -= old[1]
            self._entries[key] = (value, size)
            self.used += size
            while self.used > self.max_bytes:
                _key, (_value, dropped) = self._entries.popitem(last=False)
                self.used -= dropped

    def __len__(self) -> int:
        return len(self._entries)


def fragment_cache(app: Flask | None = None) -> FragmentCache:
    """The app's fragment cache (BLOG_FRAGMENT_CACHE_BYTES; 0 keeps nothing)."""
    app = app or current_app
    cache: FragmentCache | None = app.extensions.get(EXTENSION)
    if cache is None:
        cache = app.extensions[EXTENSION] = FragmentCache(int(app.config["FRAGMENT_CACHE_BYTES"]))
    return cache


def link_base() -> tuple[str, str]:
    """What a page's links depend on besides its content: where the app is mounted, and the
    request's scheme and host when absolute links come from them (no BLOG_SITE_URL)."""
    if current_app.config["SITE_URL"]:
        return request.script_root, ""
    # The raw scheme and host name the links' origin: finer than `host_url`, and cheaper.
    return request.script_root, f"{request.scheme}://{request.host}"


def cached(key: Hashable, build: Callable[[], T], size: Callable[[T], int]) -> T:
    """The fragment for `key` (which names the content it shows), built and kept on a miss.

    Not kept when a write committed during this request: it may show an older snapshot.
    """
    return _kept(key, build, size, g.get("versions_seq"))


def versioned(
    key: Hashable, tags: Sequence[str], build: Callable[[], T], size: Callable[[T], int]
) -> T:
    """The fragment for `key` as of the current versions of `tags` (see blog/cache).

    Versions are read before the database, so a kept fragment is never older than its key;
    one rendered while any write committed is not kept, as the page cache does with pages.
    """
    from blog.cache import tag_versions

    versions = tag_versions()
    if versions is None:
        return build()
    seq = g.get("versions_seq")
    if seq is None:
        seq = versions.seq()
    return _kept((key, versions.current(tags)), build, size, seq)


def _kept(key: Hashable, build: Callable[[], T], size: Callable[[T], int], seq: int | None) -> T:
    """The kept fragment, or a fresh one, kept unless a write moved `seq` since it was read."""
    from blog.cache import tag_versions

    cache = fragment_cache()
    found = cache.get(key)
    if found is not None:
        return found  # type: ignore[return-value]
    value = build()
    versions = tag_versions()
    if seq is None or versions is None or versions.seq() == seq:
        cache.put(key, value, size(value))
    return value
