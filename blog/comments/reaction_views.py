"""Likes and reports: thin views over blog/comments/likes.py and reports.py.

A like answers a form post with a redirect back to where it was given on the post page, and
a script's request (Accept: application/json) with the new state, so the page changes in
place. Neither ever redirects anywhere but to the post's own path.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue

from blog.auth.session import set_notice, viewer
from blog.clock import utcnow
from blog.comments import likes, reports
from blog.comments.page import rules
from blog.comments.reactions import like_text
from blog.extensions import db
from blog.models import Comment, User

bp = Blueprint("reactions", __name__)
LOG_IN_TO_LIKE = "Log in to like posts and comments."
LOG_IN_TO_REPORT = "Log in to report a comment."
REPORTED = "Thank you for your report: a moderator will look at that comment."
REPORTED_AND_HELD = (
    "Thank you for your report. Several readers reported that comment, so it is hidden "
    "until a moderator looks at it."
)


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _refuse(status: int, message: str) -> ResponseReturnValue:
    if _wants_json():
        return jsonify(error=message), status
    abort(status, message)


def _like(find: likes.LikeTarget | None) -> ResponseReturnValue:
    user = viewer()
    if user is None:
        return _refuse(401, LOG_IN_TO_LIKE)
    if find is None:
        return _refuse(404, "That is not there (any more).")
    try:
        state = likes.toggle_like(user, find, utcnow())
    except likes.LikeRefused as exc:
        return _refuse(exc.status, exc.message)
    if _wants_json():
        return jsonify(liked=state.liked, count=state.count, count_text=like_text(state.count))
    return redirect(find.path + find.anchor, 303)


@bp.post("/posts/<int:post_id>/like")
def like_post(post_id: int) -> ResponseReturnValue:
    """Like the post, or undo the reader's like."""
    try:
        target = likes.post_target(post_id, utcnow())
    except likes.LikeRefused:
        return _like(None)
    return _like(target)


@bp.post("/comments/<int:comment_id>/like")
def like_comment(comment_id: int) -> ResponseReturnValue:
    """Like a comment, or undo the reader's like."""
    try:
        target = likes.comment_target(comment_id, utcnow())
    except likes.LikeRefused:
        return _like(None)
    return _like(target)


def _report_page(
    comment: Comment, status: int = 200, error: str | None = None, reason: str = "", note: str = ""
) -> Response:
    html = render_template(
        "comments/report.html",
        comment=comment,
        reasons=reports.REASON_LABELS,
        chosen=reason,
        note=note,
        note_max=reports.NOTE_MAX_CHARS,
        error=error,
    )
    response = current_app.make_response((html, status))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/comments/<int:comment_id>/report", methods=["GET", "POST"])
def report(comment_id: int) -> ResponseReturnValue:
    """The report form for a shown comment, and its answer; a refused one keeps the text."""
    try:
        target = likes.comment_target(comment_id, utcnow())
    except likes.LikeRefused as exc:
        abort(exc.status, exc.message)
    user = viewer()
    if user is None:
        if request.method == "POST":
            abort(401, LOG_IN_TO_REPORT)
        # The comment box is where a reader logs in: the report link waits there.
        return redirect(target.path + "#respond", 303)
    comment = db.session.get(Comment, comment_id)
    assert comment is not None  # comment_target found it
    if request.method == "GET":
        return _report_page(comment)
    return _send_report(user, comment, target)


def _send_report(user: User, comment: Comment, target: likes.LikeTarget) -> ResponseReturnValue:
    form = reports.ReportForm(request.form.get("reason", ""), request.form.get("note", ""))
    limit = int(current_app.config["REPORTS_TO_HOLD"])
    try:
        held = reports.report_comment(user, comment.id, form, utcnow(), rules(), limit)
    except reports.ReportRefused as exc:
        response = _report_page(comment, exc.status, exc.message, form.reason, form.note)
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    set_notice(REPORTED_AND_HELD if held else REPORTED)
    return redirect(target.path + ("#comments" if held else target.anchor), 303)
