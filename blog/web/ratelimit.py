"""Rate limits per IP address on logins, comment posts, likes and reports (the limits library).

The counts live in limits' memory storage by default and in Redis when REDIS_URL
(BLOG_REDIS_URL) is set, so that several app servers share them; RATELIMIT_STORAGE_URI
overrides both. In memory each gunicorn worker counts for itself, so an address may get the
limit once per worker: limits has no storage that processes share without a server (it has
memory, Redis, Memcached, MongoDB), so Redis is what makes the limits exact. A dead Redis never
takes logins or comments down: the same limits are counted in this process's memory until
Redis answers again, and any other storage error lets the request through (logged).

Only the limited views are wrapped, in one place, when the app is made: no other request runs
any rate-limit code. (Flask-Limiter, on top of the same library, checks and resets state in
hooks around every request of the app, pages no limit applies to included.) Each app gets its
own RateLimiter, kept in app.extensions, so apps in one process (the test suite, tools) never
share counts or settings.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, make_response, render_template, request
from flask.typing import ResponseReturnValue
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from blog.auth.drafts import save_draft
from blog.auth.views import same_origin
from blog.clock import utcnow
from blog.comments.views import comment_kept
from blog.config import ConfigError
from blog.extensions import db
from blog.models import Post
from blog.web.formdata import parse_int

log = logging.getLogger(__name__)
LIMITER_KEY = "blog.limiter"
# Endpoint -> the setting holding its limit ("30 per minute"; see limits' notation).
LIMITED_ENDPOINTS = {
    "auth.start": "RATELIMIT_LOGIN",
    "auth.callback": "RATELIMIT_LOGIN",
    "comments.create": "RATELIMIT_COMMENT",
    "reactions.like_post": "RATELIMIT_REACTION",
    "reactions.like_comment": "RATELIMIT_REACTION",
    "reactions.report": "RATELIMIT_COMMENT",
    # A preview renders Markdown like a post does: the same per-address limit, counted apart.
    "comments.preview": "RATELIMIT_COMMENT",
}
# What a limited reader is told, by endpoint; logins otherwise.
TOO_FAST = {
    "reactions.like_post": "You are liking too quickly from your network.",
    "reactions.like_comment": "You are liking too quickly from your network.",
    "reactions.report": "You are sending reports too quickly from your network.",
}
DEFAULT_KEY_PREFIX = "blog"
# A Redis that hangs must not hang the request: give up quickly and count in memory.
REDIS_TIMEOUTS: dict[str, str | int] = {"socket_timeout": 1, "socket_connect_timeout": 1}
MEMORY_URI = "memory://"
# How long a storage that failed is left alone (its counts kept in memory) before it is asked
# again: a dead Redis then costs one timeout per this many seconds, not one per request.
STORAGE_RETRY_SECONDS = 30.0


def storage_uri(config: Any) -> str:
    """Where the counts live: RATELIMIT_STORAGE_URI, else REDIS_URL, else memory."""
    explicit = config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL")
    return str(explicit) if explicit else MEMORY_URI


class RateLimiter:
    """One app's limits: fixed windows in its storage, or in memory while that storage fails."""

    def __init__(
        self,
        uri: str,
        options: Mapping[str, Any],
        prefix: str,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        storage = storage_from_string(uri, wrap_exceptions=True, **options)
        if not isinstance(storage, Storage):  # an async+ scheme: nothing here awaits it
            raise ConfigError(f"the rate limit storage {uri!r} is asynchronous; use a plain one")
        self.storage = storage
        self.prefix = prefix
        self._counted = FixedWindowRateLimiter(self.storage)
        # Counting in memory already: no second store (and no second expiry thread) to fall to.
        in_memory = isinstance(storage, MemoryStorage)
        self._in_memory = self._counted if in_memory else FixedWindowRateLimiter(MemoryStorage())
        self._failed_at: float | None = None
        self._monotonic = monotonic

    def _strategy(self) -> FixedWindowRateLimiter:
        if self._failed_at is None:
            return self._counted
        if self._monotonic() - self._failed_at >= STORAGE_RETRY_SECONDS:
            self._failed_at = None
            return self._counted
        return self._in_memory

    def hit(self, limits: list[RateLimitItem], *key: str) -> RateLimitItem | None:
        """Count one request under `key` against each limit; the first one it exceeds."""
        strategy = self._strategy()
        try:
            return next(
                (item for item in limits if not strategy.hit(item, self.prefix, *key)), None
            )
        except StorageError:
            if strategy is self._in_memory:
                raise
            log.warning(
                "rate limit storage unreachable: falling back to in-memory storage for %d s",
                STORAGE_RETRY_SECONDS,
                exc_info=True,
            )
            self._failed_at = self._monotonic()
            return self.hit(limits, *key)

    def retry_after(self, item: RateLimitItem, *key: str) -> int:
        """Seconds until the limit lets `key` through again (at least 1)."""
        try:
            reset_at = self._strategy().get_window_stats(item, self.prefix, *key).reset_time
            return max(1, math.ceil(reset_at - time.time()))
        except StorageError:  # the storage went away between the hit and this answer
            log.warning("rate limit window unavailable; using the limit's full period")
            return max(1, int(item.get_expiry()))


def parsed_limits(config: Mapping[str, Any], setting: str) -> list[RateLimitItem]:
    """The limits a setting names ("30 per minute; 500 per day"); a clear error if malformed."""
    try:
        return parse_many(str(config[setting]))
    except ValueError as exc:
        raise ConfigError(
            f"BLOG_{setting} must be a rate limit such as '30 per minute', not {config[setting]!r}"
        ) from exc


def init_rate_limits(app: Flask) -> None:
    """Give the app its RateLimiter and wrap the login, comment and reaction views in it."""
    if not app.config.setdefault("RATELIMIT_ENABLED", True):
        return
    uri = storage_uri(app.config)
    options = dict(REDIS_TIMEOUTS) if uri.startswith(("redis://", "rediss://")) else {}
    limiter = RateLimiter(
        uri, options, str(app.config.get("RATELIMIT_KEY_PREFIX") or DEFAULT_KEY_PREFIX)
    )
    app.extensions[LIMITER_KEY] = limiter
    for endpoint, setting in LIMITED_ENDPOINTS.items():
        limits = parsed_limits(app.config, setting)
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = _limited(view, endpoint, limits, limiter)


def _limited(
    view: Callable[..., Any],
    endpoint: str,
    limits: list[RateLimitItem],
    limiter: RateLimiter,
) -> Callable[..., ResponseReturnValue]:
    @functools.wraps(view)
    def limited_view(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        # Behind a proxy, ProxyFix has already put the client's address here.
        key = (request.remote_addr or "127.0.0.1", endpoint)
        try:
            exceeded = limiter.hit(limits, *key)
        except Exception:  # counting failed even in memory: let the request through
            log.exception("rate limit not checked for %s", endpoint)
            exceeded = None
        if exceeded is not None:
            log.info("rate limit %s exceeded by %s at %s", exceeded, *key)
            return too_many_requests(limiter.retry_after(exceeded, *key))
        return view(*args, **kwargs)

    return limited_view


def _wait(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def too_many_requests(seconds: int) -> Response:
    """A clear 429 page with Retry-After; a comment or a login's draft is kept, never lost."""
    db.session.rollback()
    wait = _wait(seconds)
    if request.endpoint in ("comments.create", "comments.preview"):
        response = _comment_kept(
            "You are posting comments too quickly from your network. "
            f"Please wait {wait} and post it again; your comment is kept below."
        )
    elif request.endpoint in TOO_FAST:
        response = _error_page(f"{TOO_FAST[request.endpoint]} Please wait {wait} and try again.")
    else:
        message = f"Too many login attempts from your network. Please wait {wait} and try again."
        if request.endpoint == "auth.start" and _login_draft_kept():
            message += " Your comment is kept."
        response = _error_page(message)
    response.headers["Retry-After"] = str(seconds)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _error_page(message: str) -> Response:
    html = render_template("errors/error.html", error=TooManyRequests(description=message))
    return make_response(html, 429)


def _comment_kept(message: str) -> Response:
    """The post page with the comment back in the box, as the comment service's refusals do."""
    kept = comment_kept(429, message)
    return kept or _error_page(message.replace("; your comment is kept below", ""))


def _login_draft_kept() -> bool:
    """Keep the logged-out form's comment of a reader with a session (same origin only)."""
    post_id = parse_int(request.form.get("post_id"))
    if post_id is None or not same_origin() or db.session.get(Post, post_id) is None:
        return False
    parent_id = parse_int(request.form.get("parent_id"))
    return save_draft(post_id, parent_id, request.form.get("comment", ""), utcnow()) is not None
