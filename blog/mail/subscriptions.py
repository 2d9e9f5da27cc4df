"""Readers' subscriptions: the "Notify me" boxes, double opt-in, confirming and unsubscribing."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from blog.auth.session import set_notice
from blog.auth.subscription_choices import set_replies
from blog.database import write_transaction
from blog.extensions import db
from blog.mail import tokens
from blog.mail.outbox import count_recent, enqueue, site_url
from blog.models import Post, Subscription, SubscriptionKind, User

log = logging.getLogger(__name__)

# A logged-in reader could type anyone's address: cap the confirmation mails one address gets.
CONFIRMATIONS_PER_DAY = 3
CONFIRM_NOTICE = "confirm"
_EMAIL = re.compile(r"[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+\.[^@\s<>(),;:\"\[\]\\.]+")


def normalise_email(value: str | None) -> str | None:
    """A plausible address with its domain lower-cased, or None."""
    text = (value or "").strip()
    if len(text) > 254 or not _EMAIL.fullmatch(text):
        return None
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def verified_email(user: User) -> str | None:
    """The address the identity provider vouched for, if any."""
    return normalise_email(user.email) if user.email and user.email_verified else None


REPLIES_NEED_VERIFIED = (
    "Replies to your comments are mailed only to an address your login provider verified, "
    "and yours has none: log in with one that does (Google, for one) to get them."
)


def from_comment_form(user: User, post_id: int, form: Mapping[str, str], now: datetime) -> None:
    """Subscribe the commenter as the comment form's "Notify me" boxes ask."""
    if form.get("subscribe_replies"):
        _replies_from_form(user, now)
    kinds = [
        kind
        for kind, field in (
            (SubscriptionKind.THREAD, "subscribe_thread"),
            (SubscriptionKind.POSTS, "subscribe_posts"),
        )
        if form.get(field)
    ]
    if not kinds:
        return
    verified = verified_email(user)
    email = verified or normalise_email(form.get("subscribe_email") or user.email)
    if email is None:
        set_notice(
            "Your comment is posted. To get notifications, tick the box again with your next "
            "comment and give a valid email address."
        )
        return
    try:
        with write_transaction():
            subs = [subscribe(kind, email, user, post_id, now, confirmed=verified is not None)
                    for kind in kinds]  # fmt: skip
            pending = [s for s in subs if s.confirmed_at is None]
            sent = send_confirmation(email, pending, now) if pending else False
    except SQLAlchemyError:
        # The comment is stored already; a failed subscription must not turn it into an error.
        log.exception("could not record the subscription of user %s", user.id)
        return
    if pending:
        set_notice(
            f"Please confirm your email address: we sent a link to {email}."
            if sent
            else f"Please confirm your email address with the link we sent to {email}."
        )


def _replies_from_form(user: User, now: datetime) -> None:
    try:
        with write_transaction():
            if not set_replies(user, True, now):
                set_notice(REPLIES_NEED_VERIFIED)
    except SQLAlchemyError:
        # The comment is stored already; a failed subscription must not turn it into an error.
        log.exception("could not record the reply notifications of user %s", user.id)


def subscribe(
    kind: SubscriptionKind, email: str, user: User, post_id: int, now: datetime, confirmed: bool
) -> Subscription:
    """Create or revive one subscription (inside the caller's write transaction); a thread
    subscription is to the comments of post `post_id`."""
    thread = post_id if kind is SubscriptionKind.THREAD else None
    found = db.session.scalar(
        select(Subscription).where(
            Subscription.kind == kind,
            Subscription.email == email,
            Subscription.post_id.is_(None) if thread is None else Subscription.post_id == thread,
        )
    )
    if found is None:
        found = Subscription(kind=kind, email=email, post_id=thread, created_at=now)
        db.session.add(found)
    elif found.unsubscribed_at is not None:
        # Coming back after unsubscribing: an unverified address proves itself again.
        found.unsubscribed_at = None
        found.confirmed_at = None
    if confirmed and found.confirmed_at is None:
        found.confirmed_at = now
    found.user_id = found.user_id or user.id
    db.session.flush()
    return found


def send_confirmation(email: str, pending: list[Subscription], now: datetime) -> bool:
    """Queue the double opt-in mail; False when this address had enough of them today."""
    if count_recent(email, CONFIRM_NOTICE, now - timedelta(days=1)) >= CONFIRMATIONS_PER_DAY:
        log.warning("confirmation mail to %s not sent: daily limit reached", email)
        return False
    url = site_url(tokens.CONFIRM_PATH + tokens.confirm_token(pending, email, now))
    body = (
        current_app.jinja_env.get_template("mail/confirm.txt")
        .render(
            site_title=current_app.config["SITE_TITLE"],
            email=email,
            items=[describe(s) for s in pending],
            confirm_url=url,
            days=tokens.CONFIRM_MAX_AGE.days,
        )
        .strip()
    )
    subject = f"[{current_app.config['SITE_TITLE']}] Please confirm your subscription"
    enqueue(email, subject, body + "\n", None, now, notice=CONFIRM_NOTICE)
    return True


def describe(subscription: Subscription) -> str:
    """What a subscription is for, in words."""
    if subscription.kind is SubscriptionKind.POSTS:
        return f"new posts on {current_app.config['SITE_TITLE']}"
    if subscription.kind is SubscriptionKind.REPLIES:
        return "replies to your comments"
    post = db.session.get(Post, subscription.post_id) if subscription.post_id else None
    return f'new comments on "{post.title}"' if post else "new comments on a post"


def pending_for(token: str, now: datetime) -> list[Subscription]:
    """The subscriptions a confirmation token stands for (InvalidToken, ExpiredToken)."""
    request = tokens.read_confirm(token, now)
    found = db.session.scalars(
        select(Subscription)
        .where(Subscription.id.in_(request.subscription_ids))
        .order_by(Subscription.id)
    ).all()
    return [s for s in found if tokens.email_digest(s.email) == request.email_digest]


def confirm(token: str, now: datetime) -> list[Subscription]:
    """Confirm what the token stands for; returns the subscriptions it covers."""
    with write_transaction():
        subs = pending_for(token, now)
        for sub in subs:
            # An unsubscribe wins over a late confirmation click.
            if sub.confirmed_at is None and sub.unsubscribed_at is None:
                sub.confirmed_at = now
    return subs


def for_unsubscribe(token: str) -> Subscription | None:
    """The subscription an unsubscribe token names (InvalidToken for a bad one)."""
    sub_id, digest = tokens.read_unsubscribe(token)
    sub = db.session.get(Subscription, sub_id)
    if sub is None or tokens.email_digest(sub.email) != digest:
        return None
    return sub


def unsubscribe(token: str, now: datetime) -> Subscription | None:
    """End the subscription the token names; repeating it is harmless."""
    with write_transaction():
        sub = for_unsubscribe(token)
        if sub is not None and sub.unsubscribed_at is None:
            sub.unsubscribed_at = now
    return sub


def unsubscribe_url(subscription: Subscription) -> str:
    """The one-click URL for mails of this subscription."""
    return site_url(tokens.UNSUBSCRIBE_PATH + tokens.unsubscribe_token(subscription))
