"""Changing one's own comments: an edit meets the rules a new comment does; deleting.

An edit of a shown (approved) comment that a rule would hold or mark as spam waits apart, as a
CommentEdit, for a moderator: the approved text stays shown, with the replies that answer it,
and a rejected edit costs the comment nothing. An edit of a comment nobody sees yet replaces
its text at once, and the rules may move it to the spam as they would a new one.
"""

from __future__ import annotations

import enum
import functools
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from blog.auth.roles import is_moderator
from blog.comments.rules import CommentRules, Submission, body_hash, hold_reason, spam_reason
from blog.comments.service import (
    DUPLICATE_MESSAGE,
    CommentRejected,
    ban_message,
    clean_body,
    duplicate_id,
)
from blog.comments.threads import ShownComment
from blog.content.comment_markup import render_comment
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Comment, CommentEdit, CommentStatus, User


class Edited(enum.Enum):
    """What became of an edit."""

    SAVED = "saved"  # the comment shows the new text (or will, once the comment is approved)
    HELD = "held"  # waits for a moderator; the approved text stays shown
    SPAM = "spam"  # the comment, not yet shown, is now in the spam


def owned_comment(comment_id: int, user: User) -> Comment:
    """The user's own comment, or CommentRejected (404 for anyone else's)."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.user_id != user.id or comment.status is CommentStatus.DELETED:
        raise CommentRejected("That comment is not yours to change.", 404)
    return comment


def can_edit(comment: Comment | ShownComment, now: datetime, rules: CommentRules) -> bool:
    """Authors may edit within the edit window."""
    return comment.status is not CommentStatus.DELETED and now - comment.created_at <= timedelta(
        minutes=rules.edit_minutes
    )


def edit_comment(
    comment_id: int, user: User, body: str, now: datetime, rules: CommentRules
) -> Edited:
    """Apply the rules of a new comment to the user's edit of their own, within the edit window."""
    text = clean_body(body, rules)
    html = render_comment(text)
    digest = body_hash(text)
    exempt = functools.cache(lambda: is_moderator(user))
    with write_transaction():
        comment = owned_comment(comment_id, user)
        if not can_edit(comment, now, rules):
            raise CommentRejected(
                f"Comments can be edited for {rules.edit_minutes} minutes after posting.", 403
            )
        if user.banned_at(now) and not exempt():
            raise CommentRejected(ban_message(user), 403)
        if duplicate_of(comment, digest) is not None:
            raise CommentRejected(DUPLICATE_MESSAGE, 409)
        _drop_held_edit(comment.id)  # the newest edit is the one that counts
        if text == comment.body:
            return Edited.SAVED  # nothing changed, or a held edit taken back
        shown = comment.status is CommentStatus.APPROVED
        written = Submission(comment.post_id, comment.parent_id, text)
        spam = spam_reason(written, html, user.display_name, user.email, rules)
        # The comment itself was approved, so "first comment" never holds an edit of it.
        hold = hold_reason(text, html, user.display_name, user.email, shown, rules)
        if (spam or hold) and exempt():
            spam = hold = None
        if shown and (spam or hold):
            _hold(comment, text, html, digest, spam or hold or "", now)
            return Edited.HELD
        comment.body, comment.body_html, comment.body_hash = text, html, digest
        comment.edited_at = now
        outcome = Edited.SAVED
        if spam and comment.status is CommentStatus.PENDING:
            comment.status, outcome = CommentStatus.SPAM, Edited.SPAM
        try:
            db.session.flush()
        except IntegrityError as exc:
            # The same text arrived from another request of the same writer meanwhile.
            raise CommentRejected(DUPLICATE_MESSAGE, 409) from exc
    return outcome


def _hold(comment: Comment, text: str, html: str, digest: str, reason: str, now: datetime) -> None:
    edit = CommentEdit(comment_id=comment.id, body=text, body_html=html, body_hash=digest)
    edit.reason, edit.created_at = reason[:200], now
    db.session.add(edit)


def _drop_held_edit(comment_id: int) -> None:
    db.session.execute(delete(CommentEdit).where(CommentEdit.comment_id == comment_id))


def held_edit(comment_id: int) -> CommentEdit | None:
    """The edit of this comment that waits for a moderator, if any."""
    return db.session.get(CommentEdit, comment_id)


