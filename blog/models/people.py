"""Readers who log in: users, their provider identities, avatars, deletion requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blog.extensions import db
from blog.models.base import NotShownOnPages, ShownOnPages, commented_post_tags
from blog.models.types import UTCDateTime


class User(NotShownOnPages, db.Model):  # type: ignore[name-defined]
    """A commenter; keyed by their identities, never by email.

    Not on shared pages: a comment shows the name it was written under, and only the reader's
    own (never shared) pages show their account.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    email_verified: Mapped[bool] = mapped_column(default=False)
    # Bumped at logout and account deletion: every older session cookie stops working.
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    banned_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ban_permanent: Mapped[bool] = mapped_column(default=False)
    ban_reason: Mapped[str | None] = mapped_column(String(500))

    # Loaded when asked for (the account page), not on every request of a logged-in reader.
    identities: Mapped[list[Identity]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Flask-Login protocol.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def banned_at(self, now: datetime) -> bool:
        """True while a ban is in force."""
        return self.ban_permanent or (self.banned_until is not None and self.banned_until > now)

    def get_id(self) -> str:
        """Session id: user id plus generation, so logging out invalidates copied cookies."""
        return f"{self.id}:{self.session_generation}"


class Identity(ShownOnPages, db.Model):  # type: ignore[name-defined]
    """One provider account (provider, subject) linked to a user."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("provider", "subject", name="uq_identities_provider"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    email_verified: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="identities")

    # What decides whether its user moderates (the Author badge on their comments).
    BADGE_COLUMNS = frozenset({"user_id", "provider", "subject", "email", "email_verified"})

    def cache_tags(self, changed: set[str] | None) -> set[str]:
        """The posts its user commented on (their badge), when it could change who moderates."""
        if changed is not None and not changed & self.BADGE_COLUMNS:
            return set()
        return commented_post_tags(self, _owners(self, changed))


class Avatar(ShownOnPages, db.Model):  # type: ignore[name-defined]
    """A user's picture, fetched once at login and served by the blog itself."""

    __tablename__ = "avatars"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    content_type: Mapped[str] = mapped_column(String(50))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def cache_tags(self, changed: set[str] | None) -> set[str]:
        """The posts its user commented on: its digest is in their comments' img URLs."""
        if changed is not None and not changed & {"digest", "user_id"}:
            return set()
        return commented_post_tags(self, _owners(self, changed))


def _owners(row: Identity | Avatar, changed: set[str] | None) -> set[int | None]:
    """The row's user, and the one it had before when a write moved it to another."""
    owners: set[int | None] = {row.user_id}
    if changed is not None and "user_id" in changed:
        owners.update(inspect(row).attrs.user_id.history.deleted or ())
    return owners


class DeletionRequest(NotShownOnPages, db.Model):  # type: ignore[name-defined]
    """A Facebook data-deletion callback, with the code its status page answers to."""

    __tablename__ = "deletion_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    confirmation_code: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(40))
    subject_hash: Mapped[str] = mapped_column(String(64))
    users_deleted: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ModeratorGrant(ShownOnPages, db.Model):  # type: ignore[name-defined]
    """A moderator added by `flask blog admin add`: a (provider, subject), or a verified email.

    Merged with the configured BLOG_MODERATORS (blog.auth.roles); kept in the database so that
    every app server sees a change at once. Its tag is `site`: whose comments get the Author
    badge is not known without asking every identity.
    """

    __tablename__ = "moderator_grants"
    __table_args__ = (
        UniqueConstraint("provider", "subject", name="uq_moderator_grants_provider"),
        UniqueConstraint("email", name="uq_moderator_grants_email"),
        CheckConstraint(
            "(provider IS NOT NULL AND subject IS NOT NULL AND email IS NULL)"
            " OR (provider IS NULL AND subject IS NULL AND email IS NOT NULL)",
            name="one_kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str | None] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(255))
    # Stored lower-cased; it counts only as a trusted provider's verified address.
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
