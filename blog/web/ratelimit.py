"""Rate limits per IP address on logins and comment posts (Flask-Limiter).

The counts live in Flask-Limiter's own memory storage by default and in Redis when REDIS_URL
(BLOG_REDIS_URL) is set, so that several app servers share them; RATELIMIT_STORAGE_URI
overrides both. In memory each gunicorn worker counts for itself, so an address may get the
limit once per worker: the limits library has no storage that processes share without a server
(it has memory, Redis, Memcached, MongoDB), so Redis is what makes the limits exact. A dead
Redis never takes logins or comments down: Flask-Limiter's in-memory fallback counts the same
limits in this process until Redis answers again, and any other storage error lets the request
through (logged) rather than failing it.

Each app gets its own Limiter (kept in app.extensions) rather than one unbound instance in
blog.extensions: Flask-Limiter keeps its storage, key prefix and on/off switch on the instance,
so one instance shared by several apps in a process (the test suite, tools) would let the last
app initialised silently change the others' limits. The limits are applied here, in one place,
to the views they guard.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, make_response, render_template, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import TooManyRequests

from blog.auth.drafts import save_draft
from blog.auth.views import same_origin
from blog.clock import utcnow
from blog.comments.views import comment_kept
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


def storage_uri(config: Any) -> str:
    """Where the counts live: RATELIMIT_STORAGE_URI, else REDIS_URL, else memory."""
    explicit = config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL")
    return str(explicit) if explicit else MEMORY_URI


def _limit_from(setting: str) -> Callable[[], str]:
    return lambda: str(current_app.config[setting])


def init_rate_limits(app: Flask) -> None:
    """Give the app its Limiter, limit the login and comment views, install the 429 page."""
    if not app.config.setdefault("RATELIMIT_ENABLED", True):
        return
    uri = storage_uri(app.config)
    # Flask-Limiter adds RATELIMIT_STORAGE_OPTIONS from the config over these.
    options = dict(REDIS_TIMEOUTS) if uri.startswith(("redis://", "rediss://")) else {}
    limiter = Limiter(
        get_remote_address,
        storage_uri=uri,
        storage_options=options,
        key_prefix=str(app.config.get("RATELIMIT_KEY_PREFIX") or DEFAULT_KEY_PREFIX),
        in_memory_fallback_enabled=True,
        swallow_errors=True,
        headers_enabled=False,  # Retry-After is set on the 429 page itself
    )
    limiter.init_app(app)
    app.extensions[LIMITER_KEY] = limiter
    for endpoint, setting in LIMITED_ENDPOINTS.items():
        view = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.limit(_limit_from(setting))(view)  # type: ignore[assignment]
    app.register_error_handler(RateLimitExceeded, too_many_requests)


def retry_after_seconds(error: RateLimitExceeded) -> int:
    """Seconds until the breached limit lets this address through again (at least 1)."""
    limiter: Limiter | None = current_app.extensions.get(LIMITER_KEY)
    breached = limiter.current_limit if limiter is not None else None
    if breached is not None:
        try:
            return max(1, math.ceil(breached.window.reset_time - time.time()))
        except Exception:  # the storage went away between the hit and this page
            log.warning("rate limit window unavailable; using the limit's full period")
    return max(1, int(error.limit.limit.get_expiry()))


def _wait(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def too_many_requests(error: RateLimitExceeded) -> Response:
    """A clear 429 page with Retry-After; a comment or a login's draft is kept, never lost."""
    db.session.rollback()
    seconds = retry_after_seconds(error)
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
