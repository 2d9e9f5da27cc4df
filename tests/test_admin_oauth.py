"""Moderation with real logins through the local identity provider, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from blog.devidp import identity
from blog.extensions import db
from blog.models import Comment, CommentStatus, Identity
from tests.support.auth_helpers import (
    ESSAY,
    comment_html,
    form_data,
    logged_in,
    post_comment,
    serve_site,
)
from tests.support.oauth_site import OAuthSite

AUTHOR_MODERATES = frozenset({("google", identity("author").subject("google"))})
AWAITING = "Your comment is awaiting moderation."


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    """The author (Google) moderates; a first comment is held."""
    yield from serve_site(make_app, MODERATORS=AUTHOR_MODERATES, MODERATION_HOLD="first")


def user_id(site: OAuthSite, who: str) -> int:
    with site.app.app_context():
        found = db.session.scalar(
            select(Identity.user_id).where(Identity.subject == identity(who).subject("google"))
        )
        assert found is not None
        return found


def test_a_held_comment_is_approved_from_the_queue_and_appears_to_everyone(
    site: OAuthSite,
) -> None:
    alice, _ = logged_in(site, "google", "alice")
    response = post_comment(site, alice, "First time here: hello!")
    assert response.status_code == 303
    comment_id = int(response.headers["Location"].rsplit("-", 1)[1])
    own = alice.get(site.url + ESSAY).text
    assert AWAITING in comment_html(own, comment_id)
    assert "First time here" not in requests.get(site.url + ESSAY).text

    author, _ = logged_in(site, "google", "author")
    queue = author.get(site.url + "/admin/comments")
    assert queue.status_code == 200
    assert "First time here: hello!" in queue.text and "Alice Verified" in queue.text
    data = form_data(queue.text, "/admin/comments/bulk")
    data["do"] = f"approve:{comment_id}"
    done = author.post(site.url + "/admin/comments/bulk", data=data, allow_redirects=False)
    assert done.status_code == 303
    assert done.headers["Location"] == "/admin/comments?status=pending"
    assert "1 comment approved." in author.get(site.url + done.headers["Location"]).text

    public = requests.get(site.url + ESSAY).text
    assert "First time here: hello!" in comment_html(public, comment_id)
    assert AWAITING not in public
    assert AWAITING not in alice.get(site.url + ESSAY).text


def test_a_logged_in_reader_is_refused_every_admin_screen_and_action(site: OAuthSite) -> None:
    alice, page = logged_in(site, "google", "alice")
    token = form_data(page.text, "/comments/")["csrf_token"]
    for path in ("/admin/", "/admin/comments", "/admin/drafts"):
        assert alice.get(site.url + path).status_code == 403
    stranger = requests.get(site.url + "/admin/comments")  # logged out: the login page
    assert stranger.status_code == 401 and "Log in to continue" in stranger.text
    response = alice.post(
        site.url + f"/admin/users/{user_id(site, 'alice')}/unban", data={"csrf_token": token}
    )
    assert response.status_code == 403


def test_a_banned_reader_is_told_why_and_until_when(site: OAuthSite) -> None:
    alice, _ = logged_in(site, "google", "alice")
    author, _ = logged_in(site, "google", "author")
    url = site.url + f"/admin/users/{user_id(site, 'alice')}"
    data = form_data(author.get(url).text, f"/admin/users/{user_id(site, 'alice')}/ban")
    data.update(duration="7", reason="Selling things in the comments.")
    assert author.post(url + "/ban", data=data, allow_redirects=False).status_code == 303

    refused = post_comment(site, alice, "Buy my course!")
    assert refused.status_code == 403
    assert (
        "You are banned from commenting until December 2, 2026 at 12:00 UTC. "
        "Reason: Selling things in the comments." in refused.text
    )
    with site.app.app_context():
        assert db.session.scalar(select(Comment).where(Comment.body == "Buy my course!")) is None


@pytest.fixture
def email_site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    """Moderators listed by email: only a verified address from a trusted provider counts."""
    listed = frozenset({("email", "author@example.com"), ("email", "bob@example.com")})
    yield from serve_site(make_app, MODERATORS=listed)


def test_moderators_listed_by_verified_email(email_site: OAuthSite) -> None:
    author, _ = logged_in(email_site, "google", "author")
    assert author.get(email_site.url + "/admin/comments").status_code == 200
    bob, _ = logged_in(email_site, "google", "bob")  # bob's address is not verified
    assert bob.get(email_site.url + "/admin/comments").status_code == 403


def test_an_email_facebook_does_not_state_verified_grants_nothing(email_site: OAuthSite) -> None:
    http = requests.Session()
    consent = email_site.start_login(http, "facebook", ESSAY)
    page = email_site.consent(http, consent, "author", share_email="yes")
    assert "You are commenting using your Facebook account." in page.text
    assert http.get(email_site.url + "/admin/comments").status_code == 403
    with email_site.app.app_context():
        (row,) = db.session.scalars(select(Identity)).all()
        assert (row.provider, row.email, row.email_verified) == (
            "facebook", "author@example.com", False,
        )  # fmt: skip
        # Nor does it skip the confirmation of a subscription.
        assert row.user.email_verified is False


def test_the_authors_reply_carries_the_badge_on_the_live_site(site: OAuthSite) -> None:
    alice, _ = logged_in(site, "google", "alice")
    held = int(post_comment(site, alice, "A question.").headers["Location"].rsplit("-", 1)[1])
    author, _ = logged_in(site, "google", "author")
    form = author.get(site.url + f"/admin/comments/{held}/reply")
    data = form_data(form.text, f"/admin/comments/{held}/reply")
    data["comment"] = "An answer from the author."
    response = author.post(form.url, data=data, allow_redirects=False)
    assert response.status_code == 303
    public = requests.get(site.url + ESSAY).text
    with site.app.app_context():
        reply = db.session.scalar(select(Comment).where(Comment.parent_id == held))
        assert reply is not None and reply.status is CommentStatus.APPROVED
    assert '<span class="author-badge">Author</span>' in comment_html(public, reply.id)
    assert "A question." in comment_html(public, held)
