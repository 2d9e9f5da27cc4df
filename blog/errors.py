"""Error pages: roll back the session, never show a traceback, keep the search box handy."""

from __future__ import annotations

import logging

from flask import Flask, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from blog import posts
from blog.clock import utcnow
from blog.extensions import db

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    """Install the handlers on the app."""

    @app.errorhandler(404)
    def not_found(error: HTTPException) -> ResponseReturnValue:
        db.session.rollback()
        if request.method in ("GET", "HEAD"):
            target = posts.find_alias(request.path, utcnow())
            if target is not None:
                return redirect(target.path, 301)
        recent = posts.paginate(posts.live(utcnow()), 1, 5)
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
        return render_template("errors/error.html", error=error), error.code or 500

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> ResponseReturnValue:
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_template("errors/error.html", error=InternalServerError()), 500


def keep_comment_after_csrf_failure() -> ResponseReturnValue | None:
    """An expired form loses nothing: the comment goes back into the box with a note."""
    from blog.auth.session import set_notice
    from blog.comments.drafts import save_draft
    from blog.models import Post

    if request.endpoint not in ("comments.create", "comments.edit"):
        return None
    post_id = request.form.get("post_id", "")
    post = db.session.get(Post, int(post_id)) if post_id.isdigit() else None
    if post is None:
        return None
    parent = request.form.get("parent_id", "")
    save_draft(
        post.id,
        int(parent) if parent.isdigit() else None,
        request.form.get("comment", ""),
        utcnow(),
    )
    set_notice(
        "Your form had expired, so the comment was not posted yet. It is kept below: "
        "press Post Comment again."
    )
    return redirect(post.path + "#respond", 303)
