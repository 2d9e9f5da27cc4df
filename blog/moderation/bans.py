"""Banning commenters for a time or for good, optionally hiding their comments; unbanning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from blog.auth.roles import is_moderator
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Comment, CommentStatus, User
from blog.moderation.service import ModerationError
from blog.web.formdata import parse_int

MAX_BAN_DAYS = 3650
REASON_MAX_CHARS = 500
# What "hide all their comments" moves to the trash: whatever readers could see or may see.
HIDEABLE = (CommentStatus.APPROVED, CommentStatus.PENDING)


@dataclass(frozen=True)
class Ban:
    """The ban a moderator asked for: None days is for good."""

    days: int | None
    reason: str
    hide_comments: bool = False


def get_user(user_id: int) -> User:
    """A user a moderator can look at, or ModerationError 404."""
    user = db.session.get(User, user_id)
    if user is None:
        raise ModerationError("That user does not exist.", 404)
    return user


def parse_duration(value: str | None) -> int | None:
    """`permanent` -> None (for good), a number of days -> days; ModerationError otherwise."""
    value = (value or "").strip().lower()
    if value == "permanent":
        return None
    days = parse_int(value)
    if days is not None and 1 <= days <= MAX_BAN_DAYS:
        return days
    raise ModerationError(f"Choose a ban of 1 to {MAX_BAN_DAYS} days, or for good.")


def ban_user(user_id: int, ban: Ban, now: datetime) -> int:
    """Ban a commenter; returns how many of their comments were moved to the trash."""
    reason = " ".join(ban.reason.replace("\x00", "").split())[:REASON_MAX_CHARS]
    if ban.days is not None and not 1 <= ban.days <= MAX_BAN_DAYS:
        raise ModerationError(f"Choose a ban of 1 to {MAX_BAN_DAYS} days, or for good.")
    with write_transaction():
        user = get_user(user_id)
        if is_moderator(user):
            raise ModerationError("Moderators cannot be banned.", 409)
        user.ban_permanent = ban.days is None
        user.banned_until = None if ban.days is None else now + timedelta(days=ban.days)
        user.ban_reason = reason or None
        hidden = 0
        if ban.hide_comments:
            shown = db.session.scalars(
                select(Comment).where(Comment.user_id == user.id, Comment.status.in_(HIDEABLE))
            ).all()
            for comment in shown:
                comment.status = CommentStatus.TRASH
            hidden = len(shown)
    return hidden


def unban_user(user_id: int) -> User:
    """Lift a ban; comments hidden by it stay in the trash until restored one by one."""
    with write_transaction():
        user = get_user(user_id)
        user.ban_permanent = False
        user.banned_until = None
        user.ban_reason = None
    return user


def user_counts(user_id: int) -> dict[CommentStatus, int]:
    """A user's comments per status."""
    rows = db.session.execute(
        select(Comment.status, func.count())
        .where(Comment.user_id == user_id)
        .group_by(Comment.status)
    ).all()
    return {status: count for status, count in rows}


def banned_users(now: datetime) -> list[User]:
    """Users whose ban is in force, soonest to end first (permanent ones last)."""
    found = db.session.scalars(
        select(User).where((User.ban_permanent.is_(True)) | (User.banned_until > now))
    ).all()
    return sorted(found, key=lambda u: (u.ban_permanent, u.banned_until or now, u.id))
