"""Half-written comments kept server-side across a login round trip (the session holds an id)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import session
from sqlalchemy import delete, insert, update

from blog.database import write_transaction
from blog.extensions import db
from blog.models import CommentDraft

DRAFT_KEY = "comment_draft"
DRAFT_LIFETIME = timedelta(days=7)
MAX_DRAFT_CHARS = 100_000


def save_draft(
    post_id: int,
    parent_id: int | None,
    body: str,
    now: datetime,
    started: datetime | None = None,
) -> str:
    """Store (or update) this session's draft, remember it in the session; return its id.

    A new draft began when its form was first shown (`started`, where the form says), else now.
    """
    body = body.replace("\x00", "")[:MAX_DRAFT_CHARS]
    current = session.get(DRAFT_KEY)
    with write_transaction():
        # Core statements, no ORM object: a concurrent request of the same session may post the
        # comment and delete the draft at any moment (read committed); then this one starts anew.
        draft_id = None
        if isinstance(current, str):
            draft_id = db.session.scalar(
                update(CommentDraft)
                .where(CommentDraft.id == current)
                .values(post_id=post_id, parent_id=parent_id, body=body, updated_at=now)
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
                )
            )
        db.session.execute(
            delete(CommentDraft)
            .where(CommentDraft.updated_at < now - DRAFT_LIFETIME)
            .execution_options(synchronize_session=False)
        )
    session[DRAFT_KEY] = draft_id
    return draft_id


def _current() -> CommentDraft | None:
    draft_id = session.get(DRAFT_KEY)
    return db.session.get(CommentDraft, draft_id) if isinstance(draft_id, str) else None


def draft_for(post_id: int) -> CommentDraft | None:
    """This session's draft if it belongs to the given post."""
    draft = _current()
    return draft if draft is not None and draft.post_id == post_id else None


def discard_draft() -> None:
    """Forget this session's draft once the comment is posted."""
    draft_id = session.pop(DRAFT_KEY, None)
    if isinstance(draft_id, str):
        with write_transaction():
            db.session.execute(delete(CommentDraft).where(CommentDraft.id == draft_id))
