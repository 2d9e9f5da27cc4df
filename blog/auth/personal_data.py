"""What the blog holds about a person: all of it in their export, none of it after deletion.

A person's addresses are those their provider verified and those they confirmed by a
subscription's double opt-in; an address they typed but never confirmed may be someone
else's, so only what they asked for with it goes, never the owner's own mail.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update

from blog.database import write_transaction
from blog.extensions import db
from blog.models import (
    Avatar,
    Comment,
    CommentDraft,
    CommentEdit,
    CommentReport,
    CommentStatus,
    ImportedComment,
    Like,
    MailMessage,
    MailStatus,
    Post,
    PrivateNote,
    Subscription,
    User,
)

DELETED_NAME = "Deleted user"

# Every table, and what deleting an account does to its rows (tests/test_account checks that
# each table of the models is here, so a new one needs a decision).
ON_DELETION = {
    "users": "kept, emptied: no name, email or ban reason; every session ended",
    "identities": "deleted",
    "avatars": "deleted",
    "comments": "kept in their threads without user, name, provider or IP hash",
    "comment_drafts": "theirs deleted",
    "comment_edits": "deleted: an edit no moderator approved was never published",
    "likes": "deleted: theirs, of posts and comments (the counts drop)",
    "comment_reports": "deleted: theirs (a comment they helped hold stays held for a moderator)",
    "featured_comments": "kept: the author's choice; the comment it pins is anonymised",
    "private_notes": "deleted: their notes to the author, which were never public",
    "subscriptions": "deleted: those they made, and any to their addresses",
    "mail_outbox": "deleted: mail to their addresses; unsent mail to an address they typed",
    "deletion_requests": "kept: a hash of the Facebook id and the code its status page shows",
    "moderator_grants": "kept: the operator's list, changed with `flask blog admin remove`",
    "posts": "not about readers",
    "post_aliases": "not about readers",
    "terms": "not about readers",
    "post_terms": "not about readers",
    "old_links": "not about readers: an imported site's old addresses",
    "imported_files": "not about readers: which post file an import wrote",
    "imported_comments": "their claimed ones kept without email, and never filled again by a"
    " re-import; the comments themselves as above, without their website",
}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def own_addresses(user: User) -> set[str]:
    """The user's addresses, lower-cased: verified by a provider or confirmed by them."""
    found = {user.email} if user.email and user.email_verified else set()
    found |= {i.email for i in user.identities if i.email and i.email_verified}
    found |= set(
        db.session.scalars(
            select(Subscription.email).where(
                Subscription.user_id == user.id, Subscription.confirmed_at.is_not(None)
            )
        )
    )
    return {address.lower() for address in found}


def _subscriptions_of(user_id: int, own: set[str]) -> ColumnElement[bool]:
    return or_(Subscription.user_id == user_id, func.lower(Subscription.email).in_(own))


