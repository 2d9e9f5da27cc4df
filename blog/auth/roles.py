"""Who moderates: identities listed by (provider, subject), or by a trusted verified email."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from blog.auth.providers import PROVIDERS
from blog.extensions import db
from blog.models import Identity, User


def parse_moderators(value: str) -> frozenset[tuple[str, str]]:
    """`google:123, email:me@example.com` -> {("google", "123"), ("email", "me@example.com")}."""
    entries = set()
    for raw in value.split(","):
        kind, _, ident = raw.strip().partition(":")
        if kind and ident:
            kind = kind.strip().lower()
            ident = ident.strip().lower() if kind == "email" else ident.strip()
            entries.add((kind, ident))
    return frozenset(entries)


def _moderators(config: Any) -> frozenset[tuple[str, str]]:
    return frozenset(config.get("MODERATORS", frozenset()))


def is_moderator_identity(identity: Identity, config: Any) -> bool:
    """An identity that the configuration names, directly or by a trusted verified email."""
    listed = _moderators(config)
    if (identity.provider, identity.subject) in listed:
        return True
    spec = PROVIDERS.get(identity.provider)
    return bool(
        spec is not None
        and spec.email_trusted
        and identity.email
        and identity.email_verified
        and ("email", identity.email.lower()) in listed
    )


def is_moderator(user: User | None) -> bool:
    """True when any of the user's identities is a moderator's."""
    if user is None:
        return False
    return any(is_moderator_identity(i, current_app.config) for i in user.identities)


def moderator_user_ids(user_ids: set[int]) -> set[int]:
    """Which of these users are moderators (for the Author badge), in one query."""
    if not user_ids or not _moderators(current_app.config):
        return set()
    identities = db.session.scalars(select(Identity).where(Identity.user_id.in_(user_ids))).all()
    return {i.user_id for i in identities if is_moderator_identity(i, current_app.config)}
