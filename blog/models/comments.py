"""Comments and the drafts that survive a login round trip."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blog.extensions import db
from blog.models.base import (
    COMMENTS,
    SITE,
    NotShownOnPages,
    ShownOnPages,
    enum_column,
    post_tag,
)
from blog.models.people import User
from blog.models.posts import Post
from blog.models.types import UTCDateTime


class CommentStatus(enum.Enum):
    """Where a comment stands: shown, held, junk, binned, or removed by its author."""

    APPROVED = "approved"
    PENDING = "pending"
    SPAM = "spam"
    TRASH = "trash"
    DELETED = "deleted"


class Comment(ShownOnPages, db.Model):  # type: ignore[name-defined]
    """A reader's comment on a post, possibly a reply to another comment."""

    __tablename__ = "comments"
    # One row per (user, post, parent, text): parent_key is 0 for top level, since NULL
    # parents would be distinct in a unique index and let duplicates through.
    __table_args__ = (
        UniqueConstraint(
            "user_id", "post_id", "parent_key", "body_hash", name="uq_comments_no_duplicates"
        ),
        # A post's thread and the counts on listings: by post, then status. Without it SQLite
        # may walk the status index through every approved comment of the blog. Parent, writer
        # and time ride along: a reader's page count is two ranges of it (their shown top-level
        # comments, their own held ones), never the held comments of everyone else.
        Index(
            "ix_comments_post_status",
            "post_id",
            "status",
            "parent_id",
            "user_id",
            "created_at",
            "id",
        ),
        # A page of a long thread: its top-level comments (parent NULL) in time order, one
        # index range however many comments the post has (blog/comments/paging.py). Status and
        # writer ride along, so choosing a page's comments never reads the table.
        Index(
            "ix_comments_post_root", "post_id", "parent_id", "created_at", "id", "status", "user_id"
        ),
        # The rules' questions about a writer's past comments (their last one, whether one was
        # ever approved), each one index seek however many comments they have written.
        Index("ix_comments_user_id_created_at", "user_id", "created_at"),
        Index("ix_comments_user_id_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    provider: Mapped[str | None] = mapped_column(String(40))
    author_name: Mapped[str] = mapped_column(String(200))
    # An imported writer's website, linked from their name (nofollow ugc); None for our users.
    author_url: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    parent_key: Mapped[int] = mapped_column(Integer, default=0)
    body_hash: Mapped[str] = mapped_column(String(64))
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[CommentStatus] = mapped_column(enum_column(CommentStatus), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A comment on one paragraph: its anchor (blog/content/paragraphs.py) and its words as
    # they were, kept when an edit of the post removes the paragraph.
    paragraph_id: Mapped[str | None] = mapped_column(String(24))
    paragraph_quote: Mapped[str | None] = mapped_column(Text)

    post: Mapped[Post] = relationship()
    user: Mapped[User | None] = relationship()

    def cache_tags(self, changed: set[str] | None) -> set[str]:
        """Its post's pages and the comment feed; a comment moved to another post, both posts'."""
        post_ids = {self.post_id}
        if changed is not None and "post_id" in changed:
            post_ids.update(inspect(self).attrs.post_id.history.deleted or ())
        return {COMMENTS, *(post_tag(p) for p in post_ids if p is not None)}

    @classmethod
    def bulk_cache_tags(
        cls, columns: set[str] | None, rows: Sequence[Mapping[str, Any]] | None
    ) -> set[str]:
        """A plain insert names its posts in its rows: only they are stale; else every page."""
        named = {row.get("post_id") for row in rows or ()}
        post_ids = {p for p in named if isinstance(p, int)}
        if not post_ids or post_ids != named:
            return {SITE}
        return {COMMENTS, *(post_tag(p) for p in post_ids)}


class CommentDraft(NotShownOnPages, db.Model):  # type: ignore[name-defined]
    """A half-written comment kept on the server across a login round trip or a failed post."""

    __tablename__ = "comment_drafts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # The reader it belongs to once they log in: their export shows it, their deletion ends it.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )


class CommentEdit(NotShownOnPages, db.Model):  # type: ignore[name-defined]
    """A reader's edit of a shown comment that a rule held: it waits apart for a moderator,
    and the comment keeps showing its approved text until the edit is approved.

    On no shared page: only its writer's own view (never kept) and the moderators' pages show
    it; approving it writes the comment, whose own tags then go stale.
    """

    __tablename__ = "comment_edits"

    # One per comment: a newer edit replaces the waiting one.
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    body_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    comment: Mapped[Comment] = relationship()
