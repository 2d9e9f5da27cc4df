"""Users and their identities: log in by (provider, subject), link, export, delete."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import datetime
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import delete, select, update

from blog.auth.providers import Profile
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Avatar, Comment, CommentEdit, Identity, User

AVATAR_SIZE = 96
MAX_AVATAR_BYTES = 2_000_000
DELETED_NAME = "Deleted user"
MAX_NAME_CHARS = 200
# C0 and C1 control characters: PostgreSQL refuses NUL in text, and none belongs in a name.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


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


def fetch_avatar(user_id: int, url: str | None, now: datetime, timeout: float) -> None:
    """Download the provider's picture once, re-encode it as a small PNG, keep it ourselves."""
    if not url or not url.startswith(("https://", "http://")):
        return
    import requests  # by the first login, not at every worker's start: a heavy import

    try:
        response = requests.get(url, timeout=timeout, stream=True)
        response.raise_for_status()
        data = response.raw.read(MAX_AVATAR_BYTES + 1, decode_content=True)
        if len(data) > MAX_AVATAR_BYTES:
            return
        with Image.open(io.BytesIO(data)) as original:
            picture = original.convert("RGBA")
        picture.thumbnail((AVATAR_SIZE, AVATAR_SIZE))
        out = io.BytesIO()
        picture.save(out, format="PNG", optimize=True)
    except (requests.RequestException, UnidentifiedImageError, OSError, ValueError):
        return  # the generated fallback is shown instead
    png = out.getvalue()
    with write_transaction():
        avatar = db.session.get(Avatar, user_id) or Avatar(user_id=user_id)
        avatar.content_type = "image/png"
        avatar.data = png
        avatar.digest = hashlib.sha256(png).hexdigest()[:16]
        avatar.fetched_at = now
        db.session.add(avatar)


def end_sessions(user_id: int) -> None:
    """Invalidate every session of a user (logout, deletion)."""
    with write_transaction():
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(session_generation=User.session_generation + 1)
        )


def delete_account(user_id: int, now: datetime) -> None:
    """Remove identities, avatar and personal data; comments stay, anonymised."""
    with write_transaction():
        user = db.session.get(User, user_id)
        if user is None:
            return
        # An edit still waiting for a moderator was never published: it goes with the account.
        written = select(Comment.id).where(Comment.user_id == user_id)
        db.session.execute(delete(CommentEdit).where(CommentEdit.comment_id.in_(written)))
        db.session.execute(
            update(Comment)
            .where(Comment.user_id == user_id)
            .values(user_id=None, author_name=DELETED_NAME, provider=None)
        )
        avatar = db.session.get(Avatar, user_id)
        if avatar is not None:
            db.session.delete(avatar)
        user.identities.clear()
        user.display_name = DELETED_NAME
        user.email = None
        user.email_verified = False
        user.deleted_at = now
        user.session_generation += 1


def export_data(user: User) -> dict[str, Any]:
    """Everything the blog holds about a user, as JSON-ready data."""
    comments = db.session.scalars(
        select(Comment).where(Comment.user_id == user.id).order_by(Comment.created_at)
    ).all()
    return {
        "user": {
            "id": user.id,
            "display_name": user.display_name,
            "email": user.email,
            "email_verified": user.email_verified,
            "created_at": user.created_at.isoformat(),
        },
        "identities": [
            {
                "provider": i.provider,
                "subject": i.subject,
                "display_name": i.display_name,
                "email": i.email,
                "linked_at": i.created_at.isoformat(),
                "last_login_at": i.last_login_at.isoformat(),
            }
            for i in user.identities
        ],
        "comments": [
            {
                "id": c.id,
                "post": c.post.path,
                "status": c.status.value,
                "text": c.body,
                "created_at": c.created_at.isoformat(),
                "edited_at": c.edited_at.isoformat() if c.edited_at else None,
            }
            for c in comments
        ],
    }
