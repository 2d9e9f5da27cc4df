"""Every moderator action on comments, each in one write transaction."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from blog.comments import editing
from blog.comments import service as comments
from blog.comments.rules import CommentRules, Submission, body_hash
from blog.content.comment_markup import normalise_text, render_comment
from blog.database import write_transaction
from blog.extensions import db
from blog.mail import notify
from blog.models import Comment, CommentStatus, User

S = CommentStatus
TABS: tuple[CommentStatus, ...] = (S.PENDING, S.APPROVED, S.SPAM, S.TRASH)
PER_PAGE = 50


class ModerationError(Exception):
    """An action that cannot be done, with what to tell the moderator and the HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Action(enum.Enum):
    """What a moderator can do to a comment from the queue."""

    APPROVE = "approve"
    UNAPPROVE = "unapprove"
    SPAM = "spam"
    NOT_SPAM = "not-spam"
    TRASH = "trash"
    RESTORE = "restore"
    DELETE = "delete"


@dataclass(frozen=True)
class Transition:
    """The statuses an action applies to, where it moves a comment (None: gone), its wording."""

    sources: frozenset[CommentStatus]
    target: CommentStatus | None
    label: str
    done: str


TRANSITIONS: dict[Action, Transition] = {
    Action.APPROVE: Transition(frozenset({S.PENDING, S.SPAM, S.TRASH}), S.APPROVED,
                               "Approve", "approved"),
    Action.UNAPPROVE: Transition(frozenset({S.APPROVED}), S.PENDING, "Unapprove", "unapproved"),
    Action.SPAM: Transition(frozenset({S.PENDING, S.APPROVED, S.TRASH}), S.SPAM,
                            "Spam", "marked as spam"),
    # A moderator who clears a comment of spam has judged it: it is approved, not re-queued.
    Action.NOT_SPAM: Transition(frozenset({S.SPAM}), S.APPROVED, "Not spam", "approved (not spam)"),
    Action.TRASH: Transition(frozenset({S.PENDING, S.APPROVED, S.SPAM}), S.TRASH,
                             "Trash", "moved to the trash"),
    Action.RESTORE: Transition(frozenset({S.TRASH}), S.PENDING, "Restore", "restored to pending"),
    Action.DELETE: Transition(frozenset(TABS), None, "Delete permanently", "deleted permanently"),
}  # fmt: skip

# The actions offered in each tab, in the order shown (WordPress's choice per list).
TAB_ACTIONS: dict[CommentStatus, tuple[Action, ...]] = {
    S.PENDING: (Action.APPROVE, Action.SPAM, Action.TRASH),
    S.APPROVED: (Action.UNAPPROVE, Action.SPAM, Action.TRASH),
    S.SPAM: (Action.NOT_SPAM, Action.DELETE),
    S.TRASH: (Action.RESTORE, Action.SPAM, Action.DELETE),
}


@dataclass(frozen=True)
class Outcome:
    """What an action did: how many comments it changed and how many it left alone."""

    action: Action
    changed: int
    skipped: int

    def message(self) -> str:
        """One sentence for the moderator."""
        done = TRANSITIONS[self.action].done
        noun = "comment" if self.changed == 1 else "comments"
        text = f"{self.changed} {noun} {done}." if self.changed else "No comment changed."
        if self.skipped:
            text += f" {self.skipped} skipped (already there, gone, or not applicable)."
        return text


@dataclass(frozen=True)
class QueuePage:
    """One page of a tab of the moderation queue."""

    comments: list[Comment]
    parents: dict[int, str]
    number: int
    pages: int
    total: int


def counts() -> dict[CommentStatus, int]:
    """Comments per tab (pending, approved, spam, trash)."""
    rows = db.session.execute(select(Comment.status, func.count()).group_by(Comment.status)).all()
    found: dict[CommentStatus, int] = {status: count for status, count in rows}
    return {status: found.get(status, 0) for status in TABS}


def queue(status: CommentStatus, number: int = 1, per_page: int = PER_PAGE) -> QueuePage | None:
    """A page of comments in one status, newest first; None past the last page."""
    total = db.session.scalar(select(func.count()).where(Comment.status == status)) or 0
    pages = max(1, math.ceil(total / per_page))
    if number < 1 or number > pages:
        return None
    found = list(
        db.session.scalars(
            select(Comment)
            .where(Comment.status == status)
            .options(selectinload(Comment.post), selectinload(Comment.user))
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .limit(per_page)
            .offset((number - 1) * per_page)
        )
    )
    parent_ids = {c.parent_id for c in found if c.parent_id is not None}
    parents: dict[int, str] = {}
    if parent_ids:
        rows = db.session.execute(
            select(Comment.id, Comment.author_name).where(
                Comment.id.in_(parent_ids), Comment.status != S.DELETED
            )
        ).all()
        parents = {comment_id: name for comment_id, name in rows}
    return QueuePage(found, parents, number, pages, total)