def erase(user_id: int, now: datetime) -> bool:
    """Delete or anonymise every row about the user, in the caller's write transaction;
    False when there is no such user."""
    user = db.session.get(User, user_id)
    if user is None:
        return False
    own = own_addresses(user)
    typed = {
        address.lower()
        for address in db.session.scalars(
            select(Subscription.email).where(Subscription.user_id == user_id)
        )
    } - own
    to_address = func.lower(MailMessage.to_address)
    db.session.execute(delete(MailMessage).where(to_address.in_(own)))
    if typed:
        # What was sent stays: it counts toward that address's daily limit of confirmations.
        db.session.execute(
            delete(MailMessage).where(to_address.in_(typed), MailMessage.status != MailStatus.SENT)
        )
    db.session.execute(delete(Subscription).where(_subscriptions_of(user_id, own)))
    db.session.execute(delete(CommentDraft).where(CommentDraft.user_id == user_id))
    # Row by row: only the posts they liked go stale (a bulk DELETE names no post).
    for like in db.session.scalars(select(Like).where(Like.user_id == user_id)):
        db.session.delete(like)
    db.session.execute(delete(CommentReport).where(CommentReport.user_id == user_id))
    db.session.execute(delete(PrivateNote).where(PrivateNote.user_id == user_id))
    written = select(Comment.id).where(Comment.user_id == user_id)
    db.session.execute(delete(CommentEdit).where(CommentEdit.comment_id.in_(written)))
    # An empty source hash marks the row erased: a re-import leaves it alone.
    db.session.execute(
        update(ImportedComment)
        .where(ImportedComment.comment_id.in_(written))
        .values(author_email=None, source_hash="")
    )
    # A comment they deleted keeps its text only while they may undo: nobody can any more.
    db.session.execute(
        update(Comment)
        .where(Comment.user_id == user_id, Comment.status == CommentStatus.DELETED)
        .values(body="", body_html="")
    )
    db.session.execute(
        update(Comment)
        .where(Comment.user_id == user_id)
        .values(
            user_id=None, author_name=DELETED_NAME, author_url=None, provider=None, ip_hash=None
        )
    )
    avatar = db.session.get(Avatar, user_id)
    if avatar is not None:
        db.session.delete(avatar)
    user.identities.clear()
    user.display_name = DELETED_NAME
    user.email = None
    user.email_verified = False
    user.ban_reason = None
    user.deleted_at = now
    user.session_generation += 1
    return True


def delete_account(user_id: int, now: datetime) -> None:
    """Remove identities, avatar, subscriptions, mail, drafts; comments stay, anonymised."""
    with write_transaction():
        erase(user_id, now)


def export_data(user: User) -> dict[str, Any]:
    """Everything the blog holds about a user, as JSON-ready data."""
    own = own_addresses(user)
    return {
        "user": {
            "id": user.id,
            "display_name": user.display_name,
            "email": user.email,
            "email_verified": user.email_verified,
            "created_at": user.created_at.isoformat(),
            "banned_until": _iso(user.banned_until),
            "ban_permanent": user.ban_permanent,
            "ban_reason": user.ban_reason,
        },
        "identities": [
            {
                "provider": i.provider,
                "subject": i.subject,
                "display_name": i.display_name,
                "email": i.email,
                "email_verified": i.email_verified,
                "linked_at": i.created_at.isoformat(),
                "last_login_at": i.last_login_at.isoformat(),
            }
            for i in user.identities
        ],
        "avatar": _avatar(user.id),
        "comments": _comments(user.id),
        "drafts": _drafts(user.id),
        "subscriptions": _subscriptions(user.id, own),
        "private_notes": _notes(user.id),
        "mail": _mail(own),
        "likes": _likes(user.id),
        "reports": _reports(user.id),
    }


def _avatar(user_id: int) -> dict[str, Any] | None:
    avatar = db.session.get(Avatar, user_id)
    if avatar is None:
        return None
    return {
        "content_type": avatar.content_type,
        "fetched_at": avatar.fetched_at.isoformat(),
        "data_base64": base64.b64encode(avatar.data).decode("ascii"),
    }


def _comments(user_id: int) -> list[dict[str, Any]]:
    comments = db.session.scalars(
        select(Comment).where(Comment.user_id == user_id).order_by(Comment.created_at, Comment.id)
    ).all()
    imported = {
        row.comment_id: row
        for row in db.session.scalars(
            select(ImportedComment).where(ImportedComment.comment_id.in_([c.id for c in comments]))
        )
    }
    held = {
        edit.comment_id: edit.body
        for edit in db.session.scalars(
            select(CommentEdit).where(CommentEdit.comment_id.in_([c.id for c in comments]))
        )
    }
    return [
        {
            "id": c.id,
            "post": c.post.path,
            "parent_id": c.parent_id,
            "status": c.status.value,
            "author_name": c.author_name,
            "provider": c.provider,
            "text": c.body,
            "ip_hash": c.ip_hash,
            "created_at": c.created_at.isoformat(),
            "edited_at": _iso(c.edited_at),
            "deleted_at": _iso(c.deleted_at),
            "edit_awaiting_moderation": held.get(c.id),
            "imported": _imported(imported.get(c.id)),
            "paragraph": c.paragraph_id,
            "paragraph_quote": c.paragraph_quote,
        }
        for c in comments
    ]


