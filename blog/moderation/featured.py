"""Featured comments: the author pins a shown comment above its post's thread, or unpins it."""

from __future__ import annotations

from datetime import datetime

from blog.database import write_transaction
from blog.extensions import db
from blog.models import Comment, CommentStatus, FeaturedComment
from blog.moderation.service import ModerationError


def feature(comment_id: int, now: datetime) -> Comment:
    """Pin an approved comment (again: no change); ModerationError when it is not shown."""
    with write_transaction():
        comment = db.session.get(Comment, comment_id)
        if comment is None or comment.status is CommentStatus.DELETED:
            raise ModerationError("That comment does not exist (any more).", 404)
        if comment.status is not CommentStatus.APPROVED:
            raise ModerationError("Only a shown (approved) comment can be featured.", 409)
        if db.session.get(FeaturedComment, comment.id) is None:
            db.session.add(
                FeaturedComment(comment_id=comment.id, post_id=comment.post_id, featured_at=now)
            )
    return comment


def unfeature(comment_id: int) -> Comment:
    """Unpin a comment (not featured: no change); ModerationError 404 when there is none."""
    with write_transaction():
        comment = db.session.get(Comment, comment_id)
        if comment is None:
            raise ModerationError("That comment does not exist (any more).", 404)
        pinned = db.session.get(FeaturedComment, comment.id)
        if pinned is not None:
            db.session.delete(pinned)
    return comment
