"""Who hears about what: the author of every new comment, subscribers of approved ones and posts."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import SQLAlchemyError

from blog.clock import utcnow
from blog.database import write_transaction
from blog.extensions import db
from blog.mail.outbox import already_sent_notice, enqueue, site_url
from blog.mail.replies import has_reply_subscriber, notify_reply
from blog.mail.subscriptions import unsubscribe_url
from blog.models import (
    Comment,
    CommentStatus,
    Post,
    PostLayout,
    PostStatus,
    Subscription,
    SubscriptionKind,
)

log = logging.getLogger(__name__)

# A post dated further back than this is old news by the time mail could go out: an import,
# or a worker that was down for a week. It is marked announced without mail.
ANNOUNCE_WITHIN = timedelta(days=7)
MODERATION_PATH = "/admin/comments"
STATUS_WORDS = {
    CommentStatus.APPROVED: "approved and shown",
    CommentStatus.PENDING: "held for moderation",
    CommentStatus.SPAM: "marked as spam",
    CommentStatus.TRASH: "in the trash",
    CommentStatus.DELETED: "deleted",
}


def _render(template: str, **context: Any) -> str:
    # Plain-text templates (.txt) are not autoescaped; the app's context processors are not
    # needed, so this also works in the worker, outside any request.
    text = current_app.jinja_env.get_template(template).render(
        site_title=current_app.config["SITE_TITLE"], **context
    )
    return text.strip() + "\n"


def comment_link(post_path: str, comment_id: int) -> str:
    """A comment's link in a mail: the post asked for it, so it lands on the page that shows
    it when the mail is read, however many comments came since (blog/reader/post_page.py)."""
    return f"{post_path}?comment={comment_id}#comment-{comment_id}"


def _subject(text: str) -> str:
    return f"[{current_app.config['SITE_TITLE']}] {text}"


def _author_email() -> str:
    return str(current_app.config.get("AUTHOR_EMAIL") or "").strip()


def comment_created(
    comment_id: int, post_id: int, status: CommentStatus, parent_id: int | None = None
) -> None:
    """Queue the mail a new comment causes: the author always, subscribers (and the reader
    it replies to) when approved."""
    try:
        if not _may_notify(post_id, status, parent_id):
            return  # no write lock taken for nothing: most comments send no mail
        with write_transaction():
            comment = db.session.get(Comment, comment_id)
            if comment is None:
                return
            now = utcnow()
            _notify_author(comment, now)
            if comment.status is CommentStatus.APPROVED:
                _notify_thread(comment, now)
    except SQLAlchemyError:
        # The comment is stored: a failed notification is logged, never the reader's problem.
        log.exception("could not queue the mail for comment %s", comment_id)


# Built once: it runs after every comment post.
_THREAD_HAS_SUBSCRIBERS = (
    select(Subscription.id)
    .where(
        Subscription.kind == SubscriptionKind.THREAD,
        Subscription.post_id == bindparam("post_id"),
        Subscription.confirmed_at.is_not(None),
        Subscription.unsubscribed_at.is_(None),
    )
    .limit(1)
)


def _may_notify(post_id: int, status: CommentStatus, parent_id: int | None) -> bool:
    """Whether a new comment might cause mail: an author address, thread subscribers, or a
    replied-to reader who asked for mail."""
    if _author_email():
        return True
    if status is not CommentStatus.APPROVED:
        return False
    params = {"post_id": post_id}
    if db.session.connection().execute(_THREAD_HAS_SUBSCRIBERS, params).first() is not None:
        return True
    return has_reply_subscriber(parent_id)


def comment_approved(comment_id: int, now: datetime | None = None) -> None:
    """Tell the thread's subscribers about a held comment that a moderator approved."""
    try:
        with write_transaction():
            comment = db.session.get(Comment, comment_id)
            if comment is not None and comment.status is CommentStatus.APPROVED:
                _notify_thread(comment, now or utcnow())
    except SQLAlchemyError:
        # The approval is committed already; the moderator's action must not fail over mail.
        log.exception("could not queue the mail for approved comment %s", comment_id)


def _commenter_email(comment: Comment) -> str:
    # Only a verified address counts: anyone could claim the author's to silence the notices.
    user = comment.user
    if user is None or not user.email or not user.email_verified:
        return ""
    return user.email.strip().lower()


def _notify_author(comment: Comment, now: datetime) -> None:
    to = _author_email()
    notice = f"author-comment-{comment.id}"
    if not to or _commenter_email(comment) == to.lower() or already_sent_notice(notice):
        return  # no author address, the author's own comment, or done already
    post = comment.post
    status = STATUS_WORDS.get(comment.status, comment.status.value)
    if comment.status is CommentStatus.PENDING:
        subject = f'Please moderate: "{post.title}"'
    elif comment.status is CommentStatus.SPAM:
        subject = f'Comment marked as spam on "{post.title}"'
    else:
        subject = f'New comment on "{post.title}"'
    body = _render(
        "mail/author_comment.txt",
        comment=comment,
        post=post,
        status=status,
        approved=comment.status is CommentStatus.APPROVED,
        post_url=site_url(post.path),
        comment_url=site_url(comment_link(post.path, comment.id)),
        queue_url=site_url(f"{MODERATION_PATH}?status={comment.status.value}"),
        pending_url=site_url(f"{MODERATION_PATH}?status=pending"),
        spam_url=site_url(f"{MODERATION_PATH}?status=spam"),
    )
    enqueue(to, _subject(subject), body, None, now, notice=notice)


