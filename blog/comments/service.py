"""Every rule about writing a new comment: who may post where, and what is held or spam.

Changing one's comments (editing, deleting) is in blog/comments/editing.py; reading them (the
thread, the counts) in blog/comments/threads.py.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from sqlalchemy import BindParameter, Select, bindparam, func, insert, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from blog.auth.roles import is_moderator
from blog.comments.paging import (
    CommentOrder,
    default_order,
    page_after,
    page_of,
    per_page,
    roots_before_new,
)
from blog.comments.paragraphs import paragraph_of
from blog.comments.rules import (
    CommentRules,
    Submission,
    body_hash,
    flood_wait,
    hold_reason,
    initial_status,
    ip_hash,
    spam_reason,
    stale_form,
    timing_reason,
)
from blog.comments.threads import CommentTarget
from blog.content.comment_markup import normalise_text, render_comment
from blog.content.paragraphs import quote_of
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Comment, CommentStatus, Identity, User
from blog.reader.posts import Article, live_article

log = logging.getLogger(__name__)
__all__ = ["CommentRejected", "CommentRules", "Submission"]


class CommentRejected(Exception):
    """A comment that cannot be accepted, with what to tell the reader and the HTTP status."""

    def __init__(self, message: str, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


def commentable_post(post_id: int | None, now: datetime, rules: CommentRules) -> Article:
    """The live post a comment may attach to, or CommentRejected."""
    post = live_article(post_id, now)
    if post is None:
        raise CommentRejected("That post does not exist (any more).", 404)
    if not comments_open(post, now, rules):
        raise CommentRejected("Comments are closed on this post.", 403)
    return post


def comments_open(post: CommentTarget, now: datetime, rules: CommentRules) -> bool:
    """Open unless closed in the front matter or older than the automatic limit."""
    if not post.comments_open:
        return False
    if rules.close_after_days > 0:
        return now < post.published_at + timedelta(days=rules.close_after_days)
    return True


def clean_body(body: str, rules: CommentRules) -> str:
    """The text as stored, or CommentRejected when it is empty or too long."""
    text = normalise_text(body)
    if not text:
        raise CommentRejected("Your comment is empty: write something first.")
    if len(text) > rules.max_chars:
        raise CommentRejected(
            f"Your comment is {len(text):,} characters long; the limit is {rules.max_chars:,}. "
            "Please shorten it."
        )
    return text


def _parent(post: Article, parent_id: int | None, rules: CommentRules) -> Comment | None:
    if parent_id is None:
        return None
    parent = db.session.get(Comment, parent_id)
    if parent is None or parent.post_id != post.id:
        raise CommentRejected("The comment you are replying to is not on this post.", 400)
    if parent.status is not CommentStatus.APPROVED:
        raise CommentRejected("The comment you are replying to is not available.", 400)
    if parent.depth + 1 >= rules.max_depth:
        raise CommentRejected("This thread is as deep as it goes; reply further up.", 400)
    return parent


def create_comment(
    user: User, submission: Submission, now: datetime, rules: CommentRules, ip_key: str
) -> NewComment:
    """Apply every rule in order and store the comment, or raise CommentRejected."""
    if stale_form(submission.form_started, now, rules):
        raise CommentRejected(STALE_FORM_MESSAGE, 400)
    # The text is checked and rendered before the write lock: other writers need not wait.
    text = clean_body(submission.body, rules)
    html = render_comment(text)
    digest = body_hash(text)
    # Asked only when a rule would refuse, hold or mark the comment: most pass every rule.
    exempt = functools.cache(lambda: submission.is_moderator or is_moderator(user))
    with write_transaction():
        post = commentable_post(submission.post_id, now, rules)
        if user.banned_at(now) and not exempt():
            raise CommentRejected(ban_message(user), 403)
        parent = _parent(post, submission.parent_id, rules)
        parent_key = parent.id if parent else 0
        history = _history(user, post.id, now, top_level=parent is None)
        wait = flood_wait(history.last_at, now, rules)
        if wait and not exempt():
            # A button pressed twice is told it was a duplicate, not to slow down.
            if duplicate_id(user.id, post.id, parent_key, digest) is not None:
                raise CommentRejected(DUPLICATE_MESSAGE, 409)
            raise CommentRejected(FLOOD_MESSAGE, 429, retry_after=wait)
        spam = spam_reason(submission, html, user.display_name, user.email, rules)
        hold = timing_reason(
            submission.form_started, now, rules, lambda since: _logged_in_since(user, since)
        ) or hold_reason(
            text, html, user.display_name, user.email, history.approved is not None, rules
        )
        status = initial_status(spam, hold, exempt() if spam or hold else False)
        # Its words as they read now: the comment keeps them if the author edits the post.
        paragraph = None if parent else paragraph_of(post.id, submission.paragraph_id)
        row = {
            "post_id": post.id,
            "parent_id": parent.id if parent else None,
            "parent_key": parent_key,
            "body_hash": digest,
            "user_id": user.id,
            "provider": submission.provider,
            "author_name": user.display_name,
            "body": text,
            "body_html": html,
            "status": status,
            "depth": parent.depth + 1 if parent else 0,
            "created_at": now,
            "ip_hash": ip_hash(submission.ip, ip_key),
            "paragraph_id": paragraph.id if paragraph else None,
            "paragraph_quote": quote_of(paragraph) if paragraph else None,
        }
        try:
            result = cast(CursorResult[Any], db.session.execute(_INSERT_COMMENT, row))
        except IntegrityError as exc:
            # The unique key: the writer said this here before, or a request with the same
            # text won the race. One row, and a 409 here.
            raise CommentRejected(DUPLICATE_MESSAGE, 409) from exc
        key = result.inserted_primary_key
        if key is None:  # every supported database reports it
            raise RuntimeError("the database did not report the new comment's id")
        new_id = int(key[0])
        # Its page, for the writer's answer: a new top-level comment's came with the history.
        page = page_after(history.roots_before) if parent is None else page_of(parent.id, user.id)
        comment = NewComment(new_id, status, post, page)
    if spam or hold:
        log.info("comment %s %s: %s", comment.id, comment.status.value, spam or hold)
    return comment


class NewComment(NamedTuple):
    """A comment just stored: what its writer's answer and its notifications need."""

    id: int
    status: CommentStatus
    post: Article
    page: int  # the page of the post's thread that shows it to its writer

    @property
    def post_id(self) -> int:
        """The id of the comment's post."""
        return self.post.id


