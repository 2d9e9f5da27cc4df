"""The logged-in reader's user row, kept between requests while no write has touched it.

Every request of a logged-in reader needs its row, to check the session generation: the row
is kept in the fragment cache, keyed by the versions of its user tag (blog/cache/tracking
bumps them on any write to users, in every process), and handed to the request's session as
a copy with no query. A kept row is never attached to a session, so no request changes it.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import make_transient_to_detached

from blog.cache.fragments import versioned
from blog.cache.tracking import user_tags
from blog.extensions import db
from blog.models import User

# Built once: every logged-in request may run it, and it costs less than Session.get's lookup.
_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))
_COLUMNS = tuple(attr.key for attr in User.__mapper__.column_attrs)
# What a kept row costs in memory, roughly: its columns and the ORM's state.
ROW_BYTES = 2000


def session_user(user_id: int) -> User | None:
    """The user with this id in this request's session, read from the database only when its
    row changed since this process last read it."""
    loaded: list[User] = []

    def load() -> User | None:
        user = db.session.execute(_USER_BY_ID, {"user_id": user_id}).scalar_one_or_none()
        if user is None:
            return None
        loaded.append(user)
        return _detached_copy(user)

    kept = versioned(("user-row", user_id), user_tags(user_id), load, _row_bytes)
    if loaded:
        return loaded[0]
    return db.session.merge(kept, load=False) if kept is not None else None


def _row_bytes(_user: User | None) -> int:
    return ROW_BYTES


def _detached_copy(user: User) -> User:
    """A copy of the row's columns that belongs to no session, as if loaded and detached."""
    copy = User(**{key: getattr(user, key) for key in _COLUMNS})
    make_transient_to_detached(copy)
    return copy