def _notify_thread(comment: Comment, now: datetime) -> None:
    notice = f"thread-comment-{comment.id}"
    if already_sent_notice(notice):
        return  # approved, unapproved and approved again: subscribers heard about it once
    # The author hears through the author mail; the commenter knows what they wrote; the
    # reader replied to hears once, through the reply mail.
    skip = {_author_email().lower(), _commenter_email(comment), notify_reply(comment, now)}
    skip -= {""}
    subs = db.session.scalars(
        select(Subscription)
        .where(
            Subscription.kind == SubscriptionKind.THREAD,
            Subscription.post_id == comment.post_id,
            Subscription.confirmed_at.is_not(None),
            Subscription.unsubscribed_at.is_(None),
        )
        .order_by(Subscription.id)
    ).all()
    post = comment.post
    for sub in subs:
        address = sub.email.lower()
        if address in skip or (sub.user_id is not None and sub.user_id == comment.user_id):
            continue
        skip.add(address)  # one mail per address, even with duplicate rows
        link = unsubscribe_url(sub)
        body = _render(
            "mail/thread_comment.txt",
            comment=comment,
            post=post,
            comment_url=site_url(comment_link(post.path, comment.id)),
            unsubscribe_url=link,
        )
        subject = _subject(f'New comment on "{post.title}"')
        enqueue(sub.email, subject, body, None, now, unsubscribe_url=link, notice=notice)


def _live_post(now: datetime) -> Any:
    return (
        (Post.status == PostStatus.PUBLISHED)
        & (Post.layout == PostLayout.POST)
        & (Post.published_at <= now)
    )


def announce_posts(now: datetime) -> int:
    """Mail POSTS subscribers about each newly live post, once, whichever process gets there."""
    waiting = db.session.scalars(
        select(Post.id)
        .where(_live_post(now), Post.announced_at.is_(None))
        .order_by(Post.published_at, Post.id)
    ).all()
    announced = 0
    for post_id in waiting:
        with write_transaction():
            # The guarded UPDATE decides: one process (worker, app, second app server) sees
            # rowcount 1 and queues the mail in the same transaction; the rest see 0.
            result = db.session.execute(
                update(Post)
                .where(Post.id == post_id, Post.announced_at.is_(None), _live_post(now))
                .values(announced_at=now)
                .execution_options(synchronize_session=False)
            )
            if int(getattr(result, "rowcount", 0)) != 1:
                continue
            post = db.session.get(Post, post_id)
            if post is None or post.published_at < now - ANNOUNCE_WITHIN:
                log.info("post %s is old news: marked announced without mail", post_id)
                continue
            announced += _mail_post(post, now)
    return announced


def _mail_post(post: Post, now: datetime) -> int:
    subs = db.session.scalars(
        select(Subscription)
        .where(
            Subscription.kind == SubscriptionKind.POSTS,
            Subscription.confirmed_at.is_not(None),
            Subscription.unsubscribed_at.is_(None),
        )
        .order_by(Subscription.id)
    ).all()
    seen: set[str] = set()
    excerpt = post.summary or _shorten(post.text, 400)
    for sub in subs:
        if sub.email.lower() in seen:
            continue
        seen.add(sub.email.lower())
        link = unsubscribe_url(sub)
        body = _render(
            "mail/new_post.txt",
            post=post,
            excerpt=excerpt,
            post_url=site_url(post.path),
            unsubscribe_url=link,
        )
        enqueue(
            sub.email,
            _subject(f"New post: {post.title}"),
            body,
            None,
            now,
            unsubscribe_url=link,
            notice=f"post-{post.id}",
        )
    log.info("post %s announced to %s subscribers", post.id, len(seen))
    return 1


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + " …"


def after_sync(first_sync: bool, now: datetime) -> None:
    """After a sync: a first one marks every live post announced silently, others announce.

    The first sync of a blog (or an import) is not news.
    """
    try:
        if first_sync:
            with write_transaction():
                db.session.execute(
                    update(Post)
                    .where(_live_post(now), Post.announced_at.is_(None))
                    .values(announced_at=now)
                    .execution_options(synchronize_session=False)
                )
        else:
            announce_posts(now)
    except SQLAlchemyError:
        # Publishing must not fail over mail; the worker's next tick announces what is left.
        log.exception("announcing new posts after the sync failed")
