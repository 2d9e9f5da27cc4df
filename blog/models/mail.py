"""Mail waiting to go out, and readers' subscriptions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from blog.extensions import db
from blog.models.base import NotShownOnPages, enum_column
from blog.models.types import UTCDateTime


class MailStatus(enum.Enum):
    """Where a queued message stands."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class MailMessage(NotShownOnPages, db.Model):  # type: ignore[name-defined]
    """One email in the outbox; the sender retries with backoff until it is delivered."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    headers_json: Mapped[str] = mapped_column(Text, default="{}")
    status: Mapped[MailStatus] = mapped_column(enum_column(MailStatus), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SubscriptionKind(enum.Enum):
    """New comments on one post's thread, new posts on the blog, or replies to a reader's
    comments (one per account, to the address its provider verified)."""

    THREAD = "thread"
    POSTS = "posts"
    REPLIES = "replies"


class Subscription(NotShownOnPages, db.Model):  # type: ignore[name-defined]
    """An address that asked for mail; confirmed first unless the provider verified it."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SubscriptionKind] = mapped_column(enum_column(SubscriptionKind))
    email: Mapped[str] = mapped_column(String(320), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
