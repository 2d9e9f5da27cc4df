"""Private notes: a reader's word to the author, never shown on any shared page."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blog.extensions import db
from blog.models.base import NotShownOnPages, enum_column
from blog.models.people import User
from blog.models.posts import Post
from blog.models.types import UTCDateTime


class NoteStatus(enum.Enum):
    """Where a note stands in the moderators' Notes list."""

    NEW = "new"
    ANSWERED = "answered"
    SPAM = "spam"


class PrivateNote(NotShownOnPages, db.Model):  # type: ignore[name-defined]
    """What a reader sent privately to the author from a post's comment box.

    On no shared page, feed or count: only its sender's account page and the moderators'
    Notes list show it, so writing it makes no page stale.
    """

    __tablename__ = "private_notes"
    __table_args__ = (
        # The flood rule's question (the sender's last note) and their account page's list.
        Index("ix_private_notes_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    author_name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[NoteStatus] = mapped_column(enum_column(NoteStatus), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    post: Mapped[Post] = relationship()
    user: Mapped[User] = relationship()