def _imported(row: ImportedComment | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"source": row.source, "source_id": row.source_id, "email": row.author_email}


def imported_comments(user_id: int) -> list[tuple[Comment, str]]:
    """The user's comments brought by an import (claimed by their verified email), with
    the source each came from, oldest first."""
    return [
        (comment, source)
        for comment, source in db.session.execute(
            select(Comment, ImportedComment.source)
            .join(ImportedComment, ImportedComment.comment_id == Comment.id)
            .where(Comment.user_id == user_id)
            .order_by(Comment.created_at, Comment.id)
        ).all()
    ]


def _likes(user_id: int) -> list[dict[str, Any]]:
    likes = db.session.scalars(
        select(Like).where(Like.user_id == user_id).order_by(Like.created_at, Like.id)
    )
    return [
        {
            "post": _post_path(like.post_id),
            "comment_id": like.comment_id,
            "created_at": like.created_at.isoformat(),
        }
        for like in likes
    ]


def _reports(user_id: int) -> list[dict[str, Any]]:
    reports = db.session.scalars(
        select(CommentReport)
        .where(CommentReport.user_id == user_id)
        .order_by(CommentReport.created_at, CommentReport.id)
    )
    return [
        {
            "comment_id": r.comment_id,
            "reason": r.reason.value,
            "note": r.note,
            "status": r.status.value,
            "created_at": r.created_at.isoformat(),
            "resolved_at": _iso(r.resolved_at),
        }
        for r in reports
    ]


def _notes(user_id: int) -> list[dict[str, Any]]:
    notes = db.session.scalars(
        select(PrivateNote).where(PrivateNote.user_id == user_id).order_by(PrivateNote.id)
    )
    return [
        {
            "post": _post_path(n.post_id),
            "text": n.body,
            "status": n.status.value,
            "ip_hash": n.ip_hash,
            "created_at": n.created_at.isoformat(),
            "answered_at": _iso(n.answered_at),
        }
        for n in notes
    ]


def _post_path(post_id: int | None) -> str | None:
    post = db.session.get(Post, post_id) if post_id is not None else None
    return post.path if post is not None else None


def _drafts(user_id: int) -> list[dict[str, Any]]:
    drafts = db.session.scalars(
        select(CommentDraft)
        .where(CommentDraft.user_id == user_id)
        .order_by(CommentDraft.updated_at)
    )
    return [
        {
            "post": _post_path(d.post_id),
            "parent_id": d.parent_id,
            "text": d.body,
            "started_at": d.started_at.isoformat(),
            "updated_at": d.updated_at.isoformat(),
        }
        for d in drafts
    ]


def _subscriptions(user_id: int, own: set[str]) -> list[dict[str, Any]]:
    subscriptions = db.session.scalars(
        select(Subscription).where(_subscriptions_of(user_id, own)).order_by(Subscription.id)
    )
    return [
        {
            "kind": s.kind.value,
            "email": s.email,
            "post": _post_path(s.post_id),
            "created_at": s.created_at.isoformat(),
            "confirmed_at": _iso(s.confirmed_at),
            "unsubscribed_at": _iso(s.unsubscribed_at),
        }
        for s in subscriptions
    ]


def _mail(own: set[str]) -> list[dict[str, Any]]:
    messages = db.session.scalars(
        select(MailMessage)
        .where(func.lower(MailMessage.to_address).in_(own))
        .order_by(MailMessage.id)
    )
    return [
        {
            "to": m.to_address,
            "subject": m.subject,
            "text": m.body_text,
            "status": m.status.value,
            "created_at": m.created_at.isoformat(),
            "sent_at": _iso(m.sent_at),
        }
        for m in messages
    ]
