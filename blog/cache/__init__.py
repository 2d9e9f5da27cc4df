"""Every cache of the app: tag versions, the full-page cache for anonymous readers, one memo.

Backends: pages in this process (LRU bounded by BLOG_PAGE_CACHE_BYTES) and tag versions in a
folder of the instance path, or both in Redis when BLOG_REDIS_URL is set, so that several app
servers share them. Tags (blog/models/base.py): `site` on every page, `post:<id>` on each page
that shows a post (its page, its comment feed, the listings it is on), `comments` on the
blog-wide comment feed. See versions.py for the version store, tracking.py for how writes are
detected, memo.py for the values kept until their tags change.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, current_app, has_request_context
from sqlalchemy.engine import make_url

from blog.cache.memo import VERSIONS_EXTENSION, memo, read_versions_first, tag_versions
from blog.cache.middleware import PageCacheMiddleware
from blog.cache.pages import PageCache
from blog.cache.stores import MemoryStore, PageStore, RedisStore
from blog.cache.tracking import HOOKS, ON_COMMIT, ContentHooks, install
from blog.cache.versions import FileVersions, RedisVersions, Versions
from blog.config import PROJECT_ROOT

if TYPE_CHECKING:
    from redis import Redis

__all__ = [
    "ContentHooks",
    "PageCache",
    "clear_page_cache",
    "init_page_cache",
    "invalidate",
    "page_cache",
    "read_versions_first",
    "serve_cached_pages",
    "tag_versions",
]
EXTENSION = "blog.cache.pages"
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


def build_page_cache(
    app: Flask, versions: Versions, client: Redis | None, hooks: ContentHooks
) -> PageCache:
    """The configured cache: memory + version files, or Redis for both."""
    cfg = app.config
    fingerprint = settings_fingerprint(app)
    prefix = _redis_prefix(app)
    store: PageStore = (
        RedisStore(client, prefix)
        if client is not None
        else MemoryStore(int(cfg["PAGE_CACHE_BYTES"]))
    )
    cache = PageCache(app, store, versions, fingerprint, hooks)
    return cache


def init_page_cache(app: Flask, hooks: ContentHooks) -> None:
    """Watch the database, keep tag versions and the memo; create the page cache when it is on.

    The versions are kept with the page cache off too: the memo's values are keyed by them.
    `hooks` answer what the cache asks about posts. Call before the start-up sync, so that
    its writes count.
    """
    install()
    versions, client = build_versions(app)
    app.extensions[VERSIONS_EXTENSION] = versions
    app.extensions[HOOKS] = hooks
    app.extensions[ON_COMMIT] = committed
    memo(app)
    # First of all hooks: the versions a request goes by are read before it reads the database.
    app.before_request_funcs.setdefault(None, []).insert(0, read_versions_first)
    if app.config.get("PAGE_CACHE", True):
        app.extensions[EXTENSION] = build_page_cache(app, versions, client, hooks)


def serve_cached_pages(app: Flask) -> None:
    """Serve hits and store misses; after every other hook and around every other middleware."""
    cache: PageCache | None = app.extensions.get(EXTENSION)
    if cache is None:
        return
    app.before_request(cache.before)
    app.after_request(cache.after)
    # Outermost, so that a hit skips everything; keys come from the raw environ.
    app.wsgi_app = PageCacheMiddleware(app.wsgi_app, cache)  # type: ignore[method-assign]


def committed(tags: set[str]) -> None:
    """After a commit: make what it wrote stale, and read versions anew for the request."""
    invalidate(tags)
    if has_request_context():
        # The request's next read starts a fresh snapshot, with this write in it: what it
        # renders from now on goes by the versions as they are now.
        read_versions_first()


def invalidate(tags: set[str]) -> None:
    """Make pages and kept values showing these tags stale, in every process."""
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
