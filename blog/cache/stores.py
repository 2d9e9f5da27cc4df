"""Where rendered pages are kept: in this process (LRU, bounded in bytes) or in Redis."""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from cachetools import LRUCache

if TYPE_CHECKING:
    from redis import Redis  # imported by the one caller that makes a client


# Rough bookkeeping cost of one entry besides its body and headers (key, tuples, object).
ENTRY_OVERHEAD = 400


@dataclass
class CachedPage:
    """A rendered anonymous page, its validators, and what it depends on."""

    body: bytes
    headers: tuple[tuple[str, str], ...]
    etag: str
    last_modified: int | None
    tags: tuple[str, ...]
    versions: tuple[int, ...]
    expires: float
    # The write sequence number at which this process last found the page fresh: while it
    # stays the same, no tag can have moved, so a hit needs one stat instead of one per tag.
    checked_seq: int | None = None

    @property
    def size(self) -> int:
        """Bytes this entry costs in memory, roughly."""
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + ENTRY_OVERHEAD

    def encode(self) -> bytes:
        """One byte string: a JSON line of metadata, then the body."""
        meta = {
            "h": self.headers,
            "e": self.etag,
            "lm": self.last_modified,
            "t": self.tags,
            "v": self.versions,
            "x": self.expires,
        }
        return json.dumps(meta, separators=(",", ":")).encode() + b"\n" + self.body

    @classmethod
    def decode(cls, data: bytes) -> CachedPage:
        """The inverse of encode()."""
        line, _, body = data.partition(b"\n")
        meta = json.loads(line)
        return cls(
            body=body,
            headers=tuple((str(k), str(v)) for k, v in meta["h"]),
            etag=str(meta["e"]),
            last_modified=meta["lm"],
            tags=tuple(meta["t"]),
            versions=tuple(int(v) for v in meta["v"]),
            expires=float(meta["x"]),
        )


class PageStore(Protocol):
    """A mapping of cache keys to pages."""

    def get(self, key: str) -> CachedPage | None:
        """The page stored under key, if any."""
        ...

    def put(self, key: str, page: CachedPage, ttl: float) -> None:
        """Store a page for at most ttl seconds."""
        ...

    def delete(self, key: str) -> None:
        """Forget a page."""
        ...

    def clear(self) -> None:
        """Forget every page."""
        ...


class MemoryStore:
    """Pages in this process, least recently used dropped first beyond max_bytes."""

    def __init__(self, max_bytes: int) -> None:
        self._pages: LRUCache[str, CachedPage] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda page: page.size
        )
        # gthread workers serve requests from several threads; a read reorders the LRU.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: str) -> CachedPage | None:
        """The page, marked as recently used."""
        with self._lock:
            return self._pages.get(key)

    def put(self, key: str, page: CachedPage, ttl: float) -> None:
        """Store a page (expiry is checked on read), dropping the least recently used for room."""
        # A page larger than the whole store is refused: it is simply not kept.
        with self._lock, contextlib.suppress(ValueError):
            self._pages[key] = page

    def delete(self, key: str) -> None:
        """Forget a page."""
        with self._lock:
            self._pages.pop(key, None)

    def clear(self) -> None:
        """Forget every page."""
        with self._lock:
            self._pages.clear()


class RedisStore:
    """Pages in Redis, shared by every app server; Redis drops them when they expire."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self.prefix}p:{key}"

    def get(self, key: str) -> CachedPage | None:
        """The page, if Redis still has it."""
        data = self.client.get(self._key(key))
        return CachedPage.decode(data) if isinstance(data, bytes) and data else None

    def put(self, key: str, page: CachedPage, ttl: float) -> None:
        """SET with an expiry in milliseconds."""
        self.client.set(self._key(key), page.encode(), px=max(1, int(ttl * 1000)))

    def delete(self, key: str) -> None:
        """Forget a page."""
        self.client.delete(self._key(key))

    def clear(self) -> None:
        """Delete every page under this prefix (SCAN, never KEYS)."""
        batch: list[str] = []
        for name in self.client.scan_iter(match=f"{self.prefix}p:*", count=500):
            batch.append(name)
            if len(batch) >= 500:
                self.client.delete(*batch)
                batch = []
        if batch:
            self.client.delete(*batch)
