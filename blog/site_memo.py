"""Site-wide reads that nearly every page makes, kept in this process until the content changes.

The categories with their counts, the standalone pages and the totals behind pagination change
only when a sync changes a post, or when a scheduled post goes live. So each process keeps
them in memory with two checks: the content generation (one row that every changing sync moves
on in the same transaction, read once per request, so a sync on any machine is seen by every
process at its next request) and the time the next scheduled post goes live. One primary-key
read then replaces a GROUP BY over every post on each page view.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app, g
from sqlalchemy import func, select, update

from blog.extensions import db
from blog.models import ContentGeneration, Post, PostStatus

T = TypeVar("T")
EXTENSION = "blog.site_memo"
GENERATION_ROW = 1
# Enough for every archive month and term of a large blog; past it the memo starts afresh.
MAX_ENTRIES = 4096


@dataclass
class _Memo:
    generation: int = -1
    # The next scheduled post's time: from then on the live set differs. None: none is due.
    expires_at: datetime | None = None
    values: dict[Hashable, Any] = field(default_factory=dict)


# Built once: nearly every page reads it, and building a statement costs more than running it.
_GENERATION = select(ContentGeneration.value).where(ContentGeneration.id == GENERATION_ROW)


def content_generation() -> int:
    """The current content generation, read once per request."""
    if "content_generation" not in g:
        value = db.session.scalar(_GENERATION)
        g.content_generation = int(value or 0)
    return int(g.content_generation)


def bump_content_generation() -> None:
    """Move the generation on; call inside the write transaction that changes posts."""
    moved = db.session.execute(
        update(ContentGeneration)
        .where(ContentGeneration.id == GENERATION_ROW)
        .values(value=ContentGeneration.value + 1)
        .execution_options(synchronize_session=False)
    )
    if not getattr(moved, "rowcount", 0):
        db.session.add(ContentGeneration(id=GENERATION_ROW, value=1))
    g.pop("content_generation", None)


def _next_scheduled(now: datetime) -> datetime | None:
    return db.session.scalar(
        select(func.min(Post.published_at)).where(
            Post.status == PostStatus.PUBLISHED, Post.published_at > now
        )
    )


def memoised(key: Hashable, now: datetime, build: Callable[[], T]) -> T:
    """The value for `key` as of the current content, building it when stale or missing.

    `build` must return plain data (no ORM objects): the value outlives the request's session.
    """
    memo = _fresh_memo(now)
    if len(memo.values) >= MAX_ENTRIES:
        memo.values.clear()
    if key not in memo.values:
        memo.values[key] = build()
    return memo.values[key]


def stamp(now: datetime) -> tuple[int, datetime | None]:
    """What the live content is as of `now`: equal stamps mean the same posts, as published."""
    memo = _fresh_memo(now)
    return memo.generation, memo.expires_at


def _fresh_memo(now: datetime) -> _Memo:
    memo: _Memo = current_app.extensions.setdefault(EXTENSION, _Memo())
    generation = content_generation()
    if memo.generation != generation or (memo.expires_at is not None and now >= memo.expires_at):
        memo.values.clear()
        memo.generation = generation
        memo.expires_at = _next_scheduled(now)
    return memo
