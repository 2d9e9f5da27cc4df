"""Readers' reports of comments: one per reader per comment, held once several readers agree.

The same rules as a comment's: logged-in readers only, no banned reader, no faster than the
flood interval. A comment reported by `reports_to_hold` different readers waits (pending)
until a moderator decides on the reports page (blog/moderation/reports.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from blog.comments.rules import CommentRules, flood_wait
from blog.comments.service import ban_message
from blog.content.comment_markup import normalise_text
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Comment, CommentReport, CommentStatus, ReportReason, ReportStatus, User

log = logging.getLogger(__name__)
NOTE_MAX_CHARS = 500
REASON_LABELS: dict[ReportReason, str] = {
    ReportReason.SPAM: "Spam or advertising",
    ReportReason.ABUSE: "Abusive, hateful or harassing",
    ReportReason.OFF_TOPIC: "Off topic",
    ReportReason.PERSONAL_INFO: "Shares someone's private information",
    ReportReason.OTHER: "Something else",
}


class ReportRefused(Exception):
    """A report that cannot be taken, with what to tell the reader and the HTTP status."""

    def __init__(self, message: str, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class ReportForm:
    """A report as the reader sent it."""

    reason: str
    note: str


def parse_reason(value: str) -> ReportReason:
    """The reason a form names, or ReportRefused."""
    try:
        return ReportReason(value)
    except ValueError:
        raise ReportRefused("Choose one of the reasons listed.") from None


def clean_note(value: str) -> str:
    """The optional note as stored, or ReportRefused when too long."""
    text = normalise_text(value)
    if len(text) > NOTE_MAX_CHARS:
        raise ReportRefused(
            f"The note is {len(text):,} characters long; the limit is {NOTE_MAX_CHARS}."
        )
    return text


def report_comment(
    user: User,
    comment_id: int,
    form: ReportForm,
    now: datetime,
    rules: CommentRules,
    reports_to_hold: int,
) -> bool:
    """Store the reader's report; True when it holds the comment for a moderator."""
    reason = parse_reason(form.reason)
    note = clean_note(form.note)
    try:
        with write_transaction():
            comment = db.session.get(Comment, comment_id)
            if comment is None or comment.status is not CommentStatus.APPROVED:
                raise ReportRefused("That comment is not shown (any more).", 404)
            if comment.user_id == user.id:
                raise ReportRefused("That is your own comment: edit or delete it instead.", 403)
            if user.banned_at(now):
                raise ReportRefused(ban_message(user).replace("commenting", "reporting"), 403)
            if _reported_before(user.id, comment.id):
                raise ReportRefused("You have already reported this comment. Thank you.", 409)
            _refuse_flood(user.id, now, rules)
            db.session.add(
                CommentReport(
                    comment_id=comment.id,
                    user_id=user.id,
                    reason=reason,
                    note=note,
                    status=ReportStatus.OPEN,
                    created_at=now,
                )
            )
            db.session.flush()
            held = open_reporters(comment.id) >= reports_to_hold
            if held:
                comment.status = CommentStatus.PENDING
    except IntegrityError:
        # The same reader's second request won a race with the first: one report stands.
        raise ReportRefused("You have already reported this comment. Thank you.", 409) from None
    if held:
        log.info("comment %s held: reported by %s readers", comment_id, reports_to_hold)
    return held


def _reported_before(user_id: int, comment_id: int) -> bool:
    found = select(CommentReport.id).where(
        CommentReport.user_id == user_id, CommentReport.comment_id == comment_id
    )
    return db.session.scalar(found.limit(1)) is not None


def open_reporters(comment_id: int) -> int:
    """How many different readers have an open report on the comment."""
    found = select(func.count(func.distinct(CommentReport.user_id))).where(
        CommentReport.comment_id == comment_id, CommentReport.status == ReportStatus.OPEN
    )
    return db.session.scalar(found) or 0


def _refuse_flood(user_id: int, now: datetime, rules: CommentRules) -> None:
    last = db.session.scalar(
        select(func.max(CommentReport.created_at)).where(CommentReport.user_id == user_id)
    )
    wait = flood_wait(last, now, rules)
    if wait:
        raise ReportRefused(
            "You are sending reports too quickly. Wait a moment, then send it again.",
            429,
            retry_after=wait,
        )
