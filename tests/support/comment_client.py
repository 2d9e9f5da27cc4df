"""A logged-in reader on the Flask test client, for the comment rule, rate limit and feed tests."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from blog.auth.accounts import login_profile
from blog.auth.providers import Profile
from blog.auth.session import PROVIDER_KEY
from blog.clock import utcnow
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Comment, CommentStatus, Post
from tests.support.auth_helpers import form_data, textarea

ESSAY = "/2019/06/10/making-true-connections/"


@dataclass
class Reader:
    """A logged-in reader using the blog through the Flask test client."""

    app: Flask
    client: FlaskClient
    user_id: int

    def page(self, path: str = ESSAY) -> str:
        """A page as this reader sees it."""
        return self.client.get(path).get_data(as_text=True)

    def form(self, path: str = ESSAY) -> dict[str, str]:
        """The comment form of a post page, as a browser would submit it."""
        return form_data(self.page(path), "/comments/")

    def post(
        self, body: str, form: dict[str, str] | None = None, path: str = ESSAY, **fields: object
    ) -> TestResponse:
        """Fill in the form (a fresh one unless given) and press Post Comment."""
        data = dict(form) if form is not None else self.form(path)
        data["comment"] = body
        data.update({name: str(value) for name, value in fields.items()})
        return self.client.post("/comments/", data=data)

    def edit(self, cid: int, body: str) -> TestResponse:
        """Open a comment's edit form and save it with this text."""
        url = f"/comments/{cid}/edit"
        form = self.client.get(url)
        assert form.status_code == 200, form.get_data(as_text=True)[:2000]
        data = form_data(form.get_data(as_text=True), url)
        return self.client.post(url, data={**data, "comment": body})


def log_in(
    app: Flask,
    subject: str = "alice",
    name: str = "Alice Reader",
    email: str | None = None,
    provider: str = "google",
) -> Reader:
    """A reader whose session is logged in as (provider, subject), created on first use."""
    profile = Profile(provider, subject, name, email, email is not None, None)
    with app.app_context():
        user = login_profile(profile, utcnow())
        session_id, user_id = user.get_id(), user.id
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
        session["_fresh"] = True
        session[PROVIDER_KEY] = provider
    return Reader(app, client, user_id)


def comment_id(response: TestResponse) -> int:
    """The new comment's id from the redirect after a successful post."""
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    match = re.search(r"#comment-(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def statuses(app: Flask) -> list[CommentStatus]:
    """Every comment's status, oldest first."""
    with app.app_context():
        return list(db.session.scalars(select(Comment.status).order_by(Comment.id)))


def set_status(app: Flask, cid: int, status: CommentStatus) -> None:
    """What a moderator's action does to a comment's status."""
    with app.app_context(), write_transaction():
        db.session.get_one(Comment, cid).status = status


def post_id(app: Flask, slug: str) -> int:
    """A post's database id."""
    with app.app_context():
        found = db.session.scalar(select(Post.id).where(Post.slug == slug))
        assert found is not None
        return found


def assert_refused(response: TestResponse, status: int, message: str, body: str) -> None:
    """Refused with this status and message, and the text back in the box."""
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:2000]
    assert message in page
    assert textarea(page) == body
