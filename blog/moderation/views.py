"""The admin area at /admin: the comment queue, its actions, bans and drafts. Thin views."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from blog.auth.providers import provider_label
from blog.auth.roles import is_moderator
from blog.auth.session import PROVIDER_KEY, pop_notice, safe_next, set_notice, viewer
from blog.auth.views import login_page
from blog.clock import utcnow
from blog.comments.page import rules
from blog.models import Comment, CommentStatus, User
from blog.moderation import bans, edits, service
from blog.moderation.reports import reactions_summary
from blog.moderation.service import TAB_ACTIONS, TABS, TRANSITIONS, Action, ModerationError
from blog.reader import previews
from blog.web.formdata import parse_int

bp = Blueprint("admin", __name__, url_prefix="/admin")
FORBIDDEN = "Only the blog's moderators can use the admin area."
BAN_CHOICES = (("1", "1 day"), ("7", "7 days"), ("30", "30 days"), ("90", "90 days"),
               ("365", "1 year"), ("permanent", "For good"))  # fmt: skip


@bp.before_request
def moderators_only() -> ResponseReturnValue | None:
    """Refuse every admin page and action to anyone who is not a moderator.

    A reader who is not logged in gets the login buttons, which come back here (or to the
    dashboard after a refused POST); a logged-in one who does not moderate gets a 403.
    """
    user = viewer()
    if user is None:
        back = request.full_path.rstrip("?") if request.method == "GET" else url_for(".dashboard")
        return login_page(back)
    if not is_moderator(user):
        abort(403, FORBIDDEN)
    return None


@bp.context_processor
def helpers() -> dict[str, object]:
    """Template helpers for the admin pages."""
    return {"provider_label": provider_label}


@bp.after_request
def private(response: Response) -> Response:
    """Admin pages are personal and never indexed."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _moderator() -> User:
    user = viewer()
    assert user is not None  # moderators_only ran first
    return user


def _tab(value: str | None, strict: bool = False) -> CommentStatus:
    """A tab from `?status=` or a form field: pending when absent; 404 for nonsense if strict."""
    for status in TABS:
        if status.value == value:
            return status
    if strict and value:
        abort(404)
    return CommentStatus.PENDING


def _back(status: CommentStatus | None = None) -> Response:
    """303 back to where the moderator acted from: the tab (and page), or a post page."""
    if request.form.get("next"):
        return redirect(safe_next(request.form.get("next")), 303)
    tab = status or _tab(request.form.get("status"))
    page = parse_int(request.form.get("page"))
    args: dict[str, Any] = {"status": tab.value}
    if page is not None and page > 1:
        args["page"] = page
    return redirect(url_for("admin.comments", **args), 303)


@bp.get("/")
def dashboard() -> ResponseReturnValue:
    """Counts, drafts and bans at a glance, with links to each screen."""
    now = utcnow()
    return render_template(
        "admin/dashboard.html",
        counts=service.counts(),
        held_edits=edits.held_edit_count(),
        unpublished=previews.unpublished_posts(now),
        banned=bans.banned_users(now),
        notice=pop_notice(),
        **reactions_summary(),
    )


@bp.get("/comments")
def comments() -> ResponseReturnValue:
    """The moderation queue: one tab per status, newest first, with actions."""
    status = _tab(request.args.get("status"), strict=True)
    page = service.queue(status, parse_int(request.args.get("page", "1")) or 0)
    if page is None:
        abort(404)
    held = edits.held_edits() if status is CommentStatus.PENDING else None
    return render_template(
        "admin/comments.html",
        status=status,
        page=page,
        held=held,
        counts=service.counts(),
        tabs=TABS,
        actions=TAB_ACTIONS[status],
        transitions=TRANSITIONS,
        notice=pop_notice(),
    )


def _action(value: str | None) -> Action:
    try:
        return Action(value or "")
    except ValueError:
        abort(404)


@bp.post("/comments/<int:comment_id>/<action>")
def act(comment_id: int, action: str) -> ResponseReturnValue:
    """One action on one comment, then back to the tab."""
    outcome = service.moderate(_action(action), [comment_id], utcnow())
    set_notice(outcome.message())
    return _back()


@bp.post("/comments/bulk")
def bulk() -> ResponseReturnValue:
    """The queue's form: a row's own button (`do=approve:12`), or Apply on the selection."""
    row = request.form.get("do", "")
    if row:
        name, _, ident = row.partition(":")
        comment_id = parse_int(ident)
        if comment_id is None:
            abort(400, "That action names no comment.")
        action, ids = _action(name), [comment_id]
    else:
        ids = [i for i in map(parse_int, request.form.getlist("ids")) if i is not None]
        chosen = request.form.get("action", "")
        if not chosen or not ids:
            set_notice("Choose an action and at least one comment, then press Apply.")
            return _back()
        action = _action(chosen)
    outcome = service.moderate(action, ids, utcnow())
    set_notice(outcome.message())
    return _back()


