"""Long threads in pages, as WordPress pages them: top-level comments, each with its replies.

A page is `<permalink>comment-page-N/`; page 1 is the permalink itself. Which top-level
comments come first (oldest or newest) is a setting a reader can switch with a link. The
queries here seek an index by post and parent (ix_comments_post_root), so a page costs the
same however long the thread. Counting pages walks the post-and-status index but never the
table, and a reader's count is kept until the post's comments change.

Lower than the mail in the layers: a notification links to the page its comment is on.
"""

from __future__ import annotations

import enum
import functools
import operator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Row,
    Select,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    tuple_,
)

from blog.cache.memo import kept
from blog.extensions import db
from blog.models import Comment, CommentStatus
from blog.models.base import SITE, post_tag

# The query argument that switches the order (a link, so every order has its own URL).
ORDER_ARG = "comment_order"
# WordPress's path of a page after the first, under the post's permalink.
PAGE_PATH = "comment-page-{number}/"


class CommentOrder(enum.Enum):
    """Which top-level comments a thread shows first."""

    OLDEST = "oldest"
    NEWEST = "newest"


@dataclass(frozen=True)
class CommentPage:
    """One page of a thread: its number, the order, and how many top-level comments a page has."""

    number: int
    order: CommentOrder
    per_page: int  # 0: the whole thread on one page

    @property
    def paged(self) -> bool:
        """True when the thread is split into pages at all."""
        return self.per_page > 0

    @property
    def offset(self) -> int:
        """How many top-level comments earlier pages show."""
        return (self.number - 1) * self.per_page if self.paged else 0


def default_order() -> CommentOrder:
    """The order set for the blog (BLOG_COMMENTS_ORDER)."""
    return CommentOrder(current_app.config["COMMENTS_ORDER"])


def per_page() -> int:
    """Top-level comments per page; 0 when the thread is not paged."""
    return max(0, int(current_app.config["COMMENTS_PER_PAGE"]))


def asked_order(value: str | None) -> CommentOrder:
    """The order a reader's link asks for; the blog's own for anything else."""
    for order in CommentOrder:
        if value == order.value:
            return order
    return default_order()


def first_page(order: CommentOrder | None = None) -> CommentPage:
    """Page 1 in the given order (the blog's own by default)."""
    return CommentPage(1, order or default_order(), per_page())


def _status_in(*statuses: CommentStatus) -> ColumnElement[bool]:
    """A status test with its values written into the SQL: a PostgreSQL plan made for unknown
    statuses (a prepared statement's generic plan) walks the time index instead."""
    # The members' values are plain words of our own: nothing to quote. A literal rendered at
    # execution (literal_execute) would cost a third of the count again in Python.
    return Comment.status.in_([literal_column(f"'{status.value}'") for status in statuses])


_SHOWN_STATUSES = (CommentStatus.APPROVED, CommentStatus.DELETED)
_SHOWN = _status_in(*_SHOWN_STATUSES)
_HELD = _status_in(CommentStatus.PENDING)
# The reader's own held comments (`viewer_id` bound): shown to them alone.
_OWN_HELD = _HELD & (Comment.user_id == bindparam("viewer_id"))


def root_visible(viewer: bool, moderator: bool = False) -> ColumnElement[bool]:
    """Which comments count for a reader: shown ones, and (with `viewer_id`) their held ones;
    a moderator sees every held one, to act on it in place."""
    shown = _SHOWN
    if moderator:
        return or_(shown, _HELD)
    if not viewer:
        return shown
    return or_(shown, _OWN_HELD)


def _roots(viewer: bool, moderator: bool = False) -> Select[Any]:
    return select(Comment.id).where(
        Comment.post_id == bindparam("post_id"),
        Comment.parent_id.is_(None),
        root_visible(viewer, moderator),
    )


@functools.cache
def page_roots(order: CommentOrder, viewer: bool, moderator: bool = False) -> Select[Any]:
    """The ids of the top-level comments on a page, first to last (`limit`, `offset` bound)."""
    query = _roots(viewer, moderator)
    if order is CommentOrder.NEWEST:
        query = query.order_by(Comment.created_at.desc(), Comment.id.desc())
    else:
        query = query.order_by(Comment.created_at, Comment.id)
    return query.limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer))


def params(post_id: int, viewer_id: int | None, **more: Any) -> dict[str, Any]:
    """The bound values of this module's statements."""
    found: dict[str, Any] = {"post_id": post_id, **more}
    if viewer_id is not None:
        found["viewer_id"] = viewer_id
    return found


def _root_count(visible: ColumnElement[bool], *where: ColumnElement[bool]) -> Any:
    """How many top-level comments of the post (`post_id` bound) match: a scalar subquery."""
    found = select(func.count()).where(
        Comment.post_id == bindparam("post_id"), Comment.parent_id.is_(None), visible, *where
    )
    return found.scalar_subquery()


