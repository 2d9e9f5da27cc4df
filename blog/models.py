"""Typed SQLAlchemy models."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Column,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blog.database import UTCDateTime
from blog.extensions import db


def _enum(cls: type[enum.Enum]) -> Enum:
    # Store the value, bounded by a CHECK-free VARCHAR so adding a member needs no migration dance.
    return Enum(cls, values_callable=lambda e: [m.value for m in e], native_enum=False, length=20)


class PostStatus(enum.Enum):
    """Whether a post file is live, held back, or gone from posts/."""

    PUBLISHED = "published"
    DRAFT = "draft"
    REMOVED = "removed"


class PostLayout(enum.Enum):
    """A dated post, or a standalone page such as About."""

    POST = "post"
    PAGE = "page"


class TermKind(enum.Enum):
    """The two taxonomies."""

    CATEGORY = "category"
    TAG = "tag"


post_terms = Table(
    "post_terms",
    db.metadata,
    Column("post_id", Integer, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("term_id", Integer, ForeignKey("terms.id", ondelete="CASCADE"), primary_key=True),
)


class Term(db.Model):  # type: ignore[name-defined]
    """A category or a tag; categories may be hierarchical (`Recruiting/Interviews`)."""

    __tablename__ = "terms"
    __table_args__ = (UniqueConstraint("kind", "slug", name="uq_terms_kind_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TermKind] = mapped_column(_enum(TermKind))
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200))


class Post(db.Model):  # type: ignore[name-defined]
    """One Markdown file from posts/, rendered at sync time."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    source_path: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[PostStatus] = mapped_column(_enum(PostStatus), index=True)
    layout: Mapped[PostLayout] = mapped_column(_enum(PostLayout))
    title: Mapped[str] = mapped_column(String(300))
    author: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime)
    local_date: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD in the site's zone
    html: Mapped[str] = mapped_column(Text)
    excerpt_html: Mapped[str] = mapped_column(Text)
    toc_html: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    word_count: Mapped[int] = mapped_column(Integer)
    reading_minutes: Mapped[int] = mapped_column(Integer)
    comments_open: Mapped[bool] = mapped_column(default=True)
    image: Mapped[str | None] = mapped_column(String(500))

    terms: Mapped[list[Term]] = relationship(secondary=post_terms, lazy="selectin")
    aliases: Mapped[list[PostAlias]] = relationship(
        back_populates="post", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def categories(self) -> list[Term]:
        """Categories, ordered by name."""
        return sorted((t for t in self.terms if t.kind is TermKind.CATEGORY), key=lambda t: t.slug)

    @property
    def tags(self) -> list[Term]:
        """Tags, ordered by name."""
        return sorted((t for t in self.terms if t.kind is TermKind.TAG), key=lambda t: t.slug)

    @property
    def path(self) -> str:
        """The WordPress-style permalink path."""
        if self.layout is PostLayout.PAGE:
            return f"/{self.slug}/"
        year, month, day = self.local_date.split("-")
        return f"/{year}/{month}/{day}/{self.slug}/"


class PostAlias(db.Model):  # type: ignore[name-defined]
    """An old URL path that redirects to a post."""

    __tablename__ = "post_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(500), unique=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    post: Mapped[Post] = relationship(back_populates="aliases")


class CommentStatus(enum.Enum):
    """Where a comment stands: shown, held, junk, binned, or removed by its author."""

    APPROVED = "approved"
    PENDING = "pending"
    SPAM = "spam"
    TRASH = "trash"
    DELETED = "deleted"


class User(db.Model):  # type: ignore[name-defined]
    """A commenter; keyed by their identities, never by email."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    email_verified: Mapped[bool] = mapped_column(default=False)
    # Bumped at logout and account deletion: every older session cookie stops working.
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    identities: Mapped[list[Identity]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    # Flask-Login protocol.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """Session id: user id plus generation, so logging out invalidates copied cookies."""
        return f"{self.id}:{self.session_generation}"


class Identity(db.Model):  # type: ignore[name-defined]
    """One provider account (provider, subject) linked to a user."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_identities_provider"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    email_verified: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="identities")


class Avatar(db.Model):  # type: ignore[name-defined]
    """A user's picture, fetched once at login and served by the blog itself."""

    __tablename__ = "avatars"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    content_type: Mapped[str] = mapped_column(String(50))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Comment(db.Model):  # type: ignore[name-defined]
    """A reader's comment on a post, possibly a reply to another comment."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    provider: Mapped[str | None] = mapped_column(String(40))
    author_name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[CommentStatus] = mapped_column(_enum(CommentStatus), index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    post: Mapped[Post] = relationship()
    user: Mapped[User | None] = relationship()


class CommentDraft(db.Model):  # type: ignore[name-defined]
    """A half-written comment kept on the server across a login round trip or a failed post."""

    __tablename__ = "comment_drafts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class DeletionRequest(db.Model):  # type: ignore[name-defined]
    """A Facebook data-deletion callback, with the code its status page answers to."""

    __tablename__ = "deletion_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    confirmation_code: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(40))
    subject_hash: Mapped[str] = mapped_column(String(64))
    users_deleted: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
