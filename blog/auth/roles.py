"""Who moderates: identities listed by (provider, subject), or by a trusted verified email.

Two lists count, merged: the configured BLOG_MODERATORS (app.config["MODERATORS"], which the
local identity provider extends with its author identity in development), and the grants that
`flask blog admin add` stores in the database (so that every app server sees a change at once).

One query answers for a set of users; the logged-in reader's answer comes with their row
(blog/auth/viewer_row.py). Within a request the answers are remembered, so asking again
costs nothing; an anonymous page asks nothing at all. Nothing is kept between requests: a
grant is seen by the next request.
"""

from __future__ import annotations

import functools
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Select, bindparam, exists, func, or_, select

from blog.auth.providers import PROVIDERS
from blog.auth.session import request_memo
from blog.extensions import db
from blog.models import Identity, ModeratorGrant, User

EMAIL = "email"
_MEMO_KEY = "blog.moderator_ids"


def configured_moderators(config: Any) -> frozenset[tuple[str, str]]:
    """The moderators the configuration lists (BLOG_MODERATORS, the dev author)."""
    return frozenset(config.get("MODERATORS", frozenset()))


def email_counts(provider: str, email: str | None, verified: bool) -> bool:
    """Whether this identity's email may make it a moderator: verified, by a trusted provider."""
    spec = PROVIDERS.get(provider)
    return bool(spec is not None and spec.email_trusted and email and verified)


_GRANTED_BY_SUBJECT = exists().where(
    ModeratorGrant.provider == Identity.provider, ModeratorGrant.subject == Identity.subject
)
_GRANTED_BY_EMAIL = exists().where(
    ModeratorGrant.email.is_not(None), ModeratorGrant.email == func.lower(Identity.email)
)
# Plain equalities rather than IN lists: an IN list is expanded in Python at every execution,
# and the user's row is loaded with this on every request that carries a session.
_EMAIL_TRUSTED = or_(
    *(Identity.provider == name for name, spec in PROVIDERS.items() if spec.email_trusted)
)


@functools.cache
def moderator_identity(listed: frozenset[tuple[str, str]]) -> ColumnElement[bool]:
    """An identity that makes its user a moderator: granted, or listed by the configuration
    (by provider and subject, or by a verified email from a provider trusted with emails)."""
    by_subject, by_email = [], []
    for kind, ident in sorted(listed):
        if kind == EMAIL:
            by_email.append(func.lower(Identity.email) == ident)
        else:
            by_subject.append((Identity.provider == kind) & (Identity.subject == ident))
    email_ok = _EMAIL_TRUSTED & Identity.email_verified
    return or_(_GRANTED_BY_SUBJECT, *by_subject, email_ok & or_(_GRANTED_BY_EMAIL, *by_email))


@functools.cache
def _moderators_among(listed: frozenset[tuple[str, str]]) -> Select[int]:
    return (
        select(Identity.user_id)
        .where(Identity.user_id.in_(bindparam("user_ids", expanding=True)))
        .where(moderator_identity(listed))
        .distinct()
    )


def _lookup(user_ids: set[int]) -> dict[int, bool]:
    """Whether each of these users is a moderator, configured or granted, in one query."""
    statement = _moderators_among(configured_moderators(current_app.config))
    found = set(db.session.scalars(statement, {"user_ids": sorted(user_ids)}))
    return {user_id: user_id in found for user_id in user_ids}


def remember_moderator(user_id: int, answer: bool) -> None:
    """Keep an answer found elsewhere (with the reader's row) for the rest of this request."""
    request_memo(_MEMO_KEY)[user_id] = answer


def moderator_user_ids(user_ids: set[int]) -> set[int]:
    """Which of these users are moderators (for the Author badge), in one query at most."""
    if not user_ids:
        return set()
    memo = request_memo(_MEMO_KEY)
    unknown = user_ids - memo.keys()
    if unknown:
        memo.update(_lookup(unknown))
    return {user_id for user_id in user_ids if memo[user_id]}


def is_moderator(user: User | None) -> bool:
    """True when any of the user's identities is a moderator's (configured or granted)."""
    if user is None or user.id is None:
        return False
    return user.id in moderator_user_ids({user.id})
