"""Half-written comments kept server-side across a login round trip (the session holds an id).

Only a reader with a session of ours has one: a request without our session cookie gets its
text shown back on the page, never stored (anyone can send those by the thousand). The login
start is the exception, as it gives the reader their session. A draft is no longer than a
comment may be, a session has one at a time, all sessions together at most MAX_DRAFTS (the
oldest go first), and each is gone DRAFT_LIFETIME after it was last saved.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app, session
from sqlalchemy import delete, insert, select, update

from blog.auth.session import has_session_cookie, viewer
from blog.clock import utcnow
from blog.database import write_transaction
from blog.extensions import db
from blog.models import CommentDraft

DRAFT_KEY = "comment_draft"
DRAFT_LIFETIME = timedelta(days=7)
MAX_DRAFTS = 1000


def save_draft(
    post_id: int,
    parent_id: int | None,
    body: str,
    now: datetime,
    started: datetime | None = None,
    *,
    starts_session: bool = False,
) -> str | None:
    """Store (or update) this session's draft, remember it in the session; return its id.

    None, and nothing stored, for a request without our session cookie, unless it is the
    login start (`starts_session`). A new draft began when its form was first shown
    (`started`, where the form says), else now.
    """
    if not (starts_session or has_session_cookie()):
        return None
    body = body.replace("\x00", "")[: current_app.config["COMMENT_MAX_CHARS"]]
    reader = viewer()
    owner = reader.id if reader is not None else None
    current = session.get(DRAFT_KEY)
    changes = {"post_id": post_id, "parent_id": parent_id, "body": body, "updated_at": now}
    if owner is not None:
        changes["user_id"] = owner  # a draft saved before logging in stays theirs
    with write_transaction():
        # Core statements, no ORM object: a concurrent request of the same session may post the
        # comment and delete the draft at any moment (read committed); then this one starts anew.
        draft_id = None
        if isinstance(current, str):
            draft_id = db.session.scalar(
                update(CommentDraft)
                .where(CommentDraft.id == current, CommentDraft.updated_at >= now - DRAFT_LIFETIME)
                .values(changes)
                .returning(CommentDraft.id)
                .execution_options(synchronize_session=False)
            )
        if draft_id is None:
            draft_id = secrets.token_urlsafe(32)
            db.session.execute(
                insert(CommentDraft).values(
                    id=draft_id,
                    started_at=started if started is not None and started <= now else now,
                    post_id=post_id,
                    parent_id=parent_id,
                    body=body,
                    updated_at=now,
                    user_id=owner,
                )
            )
            _clear_away(draft_id, now)
    session[DRAFT_KEY] = draft_id
    return draft_id


def _clear_away(kept: str, now: datetime) -> None:
    """Drop expired drafts, and the oldest beyond MAX_DRAFTS (never the one just saved)."""
    db.session.execute(
        delete(CommentDraft)
        .where(CommentDraft.updated_at < now - DRAFT_LIFETIME)
        .execution_options(synchronize_session=False)
    )
    others_newest_first = (
        select(CommentDraft.id)
        .where(CommentDraft.id != kept)
        .order_by(CommentDraft.updated_at.desc(), CommentDraft.id.desc())
        .offset(MAX_DRAFTS - 1)
    )
    db.session.execute(
        delete(CommentDraft)
        .where(CommentDraft.id.in_(others_newest_first.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )


def _current() -> CommentDraft | None:
    draft_id = session.get(DRAFT_KEY)
    if not isinstance(draft_id, str):
        return None
    draft = db.session.get(CommentDraft, draft_id)
    return draft if draft is not None and draft.updated_at >= utcnow() - DRAFT_LIFETIME else None


def draft_for(post_id: int) -> CommentDraft | None:
    """This session's draft if it belongs to the given post and has not expired."""
    draft = _current()
    return draft if draft is not None and draft.post_id == post_id else None


def claim_draft(user_id: int) -> None:
    """Make this session's draft the user's, once they have logged in."""
    draft_id = session.get(DRAFT_KEY)
    if isinstance(draft_id, str):
        with write_transaction():
            db.session.execute(
                update(CommentDraft).where(CommentDraft.id == draft_id).values(user_id=user_id)
            )


def discard_draft() -> None:
    """Forget this session's draft once the comment is posted."""
    draft_id = session.pop(DRAFT_KEY, None)
    if isinstance(draft_id, str):
        with write_transaction():
            db.session.execute(delete(CommentDraft).where(CommentDraft.id == draft_id))
