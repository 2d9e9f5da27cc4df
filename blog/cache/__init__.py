"""Full-page cache for anonymous readers, with exact invalidation.

Backends: pages in this process (LRU bounded by BLOG_PAGE_CACHE_BYTES) and tag versions in a
folder of the instance path, or both in Redis when BLOG_REDIS_URL is set, so that several app
servers share them. Tags: `site` on every page (a post, term or setting change), `post:<id>`
on each page that shows a post (its page, its comment feed, the listings it is on), `comments`
on the blog-wide comment feed. See versions.py for the version store and tracking.py for how
writes are detected.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, current_app, g
from sqlalchemy.engine import make_url

from blog.cache.middleware import PageCacheMiddleware
from blog.cache.pages import PageCache
from blog.cache.stores import MemoryStore, PageStore, RedisStore
from blog.cache.tracking import EXTENSION, SITE, VERSIONS_EXTENSION, install
from blog.cache.versions import FileVersions, RedisVersions, Versions
from blog.config import PROJECT_ROOT

if TYPE_CHECKING:
    from redis import Redis

__all__ = [
    "PageCache",
    "clear_page_cache",
    "init_page_cache",
    "invalidate",
    "page_cache",
    "serve_cached_pages",
    "tag_versions",
]
REDIS_TIMEOUTS = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}
# Settings that differ between processes of one deployment without changing any page.
UNSHOWN_SETTINGS = frozenset({"CLOCK", "SECRET_KEY", "TESTING", "DEBUG", "PROPAGATE_EXCEPTIONS"})


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the templates and the Python code: a deploy never serves the old pages."""
    digest = hashlib.sha256()
    for folder, pattern in ((PROJECT_ROOT / "templates", "*"), (PROJECT_ROOT / "blog", "*.py")):
        for path in sorted(p for p in folder.rglob(pattern) if p.is_file()):
            digest.update(str(path.relative_to(PROJECT_ROOT)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def settings_fingerprint(app: Flask) -> str:
    """A hash of every setting plus the code, part of each key."""
    digest = hashlib.sha256(code_fingerprint().encode())
    for name in sorted(app.config):
        if name not in UNSHOWN_SETTINGS:
            digest.update(f"{name}={app.config[name]!r}\n".encode())
    return digest.hexdigest()


def _short_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def state_dir(app: Flask) -> Path:
    """Where version files live: shared by every process of one blog."""
    configured = app.config.get("PAGE_CACHE_STATE_DIR")
    if configured:
        return Path(configured)
    url = make_url(str(app.config["SQLALCHEMY_DATABASE_URI"]))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        # Beside the database file, as SQLite keeps its -wal and -shm files.
        return Path(url.database).resolve().with_name(Path(url.database).name + "-page-cache")
    # One folder per database: two blogs on one machine never invalidate each other.
    key = _short_hash(url.render_as_string(hide_password=True))
    return Path(app.instance_path) / "page-cache" / key


def build_versions(app: Flask) -> tuple[Versions, Redis | None]:
    """The tag versions every process of this blog shares: files beside the database, or Redis."""
    cfg = app.config
    if cfg.get("REDIS_URL"):
        from redis import Redis  # only with Redis configured: its import costs a worker 0.1 s

        client = Redis.from_url(cfg["REDIS_URL"], **REDIS_TIMEOUTS)
        return RedisVersions(client, _redis_prefix(app)), client
    return FileVersions(state_dir(app) / "versions"), None


def _redis_prefix(app: Flask) -> str:
    return str(app.config.get("PAGE_CACHE_REDIS_PREFIX") or "blog:pc:")


def build_page_cache(app: Flask, versions: Versions, client: Redis | None) -> PageCache:
    """The configured cache: memory + version files, or Redis for both."""
    cfg = app.config
    fingerprint = settings_fingerprint(app)
    prefix = _redis_prefix(app)
    store: PageStore = (
        RedisStore(client, prefix)
        if client is not None
        else MemoryStore(int(cfg["PAGE_CACHE_BYTES"]))
    )
    cache = PageCache(app, store, versions, fingerprint)
    return cache


def init_page_cache(app: Flask) -> None:
    """Watch the database and keep tag versions; create the page cache when it is on.

    The versions are kept with the page cache off too: rendered fragments (the comment
    thread) are keyed by them. Call before the start-up sync, so that its writes count.
    """
    install()
    versions, client = build_versions(app)
    app.extensions[VERSIONS_EXTENSION] = versions
    # First of all hooks: the versions a request goes by are read before it reads the database.
    app.before_request_funcs.setdefault(None, []).insert(0, read_versions_first)
    if app.config.get("PAGE_CACHE", True):
        app.extensions[EXTENSION] = build_page_cache(app, versions, client)


def serve_cached_pages(app: Flask) -> None:
    """Serve hits and store misses; after every other hook and around every other middleware."""
    cache: PageCache | None = app.extensions.get(EXTENSION)
    if cache is None:
        return
    app.before_request(cache.before)
    app.after_request(cache.after)
    # Outermost, so that a hit skips everything; keys come from the raw environ.
    app.wsgi_app = PageCacheMiddleware(app.wsgi_app, cache)  # type: ignore[method-assign]


def read_versions_first() -> None:
    """Note the write sequence and the `site` version before anything reads the database.

    On SQLite a request reads one snapshot, taken at its first query (the user's session may
    be loaded before the view): versions read after it could be newer than what it shows.
    Read first, they never are; and a fragment is kept only if no write moved `seq` since.
    """
    versions = tag_versions()
    if versions is not None:
        g.versions_seq = versions.seq()
        g.content_generation = versions.current((SITE,))


def tag_versions(app: Flask | None = None) -> Versions | None:
    """The app's tag versions (None only for an app made without init_page_cache)."""
    return (app or current_app).extensions.get(VERSIONS_EXTENSION)


def invalidate(tags: set[str]) -> None:
    """Make pages and fragments showing these tags stale, in every process."""
    cache = page_cache()
    if cache is not None:
        cache.invalidate(tags)
        return
    versions = tag_versions()
    if versions is not None:
        versions.bump(tags)


def page_cache(app: Flask | None = None) -> PageCache | None:
    """The app's page cache, None when it is off."""
    return (app or current_app).extensions.get(EXTENSION)


def clear_page_cache() -> None:
    """Forget every cached page (the `flask blog cache-clear` command)."""
    cache = page_cache()
    if cache is not None:
        cache.clear()
