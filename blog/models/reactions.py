"""What readers do with a post or a comment besides writing one: likes, reports, featuring."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from blog.extensions import db
from blog.models.base import SITE, NotShownOnPages, ShownOnPages, enum_column, post_tag
from blog.models.types import UTCDateTime

# The comment_key of a like of the post itself: NULL would be distinct in the unique index.
POST_ITSELF = 0


class ShownOnItsPost(ShownOnPages):
    """A row shown on its own post's pages alone (a like's counts and avatar, a featured
    comment above the thread): a write makes that post's pages stale."""

    if TYPE_CHECKING:
        post_id: int  # each model maps its own column

    def cache_tags(self, changed: set[str] | None) -> set[str]:
        """The pages of the row's post."""
        return {post_tag(self.post_id)}

    @classmethod
    def bulk_cache_tags(
        cls, columns: set[str] | None, rows: Sequence[Mapping[str, Any]] | None
    ) -> set[str]:
        """The posts a plain insert names in its rows; every page for any other statement,
        or when a row names none."""
        named = {row.get("post_id") for row in rows or ()}
        post_ids = {p for p in named if isinstance(p, int)}
        if not post_ids or post_ids != named:
            return {SITE}
        return {post_tag(p) for p in post_ids}


class Like(ShownOnItsPost, db.Model):  # type: ignore[name-defined]
    """One reader's like of a post (comment_key 0) or of one of its comments."""

    __tablename__ = "likes"
    __table_args__ = (
        UniqueConstraint("user_id", "post_id", "comment_key", name="uq_likes_one_per_reader"),
        # A post's counts (per comment) and its latest likers: one index range per page.
        Index("ix_likes_post_id_comment_key", "post_id", "comment_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    comment_key: Mapped[int] = mapped_column(Integer, default=POST_ITSELF)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportReason(enum.Enum):
    """Why a reader reports a comment: a short fixed list, as Coral offers."""

    SPAM = "spam"
    ABUSE = "abuse"
    OFF_TOPIC = "off-topic"
    PERSONAL_INFO = "personal-info"
    OTHER = "other"


class ReportStatus(enum.Enum):
    """Whether a moderator has looked at a report yet, and what they decided."""

    OPEN = "open"
    DISMISSED = "dismissed"
    UPHELD = "upheld"


class CommentReport(NotShownOnPages, db.Model):  # type: ignore[name-defined]
    """A reader's report of a comment, for the moderators alone.

    On no shared page: holding the comment writes the comment, whose own tags go stale.
    """

    __tablename__ = "comment_reports"
    __table_args__ = (
        UniqueConstraint("comment_id", "user_id", name="uq_comment_reports_one_per_reader"),
        # The flood rule's question: the reader's latest report.
        Index("ix_comment_reports_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[ReportReason] = mapped_column(enum_column(ReportReason))
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[ReportStatus] = mapped_column(enum_column(ReportStatus), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeaturedComment(ShownOnItsPost, db.Model):  # type: ignore[name-defined]
    """A comment the author pinned above its post's thread."""

    __tablename__ = "featured_comments"

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    featured_at: Mapped[datetime] = mapped_column(UTCDateTime)
