"""Replies reach people: whoever is replied to gets a mail, when they asked for it.

The choice is a REPLIES subscription of the account ("Notify me of replies to my comments"),
made only with the address its provider verified; each mail carries RFC 8058 one-click
unsubscribe (the outbox adds the headers, /mail/unsubscribe/<token> takes the POST).
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from blog.extensions import db
from blog.mail.outbox import already_sent_notice, enqueue, site_url
from blog.mail.subscriptions import normalise_email, unsubscribe_url
from blog.models import Comment, CommentStatus, Subscription, SubscriptionKind, User

_PARENT = aliased(Comment)
# The reader's own page of subscriptions (the account blueprint's `subscriptions`).
SUBSCRIPTIONS_PATH = "/account/subscriptions/"

# Built once: asked after every approved reply.
_REPLIED_TO = (
    select(Subscription)
    .join(_PARENT, _PARENT.user_id == Subscription.user_id)
    .join(User, User.id == Subscription.user_id)
    .where(
        _PARENT.id == bindparam("parent_id"),
        Subscription.kind == SubscriptionKind.REPLIES,
        Subscription.confirmed_at.is_not(None),
        Subscription.unsubscribed_at.is_(None),
        User.email_verified.is_(True),
    )
    .order_by(Subscription.id)
    .limit(1)
)


def has_reply_subscriber(parent_id: int | None) -> bool:
    """Whether an approved reply to this comment would send a reply mail."""
    if parent_id is None:
        return False
    return db.session.execute(_REPLIED_TO, {"parent_id": parent_id}).first() is not None


def notify_reply(comment: Comment, now: datetime) -> str:
    """Mail the writer of the comment this one answers; the address mailed, or ""."""
    if comment.parent_id is None or comment.status is not CommentStatus.APPROVED:
        return ""
    sub = db.session.scalar(_REPLIED_TO, {"parent_id": comment.parent_id})
    parent = db.session.get(Comment, comment.parent_id)
    if sub is None or parent is None or parent.user is None:
        return ""
    if comment.user_id is not None and comment.user_id == parent.user_id:
        return ""  # answering oneself is no news
    verified = normalise_email(parent.user.email) if parent.user.email_verified else None
    if verified is None or verified.lower() != sub.email.lower():
        return ""  # only ever the address the provider vouches for now
    notice = f"reply-comment-{comment.id}"
    if already_sent_notice(notice):
        return sub.email.lower()
    post = comment.post
    link = unsubscribe_url(sub)
    body = current_app.jinja_env.get_template("mail/reply_comment.txt").render(
        site_title=current_app.config["SITE_TITLE"],
        comment=comment,
        parent=parent,
        post=post,
        comment_url=site_url(f"{post.path}?comment={comment.id}#comment-{comment.id}"),
        unsubscribe_url=link,
        subscriptions_url=site_url(SUBSCRIPTIONS_PATH),
    )
    site = current_app.config["SITE_TITLE"]
    subject = f'[{site}] {comment.author_name} replied to you on "{post.title}"'
    enqueue(sub.email, subject, body.strip() + "\n", None, now, unsubscribe_url=link, notice=notice)
    return sub.email.lower()
