"""Reading comments: the thread a post page shows, and comment counts for listings."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, exists, false, func, select

from blog.comments.paging import CommentOrder, CommentPage, page_roots, params, root_visible
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
    paragraph_id: str | None
    paragraph_quote: str | None
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
            Comment.paragraph_id,
            Comment.paragraph_quote,
            edit_held,
        )
        .outerjoin(Avatar, Avatar.user_id == Comment.user_id)
        .order_by(Comment.created_at, Comment.id)
    )


_VIEWER: BindParameter[int] = bindparam("viewer_id")
# The reader's own comments with an edit awaiting approval.
_EDIT_HELD = (Comment.user_id == _VIEWER) & exists().where(
    CommentEdit.comment_id == Comment.id
).correlate(Comment)
# Built once: a statement made per request costs more than the query it runs.
_PUBLIC_THREAD = _shown(false()).where(Comment.post_id == bindparam("post_id"), root_visible(False))
_VIEWER_THREAD = _shown(_EDIT_HELD).where(
    Comment.post_id == bindparam("post_id"), root_visible(True)
)
# A moderator sees every held comment in place, as WordPress shows them, to act on it there.
_MODERATOR_THREAD = _shown(_EDIT_HELD).where(
    Comment.post_id == bindparam("post_id"), root_visible(True, moderator=True)
)


@functools.cache
def _page_statement(order: CommentOrder, viewer: bool, moderator: bool) -> Select[*tuple[Any, ...]]:
    # The page's top-level comments, then their replies down the parent index: the cost
    # follows the page, not the thread.
    roots = page_roots(order, viewer, moderator).cte("page_roots")
    tree = select(roots.c.id).cte("page_tree", recursive=True)
    tree = tree.union_all(
        select(Comment.id).where(Comment.parent_id == tree.c.id, root_visible(viewer, moderator))
    )
    return _shown(_EDIT_HELD if viewer else false()).join(tree, tree.c.id == Comment.id)


def thread(
    post: CommentTarget,
    viewer_id: int | None = None,
    page: CommentPage | None = None,
    moderator: bool = False,
) -> list[ThreadNode]:
    """The visible comment tree (one page of it when paged): approved comments, the viewer's
    own held ones (a moderator's: every held one), and deleted ones only where they have
    visible replies."""
    # On the connection: plain rows, without the ORM's per-row loading machinery.
    connection = db.session.connection()
    if page is not None and page.paged:
        viewer = viewer_id is not None
        statement = _page_statement(page.order, viewer, moderator and viewer)
        values = params(post.id, viewer_id, limit=page.per_page, offset=page.offset)
        rows = connection.execute(statement, values).all()
    elif viewer_id is None:
        rows = connection.execute(_PUBLIC_THREAD, {"post_id": post.id}).all()
    elif moderator:
        values = {"post_id": post.id, "viewer_id": viewer_id}
        rows = connection.execute(_MODERATOR_THREAD, values).all()
    else:
        values = {"post_id": post.id, "viewer_id": viewer_id}
        rows = connection.execute(_VIEWER_THREAD, values).all()
    # SQLite answers the held-edit flag with 0 or 1.
    nodes = {row[0]: ThreadNode(ShownComment._make((*row[:-1], bool(row[-1])))) for row in rows}
    roots: list[ThreadNode] = []
    for node in nodes.values():
        parent = nodes.get(node.comment.parent_id) if node.comment.parent_id else None
        if node.comment.parent_id is not None and parent is None:
            continue  # replies under a hidden parent stay hidden
        (parent.replies if parent else roots).append(node)
    if page is not None and page.order is CommentOrder.NEWEST:
        roots.reverse()  # the replies under each stay oldest first, as a conversation reads
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