def get_comment(comment_id: int) -> Comment:
    """A comment a moderator can act on (not a deleted placeholder), or ModerationError 404."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.status is S.DELETED:
        raise ModerationError("That comment does not exist (any more).", 404)
    return comment


def moderate(action: Action, comment_ids: Iterable[int], now: datetime) -> Outcome:
    """Apply one action to a selection in one transaction; inapplicable comments are skipped."""
    ids = sorted(set(comment_ids))
    transition = TRANSITIONS[action]
    approved: list[int] = []
    changed = 0
    with write_transaction():
        selected = db.session.scalars(select(Comment).where(Comment.id.in_(ids))).all()
        # Deepest first, so deleting a reply and its parent together leaves no placeholder.
        for comment in sorted(selected, key=lambda c: (-c.depth, c.id)):
            if comment.status not in transition.sources:
                continue
            changed += 1
            if transition.target is None:
                _delete_for_good(comment, now)
                continue
            comment.status = transition.target
            if transition.target is S.APPROVED:
                approved.append(comment.id)
    for comment_id in approved:
        notify.comment_approved(comment_id)
    return Outcome(action, changed, len(ids) - changed)


def _has_replies(comment_id: int) -> bool:
    reply = select(Comment.id).where(Comment.parent_id == comment_id).limit(1)
    return db.session.scalar(reply) is not None


def _delete_for_good(comment: Comment, now: datetime) -> None:
    """Remove a comment; one with replies stays as a placeholder so the thread stays whole."""
    if _has_replies(comment.id):
        editing.make_placeholder(comment, now)
        return
    parent_id = comment.parent_id
    db.session.delete(comment)
    db.session.flush()
    # A placeholder kept only for this reply is not needed any more.
    while parent_id is not None:
        parent = db.session.get(Comment, parent_id)
        if parent is None or parent.status is not S.DELETED or _has_replies(parent.id):
            break
        parent_id = parent.parent_id
        db.session.delete(parent)
        db.session.flush()


def _clean_text(body: str, rules: CommentRules) -> str:
    text = normalise_text(body)
    if not text:
        raise ModerationError("The comment is empty: write something first.")
    if len(text) > rules.max_chars:
        raise ModerationError(
            f"The comment is {len(text):,} characters long; the limit is {rules.max_chars:,}."
        )
    return text


def edit(comment_id: int, body: str, now: datetime, rules: CommentRules) -> Comment:
    """Replace a comment's text: re-rendered and sanitised, its duplicate key updated."""
    text = _clean_text(body, rules)
    with write_transaction():
        comment = get_comment(comment_id)
        digest = body_hash(text)
        clash = editing.duplicate_of(comment, digest)
        if clash is not None:
            raise ModerationError(
                f"The same person already posted that text in the same place (comment {clash}).",
                409,
            )
        comment.body = text
        comment.body_html = render_comment(text)
        comment.body_hash = digest
        comment.edited_at = now
        try:
            db.session.flush()
        except IntegrityError as exc:
            raise ModerationError("That text clashes with another comment.", 409) from exc
    return comment


def reply_as_author(
    moderator: User,
    parent_id: int,
    body: str,
    now: datetime,
    rules: CommentRules,
    ip_key: str,
    provider: str | None = None,
    ip: str | None = None,
) -> comments.NewComment:
    """The author's reply, approved at once; a pending parent is approved first."""
    _clean_text(body, rules)
    parent = get_comment(parent_id)
    if parent.status is S.PENDING:
        moderate(Action.APPROVE, [parent.id], now)
    elif parent.status is not S.APPROVED:
        raise ModerationError(
            "That comment is in the spam or the trash: restore or approve it before replying.",
            409,
        )
    submission = Submission(
        post_id=parent.post_id,
        parent_id=parent.id,
        body=body,
        provider=provider,
        ip=ip,
        # Moderators skip the anti-spam rules; a plausible start time keeps the log quiet.
        form_started=now - timedelta(seconds=rules.min_form_seconds),
        is_moderator=True,
    )
    try:
        comment = comments.create_comment(moderator, submission, now, rules, ip_key)
    except comments.CommentRejected as exc:
        raise ModerationError(exc.message, exc.status) from exc
    notify.comment_created(comment.id, comment.post_id, comment.status, submission.parent_id)
    return comment
