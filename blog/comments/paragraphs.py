"""Comments on a paragraph: the markers' counts, the chosen paragraph's quote and comments.

A comment keeps the anchor and the words of its paragraph as they were when it was written,
so an edit of the post that removes the paragraph leaves the comment under the post with its
quote; only the link to the paragraph goes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from blog.cache.memo import kept
from blog.content.paragraphs import (
    ANCHOR,
    Paragraph,
    add_markers,
    anchor_paragraphs,
    find_paragraph,
    quote_of,
)
from blog.extensions import db
from blog.models import Comment, CommentStatus, Post
from blog.models.base import SITE, post_tag

# The query argument of a paragraph's marker: the comment form with that paragraph chosen.
PARAGRAPH_ARG = "paragraph"
# How many comments on one paragraph the comment box lists (links to each).
LISTED = 50


@dataclass(frozen=True)
class ChosenParagraph:
    """The paragraph a reader is commenting on, and the comments it already has."""

    id: str
    quote: str
    comments: tuple[tuple[int, str], ...]  # (comment id, writer's name), oldest first


_COUNTS = (
    select(Comment.paragraph_id, func.count())
    .where(
        Comment.post_id == bindparam("post_id"),
        Comment.paragraph_id.is_not(None),
        Comment.status == CommentStatus.APPROVED,
    )
    .group_by(Comment.paragraph_id)
)
_ON_PARAGRAPH = (
    select(Comment.id, Comment.author_name)
    .where(
        Comment.post_id == bindparam("post_id"),
        Comment.paragraph_id == bindparam("paragraph_id"),
        Comment.status == CommentStatus.APPROVED,
    )
    .order_by(Comment.created_at, Comment.id)
    .limit(LISTED)
)


def paragraph_counts(post_id: int) -> dict[str, int]:
    """Approved comments per paragraph anchor of a post."""
    rows = db.session.execute(_COUNTS, {"post_id": post_id}).all()
    return {str(anchor): int(count) for anchor, count in rows}


@dataclass(frozen=True)
class MarkedArticle:
    """A post's HTML with its paragraph markers, and its fingerprint."""

    html: bytes
    digest: str


def marked_article(post_id: int, anchored_html: str, link_root: Hashable) -> MarkedArticle:
    """The post's HTML with a marker on each paragraph; kept until a comment on it changes."""

    def render() -> MarkedArticle:
        counts = paragraph_counts(post_id)
        marked = add_markers(anchored_html, counts, lambda a: f"?{PARAGRAPH_ARG}={a}#respond")
        body = marked.encode()
        return MarkedArticle(body, hashlib.sha1(body, usedforsecurity=False).hexdigest())

    return kept(("marked-article", post_id, link_root), (SITE, post_tag(post_id)), render)


def _post_html(post_id: int) -> str:
    found = db.session.execute(select(Post.html).where(Post.id == post_id)).scalar_one_or_none()
    return found or ""


def current_anchors(post_id: int) -> frozenset[str]:
    """The anchors of the post's paragraphs as it reads now."""
    return frozenset(p.id for p in anchor_paragraphs(_post_html(post_id))[1])


def paragraph_of(post_id: int, anchor: str | None) -> Paragraph | None:
    """The paragraph with this anchor in the post as it reads now; None for anything else."""
    if not anchor or not ANCHOR.fullmatch(anchor):
        return None
    return find_paragraph(_post_html(post_id), anchor)


def chosen_paragraph(post_id: int, anchor: str | None) -> ChosenParagraph | None:
    """What the comment box shows for `?paragraph=ID`: its quote and its comments."""
    paragraph = paragraph_of(post_id, anchor)
    if paragraph is None:
        return None
    rows = db.session.execute(
        _ON_PARAGRAPH, {"post_id": post_id, "paragraph_id": paragraph.id}
    ).all()
    return ChosenParagraph(
        paragraph.id, quote_of(paragraph), tuple((int(i), str(n)) for i, n in rows)
    )