def _counted(viewer: bool, *where: ColumnElement[bool]) -> Select[Any]:
    """How many top-level comments a reader sees, as a sum of index ranges: one per shown
    status, and the reader's own held ones.

    Each range is all equalities on the post-and-status index. An OR of them, or one IN list
    of the shown statuses, let PostgreSQL walk the post's time index through everyone's held
    comments while its statistics were missing or new (a fast-growing table).
    """
    ranges = [_status_in(status) for status in _SHOWN_STATUSES]
    if viewer:
        ranges.append(_OWN_HELD)
    return select(functools.reduce(operator.add, (_root_count(r, *where) for r in ranges)))


_COUNTS = {viewer: _counted(viewer) for viewer in (False, True)}


def root_count(post_id: int, viewer_id: int | None) -> int:
    """How many top-level comments the reader's pages share out."""
    counted = _COUNTS[viewer_id is not None]
    return int(db.session.execute(counted, params(post_id, viewer_id)).scalar_one())


def page_count(post_id: int, viewer_id: int | None) -> int:
    """How many pages the thread has for this reader (at least one).

    Kept per reader (their held comments count for them) until the post's comments change.
    """
    size = per_page()
    if size == 0:
        return 1
    key = ("comment-pages", post_id, size, viewer_id)
    return kept(
        key, (SITE, post_tag(post_id)), lambda: max(1, -(-root_count(post_id, viewer_id) // size))
    )


def page_path(post_path: str, number: int, order: CommentOrder | None = None) -> str:
    """The URL path of a page of the thread; the order rides along unless it is the blog's."""
    path = post_path if number <= 1 else post_path + PAGE_PATH.format(number=number)
    if order is not None and order is not default_order():
        path += f"?{ORDER_ARG}={order.value}"
    return path


def post_of(comment_id: int) -> int | None:
    """The post a comment is on; None when there is no such comment."""
    found = db.session.execute(select(Comment.post_id).where(Comment.id == comment_id)).first()
    return None if found is None else int(found.post_id)


_LINK = select(Comment.id, Comment.parent_id, Comment.post_id, Comment.created_at).where(
    Comment.id == bindparam("id")
)


def _root_of(comment_id: int) -> Row[int, int | None, int, datetime] | None:
    """The top-level comment a comment hangs under (its id, post and time), or None."""
    # Up the parent links: a thread is at most a few levels deep (BLOG_COMMENT_MAX_DEPTH), and
    # a loop (never written, but cheap to refuse) stops at the depth limit.
    current = comment_id
    for _level in range(64):
        row = db.session.execute(_LINK, {"id": current}).first()
        if row is None or row.parent_id is None:
            return row
        current = row.parent_id
    return None


@functools.cache
def _earlier_roots(order: CommentOrder, viewer: bool) -> Select[Any]:
    """How many top-level comments come before a given one (`created_at`, `root_id` bound)."""
    key = tuple_(Comment.created_at, Comment.id)
    here = tuple_(bindparam("created_at"), bindparam("root_id"))
    return _counted(viewer, key > here if order is CommentOrder.NEWEST else key < here)


def page_of(
    comment_id: int, viewer_id: int | None = None, order: CommentOrder | None = None
) -> int:
    """The page of the thread that shows a comment (1 when it is on none): the page of the
    top-level comment it hangs under."""
    root = _root_of(comment_id) if per_page() else None
    if root is None:
        return 1
    counted = _earlier_roots(order or default_order(), viewer_id is not None)
    values = params(root.post_id, viewer_id, created_at=root.created_at, root_id=root.id)
    return page_after(int(db.session.execute(counted, values).scalar_one()))


def page_after(earlier: int) -> int:
    """The page that shows a top-level comment with `earlier` ones before it."""
    size = per_page()
    return earlier // size + 1 if size else 1


@functools.cache
def roots_before_new(order: CommentOrder) -> ColumnElement[int]:
    """How many top-level comments come before one that the reader (`viewer_id`) writes now
    (`now` bound): every one they see, oldest first; none, newest first. A column, so that
    the comment service asks it with the writer's history, in the same trip."""
    if order is CommentOrder.NEWEST:
        return literal_column("0", Integer)
    now: BindParameter[datetime] = bindparam("now")
    # Shown ones: all, less any dated after now (a clock set back, an import), so that each
    # count reads only what it counts; one count "up to now" let either database walk the
    # post's time index through everyone's held comments. Their own held ones: up to now,
    # one range of their own.
    later = _counted(False, Comment.created_at > now).scalar_subquery()
    shown = _COUNTS[False].scalar_subquery() - later
    return shown + _root_count(_OWN_HELD, Comment.created_at <= now)


def anchored_path(
    post_path: str, comment_id: int, number: int, order: CommentOrder | None = None
) -> str:
    """The link to a comment on a known page of the thread."""
    return f"{page_path(post_path, number, order)}#comment-{comment_id}"


def comment_path(
    post_path: str,
    comment_id: int,
    viewer_id: int | None = None,
    order: CommentOrder | None = None,
) -> str:
    """The link to a comment: the page of the thread it is on, and its anchor."""
    return anchored_path(post_path, comment_id, page_of(comment_id, viewer_id, order), order)
