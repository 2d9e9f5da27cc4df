"""The moderators' Notes list at /admin/notes: private notes to the author, and their answers."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from blog.auth.roles import is_moderator
from blog.auth.session import pop_notice, set_notice, viewer
from blog.clock import utcnow
from blog.comments import notes
from blog.comments.page import rules
from blog.comments.service import CommentRejected
from blog.models import NoteStatus

bp = Blueprint("notes", __name__, url_prefix="/admin/notes")


@bp.before_request
def moderators_only() -> None:
    """Refuse every page and action here (403) to anyone who is not a moderator."""
    if not is_moderator(viewer()):
        abort(403, "Only the blog's moderators can read the notes.")


@bp.after_request
def private(response: Response) -> Response:
    """Notes are personal: never stored by a cache, never indexed."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.get("")
def notes_list() -> ResponseReturnValue:
    """Every note, newest first, spam last; each with its answers."""
    found = notes.notes_list()
    return render_template(
        "admin/notes.html",
        notes=[(n, notes.reader_address(n.user)) for n in found],
        spam=NoteStatus.SPAM,
        answered=NoteStatus.ANSWERED,
        notice=pop_notice(),
    )


@bp.post("/<int:note_id>/answer")
def answer(note_id: int) -> ResponseReturnValue:
    """Answer a note publicly: a comment of the author's on its post."""
    moderator = viewer()
    assert moderator is not None  # moderators_only ran first
    try:
        created = notes.answer_publicly(
            moderator,
            note_id,
            request.form.get("comment", ""),
            utcnow(),
            rules(),
            current_app.config["SECRET_KEY"],
        )
    except CommentRejected as exc:
        set_notice(f"Not answered: {exc.message}")
    else:
        set_notice(f"Answered publicly as comment {created.id}.")
    return redirect(url_for("notes.notes_list"), 303)


@bp.post("/<int:note_id>/answered")
def answered(note_id: int) -> ResponseReturnValue:
    """Mark a note answered (by mail, from the moderator's own mail program)."""
    if notes.mark_answered(note_id, utcnow()) is None:
        abort(404)
    set_notice("Marked as answered.")
    return redirect(url_for("notes.notes_list"), 303)


@bp.post("/<int:note_id>/delete")
def delete(note_id: int) -> ResponseReturnValue:
    """Delete a note (spam, or done with)."""
    if not notes.delete_note(note_id):
        abort(404)
    set_notice("Note deleted.")
    return redirect(url_for("notes.notes_list"), 303)