# A table insert, built once: the ORM's unit of work cost twice the statement. Its parameters
# name the post, so only that post's pages go stale (Comment.bulk_cache_tags).
_INSERT_COMMENT = insert(Comment.__table__)


DUPLICATE_MESSAGE = "Duplicate comment: it looks as though you have already said that."
FLOOD_MESSAGE = "You are posting comments too quickly. Slow down, and post it again in a moment."
STALE_FORM_MESSAGE = (
    "This form was opened more than a day ago, so nothing was saved yet: the conversation may "
    "have moved on. Your text is kept below: read it over and press the button again."
)


def ban_message(user: User) -> str:
    """What a banned user is told: why and until when."""
    reason = f" Reason: {user.ban_reason}" if user.ban_reason else ""
    if user.ban_permanent or user.banned_until is None:
        return f"You are banned from commenting on this blog.{reason}"
    when = user.banned_until
    until = f"{when:%B} {when.day}, {when.year} at {when:%H:%M} UTC"
    return f"You are banned from commenting until {until}.{reason}"


class _History(NamedTuple):
    last_at: datetime | None
    approved: int | None
    roots_before: int = 0  # asked for a new top-level comment in a paged thread


_USER: BindParameter[int] = bindparam("user_id")
# One statement, built once, for what the rules ask of the writer's past comments: one trip.
# Whether the text is a duplicate is the unique key's to say, as the row goes in.
_HISTORY = select(
    select(func.max(Comment.created_at))
    .where(Comment.user_id == _USER)
    .scalar_subquery()
    .label("last_at"),
    select(Comment.id)
    .where(Comment.user_id == _USER, Comment.status == CommentStatus.APPROVED)
    .limit(1)
    .scalar_subquery()
    .label("approved"),
)


@functools.cache
def _history_and_page(order: CommentOrder) -> Select[Any]:
    """The history, and where a new top-level comment lands in the thread: the same trip."""
    return _HISTORY.add_columns(roots_before_new(order).label("roots_before"))


def _history(user: User, post_id: int, now: datetime, top_level: bool) -> _History:
    params: dict[str, Any] = {"user_id": user.id}
    statement = _HISTORY
    if top_level and per_page():
        statement = _history_and_page(default_order())
        params |= {"post_id": post_id, "viewer_id": user.id, "now": now}
    return _History(*db.session.connection().execute(statement, params).one())


def duplicate_id(
    user_id: int, post_id: int, parent_key: int, digest: str, excluding: int | None = None
) -> int | None:
    """Another comment by this writer, in this place (post and parent), with this text: its id."""
    found = select(Comment.id).where(
        Comment.user_id == user_id,
        Comment.post_id == post_id,
        Comment.parent_key == parent_key,
        Comment.body_hash == digest,
    )
    if excluding is not None:
        found = found.where(Comment.id != excluding)
    return db.session.scalar(found.limit(1))


def _logged_in_since(user: User, since: datetime) -> bool:
    """Whether the user finished a login with a provider after this moment."""
    found = select(Identity.id).where(Identity.user_id == user.id, Identity.last_login_at > since)
    return db.session.scalar(found.limit(1)) is not None
