"""Helpers for the moderation tests: users, test-client logins, CSRF tokens, comments."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from blog.auth.accounts import login_profile
from blog.auth.providers import Profile
from blog.clock import utcnow
from blog.comments.page import rules
from blog.comments.rules import Submission
from blog.comments.service import create_comment
from blog.extensions import db
from blog.models import Comment, CommentStatus, Post, User

ESSAY = "/2019/06/10/making-true-connections/"
ESSAY_SLUG = "making-true-connections"
MODERATOR_SUBJECT = "moderator-subject-1"
MODERATORS = frozenset({("google", MODERATOR_SUBJECT)})
IP = "203.0.113.9"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_user(app: Flask, name: str, subject: str | None = None, provider: str = "google") -> int:
    """A user who logged in once with a provider; returns their id."""
    with app.app_context():
        profile = Profile(provider, subject or f"sub-{name.lower()}", name, None, False, None)
        return login_profile(profile, utcnow()).id


def add_moderator(app: Flask, name: str = "The Author") -> int:
    """The user whose Google identity the test configuration lists as a moderator."""
    return add_user(app, name, MODERATOR_SUBJECT)


def log_in(client: FlaskClient, user_id: int, provider: str = "google") -> None:
    """Give a test client the session a real login would leave."""
    with client.application.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        session_id = user.get_id()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
        session["provider"] = provider


def csrf_token(client: FlaskClient) -> str:
    """A valid CSRF token for this client's session, made as Flask-WTF makes them."""
    with client.session_transaction() as session:
        raw = session.setdefault("csrf_token", secrets.token_hex(20))
    app = client.application
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    assert secret is not None
    return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)


def essay_post_id(app: Flask) -> int:
    """The essay's post id."""
    with app.app_context():
        post_id = db.session.scalar(select(Post.id).where(Post.slug == ESSAY_SLUG))
        assert post_id is not None
        return post_id


def add_comment(
    app: Flask,
    user_id: int,
    body: str,
    parent_id: int | None = None,
    moderator: bool = False,
    status: CommentStatus | None = None,
) -> int:
    """A comment through the comment service (every rule applied); optionally force a status."""
    post_id = essay_post_id(app)
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        submission = Submission(
            post_id=post_id,
            parent_id=parent_id,
            body=body,
            provider="google",
            form_started=utcnow() - timedelta(minutes=5),
            ip=IP,
            is_moderator=moderator,
        )
        comment = create_comment(user, submission, utcnow(), rules(), app.config["SECRET_KEY"])
        if status is not None and comment.status is not status:
            stored = db.session.get(Comment, comment.id)
            assert stored is not None
            stored.status = status
            db.session.commit()
        return comment.id


def set_status(app: Flask, comment_id: int, status: CommentStatus) -> None:
    """Put a comment straight into a status."""
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment is not None
        comment.status = status
        db.session.commit()


def status_of(app: Flask, comment_id: int) -> CommentStatus | None:
    """A comment's status, or None when the row is gone."""
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        return comment.status if comment is not None else None


def page_csrf(html: str) -> str:
    """The CSRF token in a page."""
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)
