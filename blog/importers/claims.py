"""Imported comments become their writer's when they log in with the same email, verified.

Only a provider's verified email counts (Google's `email_verified`, and the like): an address
someone merely typed could be anyone's. A comment that would duplicate one the user already
has on the same post and parent stays unclaimed rather than break the thread's uniqueness.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_login import user_logged_in
from sqlalchemy import func, select

from blog.database import write_transaction
from blog.extensions import db
from blog.models import Comment, ImportedComment, User


def verified_addresses(user: User) -> set[str]:
    """The user's addresses that a provider stated are verified, lower-cased."""
    found = {user.email} if user.email and user.email_verified else set()
    found |= {i.email for i in user.identities if i.email and i.email_verified}
    return {address.lower() for address in found}


def claim_comments(user: User) -> int:
    """Give the user the unclaimed imported comments written with a verified address of
    theirs, in a write transaction of its own; how many."""
    addresses = verified_addresses(user)
    if not addresses:
        return 0
    with write_transaction():
        rows = db.session.scalars(
            select(Comment)
            .join(ImportedComment, ImportedComment.comment_id == Comment.id)
            .where(
                func.lower(ImportedComment.author_email).in_(addresses),
                Comment.user_id.is_(None),
            )
            .order_by(Comment.id)
        ).all()
        if not rows:
            return 0
        taken = {
            (post_id, parent_key, digest)
            for post_id, parent_key, digest in db.session.execute(
                select(Comment.post_id, Comment.parent_key, Comment.body_hash).where(
                    Comment.user_id == user.id
                )
            )
        }
        claimed = 0
        for comment in rows:
            key = (comment.post_id, comment.parent_key, comment.body_hash)
            if key in taken:
                continue
            taken.add(key)
            comment.user_id = user.id
            comment.author_name = user.display_name
            comment.author_url = None  # their profile speaks for them now
            claimed += 1
    return claimed


def _on_login(sender: Any, user: User, **_extra: Any) -> None:
    claim_comments(user)


def init_claims(app: Flask) -> None:
    """Claim imported comments at every login to this app (the linking of a provider too)."""
    user_logged_in.connect(_on_login, app)
