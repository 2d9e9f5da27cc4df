"""Imported comments into the database: threaded, with their statuses, found again by source id.

The text goes through the sanitiser new comments go through (Markdown, then nh3). The writer
has no login here: their name and website are shown, their email is kept apart and never shown,
so that they can claim their comments by logging in with that email verified.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, tuple_

from blog.comments.rules import body_hash
from blog.content.comment_markup import normalise_text, render_comment
from blog.extensions import db
from blog.models import Comment, CommentStatus, ImportedComment, Post

ANONYMOUS = "Anonymous"


@dataclass(frozen=True)
class IncomingComment:
    """One comment as a source gives it, already converted to Markdown."""

    source_id: str
    parent_source_id: str | None
    author_name: str
    author_email: str | None
    author_url: str | None
    body: str
    status: CommentStatus
    created_at: datetime

    def digest(self) -> str:
        """A hash of every field: a newer export that changed nothing changes nothing here."""
        parts = (
            self.parent_source_id or "",
            self.author_name,
            self.author_email or "",
            self.author_url or "",
            self.body,
            self.status.value,
            self.created_at.isoformat(),
        )
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def web_address(url: str) -> str | None:
    """A commenter's website when it is an http(s) URL that fits; else None (never linked)."""
    url = url.strip()
    if not url.lower().startswith(("http://", "https://")) or len(url) > 500:
        return None
    if any(c.isspace() or c in "<>\"'" for c in url):
        return None
    return url


def post_ids(uids: Iterable[str]) -> dict[str, int]:
    """Database ids of synced posts, by uid."""
    wanted = list(set(uids))
    if not wanted:
        return {}
    return dict(db.session.execute(select(Post.uid, Post.id).where(Post.uid.in_(wanted))).all())


@dataclass(frozen=True)
class _NewRow:
    """A comment to insert: its columns, and what its import record keeps."""

    source_id: str
    values: dict[str, Any]
    email: str | None
    digest: str


class CommentWriter:
    """Upserts the comments of one source, post by post, in the caller's transaction."""

    def __init__(self, source: str, dry_run: bool) -> None:
        self.source = source
        self.dry_run = dry_run

    def existing(self, source_ids: list[str]) -> dict[str, tuple[int, str, int]]:
        """source id -> (comment id, source hash, depth) of comments imported before."""
        if not source_ids:
            return {}
        rows = db.session.execute(
            select(
                ImportedComment.source_id, Comment.id, ImportedComment.source_hash, Comment.depth
            )
            .join(Comment, Comment.id == ImportedComment.comment_id)
            .where(
                tuple_(ImportedComment.source, ImportedComment.source_id).in_(
                    [(self.source, s) for s in source_ids]
                )
            )
        )
        return {sid: (cid, digest, depth) for sid, cid, digest, depth in rows}

    def write(self, post_id: int, comments: list[IncomingComment]) -> dict[str, int]:
        """Insert new comments, update changed ones, parents before replies: counts by outcome.

        Each round inserts, in one statement, the comments whose parents are in place: a
        thread takes as many statements as it is deep, not one per comment.
        """
        counts = {"added": 0, "updated": 0, "unchanged": 0, "orphaned": 0}
        # Parents imported in an earlier batch are found too (Disqus lists posts by time).
        parents = [c.parent_source_id for c in comments if c.parent_source_id]
        known = self.existing([c.source_id for c in comments] + parents)
        placed: dict[str, tuple[int, int]] = {sid: (v[0], v[2]) for sid, v in known.items()}
        pending = sorted(comments, key=lambda c: c.created_at)
        while pending:
            waiting: list[IncomingComment] = []
            new: list[_NewRow] = []
            unplaced = {c.source_id for c in pending}
            for comment in pending:
                parent = comment.parent_source_id
                if parent and parent not in placed and parent in unplaced:
                    waiting.append(comment)  # its parent is not in place yet
                    continue
                if parent and parent not in placed:
                    counts["orphaned"] += 1  # its parent is not in the export: top level
                    parent = None
                counts[self._one(post_id, comment, parent, placed, known, new)] += 1
            if len(waiting) == len(pending):  # a loop of parents: break it at the top
                for comment in waiting:
                    counts[self._one(post_id, comment, None, placed, known, new)] += 1
                waiting = []
            self._insert(new, placed)
            pending = waiting
        return counts

    def _insert(self, new: list[_NewRow], placed: dict[str, tuple[int, int]]) -> None:
        if not new:
            return
        if self.dry_run:
            placed.update({row.source_id: (0, row.values["depth"]) for row in new})
            return
        statement = insert(Comment.__table__).returning(
            Comment.__table__.c.id, sort_by_parameter_order=True
        )
        ids = db.session.execute(statement, [row.values for row in new]).scalars().all()
        db.session.execute(
            insert(ImportedComment.__table__),
            [
                {
                    "comment_id": comment_id,
                    "source": self.source,
                    "source_id": row.source_id,
                    "author_email": row.email,
                    "source_hash": row.digest,
                }
                for comment_id, row in zip(ids, new, strict=True)
            ],
        )
        placed.update(
            {row.source_id: (i, row.values["depth"]) for i, row in zip(ids, new, strict=True)}
        )

    def _one(
        self,
        post_id: int,
        comment: IncomingComment,
        parent: str | None,
        placed: dict[str, tuple[int, int]],
        known: dict[str, tuple[int, str, int]],
        new: list[_NewRow],
    ) -> str:
        parent_row = placed.get(parent) if parent else None
        depth = parent_row[1] + 1 if parent_row else 0
        digest = comment.digest()
        before = known.get(comment.source_id)
        # An empty hash: its writer deleted their account here; no import fills it again.
        if before is not None and before[1] in (digest, ""):
            return "unchanged"
        text = normalise_text(comment.body)
        values: dict[str, Any] = {
            "post_id": post_id,
            "parent_id": parent_row[0] if parent_row else None,
            "parent_key": parent_row[0] if parent_row else 0,
            "author_name": (comment.author_name.strip() or ANONYMOUS)[:200],
            "author_url": comment.author_url,
            "body": text,
            "body_html": render_comment(text),
            "body_hash": body_hash(text),
            "status": comment.status,
            "depth": depth,
            "created_at": comment.created_at,
            # A comment deleted there keeps its place for its replies, nothing of its writer.
            "deleted_at": comment.created_at if comment.status is CommentStatus.DELETED else None,
        }
        email = comment.author_email.strip().lower()[:320] if comment.author_email else None
        if comment.status is CommentStatus.DELETED:
            values.update(author_name="", author_url=None, body="", body_html="")
            email = None
        if before is None:
            new.append(_NewRow(comment.source_id, values, email, digest))
            return "added"
        if self.dry_run:
            return "updated"
        row = db.session.get(Comment, before[0])
        imported = db.session.get(ImportedComment, before[0])
        if row is None or imported is None:
            return "unchanged"
        if row.user_id is not None:
            values.pop("author_name")  # claimed: shown under its writer's own name now
        for name, value in values.items():
            setattr(row, name, value)
        imported.source_hash = digest
        if row.user_id is None:
            imported.author_email = email
        placed[comment.source_id] = (row.id, depth)
        return "updated"
