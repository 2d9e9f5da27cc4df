"""HTTP caching for pages with nothing personal on them."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import current_app, make_response, request
from flask.globals import request_ctx
from flask.sessions import SessionMixin
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from blog.clock import utcnow

# Set in the WSGI environ by the page cache's middleware, which stores the full page and then
# answers If-None-Match / If-Modified-Since itself.
CACHE_KEY_ENVIRON = "blog.cache.key"
# The request headers that can turn a 200 into a 304 or a 412; without them there is no answer
# to work out.
CONDITIONAL_HEADERS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
)


def public_page(view: Callable[..., ResponseReturnValue]) -> Callable[..., Response]:
    """Mark a view's page as shareable by every anonymous reader: ETag, 304, public caching."""

    @functools.wraps(view)
    def wrapper(*args: object, **kwargs: object) -> Response:
        response = make_response(view(*args, **kwargs))
        return make_cacheable(response)

    # The page cache serves and stores only views marked so.
    wrapper.public_page = True  # type: ignore[attr-defined]
    return wrapper


def session_touched() -> bool:
    """True when this request read or wrote the session, i.e. the page may be personal."""
    ctx = request_ctx._get_current_object()  # type: ignore[attr-defined]
    # Flask 3.1 marks the session accessed whenever the `session` proxy is read, so asking
    # the proxy would itself make every page personal; look at the opened session directly.
    opened: SessionMixin | None = vars(ctx).get("_session")
    if opened is None and "_session" not in vars(ctx):
        opened = ctx.session  # Flask 3.0: a plain attribute that reading does not mark
    if opened is None:
        return False
    return bool(opened.accessed or opened.modified)


def make_cacheable(response: Response) -> Response:
    """Add validators and public caching to a 200 that did not touch the session."""
    if response.status_code != 200 or request.method not in ("GET", "HEAD"):
        return response
    if session_touched():
        response.headers["Cache-Control"] = "private, no-store"
        return response
    response.headers["Cache-Control"] = f"public, max-age={current_app.config['PAGE_MAX_AGE']}"
    response.vary.add("Cookie")
    response.add_etag()
    if response.last_modified is None:
        # When this copy was made: the page shows the data as of now, so it is modified by then.
        response.last_modified = utcnow().replace(microsecond=0)
    environ = request.environ
    if CACHE_KEY_ENVIRON in environ or not any(name in environ for name in CONDITIONAL_HEADERS):
        return response
    return response.make_conditional(request)
