"""The reports page's service: comments with open reports, and the moderator's decision."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from blog.comments import likes
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Comment, CommentReport, CommentStatus, ReportStatus
from blog.moderation.service import ModerationError

S = CommentStatus
SHOWN_AT_MOST = 100


class Decision(enum.Enum):
    """What a moderator decides about a reported comment."""

    DISMISS = "dismiss"
    KEEP_HELD = "keep-held"
    SPAM = "spam"
    TRASH = "trash"


@dataclass(frozen=True)
class Outcome:
    """Where a decision leaves the comment and its reports."""

    comment: S
    reports: ReportStatus
    label: str
    done: str


OUTCOMES: dict[Decision, Outcome] = {
    # Dismissed reports were wrong: a comment they held is shown again.
    Decision.DISMISS: Outcome(S.APPROVED, ReportStatus.DISMISSED, "Dismiss reports",
                              "reports dismissed; the comment is shown"),
    Decision.KEEP_HELD: Outcome(S.PENDING, ReportStatus.UPHELD, "Keep held",
                                "kept held in the pending queue"),
    Decision.SPAM: Outcome(S.SPAM, ReportStatus.UPHELD, "Spam", "marked as spam"),
    Decision.TRASH: Outcome(S.TRASH, ReportStatus.UPHELD, "Trash", "moved to the trash"),
}  # fmt: skip


@dataclass(frozen=True)
class ReportedComment:
    """A comment with open reports, as the reports page lists it."""

    comment: Comment
    reports: list[CommentReport]

    @property
    def readers(self) -> int:
        """How many different readers reported it."""
        return len({r.user_id for r in self.reports})


def reactions_summary() -> dict[str, object]:
    """The dashboard's likes and reports: totals, and the latest likes."""
    return {
        "open_reports": open_report_count(),
        "like_total": likes.like_total(),
        "recent_likes": likes.recent_likes(),
    }


def open_report_count() -> int:
    """Comments with at least one open report."""
    found = select(func.count(func.distinct(CommentReport.comment_id))).where(
        CommentReport.status == ReportStatus.OPEN
    )
    return db.session.scalar(found) or 0


def reported_comments() -> list[ReportedComment]:
    """Comments with open reports, the most recently reported first (at most a hundred)."""
    latest = func.max(CommentReport.created_at)
    ids = db.session.execute(
        select(CommentReport.comment_id, latest)
        .where(CommentReport.status == ReportStatus.OPEN)
        .group_by(CommentReport.comment_id)
        .order_by(latest.desc(), CommentReport.comment_id.desc())
        .limit(SHOWN_AT_MOST)
    ).all()
    order = [comment_id for comment_id, _latest in ids]
    if not order:
        return []
    comments = {
        c.id: c
        for c in db.session.scalars(
            select(Comment).where(Comment.id.in_(order)).options(selectinload(Comment.post))
        )
    }
    reports: dict[int, list[CommentReport]] = {}
    for report in db.session.scalars(
        select(CommentReport)
        .where(CommentReport.comment_id.in_(order), CommentReport.status == ReportStatus.OPEN)
        .order_by(CommentReport.created_at, CommentReport.id)
    ):
        reports.setdefault(report.comment_id, []).append(report)
    return [ReportedComment(comments[i], reports.get(i, [])) for i in order if i in comments]


def decide(comment_id: int, decision: Decision, now: datetime) -> Outcome:
    """Close the comment's open reports and move the comment where the decision says."""
    outcome = OUTCOMES[decision]
    with write_transaction():
        comment = db.session.get(Comment, comment_id)
        if comment is None or comment.status is S.DELETED:
            raise ModerationError("That comment does not exist (any more).", 404)
        closed = db.session.execute(
            update(CommentReport)
            .where(
                CommentReport.comment_id == comment.id,
                CommentReport.status == ReportStatus.OPEN,
            )
            .values(status=outcome.reports, resolved_at=now)
        )
        if not getattr(closed, "rowcount", 0):
            raise ModerationError("That comment has no open reports: someone decided already.", 409)
        # Dismissing leaves a comment a moderator already binned where it is.
        moves = decision is not Decision.DISMISS or comment.status is S.PENDING
        if moves and comment.status is not outcome.comment:
            comment.status = outcome.comment
    return outcome
