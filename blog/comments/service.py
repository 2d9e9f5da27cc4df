"""Every rule about comments lives here: who may post where, editing, deleting, threads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from blog.content.comment_markup import render_comment
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Comment, CommentStatus, Post, PostLayout, PostStatus, User


class CommentRejected(Exception):
    """A comment that cannot be accepted, with what to tell the reader and the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class CommentRules:
    """The configurable limits."""

    max_chars: int = 5000
    max_depth: int = 5
    edit_minutes: int = 15


@dataclass
class ThreadNode:
    """A comment with its visible replies."""

    comment: Comment
    replies: list[ThreadNode] = field(default_factory=list)


def commentable_post(post_id: int | None, now: datetime) -> Post:
    """The live post a comment may attach to, or CommentRejected."""
    post = db.session.get(Post, post_id) if post_id else None
    if (
        post is None
        or post.status is not PostStatus.PUBLISHED
        or post.published_at > now
        or post.layout is not PostLayout.POST
    ):
        raise CommentRejected("That post does not exist (any more).", 404)
    if not post.comments_open:
        raise CommentRejected("Comments are closed on this post.", 403)
    return post


def _clean_body(body: str, rules: CommentRules) -> str:
    text = body.replace("\r\n", "\n").strip()
    if not text:
        raise CommentRejected("Your comment is empty: write something first.")
    if len(text) > rules.max_chars:
        raise CommentRejected(
            f"Your comment is {len(text):,} characters long; the limit is {rules.max_chars:,}. "
            "Please shorten it."
        )
    return text


def _parent(post: Post, parent_id: int | None, rules: CommentRules) -> Comment | None:
    if parent_id is None:
        return None
    parent = db.session.get(Comment, parent_id)
    if parent is None or parent.post_id != post.id:
        raise CommentRejected("The comment you are replying to is not on this post.", 400)
    if parent.status is not CommentStatus.APPROVED:
        raise CommentRejected("The comment you are replying to is not available.", 400)
    if parent.depth + 1 >= rules.max_depth:
        raise CommentRejected("This thread is as deep as it goes; reply further up.", 400)
    return parent


def create_comment(
    user: User,
    provider: str | None,
    post_id: int | None,
    parent_id: int | None,
    body: str,
    now: datetime,
    rules: CommentRules,
) -> Comment:
    """Check every rule and store the comment, or raise CommentRejected."""
    with write_transaction():
        post = commentable_post(post_id, now)
        text = _clean_body(body, rules)
        parent = _parent(post, parent_id, rules)
        comment = Comment(
            post_id=post.id,
            parent_id=parent.id if parent else None,
            user_id=user.id,
            provider=provider,
            author_name=user.display_name,
            body=text,
            body_html=render_comment(text),
            status=CommentStatus.APPROVED,
            depth=parent.depth + 1 if parent else 0,
            created_at=now,
        )
        db.session.add(comment)
    return comment


def owned_comment(comment_id: int, user: User) -> Comment:
    """The user's own comment, or CommentRejected (404 for anyone else's)."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.user_id != user.id or comment.status is CommentStatus.DELETED:
        raise CommentRejected("That comment is not yours to change.", 404)
    return comment


def can_edit(comment: Comment, now: datetime, rules: CommentRules) -> bool:
    """Authors may edit within the edit window."""
    return comment.status is not CommentStatus.DELETED and now - comment.created_at <= timedelta(
        minutes=rules.edit_minutes
    )


def edit_comment(
    comment_id: int, user: User, body: str, now: datetime, rules: CommentRules
) -> Comment:
    """Replace the text of the user's own comment within the edit window."""
    with write_transaction():
        comment = owned_comment(comment_id, user)
        if not can_edit(comment, now, rules):
            raise CommentRejected(
                f"Comments can be edited for {rules.edit_minutes} minutes after posting.", 403
            )
        text = _clean_body(body, rules)
        comment.body = text
        comment.body_html = render_comment(text)
        comment.edited_at = now
    return comment


def delete_comment(comment_id: int, user: User, now: datetime) -> Comment:
    """Remove the user's own comment; one with replies stays as a placeholder."""
    with write_transaction():
        comment = owned_comment(comment_id, user)
        comment.status = CommentStatus.DELETED
        comment.body = ""
        comment.body_html = ""
        comment.deleted_at = now
    return comment


def thread(post: Post, max_depth: int) -> list[ThreadNode]:
    """The visible comment tree of a post, oldest first; deleted comments only where replied to."""
    comments = db.session.scalars(
        select(Comment)
        .where(
            Comment.post_id == post.id,
            Comment.status.in_([CommentStatus.APPROVED, CommentStatus.DELETED]),
        )
        .order_by(Comment.created_at, Comment.id)
    ).all()
    nodes = {c.id: ThreadNode(c) for c in comments}
    roots: list[ThreadNode] = []
    for node in nodes.values():
        parent = nodes.get(node.comment.parent_id) if node.comment.parent_id else None
        if node.comment.parent_id is not None and parent is None:
            continue  # replies under a hidden parent stay hidden
        (parent.replies if parent else roots).append(node)
    return _prune(roots)


def _prune(nodes: list[ThreadNode]) -> list[ThreadNode]:
    kept = []
    for node in nodes:
        node.replies = _prune(node.replies)
        if node.comment.status is not CommentStatus.DELETED or node.replies:
            kept.append(node)
    return kept


def count_visible(nodes: list[ThreadNode]) -> int:
    """Number of shown comments in a tree, placeholders excluded."""
    return sum(
        (n.comment.status is CommentStatus.APPROVED) + count_visible(n.replies) for n in nodes
    )


def comment_counts(post_ids: list[int]) -> dict[int, int]:
    """Approved comments per post, for listings."""
    if not post_ids:
        return {}
    rows = db.session.execute(
        select(Comment.post_id, func.count())
        .where(Comment.post_id.in_(post_ids), Comment.status == CommentStatus.APPROVED)
        .group_by(Comment.post_id)
    ).all()
    return {post_id: count for post_id, count in rows}
