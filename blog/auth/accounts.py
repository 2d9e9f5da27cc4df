"""Users and their identities: log in by (provider, subject), link, export, delete."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select, update

from blog.auth.providers import Profile
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Identity, User

MAX_NAME_CHARS = 200
# C0 and C1 control characters: PostgreSQL refuses NUL in text, and none belongs in a name;
# nor do the non-characters U+FFFE and U+FFFF, which no feed (XML) can carry.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffe\uffff]")


class IdentityTaken(Exception):
    """The provider account already belongs to another user of the blog."""


def find_identity(provider: str, subject: str) -> Identity | None:
    """The identity for a provider's subject id."""
    return db.session.scalar(
        select(Identity).where(Identity.provider == provider, Identity.subject == subject)
    )


def clean_name(name: str) -> str:
    """A provider's display name as we keep it: no control characters, spaces collapsed."""
    text = " ".join(_CONTROL.sub(" ", name).split())[:MAX_NAME_CHARS].strip()
    return text or "Reader"


def _clean_email(email: str | None) -> str | None:
    return email if email and not _CONTROL.search(email) else None


def _refresh(identity: Identity, profile: Profile, now: datetime) -> None:
    identity.display_name = clean_name(profile.name)
    identity.email = _clean_email(profile.email)
    identity.email_verified = profile.email_verified
    identity.last_login_at = now


def login_profile(profile: Profile, now: datetime) -> User:
    """The user behind a provider account, created on first login. Never matched by email."""
    with write_transaction():
        identity = find_identity(profile.provider, profile.subject)
        if identity is None:
            user = User(
                display_name=clean_name(profile.name),
                email=_clean_email(profile.email),
                email_verified=profile.email_verified and bool(_clean_email(profile.email)),
                created_at=now,
            )
            identity = Identity(
                user=user,
                provider=profile.provider,
                subject=profile.subject,
                created_at=now,
            )
            db.session.add_all([user, identity])
        _refresh(identity, profile, now)
        user = identity.user
        user.display_name = clean_name(profile.name)
        email = _clean_email(profile.email)
        if profile.email_verified and email:
            user.email, user.email_verified = email, True
    return user


def link_profile(user_id: int, profile: Profile, now: datetime) -> User:
    """Attach another provider account to a logged-in user."""
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None:
            raise IdentityTaken("Your account no longer exists.")
        identity = find_identity(profile.provider, profile.subject)
        if identity is not None and identity.user_id != user.id:
            raise IdentityTaken(
                "That account is already used by another commenter here; log in with it instead."
            )
        if identity is None:
            identity = Identity(
                user=user, provider=profile.provider, subject=profile.subject, created_at=now
            )
            db.session.add(identity)
        _refresh(identity, profile, now)
    return user


def end_sessions(user_id: int) -> None:
    """Invalidate every session of a user (logout, deletion)."""
    with write_transaction():
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(session_generation=User.session_generation + 1)
        )
