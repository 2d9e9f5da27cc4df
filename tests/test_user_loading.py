"""The logged-in reader's row is read by each request: every write to it, in any process, is
seen by the next request (a logout, an account change, a raw statement)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from blog.auth.accounts import end_sessions
from blog.database import write_transaction
from blog.extensions import db
from blog.models import User
from tests.support.moderation_helpers import ESSAY, add_user, csrf_token, log_in

Make = Callable[..., Flask]
LOGGED_IN = "You are commenting using your Google account."


@pytest.fixture
def workers(essay: Path, make_app: Make) -> tuple[Flask, Flask]:
    """Two apps on one database and one set of versions, as two gunicorn workers are."""
    return make_app(PAGE_CACHE=False), make_app(PAGE_CACHE=False, SYNC_ON_START=False)


def essay_page(client: FlaskClient) -> str:
    """The essay as this client sees it."""
    response = client.get(ESSAY)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_logout_in_another_worker_ends_the_session(workers: tuple[Flask, Flask]) -> None:
    app, other = workers
    client = app.test_client()
    alice = add_user(app, "Alice")
    log_in(client, alice)
    assert LOGGED_IN in essay_page(client)
    with other.app_context():
        end_sessions(alice)
    page = essay_page(client)
    assert LOGGED_IN not in page
    assert '<form method="post" action="/auth/start"' in page  # the logged-out form


def test_a_change_to_the_row_in_another_worker_shows_at_once(
    workers: tuple[Flask, Flask],
) -> None:
    app, other = workers
    client = app.test_client()
    alice = add_user(app, "Alice")
    log_in(client, alice)
    assert 'value=""' in essay_page(client).split('id="subscribe_email"')[1][:200]
    with other.app_context(), write_transaction():
        user = db.session.get(User, alice)
        assert user is not None
        user.email = "alice.new@example.com"
    assert 'value="alice.new@example.com"' in essay_page(client)
    with other.app_context(), write_transaction():
        db.session.execute(
            text("UPDATE users SET email = :email WHERE id = :id"),
            {"email": "alice.raw@example.com", "id": alice},
        )
    assert 'value="alice.raw@example.com"' in essay_page(client)


def test_a_request_that_changes_its_user_writes_the_row(workers: tuple[Flask, Flask]) -> None:
    """Deleting the account through the request's user is a real write, and every worker's
    copy of the cookie stops working."""
    app, other = workers
    alice = add_user(app, "Alice")
    mine, copied = app.test_client(), other.test_client()
    log_in(mine, alice)
    log_in(copied, alice)
    assert LOGGED_IN in essay_page(mine) and LOGGED_IN in essay_page(copied)
    token = csrf_token(mine)
    response = mine.post("/account/delete", data={"confirm": "delete", "csrf_token": token})
    assert response.status_code == 303
    with app.app_context():
        user = db.session.get(User, alice)
        assert user is not None and user.deleted_at is not None and user.email is None
    assert LOGGED_IN not in essay_page(copied)