def duplicate_of(comment: Comment, digest: str) -> int | None:
    """Another comment by the same writer, in the same place, with this text: its id."""
    if comment.user_id is None:
        return None
    return duplicate_id(
        comment.user_id, comment.post_id, comment.parent_key, digest, excluding=comment.id
    )


# How long a writer may take back the deletion of their own comment. Until then the comment
# is deleted for every reader (status DELETED, deleted_at set) but keeps its text and name in
# its row; after it, the next comment write empties the row as a moderator's deletion would.
UNDO_MINUTES = 5
# Rows emptied per write: a backlog is worked off a slice at a time, never in one long write.
PURGE_BATCH = 50


def delete_comment(comment_id: int, user: User, now: datetime) -> Comment:
    """Delete the user's own comment, undoably for UNDO_MINUTES; a placeholder stays for replies."""
    with write_transaction():
        comment = owned_comment(comment_id, user)
        _drop_held_edit(comment.id)
        comment.status = CommentStatus.DELETED
        # Frees the text for the duplicate rule: writing it again is not a duplicate.
        comment.body_hash = f"deleted-{comment.id}"
        comment.deleted_at = now
    return comment


def undo_window_open(comment: Comment, now: datetime) -> bool:
    """Whether the writer may still take back this deletion."""
    return (
        comment.status is CommentStatus.DELETED
        and comment.deleted_at is not None
        and bool(comment.body)
        and now - comment.deleted_at <= timedelta(minutes=UNDO_MINUTES)
    )


def undelete_comment(comment_id: int, user: User, status: CommentStatus, now: datetime) -> Comment:
    """Take back a deletion within the undo window: the comment returns as it was, in `status`."""
    with write_transaction():
        comment = db.session.get(Comment, comment_id)
        if comment is None or comment.user_id != user.id:
            raise CommentRejected("That comment is not yours to change.", 404)
        if not undo_window_open(comment, now):
            raise CommentRejected(
                f"That deletion can no longer be undone (it can for {UNDO_MINUTES} minutes).", 410
            )
        comment.status = status
        comment.body_hash = body_hash(comment.body)
        comment.deleted_at = None
        try:
            db.session.flush()
        except IntegrityError as exc:
            # The writer posted the same text in the same place after deleting this one.
            raise CommentRejected(DUPLICATE_MESSAGE, 409) from exc
    return comment


# The purge rides on writes (a post, a deletion); once a minute per process is enough for
# text that may linger UNDO_MINUTES anyway, and spares every other post a transaction.
PURGE_EVERY = timedelta(minutes=1)
_NEXT_PURGE_KEY = "blog.next_purge"


def purge_deleted_text(now: datetime) -> int:
    """Empty the rows of deletions whose undo window has closed; how many were emptied.

    At most once a PURGE_EVERY per app on the app's clock; other calls return 0 at once.
    """
    state = current_app.extensions
    next_purge: datetime | None = state.get(_NEXT_PURGE_KEY)
    # A next run further away than PURGE_EVERY means the clock was set back: run now.
    if next_purge is not None and now < next_purge <= now + PURGE_EVERY:
        return 0
    state[_NEXT_PURGE_KEY] = now + PURGE_EVERY
    cutoff = now - timedelta(minutes=UNDO_MINUTES)
    due = (
        select(Comment.id)
        .where(
            Comment.status == CommentStatus.DELETED,
            Comment.deleted_at < cutoff,
            Comment.author_name != "",
        )
        .limit(PURGE_BATCH)
    )
    ids = list(db.session.scalars(due))
    if not ids:
        return 0
    with write_transaction():
        for comment in db.session.scalars(select(Comment).where(Comment.id.in_(ids))):
            if comment.status is CommentStatus.DELETED:
                make_placeholder(comment, comment.deleted_at or now)
    return len(ids)


def make_placeholder(comment: Comment, now: datetime) -> None:
    """Empty a comment down to its place in the thread: nothing of its text or its writer.

    The writer's id stays, unshown: the flood and duplicate rules still count the comment.
    """
    _drop_held_edit(comment.id)
    comment.status = CommentStatus.DELETED
    comment.body_hash = f"deleted-{comment.id}"
    comment.body = ""
    comment.body_html = ""
    comment.author_name = ""
    comment.provider = None
    comment.ip_hash = None
    comment.deleted_at = now
