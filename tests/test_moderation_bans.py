"""Bans: for a time or for good, with a reason the banned reader sees; hide-all; unban."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from blog.clock import FrozenClock
from blog.extensions import db
from blog.models import CommentStatus, User
from blog.moderation import bans
from blog.moderation.bans import Ban
from blog.moderation.service import ModerationError
from tests.conftest import NOW
from tests.support.auth_helpers import form_data
from tests.support.moderation_helpers import (
    ESSAY,
    MODERATORS,
    add_comment,
    add_moderator,
    add_user,
    log_in,
    status_of,
)

S = CommentStatus


@pytest.fixture
def app(essay: Path, make_app: Callable[..., Flask]) -> Flask:
    """The essay, one moderator configured, nothing held."""
    return make_app(MODERATORS=MODERATORS)


def ban(app: Flask, user_id: int, days: int | None, reason: str = "", hide: bool = False) -> int:
    with app.app_context():
        from blog.clock import utcnow

        return bans.ban_user(user_id, Ban(days, reason, hide), utcnow())


def post_comment(client: FlaskClient, body: str) -> TestResponse:
    """Submit the logged-in comment form of the essay, as a browser would."""
    page = client.get(ESSAY)
    data = form_data(page.get_data(as_text=True), "/comments/")
    data["comment"] = body
    return client.post("/comments/", data=data)


def reader(app: Flask, user_id: int) -> FlaskClient:
    client = app.test_client()
    log_in(client, user_id)
    return client


def test_a_ban_for_days_refuses_comments_saying_why_and_until_when(
    app: Flask, clock: FrozenClock
) -> None:
    alice = add_user(app, "Alice")
    ban(app, alice, 7, "Posting the same link everywhere.")
    with app.app_context():
        user = db.session.get(User, alice)
        assert user is not None
        assert user.banned_until == NOW + timedelta(days=7)
        assert not user.ban_permanent

    client = reader(app, alice)
    response = post_comment(client, "Let me in.")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert (
        "You are banned from commenting until December 2, 2026 at 12:00 UTC. "
        "Reason: Posting the same link everywhere." in html
    )
    assert "Let me in.</textarea>" in html  # the text is kept

    clock.advance(days=7, seconds=1)
    assert post_comment(client, "I am back.").status_code == 303


def test_a_ban_for_good_never_ends(app: Flask, clock: FrozenClock) -> None:
    alice = add_user(app, "Alice")
    ban(app, alice, None, "Abuse.")
    clock.advance(days=4000)
    response = post_comment(reader(app, alice), "Years later.")
    assert response.status_code == 403
    assert "You are banned from commenting on this blog. Reason: Abuse." in response.get_data(
        as_text=True
    )


def test_ban_with_hide_all_moves_their_visible_and_held_comments_to_the_trash(
    app: Flask,
) -> None:
    alice, bob = add_user(app, "Alice"), add_user(app, "Bob")
    shown = add_comment(app, alice, "Visible one.")
    held = add_comment(app, alice, "Held one.", status=S.PENDING)
    junk = add_comment(app, alice, "Junk one.", status=S.SPAM)
    other = add_comment(app, bob, "Bob stays.")

    assert ban(app, alice, 30, "Trolling.", hide=True) == 2

    assert [status_of(app, c) for c in (shown, held, junk, other)] == [
        S.TRASH, S.TRASH, S.SPAM, S.APPROVED
    ]  # fmt: skip
    page = app.test_client().get(ESSAY).get_data(as_text=True)
    assert "Visible one." not in page and "Bob stays." in page


def test_ban_without_hide_leaves_comments_alone(app: Flask) -> None:
    alice = add_user(app, "Alice")
    shown = add_comment(app, alice, "Visible one.")
    assert ban(app, alice, 1) == 0
    assert status_of(app, shown) is S.APPROVED


def test_unban_lets_them_comment_again_and_leaves_the_trash_alone(app: Flask) -> None:
    alice = add_user(app, "Alice")
    hidden = add_comment(app, alice, "Hidden by the ban.")
    ban(app, alice, None, "Mistake.", hide=True)
    with app.app_context():
        user = bans.unban_user(alice)
        assert (user.ban_permanent, user.banned_until, user.ban_reason) == (False, None, None)
    assert status_of(app, hidden) is S.TRASH
    assert post_comment(reader(app, alice), "Thanks for unbanning me.").status_code == 303


def test_moderators_cannot_be_banned_and_durations_are_checked(app: Flask) -> None:
    author = add_moderator(app)
    alice = add_user(app, "Alice")
    with pytest.raises(ModerationError) as caught:
        ban(app, author, 7)
    assert caught.value.status == 409
    for days in (0, -1, 3651):
        with pytest.raises(ModerationError, match="1 to 3650 days"):
            ban(app, alice, days)
    with pytest.raises(ModerationError) as missing:
        ban(app, 9999, 7)
    assert missing.value.status == 404
    assert bans.parse_duration("permanent") is None
    assert bans.parse_duration(" 30 ") == 30
    for bad in ("", "0", "forever", "-3", "1.5", "99999"):
        with pytest.raises(ModerationError):
            bans.parse_duration(bad)


def test_the_reason_is_trimmed_to_one_line_of_500_characters(app: Flask) -> None:
    alice = add_user(app, "Alice")
    ban(app, alice, 3, "  Too\nmany   links " + "x" * 600)
    with app.app_context():
        user = db.session.get(User, alice)
        assert user is not None and user.ban_reason is not None
        assert user.ban_reason.startswith("Too many links x")
        assert len(user.ban_reason) == 500


def test_banned_users_are_listed_while_the_ban_lasts(app: Flask, clock: FrozenClock) -> None:
    alice, bob, carol = (add_user(app, n) for n in ("Alice", "Bob", "Carol"))
    ban(app, alice, None)
    ban(app, bob, 2)
    with app.app_context():
        assert [u.id for u in bans.banned_users(clock.now())] == [bob, alice]  # carol: never
    clock.advance(days=3)
    with app.app_context():
        assert [u.id for u in bans.banned_users(clock.now())] == [alice]
        assert carol not in {u.id for u in bans.banned_users(clock.now())}
