"""Reading comments: the thread a post page shows, and comment counts for listings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, exists, false, func, select

from blog.extensions import db
from blog.models import Avatar, Comment, CommentEdit, CommentStatus


class CommentTarget(Protocol):
    """What the comment section reads of its post: an ORM Post or a rendered shell."""

    @property
    def id(self) -> int:
        """The post's id."""
        ...

    @property
    def path(self) -> str:
        """The post's permalink."""
        ...

    @property
    def comments_open(self) -> bool:
        """False when the front matter closed comments."""
        ...

    @property
    def published_at(self) -> datetime:
        """When the post went live."""
        ...


class ShownComment(NamedTuple):
    """What the thread shows of a comment: a row, hashable, so that it can key the rendering."""

    id: int
    parent_id: int | None
    user_id: int | None
    author_name: str
    author_url: str | None  # an imported writer's website
    body_html: str
    status: CommentStatus
    depth: int
    created_at: datetime
    edited_at: datetime | None
    avatar_digest: str | None
    edit_held: bool  # an edit waits for a moderator (asked only on the viewer's own comments)


@dataclass
class ThreadNode:
    """A comment with its visible replies."""

    comment: ShownComment
    replies: list[ThreadNode] = field(default_factory=list)


def _shown(edit_held: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    return (
        select(
            Comment.id,
            Comment.parent_id,
            Comment.user_id,
            Comment.author_name,
            Comment.author_url,
            Comment.body_html,
            Comment.status,
            Comment.depth,
            Comment.created_at,
            Comment.edited_at,
            Avatar.digest,
            edit_held,
        )
        .outerjoin(Avatar, Avatar.user_id == Comment.user_id)
        .order_by(Comment.created_at, Comment.id)
    )


_VIEWER: BindParameter[int] = bindparam("viewer_id")
# Built once: a statement made per request costs more than the query it runs.
_PUBLIC_THREAD = _shown(false()).where(
    Comment.post_id == bindparam("post_id"),
    Comment.status.in_([CommentStatus.APPROVED, CommentStatus.DELETED]),
)
_VIEWER_THREAD = _shown(
    (Comment.user_id == _VIEWER)
    & exists().where(CommentEdit.comment_id == Comment.id).correlate(Comment)
).where(
    Comment.post_id == bindparam("post_id"),
    Comment.status.in_([CommentStatus.APPROVED, CommentStatus.DELETED])
    | ((Comment.status == CommentStatus.PENDING) & (Comment.user_id == _VIEWER)),
)


def thread(post: CommentTarget, viewer_id: int | None = None) -> list[ThreadNode]:
    """The visible comment tree, oldest first: approved comments, the viewer's own held ones,
    and deleted ones only where they have visible replies."""
    # On the connection: plain rows, without the ORM's per-row loading machinery.
    connection = db.session.connection()
    if viewer_id is None:
        rows = connection.execute(_PUBLIC_THREAD, {"post_id": post.id}).all()
    else:
        params = {"post_id": post.id, "viewer_id": viewer_id}
        rows = connection.execute(_VIEWER_THREAD, params).all()
    # SQLite answers the held-edit flag with 0 or 1.
    nodes = {row[0]: ThreadNode(ShownComment._make((*row[:-1], bool(row[-1])))) for row in rows}
    roots: list[ThreadNode] = []
    for node in nodes.values():
        parent = nodes.get(node.comment.parent_id) if node.comment.parent_id else None
        if node.comment.parent_id is not None and parent is None:
            continue  # replies under a hidden parent stay hidden
        (parent.replies if parent else roots).append(node)
    return _prune(roots)


def has_comments(post_id: int, user_id: int) -> bool:
    """Whether the user wrote any comment on the post, whatever its status."""
    found = db.session.connection().execute(_ANY_BY_USER, {"post_id": post_id, "user_id": user_id})
    return found.first() is not None


_ANY_BY_USER = (
    select(Comment.id)
    .where(Comment.post_id == bindparam("post_id"), Comment.user_id == bindparam("user_id"))
    .limit(1)
)


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
