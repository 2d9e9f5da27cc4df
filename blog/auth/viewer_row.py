"""The logged-in reader's row, with what every page they see asks about them: one query.

Flask-Login loads the row on each request that carries a session. The header's menu and the
comment box then ask whether the reader moderates, for their picture and for their reply-mail
choice; the answers come in the same statement and are remembered for this request only, so
a change is seen by the next one.
"""

from __future__ import annotations

import functools

from flask import current_app
from sqlalchemy import Select, bindparam, exists, select

from blog.auth.menu import remember_avatar
from blog.auth.roles import configured_moderators, moderator_identity, remember_moderator
from blog.auth.subscription_choices import remember_replies, replies_on
from blog.extensions import db
from blog.models import Avatar, Identity, User


@functools.cache
def _statement(listed: frozenset[tuple[str, str]]) -> Select[User, bool, str | None, bool]:
    """Built once per moderator list: building it costs more than running it."""
    moderates = exists().where(Identity.user_id == User.id, moderator_identity(listed))
    return (
        select(User, moderates.label("moderates"), Avatar.digest, replies_on(User.id))
        .outerjoin(Avatar, Avatar.user_id == User.id)
        .where(User.id == bindparam("id"))
    )


def load_viewer(user_id: int) -> User | None:
    """A user by primary key, their moderator answer, picture and reply-mail choice kept."""
    statement = _statement(configured_moderators(current_app.config))
    row = db.session.execute(statement, {"id": user_id}).first()
    if row is None:
        return None
    user, moderates, digest, replies = row
    remember_moderator(user_id, bool(moderates))
    remember_avatar(user_id, digest)
    remember_replies(user_id, bool(replies))
    return user
