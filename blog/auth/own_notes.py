"""A reader's private notes to the author, as their account page shows them."""

from __future__ import annotations

from sqlalchemy import delete, select

from blog.database import write_transaction
from blog.extensions import db
from blog.models import PrivateNote, User


def notes_of(user: User) -> list[PrivateNote]:
    """The notes the reader sent, newest first."""
    return list(
        db.session.scalars(
            select(PrivateNote)
            .where(PrivateNote.user_id == user.id)
            .order_by(PrivateNote.created_at.desc(), PrivateNote.id.desc())
        )
    )


def delete_own(user: User, note_id: int) -> bool:
    """Delete one of the reader's notes; False when it is not theirs (or gone)."""
    with write_transaction():
        result = db.session.execute(
            delete(PrivateNote).where(PrivateNote.id == note_id, PrivateNote.user_id == user.id)
        )
    return int(getattr(result, "rowcount", 0)) == 1
