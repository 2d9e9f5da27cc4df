"""Posting, editing and deleting comments; avatars. Thin: the rules live in service.py."""

from __future__ import annotations

import hashlib

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape

from blog.auth.drafts import discard_draft, save_draft
from blog.auth.session import PROVIDER_KEY, set_notice, viewer
from blog.auth.views import same_origin
from blog.clock import utcnow
from blog.comments import editing, notes, service
from blog.comments.form_timing import read_started
from blog.comments.page import UNDO_KEY, rules, undo_offer
from blog.comments.paging import anchored_path, comment_path
from blog.comments.rules import Submission
from blog.content.comment_markup import render_comment
from blog.extensions import csrf, db
from blog.mail.notify import comment_created
from blog.mail.subscriptions import from_comment_form
from blog.models import Avatar, Comment, CommentStatus, NoteStatus, User
from blog.reader import posts
from blog.reader.post_page import post_page_response, post_shell
from blog.web.formdata import parse_int

bp = Blueprint("comments", __name__)
PARAGRAPH_FIELD = "paragraph_id"
PRIVATE_FIELD = "private"
NOTE_SENT_NOTICE = (
    "Your note went privately to the author. It is not shown on the blog; "
    "you find it on your account page."
)
NOTE_SPAM_NOTICE = "Your note was marked as spam, so the author may not read it."
HONEYPOT_FIELD = "website"
LOG_IN_TO_POST = "Please log in to post your comment. It is kept below."
SPAM_NOTICE = (
    "Your comment was marked as spam, so it is not shown. "
    "A moderator who looks through the spam may still publish it."
)


def _form_post() -> posts.Article | None:
    return posts.live_article(parse_int(request.form.get("post_id")), utcnow())


