"""Error pages: roll back the session, never show a traceback, keep the search box handy."""

from __future__ import annotations

import logging

from flask import Flask, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from blog.auth.session import viewer
from blog.clock import utcnow
from blog.comments.views import LOG_IN_TO_POST, comment_kept, edit_kept
from blog.extensions import db
from blog.reader import posts
from blog.web.request_log import printable

log = logging.getLogger(__name__)


class EscapedMessages(logging.Filter):
    """Writes a record's message with its non-printable characters escaped.

    On the app's own logger, where Flask logs "Exception on <path>" for an error no handler
    answers: a decoded %0A in the path would otherwise write a line of its own.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Escape the message in place; never drop the record."""
        message = record.getMessage()
        if not message.isprintable():
            record.msg, record.args = printable(message), None
        return True


def register(app: Flask) -> None:
    """Install the handlers on the app."""
    if not any(isinstance(f, EscapedMessages) for f in app.logger.filters):
        app.logger.addFilter(EscapedMessages())

    @app.errorhandler(404)
    def not_found(error: HTTPException) -> ResponseReturnValue:
        db.session.rollback()
        if request.method in ("GET", "HEAD"):
            target = posts.find_alias(request.path, utcnow())
            if target is not None:
                return redirect(target.path, 301)
            moved = posts.old_link(request.path, utcnow())
            if moved:
                return redirect(moved, 301)
            # An old permalink's comment feed (WordPress's `<permalink>feed/`) goes to the post's.
            if request.path.endswith("/feed/") and request.path != "/feed/":
                post = posts.find_alias(request.path.removesuffix("feed/"), utcnow())
                if post is not None:
                    return redirect(post.path + "feed/", 301)
        recent = posts.paginate(posts.live(utcnow()), 1, 5, ("total", "live"), utcnow())
        return render_template(
            "errors/404.html", recent=recent.posts if recent else [], error=error
        ), 404

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> ResponseReturnValue:
        db.session.rollback()
        kept = keep_comment_after_csrf_failure()
        if kept is not None:
            return kept
        return render_template("errors/error.html", error=error), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        db.session.rollback()
        # The error's own headers (Allow on a 405, Retry-After...) belong on our page too.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return render_template("errors/error.html", error=error), error.code or 500, headers

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> ResponseReturnValue:
        db.session.rollback()
        # Escaped: a decoded %0A in the path would otherwise write a line of its own.
        log.exception("unhandled error on %s %s", request.method, printable(request.path))
        return render_template("errors/error.html", error=InternalServerError()), 500


CSRF_EXPIRED = (
    "Your form had expired (its CSRF security check failed), so nothing was saved yet. "
    "Your text is kept below: press the button again."
)


def keep_comment_after_csrf_failure() -> ResponseReturnValue | None:
    """An expired comment or edit form loses nothing: it comes back filled, with a note."""
    if request.endpoint == "comments.create":
        return comment_kept(400, CSRF_EXPIRED if viewer() else LOG_IN_TO_POST)
    if request.endpoint == "comments.edit":
        return edit_kept(400, CSRF_EXPIRED)
    return None
