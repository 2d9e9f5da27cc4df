"""Who moderates: identities listed by (provider, subject), or by a trusted verified email.

Two lists count, merged: the configured BLOG_MODERATORS (app.config["MODERATORS"], which the
local identity provider extends with its author identity in development), and the grants that
`flask blog admin add` stores in the database (so that every app server sees a change at once).

One query answers for a set of users; the logged-in reader's answer comes with their row (the
user loader asks `user_by_id`). Within a request the answers are remembered, so asking again
costs nothing; an anonymous page asks nothing at all. Nothing is kept between requests: a
grant is seen by the next request.
"""

from __future__ import annotations

import functools
from typing import Any, cast

from flask import current_app, has_request_context, request
from sqlalchemy import ColumnElement, Select, bindparam, exists, func, or_, select

from blog.auth.providers import PROVIDERS
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


def _memo() -> dict[int, bool]:
    """This request's answers so far (a fresh dict outside a request: nothing is remembered)."""
    if not has_request_context():
        return {}
    # In the request's environ, not on `g`: an app context held around requests shares `g`.
    memo: dict[int, bool] = request.environ.setdefault(_MEMO_KEY, {})
    return memo


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
def _moderator_identity(listed: frozenset[tuple[str, str]]) -> ColumnElement[bool]:
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
        .where(_moderator_identity(listed))
        .distinct()
    )


@functools.cache
def _user_and_role(listed: frozenset[tuple[str, str]]) -> Select[User, bool]:
    moderates = exists().where(Identity.user_id == User.id, _moderator_identity(listed))
    return select(User, moderates.label("moderates")).where(User.id == bindparam("id"))


def _lookup(user_ids: set[int]) -> dict[int, bool]:
    """Whether each of these users is a moderator, configured or granted, in one query."""
    statement = _moderators_among(configured_moderators(current_app.config))
    found = set(db.session.scalars(statement, {"user_ids": sorted(user_ids)}))
    return {user_id: user_id in found for user_id in user_ids}


def user_by_id(user_id: int) -> User | None:
    """A user by primary key, and (remembered for this request) whether they moderate: the
    question every page a moderator can act on asks, answered in the same query."""
    statement = _user_and_role(configured_moderators(current_app.config))
    row = db.session.execute(statement, {"id": user_id}).first()
    if row is None:
        return None
    _memo()[user_id] = bool(row.moderates)
    return cast(User, row.User)


def moderator_user_ids(user_ids: set[int]) -> set[int]:
    """Which of these users are moderators (for the Author badge), in one query at most."""
    if not user_ids:
        return set()
    memo = _memo()
    unknown = user_ids - memo.keys()
    if unknown:
        memo.update(_lookup(unknown))
    return {user_id for user_id in user_ids if memo[user_id]}


def is_moderator(user: User | None) -> bool:
    """True when any of the user's identities is a moderator's (configured or granted)."""
    if user is None or user.id is None:
        return False
    return user.id in moderator_user_ids({user.id})
