"""Half-written comments kept server-side; the session only holds the draft's random id."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import session
from sqlalchemy import delete

from blog.database import write_transaction
from blog.extensions import db
from blog.models import CommentDraft

DRAFT_KEY = "comment_draft"
DRAFT_LIFETIME = timedelta(days=7)
MAX_DRAFT_CHARS = 100_000


def save_draft(post_id: int, parent_id: int | None, body: str, now: datetime) -> CommentDraft:
    """Store (or update) this session's draft and remember its id in the session."""
    with write_transaction():
        draft = _current()
        if draft is None:
            draft = CommentDraft(id=secrets.token_urlsafe(32), started_at=now)
            db.session.add(draft)
        draft.post_id = post_id
        draft.parent_id = parent_id
        draft.body = body[:MAX_DRAFT_CHARS]
        draft.updated_at = now
        db.session.execute(
            delete(CommentDraft).where(CommentDraft.updated_at < now - DRAFT_LIFETIME)
        )
    session[DRAFT_KEY] = draft.id
    return draft


def _current() -> CommentDraft | None:
    draft_id = session.get(DRAFT_KEY)
    return db.session.get(CommentDraft, draft_id) if isinstance(draft_id, str) else None


def draft_for(post_id: int) -> CommentDraft | None:
    """This session's draft if it belongs to the given post."""
    draft = _current()
    return draft if draft is not None and draft.post_id == post_id else None


def discard_draft() -> None:
    """Forget this session's draft once the comment is posted."""
    draft = _current()
    session.pop(DRAFT_KEY, None)
    if draft is not None:
        with write_transaction():
            db.session.execute(delete(CommentDraft).where(CommentDraft.id == draft.id))
