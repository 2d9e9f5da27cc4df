"""The links around a paged thread: its pages, the previous and next one, and the order switch."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from blog.cache.memo import kept
from blog.comments.paging import CommentOrder, CommentPage, page_path
from blog.comments.threads import CommentTarget
from blog.extensions import db
from blog.models import Comment, CommentStatus
from blog.models.base import SITE, post_tag

# Pages listed on each side of the current one; the first and last are always listed.
AROUND = 2


@dataclass(frozen=True)
class PageLink:
    """One entry of the page list: a number and its URL, or a gap (no URL)."""

    label: str
    url: str | None
    current: bool = False


@dataclass(frozen=True)
class Pager:
    """Everything the thread's navigation prints."""

    number: int
    count: int
    order: CommentOrder
    links: tuple[PageLink, ...]
    previous_url: str | None
    next_url: str | None
    switch_url: str
    switch_label: str


def _numbers(number: int, count: int) -> list[int | None]:
    shown = {1, count, *range(number - AROUND, number + AROUND + 1)}
    found: list[int | None] = []
    for n in sorted(n for n in shown if 1 <= n <= count):
        if found and found[-1] is not None and n > found[-1] + 1:
            found.append(None)  # a gap: "…"
        found.append(n)
    return found


def thread_pager(post: CommentTarget, page: CommentPage, count: int) -> Pager | None:
    """The navigation of a paged thread; None when the thread is not paged."""
    if not page.paged:
        return None
    links = tuple(
        PageLink("…", None)
        if n is None
        else PageLink(str(n), page_path(post.path, n, page.order), n == page.number)
        for n in _numbers(page.number, count)
    )
    other = CommentOrder.OLDEST if page.order is CommentOrder.NEWEST else CommentOrder.NEWEST
    return Pager(
        number=page.number,
        count=count,
        order=page.order,
        links=links,
        previous_url=page_path(post.path, page.number - 1, page.order) if page.number > 1 else None,
        next_url=page_path(post.path, page.number + 1, page.order) if page.number < count else None,
        # The switch is a link with the order in its URL: each order is its own page to cache.
        switch_url=page_path(post.path, 1, other),
        switch_label="Newest first" if other is CommentOrder.NEWEST else "Oldest first",
    )


_APPROVED = select(func.count()).where(
    Comment.post_id == bindparam("post_id"), Comment.status == CommentStatus.APPROVED
)


def approved_count(post_id: int) -> int:
    """Approved comments on a post: the heading's count when a page shows only part of them."""

    def count() -> int:
        return int(db.session.execute(_APPROVED, {"post_id": post_id}).scalar_one())

    return kept(("approved-count", post_id), (SITE, post_tag(post_id)), count)
