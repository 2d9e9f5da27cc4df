"""Replies reach people: the replied-to reader's mail (opt-in, verified address only), its
one-click unsubscribe, and the reader's own subscriptions page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from blog.database import write_transaction
from blog.extensions import db
from blog.mail.notify import comment_approved
from blog.mail.sender import send_due
from blog.models import Comment, CommentStatus, Subscription, SubscriptionKind
from tests.support.comment_client import comment_id
from tests.support.moderation_helpers import page_csrf
from tests.support.smtp_server import (
    AUTHOR,
    ESSAY,
    SMTPServer,
    comment,
    header_url,
    path_of,
    reader,
    subscriptions,
)

ALICE = "alice@example.com"
REPLIES_BOX = "Notify me of replies to my comments."


def replies_rows(app: Flask) -> list[Subscription]:
    return [s for s in subscriptions(app) if s.kind is SubscriptionKind.REPLIES]


def test_a_reply_mails_the_reader_who_asked_with_one_click_unsubscribe(
    mail_app: Flask, smtp: SMTPServer
) -> None:
    alice = reader(mail_app, "Alice", ALICE)
    assert REPLIES_BOX in alice.get(ESSAY).text
    first = comment_id(comment(alice, "Trust is earned slowly.", subscribe_replies="1"))
    [row] = replies_rows(mail_app)
    assert row.email == ALICE and row.confirmed_at is not None and row.post_id is None
    # Asked once, the box becomes a sentence with a link to change it.
    page = alice.get(ESSAY).text
    assert REPLIES_BOX not in page and "You get an email when someone replies" in page

    zoe = reader(mail_app, "Zoë", "zoe@example.com")
    reply = comment_id(comment(zoe, "Slowly, and <b>lost</b> fast.", parent_id=str(first)))
    send_due(mail_app)
    [mail] = smtp.to(ALICE)
    assert mail.subject == '[True Connections] Zoë replied to you on "Making TRUE Connections"'
    assert "Slowly, and <b>lost</b> fast." in mail.body and "Trust is earned slowly." in mail.body
    assert f"{ESSAY}?comment={reply}#comment-{reply}" in mail.body
    assert mail.raw_header("List-Unsubscribe-Post") == [
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    ]
    url = header_url(mail)
    assert url.startswith("http://blog.test/mail/unsubscribe/")
    # The link in the mail finds the reply's page.
    found = mail_app.test_client().get(f"{ESSAY}?comment={reply}")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"#comment-{reply}")

    # The mail provider's one-click POST: no cookie, no token, a 200.
    done = mail_app.test_client().post(path_of(url), data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "Set-Cookie" not in done.headers
    assert replies_rows(mail_app)[0].unsubscribed_at is not None
    comment(zoe, "Another answer nobody is told about.", parent_id=str(first))
    send_due(mail_app)
    assert len(smtp.to(ALICE)) == 1


def test_no_mail_without_opt_in_for_ones_own_reply_or_an_unverified_address(
    mail_app: Flask, smtp: SMTPServer
) -> None:
    alice = reader(mail_app, "Alice", ALICE)
    first = comment_id(comment(alice, "I asked for replies.", subscribe_replies="1"))
    comment(alice, "Answering myself.", parent_id=str(first))
    bob = reader(mail_app, "Bob", "bob@example.com")
    silent = comment_id(comment(bob, "I did not ask."))
    comment(alice, "Bob hears nothing of this.", parent_id=str(silent))
    carol = reader(mail_app, "Carol", "carol@example.com", verified=False)
    assert REPLIES_BOX not in carol.get(ESSAY).text
    asked = comment(carol, "I tick the box anyway.", subscribe_replies="1")
    assert asked.status_code == 303
    assert "verified" in carol.get(ESSAY).text  # the notice says why
    assert [r.email for r in replies_rows(mail_app)] == [ALICE]
    send_due(mail_app)
    assert smtp.to(ALICE) == [] and smtp.to("bob@example.com") == []
    assert smtp.to("carol@example.com") == []


def test_a_held_reply_mails_when_approved_and_a_thread_subscriber_hears_once(
    essay: Path, make_app: Callable[..., Flask], smtp: SMTPServer
) -> None:
    app = make_app(**smtp.config(), AUTHOR_EMAIL=AUTHOR, MODERATION_HOLD="all")
    alice = reader(app, "Alice", ALICE)
    first = comment_id(comment(alice, "Both boxes.", subscribe_replies="1", subscribe_thread="1"))
    with app.app_context(), write_transaction():
        db.session.get_one(Comment, first).status = CommentStatus.APPROVED
    zoe = reader(app, "Zoë", "zoe@example.com")
    reply = comment_id(comment(zoe, "Held for the author first.", parent_id=str(first)))
    send_due(app)
    assert smtp.to(ALICE) == []
    with app.app_context(), write_transaction():
        db.session.get_one(Comment, reply).status = CommentStatus.APPROVED
    with app.app_context():
        comment_approved(reply)
    send_due(app)
    [mail] = smtp.to(ALICE)
    assert "replied to you" in mail.subject


def test_the_subscriptions_page_lists_and_changes_each_subscription(
    mail_app: Flask, smtp: SMTPServer
) -> None:
    alice = reader(mail_app, "Alice", ALICE)
    comment(alice, "Everything, please.", subscribe_thread="1", subscribe_posts="1")
    page = alice.get("/account/subscriptions/")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    html = page.text
    assert "New comments on “Making TRUE Connections”" in html and "New posts" in html
    assert "Notify me of replies to my comments</button>" in html
    turned_on = alice.post(
        "/account/subscriptions/", data={"csrf_token": page_csrf(html), "replies": "1"}
    )
    assert turned_on.status_code == 303
    assert turned_on.headers["Location"] == "/account/subscriptions/"
    assert [r.email for r in replies_rows(mail_app)] == [ALICE]
    thread = next(s for s in subscriptions(mail_app) if s.kind is SubscriptionKind.THREAD)
    html = alice.get("/account/subscriptions/").text
    assert "Replies to your comments" in html and "Saved." in html
    for active in ("0", "1"):
        data = {"csrf_token": page_csrf(html), "subscription": str(thread.id), "active": active}
        assert alice.post("/account/subscriptions/", data=data).status_code == 303
        changed = next(s for s in subscriptions(mail_app) if s.id == thread.id)
        assert (changed.unsubscribed_at is None) is (active == "1")
    # No token: refused, nothing changed. Someone else's subscription: not theirs to change.
    no_token = alice.post("/account/subscriptions/", data={"subscription": str(thread.id)})
    assert no_token.status_code == 400
    mallory = reader(mail_app, "Mallory", "mallory@example.com")
    token = page_csrf(mallory.get("/account/subscriptions/").text)
    data = {"csrf_token": token, "subscription": str(thread.id), "active": "0"}
    assert mallory.post("/account/subscriptions/", data=data).status_code == 303
    assert "cannot be changed" in mallory.get("/account/subscriptions/").text
    assert next(s for s in subscriptions(mail_app) if s.id == thread.id).unsubscribed_at is None
    for junk in ("", "abc", "99999999999999999999", "-1"):
        data = {"csrf_token": token, "subscription": junk, "active": "1"}
        assert mallory.post("/account/subscriptions/", data=data).status_code == 303
    assert mail_app.test_client().get("/account/subscriptions/").status_code == 401


@pytest.mark.sqlite_only
def test_the_export_shows_the_replies_choice_and_deletion_removes_it(
    mail_app: Flask, smtp: SMTPServer
) -> None:
    alice = reader(mail_app, "Alice", ALICE)
    comment(alice, "Tell me about replies.", subscribe_replies="1")
    export = alice.get("/account/data.json").json
    assert export is not None
    assert "replies" in str(export)
    html = alice.get("/account/").text
    alice.post("/account/delete", data={"csrf_token": page_csrf(html), "confirm": "delete"})
    with mail_app.app_context():
        assert db.session.scalars(select(Subscription)).all() == []
