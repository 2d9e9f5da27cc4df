"""Who moderates: identities listed by (provider, subject), or by a trusted verified email.

Two lists count, merged: the configured BLOG_MODERATORS (app.config["MODERATORS"], which the
local identity provider extends with its author identity in development), and the grants that
`flask blog admin add` stores in the database (so that every app server sees a change at once).

One query answers for a set of users: their identities, each with whether a grant names it.
Within a request the answers are remembered, so asking again costs nothing; an anonymous page
asks nothing at all. Nothing is kept between requests: a grant is seen by the next request.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request
from sqlalchemy import bindparam, exists, func, select

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


def is_moderator_identity(identity: Identity, config: Any) -> bool:
    """An identity that the configuration names, directly or by a trusted verified email."""
    listed = configured_moderators(config)
    if (identity.provider, identity.subject) in listed:
        return True
    return (
        email_counts(identity.provider, identity.email, identity.email_verified)
        and (
            EMAIL,
            (identity.email or "").lower(),
        )
        in listed
    )


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
# Built once: the post page asks on every view, and building costs more than running it.
_IDENTITIES_WITH_GRANTS = select(
    Identity.user_id,
    Identity.provider,
    Identity.subject,
    Identity.email,
    Identity.email_verified,
    _GRANTED_BY_SUBJECT.label("granted"),
    _GRANTED_BY_EMAIL.label("granted_email"),
).where(Identity.user_id.in_(bindparam("user_ids", expanding=True)))


def _lookup(user_ids: set[int]) -> dict[int, bool]:
    """Whether each of these users is a moderator, configured or granted, in one query."""
    params = {"user_ids": sorted(user_ids)}
    rows = db.session.connection().execute(_IDENTITIES_WITH_GRANTS, params).all()
    listed = configured_moderators(current_app.config)
    found = dict.fromkeys(user_ids, False)
    for row in rows:
        email_ok = email_counts(row.provider, row.email, row.email_verified)
        found[row.user_id] = found[row.user_id] or bool(
            row.granted
            or (row.provider, row.subject) in listed
            or (email_ok and (row.granted_email or (EMAIL, row.email.lower()) in listed))
        )
    return found


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
