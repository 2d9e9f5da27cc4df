"""Readers' edits that a rule held: the moderator approves (the comment takes the new text) or
rejects them (the comment keeps its approved text)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from blog.comments import editing
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Comment, CommentEdit
from blog.moderation.service import PER_PAGE, ModerationError


@dataclass(frozen=True)
class HeldEdits:
    """The newest held edits, each with its comment, and how many there are in all."""

    edits: list[CommentEdit]
    total: int


def held_edit_count() -> int:
    """How many edits wait for a moderator."""
    return db.session.scalar(select(func.count()).select_from(CommentEdit)) or 0


def held_edits(limit: int = PER_PAGE) -> HeldEdits:
    """The edits waiting for a moderator, newest first."""
    total = held_edit_count()
    if not total:
        return HeldEdits([], 0)
    found = db.session.scalars(
        select(CommentEdit)
        .options(
            selectinload(CommentEdit.comment).selectinload(Comment.post),
            selectinload(CommentEdit.comment).selectinload(Comment.user),
        )
        .order_by(CommentEdit.created_at.desc(), CommentEdit.comment_id.desc())
        .limit(limit)
    )
    return HeldEdits(list(found), total)


def _held(comment_id: int) -> CommentEdit:
    edit = db.session.get(CommentEdit, comment_id)
    if edit is None:
        raise ModerationError("That edit is not waiting any more.", 404)
    return edit


def approve_edit(comment_id: int) -> None:
    """The comment takes the held text, as edited when its writer saved it."""
    with write_transaction():
        edit = _held(comment_id)
        comment = edit.comment
        clash = editing.duplicate_of(comment, edit.body_hash)
        if clash is not None:
            raise ModerationError(
                f"The same person already posted that text in the same place (comment {clash}): "
                "reject the edit instead.",
                409,
            )
        comment.body, comment.body_html = edit.body, edit.body_html
        comment.body_hash = edit.body_hash
        comment.edited_at = edit.created_at
        db.session.delete(edit)
        try:
            db.session.flush()
        except IntegrityError as exc:
            raise ModerationError("That text clashes with another comment.", 409) from exc


def reject_edit(comment_id: int) -> None:
    """Drop the held edit: the comment keeps its approved text."""
    with write_transaction():
        db.session.delete(_held(comment_id))
