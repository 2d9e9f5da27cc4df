"""Likes of posts and comments: one per reader, undone by liking again.

Only logged-in readers like, so nothing a stranger sends adds a row; a banned reader cannot.
Each write is an ORM row, so the post's pages go stale through Like.cache_tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from blog.comments.service import ban_message
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Comment, CommentStatus, Like, Post, User
from blog.models.reactions import POST_ITSELF
from blog.reader.posts import live_article


class LikeRefused(Exception):
    """A like that cannot be given, with what to tell the reader and the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class LikeTarget:
    """What a like is of: a post (comment_id None) or one of its comments, and where it shows."""

    post_id: int
    comment_id: int | None
    path: str

    @property
    def key(self) -> int:
        """The comment_key of its likes."""
        return self.comment_id if self.comment_id is not None else POST_ITSELF

    @property
    def anchor(self) -> str:
        """Where on the post page it is."""
        return f"#comment-{self.comment_id}" if self.comment_id is not None else "#likes"


@dataclass(frozen=True)
class LikeState:
    """Whether the reader likes it now, and how many readers do."""

    liked: bool
    count: int


def post_target(post_id: int, now: datetime) -> LikeTarget:
    """A live post as a thing to like, or LikeRefused 404."""
    post = live_article(post_id, now)
    if post is None:
        raise LikeRefused("That post does not exist (any more).", 404)
    return LikeTarget(post.id, None, post.path)


def comment_target(comment_id: int, now: datetime) -> LikeTarget:
    """A shown comment of a live post as a thing to like (or report), or LikeRefused 404."""
    comment = db.session.get(Comment, comment_id)
    post = live_article(comment.post_id, now) if comment is not None else None
    if comment is None or post is None or comment.status is not CommentStatus.APPROVED:
        raise LikeRefused("That comment is not shown (any more).", 404)
    return LikeTarget(post.id, comment.id, post.path)


def toggle_like(user: User, target: LikeTarget, now: datetime) -> LikeState:
    """Like it, or undo the reader's like of it; the state afterwards."""
    if user.banned_at(now):
        raise LikeRefused(ban_message(user).replace("commenting", "liking"), 403)
    mine = (Like.user_id == user.id, Like.post_id == target.post_id)
    try:
        with write_transaction():
            found = db.session.scalar(select(Like).where(*mine, Like.comment_key == target.key))
            if found is not None:
                db.session.delete(found)
            else:
                db.session.add(
                    Like(
                        post_id=target.post_id,
                        comment_id=target.comment_id,
                        comment_key=target.key,
                        user_id=user.id,
                        created_at=now,
                    )
                )
            db.session.flush()
            liked = found is None
            count = _count(target)
    except IntegrityError:
        # A second click raced the first (PostgreSQL): the first one's like stands.
        return LikeState(True, _count(target))
    return LikeState(liked, count)


def _count(target: LikeTarget) -> int:
    where = (Like.post_id == target.post_id, Like.comment_key == target.key)
    return db.session.scalar(select(func.count()).where(*where)) or 0


def viewer_likes(post_id: int, user_id: int) -> frozenset[int]:
    """The comment_keys the reader likes on this post (0: the post itself), in one query."""
    keys = select(Like.comment_key).where(Like.post_id == post_id, Like.user_id == user_id)
    return frozenset(db.session.scalars(keys))


@dataclass(frozen=True)
class RecentLike:
    """A like as the author's dashboard lists it."""

    user_id: int
    name: str
    post_title: str
    post_path: str
    comment_id: int | None
    created_at: datetime


def like_total() -> int:
    """Every like on the blog."""
    return db.session.scalar(select(func.count()).select_from(Like)) or 0


def recent_likes(limit: int = 20) -> list[RecentLike]:
    """The latest likes, newest first, with who gave them and on what."""
    rows = db.session.execute(
        select(Like, User.display_name, Post)
        .join(User, User.id == Like.user_id)
        .join(Post, Post.id == Like.post_id)
        .order_by(Like.created_at.desc(), Like.id.desc())
        .limit(limit)
    ).all()
    return [
        RecentLike(like.user_id, name, post.title, post.path, like.comment_id, like.created_at)
        for like, name, post in rows
    ]
