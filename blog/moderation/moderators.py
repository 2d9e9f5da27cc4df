"""The moderator list behind `flask blog admin add|remove|list`.

Configured moderators (BLOG_MODERATORS, and in development the local identity provider's
author) come from the settings and change only there; the ones added here are rows of
ModeratorGrant, which every app server reads (blog.auth.roles merges both lists).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from blog.auth.providers import PROVIDERS
from blog.auth.roles import EMAIL, configured_moderators, email_counts
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Identity, ModeratorGrant, User

EMAIL_SHAPE = re.compile(r"[^@\s,:]+@[^@\s,:]+\.[^@\s,:.]+")
EXAMPLE = "google:1234567890"
CONFIGURED = "configured (BLOG_MODERATORS)"
DEV_AUTHOR = "the local identity provider's author"
DEVELOPMENT = f"development ({DEV_AUTHOR})"


class ModeratorError(Exception):
    """Input or a state the moderator commands refuse, with what to tell the operator."""


@dataclass(frozen=True)
class Moderator:
    """One entry of the merged list: `kind` is a provider's name or "email"."""

    kind: str
    ident: str
    source: str
    added_at: datetime | None = None

    @property
    def label(self) -> str:
        """`google:123` or `email:me@example.com`, as BLOG_MODERATORS writes it."""
        return f"{self.kind}:{self.ident}"


def _check_email(value: str) -> str:
    address = value.strip().lower()
    if len(address) > 320 or not EMAIL_SHAPE.fullmatch(address):
        raise ModeratorError(f"{value!r} is not an email address (e.g. author@example.com).")
    return address


def parse_target(target: str | None, email: str | None) -> tuple[str, str]:
    """`google:123` or --email me@example.com -> (kind, ident); ModeratorError when malformed."""
    if (target is None) == (email is None):
        raise ModeratorError(
            f"Give one moderator: PROVIDER:SUBJECT (e.g. {EXAMPLE}) or --email ADDRESS."
        )
    if email is not None:
        return EMAIL, _check_email(email)
    assert target is not None
    kind, colon, ident = target.strip().partition(":")
    kind, ident = kind.strip().lower(), ident.strip()
    if not colon or not kind or not ident:
        raise ModeratorError(f"{target!r} is not PROVIDER:SUBJECT (e.g. {EXAMPLE}).")
    if kind == EMAIL:
        return EMAIL, _check_email(ident)
    if kind not in PROVIDERS:
        known = ", ".join(PROVIDERS)
        raise ModeratorError(f"Unknown provider {kind!r}: use one of {known}, or --email ADDRESS.")
    if len(ident) > 255 or any(c.isspace() or c == "," for c in ident):
        raise ModeratorError(f"{ident!r} is not a {kind} subject (one word, up to 255 characters).")
    return kind, ident


def _dev_entries() -> frozenset[tuple[str, str]]:
    if not current_app.config.get("DEV_IDP"):
        return frozenset()
    from blog.devidp import identity  # loaded only where the local provider is enabled

    author = identity("author")
    return frozenset((name, author.subject(name)) for name in ("google", "x", "facebook"))


def _require_table() -> None:
    if not inspect(db.engine).has_table(ModeratorGrant.__tablename__):
        raise ModeratorError("The database has no moderator table: run `flask db upgrade` first.")


def _grant(kind: str, ident: str) -> ModeratorGrant | None:
    if kind == EMAIL:
        where = ModeratorGrant.email == ident
    else:
        where = (ModeratorGrant.provider == kind) & (ModeratorGrant.subject == ident)
    return db.session.scalar(select(ModeratorGrant).where(where))


def _entry(grant: ModeratorGrant) -> tuple[str, str]:
    if grant.email is not None:
        return EMAIL, grant.email
    return str(grant.provider), str(grant.subject)


