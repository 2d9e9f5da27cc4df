"""Posts synced from posts/, their categories, tags and old URLs."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blog.extensions import db
from blog.models.base import SITE, TABLE_TAGS, ShownOnPages, enum_column
from blog.models.types import UTCDateTime


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
    # Terms and their counts are in every page's sidebar.
    info={TABLE_TAGS: frozenset({SITE})},
)


class Term(ShownOnPages, db.Model):  # type: ignore[name-defined]
    """A category or a tag; categories may be hierarchical (`Recruiting/Interviews`)."""

    __tablename__ = "terms"
    __table_args__ = (UniqueConstraint("kind", "slug", name="uq_terms_kind_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TermKind] = mapped_column(enum_column(TermKind))
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200))


class Post(ShownOnPages, db.Model):  # type: ignore[name-defined]
    """One Markdown file from posts/, rendered at sync time."""

    __tablename__ = "posts"
    # Columns no page shows: a write that sets only these makes nothing stale.
    UNSHOWN_COLUMNS = frozenset({"announced_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    source_path: Mapped[str] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[PostStatus] = mapped_column(enum_column(PostStatus), index=True)
    layout: Mapped[PostLayout] = mapped_column(enum_column(PostLayout))
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
    # Set once when subscribers were told about the post (or when it predates mail).
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    terms: Mapped[list[Term]] = relationship(secondary=post_terms, lazy="selectin")
    aliases: Mapped[list[PostAlias]] = relationship(
        back_populates="post", cascade="all, delete-orphan", lazy="selectin"
    )

    def cache_tags(self, changed: set[str] | None) -> set[str]:
        """Every page lists posts or links to them: `site`, unless only unshown columns moved."""
        if changed is not None and changed <= self.UNSHOWN_COLUMNS:
            return set()
        return {SITE}

    @classmethod
    def bulk_cache_tags(
        cls, columns: set[str] | None, rows: Sequence[Mapping[str, Any]] | None
    ) -> set[str]:
        """`site`, unless the statement sets only unshown columns."""
        if columns and columns <= cls.UNSHOWN_COLUMNS:
            return set()
        return {SITE}

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


class PostAlias(ShownOnPages, db.Model):  # type: ignore[name-defined]
    """An old URL path that redirects to a post."""

    __tablename__ = "post_aliases"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(500), unique=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    post: Mapped[Post] = relationship(back_populates="aliases")