EDIT_ACTIONS = {
    "approve": (edits.approve_edit, "Edit of comment {} approved: the comment shows it."),
    "reject": (edits.reject_edit, "Edit of comment {} rejected: the comment keeps its text."),
}


@bp.post("/edits/<int:comment_id>/<action>")
def held_edit(comment_id: int, action: str) -> ResponseReturnValue:
    """Approve or reject a reader's held edit, then back to the pending tab."""
    if action not in EDIT_ACTIONS:
        abort(404)
    act_on, done = EDIT_ACTIONS[action]
    try:
        act_on(comment_id)
    except ModerationError as exc:
        if exc.status == 404:
            abort(404, exc.message)
        set_notice(exc.message)
        return _back(CommentStatus.PENDING)
    set_notice(done.format(comment_id))
    return _back(CommentStatus.PENDING)


def _comment_or_404(comment_id: int) -> Comment:
    try:
        return service.get_comment(comment_id)
    except ModerationError as exc:
        abort(exc.status, exc.message)


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
def edit(comment_id: int) -> ResponseReturnValue:
    """Edit any comment's text; it is re-rendered and sanitised like a reader's."""
    comment = _comment_or_404(comment_id)
    if request.method == "GET":
        return render_template("admin/edit.html", comment=comment, body=comment.body, error=None)
    body = request.form.get("comment", "")
    try:
        service.edit(comment.id, body, utcnow(), rules())
    except ModerationError as exc:
        html = render_template("admin/edit.html", comment=comment, body=body, error=exc.message)
        return html, exc.status
    set_notice(f"Comment {comment.id} saved.")
    return _back(comment.status)


@bp.route("/comments/<int:comment_id>/reply", methods=["GET", "POST"])
def reply(comment_id: int) -> ResponseReturnValue:
    """Reply as the author: approved at once (a pending comment is approved with it)."""
    comment = _comment_or_404(comment_id)
    if request.method == "GET":
        return render_template("admin/reply.html", comment=comment, body="", error=None)
    body = request.form.get("comment", "")
    provider = session.get(PROVIDER_KEY)
    try:
        created = service.reply_as_author(
            _moderator(),
            comment.id,
            body,
            utcnow(),
            rules(),
            current_app.config["SECRET_KEY"],
            provider=provider if isinstance(provider, str) else None,
            ip=request.remote_addr,
        )
    except ModerationError as exc:
        html = render_template("admin/reply.html", comment=comment, body=body, error=exc.message)
        return html, exc.status
    set_notice(f"Reply posted as comment {created.id}.")
    return _back()


@bp.get("/users/<int:user_id>")
def user(user_id: int) -> ResponseReturnValue:
    """A commenter: logins, comments per status, ban state and the ban form."""
    try:
        found = bans.get_user(user_id)
    except ModerationError as exc:
        abort(exc.status, exc.message)
    now = utcnow()
    return render_template(
        "admin/user.html",
        user=found,
        banned=found.banned_at(now),
        user_is_moderator=is_moderator(found),
        counts=bans.user_counts(found.id),
        tabs=TABS,
        choices=BAN_CHOICES,
        notice=pop_notice(),
        error=None,
    )


@bp.post("/users/<int:user_id>/ban")
def ban(user_id: int) -> ResponseReturnValue:
    """Ban for a number of days or for good, optionally moving their comments to the trash."""
    try:
        days = bans.parse_duration(request.form.get("duration"))
        hide = request.form.get("hide") == "yes"
        hidden = bans.ban_user(
            user_id, bans.Ban(days, request.form.get("reason", ""), hide), utcnow()
        )
    except ModerationError as exc:
        if exc.status == 404:
            abort(404, exc.message)
        set_notice(f"Not banned: {exc.message}")
        return redirect(url_for("admin.user", user_id=user_id), 303)
    length = "for good" if days is None else f"for {days} day{'s' if days != 1 else ''}"
    moved = f" {hidden} comment{'s' if hidden != 1 else ''} moved to the trash." if hide else ""
    set_notice(f"Banned {length}.{moved}")
    return redirect(url_for("admin.user", user_id=user_id), 303)


@bp.post("/users/<int:user_id>/unban")
def unban(user_id: int) -> ResponseReturnValue:
    """Lift a ban (hidden comments stay in the trash)."""
    try:
        bans.unban_user(user_id)
    except ModerationError as exc:
        abort(exc.status, exc.message)
    set_notice("Ban lifted. Comments hidden by the ban stay in the trash until restored.")
    return redirect(url_for("admin.user", user_id=user_id), 303)


@bp.get("/drafts")
def drafts() -> ResponseReturnValue:
    """Drafts and scheduled posts, each with a link to its preview."""
    return render_template("admin/drafts.html", unpublished=previews.unpublished_posts(utcnow()))
