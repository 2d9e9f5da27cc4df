"""What the reader tells the cache about the posts its pages show (blog/cache imports no
domain module: create_app hands it these hooks)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_request_context
from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session

from blog.cache.tracking import ContentHooks, record_post_shown
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


def posts_in_session(session: Session) -> set[int]:
    """Ids of the posts still in the session's identity map (loaded before the page, too)."""
    return {
        key[1][0]
        for key in list(session.identity_map.keys())
        if key[0] is Post and key[1] and key[1][0] is not None
    }


def _record(post: Post) -> None:
    if has_request_context():
        # Only the key: reading other attributes inside a load event could emit SQL.
        identity: tuple[Any, ...] | None = inspect(post).identity
        if identity:
            record_post_shown(int(identity[0]))


def _on_load(post: Post, _context: Any) -> None:
    _record(post)


def _on_refresh(post: Post, _context: Any, _attrs: Iterable[str] | None) -> None:
    _record(post)


def content_hooks() -> ContentHooks:
    """The hooks the cache asks about posts; from now on every Post loaded is recorded."""
    if not event.contains(Post, "load", _on_load):  # once per process, however many apps
        event.listen(Post, "load", _on_load)
        event.listen(Post, "refresh", _on_refresh)
    return ContentHooks(changes_at=changes_at, posts_in_session=posts_in_session)
