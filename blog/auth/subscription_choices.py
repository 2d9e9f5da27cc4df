"""A reader's own subscriptions: what their account page lists, and the changes it makes.

Threads and new posts are subscriptions by address (blog/mail/subscriptions.py makes them,
with a double opt-in for an address nobody verified); replies to one's comments are one
subscription per account, to the address its provider verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Exists, bindparam, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from blog.auth.personal_data import own_addresses
from blog.auth.session import request_memo
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Post, Subscription, SubscriptionKind, User


@dataclass(frozen=True)
class SubscriptionChoice:
    """One line of the reader's subscriptions page."""

    id: int
    kind: SubscriptionKind
    what: str
    email: str
    active: bool
    waiting: bool  # not confirmed yet: the link in the confirmation mail does that
    can_resume: bool
    post_path: str | None


def verified_address(user: User) -> str | None:
    """The address the account's provider vouches for now, lower-cased; None without one."""
    if not user.email or not user.email_verified:
        return None
    local, _, domain = user.email.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if local and domain else None


def replies_subscription(user: User) -> Subscription | None:
    """The account's choice about replies, on or off; None when it never made one."""
    return db.session.scalar(
        select(Subscription)
        .where(Subscription.kind == SubscriptionKind.REPLIES, Subscription.user_id == user.id)
        .order_by(Subscription.id)
        .limit(1)
    )


def replies_on(user_id: ColumnElement[int] | InstrumentedAttribute[int]) -> Exists:
    """Whether reply mail is on for a user id (a column, or a bound value)."""
    return exists().where(
        Subscription.kind == SubscriptionKind.REPLIES,
        Subscription.user_id == user_id,
        Subscription.confirmed_at.is_not(None),
        Subscription.unsubscribed_at.is_(None),
    )


# Built once. Every page a logged-in reader sees shows the choice (the box's checkbox); it
# usually comes with their row (blog/auth/viewer_row.py).
_REPLIES_ON = select(replies_on(bindparam("user_id")))
_REPLIES_KEY = "blog.viewer_replies"


def wants_replies(user: User) -> bool:
    """True when the account gets a mail for each reply to its comments."""
    memo: dict[int, bool] = request_memo(_REPLIES_KEY)
    if user.id not in memo:
        memo[user.id] = bool(db.session.scalar(_REPLIES_ON, {"user_id": user.id}))
    return memo[user.id]


def remember_replies(user_id: int, on: bool) -> None:
    """Keep the choice for the rest of this request (found with the row, or just made)."""
    request_memo(_REPLIES_KEY)[user_id] = on


def set_replies(user: User, on: bool, now: datetime) -> bool:
    """Turn reply mail on or off (in the caller's write transaction); False when it cannot
    be on, for want of a verified address."""
    found = replies_subscription(user)
    address = verified_address(user)
    if not on:
        if found is not None and found.unsubscribed_at is None:
            found.unsubscribed_at = now
        remember_replies(user.id, False)
        return True
    if address is None:
        return False
    if found is None:
        found = Subscription(
            kind=SubscriptionKind.REPLIES, email=address, user_id=user.id, created_at=now
        )
        db.session.add(found)
    found.email = address  # the provider's address of today, if it changed
    found.unsubscribed_at = None
    found.confirmed_at = found.confirmed_at or now
    db.session.flush()
    remember_replies(user.id, True)
    return True


def _theirs(user: User) -> list[Subscription]:
    own = {a.lower() for a in own_addresses(user)}
    mine = Subscription.user_id == user.id
    query = select(Subscription).where(
        or_(mine, func.lower(Subscription.email).in_(own)) if own else mine
    )
    return list(db.session.scalars(query.order_by(Subscription.kind, Subscription.id)))


def reader_subscriptions(user: User) -> list[SubscriptionChoice]:
    """Every subscription the reader made or that goes to one of their addresses."""
    own = {a.lower() for a in own_addresses(user)}
    subs = _theirs(user)
    posts = {p.id: p for p in _posts([s.post_id for s in subs])}
    found = []
    for sub in subs:
        post = posts.get(sub.post_id) if sub.post_id is not None else None
        found.append(
            SubscriptionChoice(
                id=sub.id,
                kind=sub.kind,
                what=_what(sub, post),
                email=sub.email,
                active=sub.unsubscribed_at is None and sub.confirmed_at is not None,
                waiting=sub.unsubscribed_at is None and sub.confirmed_at is None,
                # Only to an address of theirs: a typed one proves itself by mail again.
                can_resume=sub.email.lower() in own,
                post_path=post.path if post is not None else None,
            )
        )
    return found


def _posts(ids: list[int | None]) -> list[Post]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return []
    return list(db.session.scalars(select(Post).where(Post.id.in_(wanted))))


def _what(sub: Subscription, post: Post | None) -> str:
    if sub.kind is SubscriptionKind.POSTS:
        return "New posts"
    if sub.kind is SubscriptionKind.REPLIES:
        return "Replies to your comments"
    return f"New comments on “{post.title}”" if post is not None else "New comments on a post"


def change(user: User, subscription_id: int, active: bool, now: datetime) -> bool:
    """Stop or resume one of the reader's subscriptions; False when it is not theirs to change."""
    with write_transaction():
        sub = next((s for s in _theirs(user) if s.id == subscription_id), None)
        if sub is None:
            return False
        if sub.kind is SubscriptionKind.REPLIES:
            return set_replies(user, active, now)
        if not active:
            if sub.unsubscribed_at is None:
                sub.unsubscribed_at = now
            return True
        if sub.email.lower() not in {a.lower() for a in own_addresses(user)}:
            return False
        sub.unsubscribed_at = None
        sub.confirmed_at = sub.confirmed_at or now
        return True