def _stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def add_moderator(kind: str, ident: str, now: datetime) -> Moderator:
    """Store a grant; ModeratorError when it is already a moderator, configured or added."""
    _require_table()
    label = f"{kind}:{ident}"
    if (kind, ident) in _dev_entries():
        raise ModeratorError(f"{label} is already a moderator: {DEVELOPMENT}.")
    if (kind, ident) in configured_moderators(current_app.config):
        raise ModeratorError(f"{label} is already a moderator: it is listed in BLOG_MODERATORS.")
    existing = _grant(kind, ident)
    if existing is not None:
        raise ModeratorError(
            f"{label} is already a moderator (added {_stamp(existing.created_at)})."
        )
    grant = ModeratorGrant(created_at=now)
    if kind == EMAIL:
        grant.email = ident
    else:
        grant.provider, grant.subject = kind, ident
    try:
        with write_transaction():
            db.session.add(grant)
    except IntegrityError as exc:  # another `add` of the same moderator won the race
        raise ModeratorError(f"{label} is already a moderator.") from exc
    return Moderator(kind, ident, "added", now)


def remove_moderator(kind: str, ident: str) -> Moderator:
    """Delete a grant; ModeratorError for a configured moderator or someone who is not one."""
    _require_table()
    label = f"{kind}:{ident}"
    grant = _grant(kind, ident)
    if grant is None:
        if (kind, ident) in _dev_entries():
            raise ModeratorError(
                f"{label} cannot be removed: it is {DEV_AUTHOR}, a moderator whenever the "
                "development identity provider is on (BLOG_DEV_IDP)."
            )
        if (kind, ident) in configured_moderators(current_app.config):
            raise ModeratorError(
                f"{label} is configured, not added: remove it from BLOG_MODERATORS instead "
                "(and restart the app servers)."
            )
        raise ModeratorError(f"{label} is not a moderator that `flask blog admin add` added.")
    removed = Moderator(kind, ident, "added", grant.created_at)
    with write_transaction():
        db.session.delete(grant)
    return removed


def still_configured(kind: str, ident: str) -> bool:
    """Whether the configuration names this moderator too (so removing the grant kept them)."""
    return (kind, ident) in configured_moderators(current_app.config) | _dev_entries()


def list_moderators() -> list[Moderator]:
    """Every moderator: configured ones first, then the added ones, oldest first."""
    _require_table()
    dev = _dev_entries()
    found = [
        Moderator(kind, ident, DEVELOPMENT if (kind, ident) in dev else CONFIGURED)
        for kind, ident in sorted(configured_moderators(current_app.config) | dev)
    ]
    grants = db.session.scalars(
        select(ModeratorGrant).order_by(ModeratorGrant.created_at, ModeratorGrant.id)
    )
    found += [Moderator(*_entry(g), "added", g.created_at) for g in grants]
    return found


def describe(moderator: Moderator) -> str:
    """Where a moderator comes from: configured, development, or when it was added."""
    if moderator.added_at is not None:
        return f"added {_stamp(moderator.added_at)}"
    return moderator.source


def known_users(moderators: list[Moderator]) -> dict[tuple[str, str], list[str]]:
    """Names of the users each entry makes moderators (those who have logged in), one query."""
    subjects = {(m.kind, m.ident) for m in moderators if m.kind != EMAIL}
    emails = {m.ident for m in moderators if m.kind == EMAIL}
    if not moderators:
        return {}
    rows = db.session.execute(
        select(
            Identity.provider,
            Identity.subject,
            Identity.email,
            Identity.email_verified,
            User.display_name,
        )
        .join(User, User.id == Identity.user_id)
        .where(
            Identity.subject.in_({ident for _kind, ident in subjects})
            | func.lower(Identity.email).in_(emails)
        )
    ).all()
    names: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        keys = []
        if (row.provider, row.subject) in subjects:
            keys.append((row.provider, row.subject))
        email = (row.email or "").lower()
        if email in emails and email_counts(row.provider, row.email, row.email_verified):
            keys.append((EMAIL, email))
        for key in keys:
            if row.display_name not in names.setdefault(key, []):
                names[key].append(row.display_name)
    return names
