"""A private word to the author: "Send privately to the author" in the comment box.

A note goes through the comment rules (a live post open to comments, the text's length, bans,
the flood limit, the spam rules) but is never shown on a shared page: only the moderators'
Notes list, the author's mail and its sender's account page show it. The author answers by
mail (Reply-To is the sender's verified address) or publicly, with a comment of their own.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from blog.auth.roles import is_moderator
from blog.comments.rules import (
    CommentRules,
    Submission,
    flood_wait,
    ip_hash,
    spam_reason,
    stale_form,
)
from blog.comments.service import (
    STALE_FORM_MESSAGE,
    CommentRejected,
    NewComment,
    ban_message,
    clean_body,
    commentable_post,
    create_comment,
)
from blog.content.comment_markup import render_comment
from blog.database import write_transaction
from blog.extensions import db
from blog.mail.notify import comment_created
from blog.mail.outbox import enqueue, site_url
from blog.models import NoteStatus, PrivateNote, User

log = logging.getLogger(__name__)

NOTES_PATH = "/admin/notes"
FLOOD_MESSAGE = "You are sending notes too quickly. Slow down, and send it again in a moment."


def send_note(
    user: User, submission: Submission, now: datetime, rules: CommentRules, ip_key: str
) -> PrivateNote:
    """Apply the comment rules and store the note (mailed to the author), or CommentRejected."""
    if stale_form(submission.form_started, now, rules):
        raise CommentRejected(STALE_FORM_MESSAGE, 400)
    text = clean_body(submission.body, rules)
    html = render_comment(text)
    with write_transaction():
        post = commentable_post(submission.post_id, now, rules)
        if user.banned_at(now) and not is_moderator(user):
            raise CommentRejected(ban_message(user), 403)
        _refuse_flood(user, now, rules)
        spam = spam_reason(submission, html, user.display_name, user.email, rules)
        note = PrivateNote(
            post_id=post.id,
            user_id=user.id,
            author_name=user.display_name,
            body=text,
            body_html=html,
            ip_hash=ip_hash(submission.ip, ip_key),
            status=NoteStatus.SPAM if spam else NoteStatus.NEW,
            created_at=now,
        )
        db.session.add(note)
        db.session.flush()
        if spam:
            log.info("private note %s marked as spam: %s", note.id, spam)
        else:
            _mail_author(note, post.title, post.path, now)
    return note


def _refuse_flood(user: User, now: datetime, rules: CommentRules) -> None:
    last = db.session.scalar(
        select(PrivateNote.created_at)
        .where(PrivateNote.user_id == user.id)
        .order_by(PrivateNote.created_at.desc())
        .limit(1)
    )
    wait = flood_wait(last, now, rules)
    if wait:
        raise CommentRejected(FLOOD_MESSAGE, 429, retry_after=wait)


def reader_address(user: User | None) -> str | None:
    """Where a reply by mail goes: the address the sender's provider verified, else nowhere."""
    if user is None or not user.email or not user.email_verified:
        return None
    return user.email.strip()


def _mail_author(note: PrivateNote, title: str, path: str, now: datetime) -> None:
    to = str(current_app.config.get("AUTHOR_EMAIL") or "").strip()
    if not to:
        return
    reply_to = reader_address(note.user)
    body = current_app.jinja_env.get_template("mail/private_note.txt").render(
        site_title=current_app.config["SITE_TITLE"],
        note=note,
        title=title,
        post_url=site_url(path),
        notes_url=site_url(NOTES_PATH),
        reply_to=reply_to,
    )
    subject = f'[{current_app.config["SITE_TITLE"]}] A private note on "{title}"'
    headers = {"Reply-To": reply_to} if reply_to else None
    enqueue(to, subject, body.strip() + "\n", headers, now, notice=f"private-note-{note.id}")


def notes_list(limit: int = 200) -> list[PrivateNote]:
    """The moderators' Notes list, newest first (spam last)."""
    return list(
        db.session.scalars(
            select(PrivateNote)
            .order_by(PrivateNote.status == NoteStatus.SPAM, PrivateNote.created_at.desc())
            .limit(limit)
        )
    )


def mark_answered(note_id: int, now: datetime) -> PrivateNote | None:
    """Note that the author answered it (publicly or by mail)."""
    with write_transaction():
        note = db.session.get(PrivateNote, note_id)
        if note is not None:
            note.status = NoteStatus.ANSWERED
            note.answered_at = now
    return note


def delete_note(note_id: int) -> bool:
    """A moderator's delete; False when there was no such note."""
    with write_transaction():
        note = db.session.get(PrivateNote, note_id)
        if note is None:
            return False
        db.session.delete(note)
    return True


def answer_publicly(
    moderator: User, note_id: int, body: str, now: datetime, rules: CommentRules, ip_key: str
) -> NewComment:
    """The author's public answer: a comment of theirs on the note's post; the note stays
    private. CommentRejected when there is no such note or the text breaks a rule."""
    note = db.session.get(PrivateNote, note_id)
    if note is None:
        raise CommentRejected("That note does not exist (any more).", 404)
    submission = Submission(
        post_id=note.post_id,
        parent_id=None,
        body=body,
        # Moderators skip the anti-spam rules; a plausible start time keeps the log quiet.
        form_started=now - timedelta(seconds=rules.min_form_seconds),
        is_moderator=True,
    )
    created = create_comment(moderator, submission, now, rules, ip_key)
    comment_created(created.id, created.post_id, created.status, None)
    mark_answered(note_id, now)
    return created
