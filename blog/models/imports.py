"""What imports from WordPress and Disqus leave behind: old links, imported writers, files."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blog.extensions import db
from blog.models.base import NotShownOnPages, ShownOnPages
from blog.models.comments import Comment


class OldLink(ShownOnPages, db.Model):  # type: ignore[name-defined]
    """An address of the old site (`/?p=12`, `/?cat=3`, `/topics/news/`) that redirects here.

    A post's target is its uid, so the redirect follows the post when its permalink changes;
    anything else (a category, a tag, a feed) has a fixed target path.
    """

    __tablename__ = "old_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(500), unique=True)
    post_uid: Mapped[str | None] = mapped_column(String(100))
    target: Mapped[str | None] = mapped_column(String(500))


class ImportedComment(NotShownOnPages, db.Model):  # type: ignore[name-defined]
    """Where an imported comment came from, and its writer's email, which no page shows.

    The source id makes a second import of the same file find the comment instead of adding
    it again; the email lets the writer claim the comment when they log in with it verified.
    """

    __tablename__ = "imported_comments"
    __table_args__ = (
        UniqueConstraint("source", "source_id", name="uq_imported_comments_source_id"),
    )

    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    # `wordpress:<old host>` or `disqus:<forum>`: ids are unique only within one source.
    source: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(100))
    # Lower-cased; None once the writer claimed the comment or deleted their account.
    author_email: Mapped[str | None] = mapped_column(String(320), index=True)
    # Of the source's fields, so that a newer export changes only what changed there.
    source_hash: Mapped[str] = mapped_column(String(64))

    comment: Mapped[Comment] = relationship()


class ImportedFile(NotShownOnPages, db.Model):  # type: ignore[name-defined]
    """A post file an import wrote: found again by its source id, and left alone once edited."""

    __tablename__ = "imported_files"
    __table_args__ = (UniqueConstraint("source", "source_id", name="uq_imported_files_source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    source_id: Mapped[str] = mapped_column(String(100))
    file: Mapped[str] = mapped_column(String(300))
    # Of the text the import wrote: a file whose text differs was edited here since.
    written_hash: Mapped[str] = mapped_column(String(64))
