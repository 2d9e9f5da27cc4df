"""What the reader tells the cache about the posts its pages show (blog/cache imports no
domain module: create_app hands it these hooks)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from blog.cache.tracking import ContentHooks
from blog.extensions import db
from blog.models import Post, PostLayout, PostStatus


def changes_at(now: datetime, post_ids: Collection[int]) -> datetime | None:
    """The first moment after `now` at which a page showing these posts changes by itself:
    the next scheduled post goes live, or one of their comment forms closes."""
    candidates = []
    next_live = db.session.scalar(
        select(func.min(Post.published_at)).where(
            Post.status == PostStatus.PUBLISHED, Post.published_at > now
        )
    )
    if next_live is not None:
        candidates.append(next_live)
    days = int(current_app.config["COMMENTS_CLOSE_AFTER_DAYS"])
    if days > 0 and post_ids:
        published = db.session.scalars(
            select(Post.published_at).where(
                Post.id.in_(post_ids),
                Post.layout == PostLayout.POST,
                Post.comments_open.is_(True),
            )
        )
        closing = (p + timedelta(days=days) for p in published)
        candidates.extend(c for c in closing if c > now)
    return min(candidates, default=None)


def content_hooks() -> ContentHooks:
    """The hooks the cache asks about posts."""
    return ContentHooks(changes_at=changes_at)
