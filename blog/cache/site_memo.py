"""Site-wide reads that nearly every page makes, kept in this process until the content changes.

The categories with their counts, the standalone pages and the totals behind pagination change
only when a sync changes a post, or when a scheduled post goes live. So each process keeps
them in memory with two checks: the version of the `site` tag (blog/cache/versions.py:
every commit that writes a post moves it on, and every process sharing the versions sees it at
its next request, a stat without Redis) and the time the next scheduled post goes live. A
page view then makes no query for them at all.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from flask import current_app, g
from sqlalchemy import func, select

from blog.cache.tracking import SITE
from blog.extensions import db
from blog.models import Post, PostStatus

T = TypeVar("T")
EXTENSION = "blog.cache.site_memo"
# Enough for every archive month and term of a large blog; past it the memo starts afresh.
MAX_ENTRIES = 4096


@dataclass
class _Memo:
    generation: tuple[int, ...] = (-1,)
    # The next scheduled post's time: from then on the live set differs. None: none is due.
    expires_at: datetime | None = None
    values: dict[Hashable, Any] = field(default_factory=dict)


def content_generation() -> tuple[int, ...]:
    """The version of the `site` tag, read once per request (a stat, or one Redis GET).

    Every commit that writes a post, term or alias moves it on, in every process that shares
    the tag versions: the workers of one machine, or every machine through Redis.
    """
    if "content_generation" not in g:
        from blog.cache import tag_versions

        versions = tag_versions()
        g.content_generation = versions.current((SITE,)) if versions is not None else (0,)
    found: tuple[int, ...] = g.content_generation
    return found


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


def stamp(now: datetime) -> tuple[tuple[int, ...], datetime | None]:
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
