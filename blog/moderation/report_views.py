"""The admin area's reports page and featured comments: views on the admin blueprint.

They join `admin`'s blueprint (moderators only, never cached) before it is registered.
"""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from blog.auth.session import pop_notice, set_notice
from blog.clock import utcnow
from blog.comments.reports import REASON_LABELS
from blog.moderation import featured
from blog.moderation.reports import OUTCOMES, Decision, decide, reported_comments
from blog.moderation.service import ModerationError
from blog.moderation.views import bp


@bp.get("/reports")
def reports() -> ResponseReturnValue:
    """Comments readers reported, most recent first, with the decisions on each."""
    return render_template(
        "admin/reports.html",
        reported=reported_comments(),
        reasons=REASON_LABELS,
        outcomes=OUTCOMES,
        notice=pop_notice(),
    )


@bp.post("/reports/<int:comment_id>/<decision>")
def decide_reports(comment_id: int, decision: str) -> ResponseReturnValue:
    """One decision on a reported comment, then back to the reports."""
    try:
        chosen = Decision(decision)
    except ValueError:
        abort(404)
    try:
        outcome = decide(comment_id, chosen, utcnow())
    except ModerationError as exc:
        if exc.status == 404:
            abort(404, exc.message)
        set_notice(exc.message)
    else:
        set_notice(f"Comment {comment_id}: {outcome.done}.")
    return redirect(url_for("admin.reports"), 303)


def _to_comment(path: str, comment_id: int) -> ResponseReturnValue:
    return redirect(f"{path}#comment-{comment_id}", 303)


@bp.post("/featured/<int:comment_id>/add")
def feature(comment_id: int) -> ResponseReturnValue:
    """Pin a comment above its post's thread, then back to it."""
    try:
        comment = featured.feature(comment_id, utcnow())
    except ModerationError as exc:
        abort(exc.status, exc.message)
    set_notice(f"Comment {comment.id} is featured above the thread.")
    return _to_comment(comment.post.path, comment.id)


@bp.post("/featured/<int:comment_id>/remove")
def unfeature(comment_id: int) -> ResponseReturnValue:
    """Unpin a comment, then back to it."""
    try:
        comment = featured.unfeature(comment_id)
    except ModerationError as exc:
        abort(exc.status, exc.message)
    set_notice(f"Comment {comment.id} is no longer featured.")
    return _to_comment(comment.post.path, comment.id)