def _kept(
    post: posts.Article, status: int, message: str, retry_after: int | None = None
) -> Response:
    parent_id = parse_int(request.form.get("parent_id"))
    body = request.form.get("comment", "")
    started = read_started(request.form.get("form_started"))
    save_draft(post.id, parent_id, body, utcnow(), started)
    shell = post_shell(post.slug, utcnow())
    if shell is None:
        abort(404, "That post does not exist (any more).")
    response = post_page_response(
        shell,
        status,
        error=message,
        body=body,
        parent_id=parent_id,
        started=started,
        paragraph_id=request.form.get(PARAGRAPH_FIELD),
        private=request.form.get(PRIVATE_FIELD) == "1",
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def comment_kept(status: int, message: str, retry_after: int | None = None) -> Response | None:
    """The post page with the refused comment back in its box and kept as the draft.

    None when the form names no post a reader can see (the caller shows a plain error).
    """
    post = _form_post()
    return None if post is None else _kept(post, status, message, retry_after)


@bp.post("/comments/")
def create() -> ResponseReturnValue:
    """Post a comment; a rejected one comes back with the error and the text intact.

    A logged-in writer's post is read in the write transaction that stores the comment: a
    read before it would cost a transaction of its own on SQLite.
    """
    parent_id = parse_int(request.form.get("parent_id"))
    body = request.form.get("comment", "")
    user = viewer()
    if user is None:
        post = _form_post()
        if post is None:
            abort(404, "That post does not exist (any more).")
        save_draft(post.id, parent_id, body, utcnow())
        set_notice(LOG_IN_TO_POST)
        return redirect(post.path + "#respond", 303)
    submission = Submission(
        post_id=parse_int(request.form.get("post_id")),
        parent_id=parent_id,
        body=body,
        provider=_session_provider(),
        honeypot=request.form.get(HONEYPOT_FIELD, ""),
        form_started=read_started(request.form.get("form_started")),
        ip=request.remote_addr,
        paragraph_id=request.form.get(PARAGRAPH_FIELD) or None,
    )
    if request.form.get(PRIVATE_FIELD) == "1":
        return _send_note(user, submission)
    try:
        comment = service.create_comment(
            user, submission, utcnow(), rules(), current_app.config["SECRET_KEY"]
        )
    except service.CommentRejected as exc:
        return _refused(exc)
    discard_draft()
    editing.purge_deleted_text(utcnow())
    from_comment_form(user, comment.post_id, request.form, utcnow())
    comment_created(comment.id, comment.post_id, comment.status, submission.parent_id)
    if comment.status is CommentStatus.SPAM:
        # No moderator's queue holds it: "awaiting moderation" would be untrue.
        set_notice(SPAM_NOTICE)
        return redirect(f"{comment.post.path}#respond", 303)
    return redirect(anchored_path(comment.post.path, comment.id, comment.page), 303)


def _send_note(user: User, submission: Submission) -> ResponseReturnValue:
    """ "Send privately to the author": a note, never a comment; refused ones come back."""
    try:
        note = notes.send_note(
            user, submission, utcnow(), rules(), current_app.config["SECRET_KEY"]
        )
    except service.CommentRejected as exc:
        return _refused(exc)
    discard_draft()
    set_notice(NOTE_SPAM_NOTICE if note.status is NoteStatus.SPAM else NOTE_SENT_NOTICE)
    return redirect(f"{note.post.path}#respond", 303)


def _refused(exc: service.CommentRejected) -> ResponseReturnValue:
    """A refused comment or note: the form back with its text, or the plain error page."""
    kept = comment_kept(exc.status, exc.message, exc.retry_after)
    if kept is None:
        abort(exc.status, exc.message)
    return kept


def _session_provider() -> str | None:
    value = session.get(PROVIDER_KEY)
    return value if isinstance(value, str) else None


def _own(comment_id: int) -> Comment:
    user = viewer()
    if user is None:
        abort(401, "Log in to change your comments.")
    try:
        return editing.owned_comment(comment_id, user)
    except service.CommentRejected as exc:
        abort(exc.status, exc.message)


@bp.get("/comments/<int:comment_id>/edit")
def edit_form(comment_id: int) -> ResponseReturnValue:
    """The edit form for the reader's own comment, while the edit window is open."""
    comment = _own(comment_id)
    if not editing.can_edit(comment, utcnow(), rules()):
        abort(403, f"Comments can be edited for {rules().edit_minutes} minutes after posting.")
    held = editing.held_edit(comment.id)
    body = held.body if held is not None else comment.body
    return render_template(
        "comments/edit.html", comment=comment, body=body, held=held is not None, error=None
    )


@bp.post("/comments/<int:comment_id>/edit")
def edit(comment_id: int) -> ResponseReturnValue:
    """Save an edit; a rejected one comes back with the text intact."""
    comment = _own(comment_id)
    body = request.form.get("comment", "")
    try:
        edited = editing.edit_comment(comment.id, comment.user, body, utcnow(), rules())  # type: ignore[arg-type]
    except service.CommentRejected as exc:
        return _edit_page(comment, exc.status, exc.message)
    if edited is editing.Edited.SPAM:
        set_notice(SPAM_NOTICE)
        return redirect(f"{comment.post.path}#respond", 303)
    # A held edit is told beside the comment, which shows its approved text meanwhile.
    return redirect(comment_path(comment.post.path, comment.id, comment.user_id), 303)


def _edit_page(comment: Comment, status: int, message: str) -> Response:
    body = request.form.get("comment", "")
    html = render_template(
        "comments/edit.html", comment=comment, body=body, held=False, error=message
    )
    return make_response(html, status)


def edit_kept(status: int, message: str) -> Response | None:
    """The edit form again with the typed text, for the reader's own comment; else None."""
    user = viewer()
    comment_id = (request.view_args or {}).get("comment_id")
    if user is None or not isinstance(comment_id, int):
        return None
    try:
        comment = editing.owned_comment(comment_id, user)
    except service.CommentRejected:
        return None
    return _edit_page(comment, status, message)


@bp.get("/comments/<int:comment_id>/delete")
def delete_form(comment_id: int) -> ResponseReturnValue:
    """Ask before deleting: the page a Delete button leads to without JavaScript."""
    comment = _own(comment_id)
    html = render_template(
        "comments/delete.html", comment=comment, undo_minutes=editing.UNDO_MINUTES
    )
    response = make_response(html)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/comments/<int:comment_id>/delete")
def delete(comment_id: int) -> ResponseReturnValue:
    """Delete the reader's own comment once confirmed; it can be undone for a few minutes.

    The thread's Delete button sends no confirmation: it leads to the question first (with
    JavaScript, a dialog asks instead and sends it).
    """
    comment = _own(comment_id)
    if request.form.get("confirm") != "yes":
        return redirect(url_for("comments.delete_form", comment_id=comment.id), 303)
    path, status = comment.post.path, comment.status
    editing.delete_comment(comment.id, comment.user, utcnow())  # type: ignore[arg-type]
    session[UNDO_KEY] = {"comment": comment.id, "status": status.value}
    editing.purge_deleted_text(utcnow())
    return redirect(f"{path}#comments", 303)


@bp.post("/comments/<int:comment_id>/undelete")
def undelete(comment_id: int) -> ResponseReturnValue:
    """Take back a deletion made in this session, within the undo window."""
    user = viewer()
    if user is None:
        abort(401, "Log in to change your comments.")
    kept = undo_offer()
    if kept is None or kept[0] != comment_id:
        abort(404, "There is no deletion of that comment to undo here.")
    try:
        comment = editing.undelete_comment(comment_id, user, kept[1], utcnow())
    except service.CommentRejected as exc:
        session.pop(UNDO_KEY, None)
        abort(exc.status, exc.message)
    session.pop(UNDO_KEY, None)
    set_notice("Your comment is back.")
    return redirect(f"{comment.post.path}#comment-{comment.id}", 303)


@bp.post("/comments/preview")
@csrf.exempt  # the logged-out box is token-free; Origin is checked instead, as at the login start
def preview() -> ResponseReturnValue:
    """The post page with the comment rendered as it would be posted, and the text kept."""
    if not same_origin():
        abort(403, "Preview from the blog's own pages.")
    post = _form_post()
    if post is None:
        abort(404, "That post does not exist (any more).")
    shell = post_shell(post.slug, utcnow())
    if shell is None:
        abort(404, "That post does not exist (any more).")
    body = request.form.get("comment", "")
    parent_id = parse_int(request.form.get("parent_id"))
    started = read_started(request.form.get("form_started"))
    error, shown = None, None
    try:
        shown = Markup(render_comment(service.clean_body(body, rules())))  # noqa: S704 - nh3
    except service.CommentRejected as exc:
        error = exc.message
    if viewer() is not None:
        save_draft(post.id, parent_id, body, utcnow(), started)
    return post_page_response(
        shell, 200, error=error, body=body, parent_id=parent_id, started=started, preview=shown
    )


@bp.get("/avatars/<int:user_id>.png")
def avatar(user_id: int) -> ResponseReturnValue:
    """A user's stored picture."""
    found = db.session.get(Avatar, user_id)
    if found is None:
        abort(404)
    response = make_response(found.data)
    response.headers["Content-Type"] = found.content_type
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.set_etag(found.digest)
    return response.make_conditional(request)


AVATAR_COLOURS = ("#0b5cad", "#8a3ffc", "#007d79", "#a2191f", "#6f4e00", "#4b5563", "#9d1d96")


@bp.get("/avatars/<int:user_id>.svg")
@bp.get("/avatars/anonymous.svg", defaults={"user_id": 0})
def fallback_avatar(user_id: int) -> ResponseReturnValue:
    """A generated picture: the initial on a colour picked from the user id."""
    name = "?"
    if user_id:
        user = db.session.get(User, user_id)
        name = (user.display_name.strip()[:1] if user and user.display_name.strip() else "?") or "?"
    colour = AVATAR_COLOURS[int(hashlib.sha256(str(user_id).encode()).hexdigest(), 16) % 7]
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96">'
        f'<rect width="96" height="96" fill="{colour}"/>'
        '<text x="48" y="62" font-family="system-ui, sans-serif" font-size="44" fill="#fff" '
        f'text-anchor="middle">{escape(name.upper())}</text></svg>'
    )
    response = make_response(svg)
    response.headers["Content-Type"] = "image/svg+xml"
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
