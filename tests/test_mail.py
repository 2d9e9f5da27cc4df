"""Mail through a real SMTP server: the outbox, the sender's retries, notices and announcements."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from blog.clock import FrozenClock, utcnow
from blog.database import write_transaction
from blog.extensions import db
from blog.mail import SENDER_KEY
from blog.mail.notify import announce_posts, comment_approved
from blog.mail.outbox import enqueue
from blog.mail.sender import GIVE_UP_AFTER, backoff, claim, send_due
from blog.mail.worker import start_background_sender
from blog.models import Comment, CommentStatus, MailStatus, Post, Subscription, SubscriptionKind
from tests.conftest import NOW, sync
from tests.support.smtp_server import (
    AUTHOR,
    BlackHole,
    SMTPServer,
    comment,
    header_url,
    login,
    make_user,
    outbox,
)


def reader(app: Flask, name: str = "Alice", email: str = "alice@example.com") -> FlaskClient:
    client = app.test_client()
    login(client, make_user(app, name, email, verified=True))
    return client


def subscribe(app: Flask, email: str, kind: SubscriptionKind, post_id: int | None = None) -> None:
    with app.app_context(), write_transaction():
        db.session.add(
            Subscription(kind=kind, email=email, post_id=post_id, created_at=utcnow(),
                         confirmed_at=utcnow())
        )  # fmt: skip


def essay_id(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(db.select(Post.id).where(Post.slug.like("making-%"))) or 0)


# --- the author ------------------------------------------------------------------------------


@pytest.mark.sqlite_only
def test_author_gets_each_new_comment_with_moderation_links(
    mail_app: Flask, smtp: SMTPServer
) -> None:
    alice = reader(mail_app)
    assert comment(alice, "First thoughts on trust.").status_code == 303
    mail_app.config["MODERATION_HOLD"] = "all"
    assert comment(alice, "A second, held one.").status_code == 303
    assert send_due(mail_app).sent == 2

    shown, held = smtp.to(AUTHOR)
    assert shown.subject == '[True Connections] New comment on "Making TRUE Connections"'
    assert "First thoughts on trust." in shown.body
    assert "approved and shown" in shown.body
    assert "http://blog.test/2019/06/10/making-true-connections/?comment=" in shown.body
    assert "http://blog.test/admin/comments?status=pending" in shown.body
    assert held.subject.startswith("[True Connections] Please moderate:")
    assert "held for moderation" in held.body and "A second, held one." in held.body
    # The author's mail is not a subscription: no unsubscribe header.
    assert shown.message["List-Unsubscribe"] is None
    assert shown.message["Message-ID"] and shown.message["Date"]


@pytest.mark.sqlite_only
def test_the_authors_own_comment_is_not_mailed_to_the_author(
    mail_app: Flask, smtp: SMTPServer
) -> None:
    author = reader(mail_app, "The Author", AUTHOR)
    comment(author, "Thanks for reading.")
    assert send_due(mail_app).sent == 0


# --- thread subscribers ----------------------------------------------------------------------


def test_thread_subscribers_get_approved_comments_only_and_never_their_own(
    mail_app: Flask, smtp: SMTPServer
) -> None:
    alice = reader(mail_app)
    assert comment(alice, "Subscribing.", subscribe_thread="1").status_code == 303
    zoe = reader(mail_app, "Zoë", "zoe@example.com")
    comment(zoe, "An approved reply.")
    mail_app.config["MODERATION_HOLD"] = "all"
    comment(zoe, "A held reply.")
    comment(alice, "Alice again, held.")
    send_due(mail_app)
    to_alice = smtp.to("alice@example.com")
    assert [m.subject for m in to_alice] == [
        '[True Connections] New comment on "Making TRUE Connections"'
    ]
    assert "An approved reply." in to_alice[0].body
    assert smtp.to("zoe@example.com") == []

    # The moderation screen approves the held reply: now Alice hears about it, once.
    with mail_app.app_context(), write_transaction():
        held = db.session.scalar(db.select(Comment).where(Comment.body == "A held reply."))
        assert held is not None
        held.status = CommentStatus.APPROVED
        held_id = held.id
    with mail_app.app_context():
        comment_approved(held_id)
        comment_approved(held_id)  # approved twice (unapprove, approve): still one mail
    send_due(mail_app)
    bodies = [m.body for m in smtp.to("alice@example.com")]
    assert len(bodies) == 2 and "A held reply." in bodies[1]


@pytest.mark.sqlite_only
def test_subscription_mail_has_one_click_headers(mail_app: Flask, smtp: SMTPServer) -> None:
    subscribe(mail_app, "reader@example.net", SubscriptionKind.THREAD, essay_id(mail_app))
    comment(reader(mail_app), "Hello there.")
    send_due(mail_app)
    (received,) = smtp.to("reader@example.net")
    url = header_url(received)
    assert url.startswith("http://blog.test/mail/unsubscribe/")
    assert received.raw_header("List-Unsubscribe-Post") == [
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    ]
    assert received.message["Message-ID"].endswith("@blog.test>")
    assert received.message["Date"] and received.message["Auto-Submitted"] == "auto-generated"
    assert received.message["X-Blog-Notice"] is None  # bookkeeping stays in the outbox
    assert url in received.body


@pytest.mark.sqlite_only
def test_one_click_headers_are_plain_ascii_on_the_wire(
    essay: Path, make_app: Callable[..., Flask], smtp: SMTPServer
) -> None:
    # Gmail and Yahoo read the raw header: after unfolding it must be `<url>` itself, with no
    # encoded-word and no fold inside the URL, however long the site's address makes it.
    site = "https://comments-and-essays.a-rather-long-blog-name.example.org"
    app = make_app(**smtp.config(), AUTHOR_EMAIL=AUTHOR, SITE_URL=site)
    subscribe(app, "reader@example.net", SubscriptionKind.THREAD, essay_id(app))
    comment(reader(app), "Hello there.")
    send_due(app)
    (received,) = smtp.to("reader@example.net")
    lines = received.raw_header("List-Unsubscribe")
    assert b"=?" not in b"".join(lines)
    assert all(len(line) <= 998 and line.isascii() for line in lines)
    assert header_url(received).startswith(f"{site}/mail/unsubscribe/")
    assert received.raw_header("List-Unsubscribe-Post") == [
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    ]


# --- the sender: claims, backoff, an SMTP server that is down or hangs --------------------------


def test_smtp_down_then_up_the_mail_arrives_exactly_once(
    essay: Path, make_app: Callable[..., Flask], clock: FrozenClock
) -> None:
    down = SMTPServer()  # its port is reserved, nothing listens yet
    app = make_app(**down.config(), AUTHOR_EMAIL=AUTHOR)
    alice = reader(app)
    assert comment(alice, "Posted while the mail server is down.").status_code == 303
    (waiting,) = outbox(app)  # the request only wrote to the outbox: no attempt yet
    assert waiting.status is MailStatus.QUEUED and waiting.attempts == 0

    counts = send_due(app)
    assert (counts.sent, counts.retried) == (0, 1)
    (queued,) = outbox(app)
    assert queued.status is MailStatus.QUEUED and queued.attempts == 1
    assert queued.next_attempt_at == NOW + timedelta(minutes=1)
    assert queued.last_error and "Connection" in queued.last_error

    down.start()
    try:
        assert send_due(app).sent == 0  # not due yet: the backoff holds
        clock.advance(seconds=61)
        assert send_due(app).sent == 1
        assert send_due(app).sent == 0
        clock.advance(hours=2)
        assert send_due(app).sent == 0
        received = down.wait_for(1)
        assert len(received) == 1 and "Posted while the mail server is down." in received[0].body
        (sent,) = outbox(app)
        assert sent.status is MailStatus.SENT and sent.attempts == 2
    finally:
        down.stop()


@pytest.mark.sqlite_only
def test_hung_smtp_server_times_out_and_never_slows_a_comment(
    essay: Path, make_app: Callable[..., Flask]
) -> None:
    hole = BlackHole()
    try:
        app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=hole.port, SMTP_TLS="none",
                       SMTP_TIMEOUT_SECONDS=30, AUTHOR_EMAIL=AUTHOR)  # fmt: skip
        alice = reader(app)
        started = time.monotonic()
        assert comment(alice, "The server hangs.").status_code == 303
        # Far below the 30 s the request would hang if it talked to the server itself.
        assert time.monotonic() - started < 10
        app.config["SMTP_TIMEOUT_SECONDS"] = 0.2
        started = time.monotonic()
        counts = send_due(app)
        assert counts.retried == 1 and time.monotonic() - started < 10
        (queued,) = outbox(app)
        assert queued.status is MailStatus.QUEUED and "timed out" in (queued.last_error or "")
    finally:
        hole.close()


def test_backoff_doubles_from_a_minute_and_caps_at_an_hour() -> None:
    assert [backoff(n).total_seconds() / 60 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff(500) == timedelta(hours=1)


@pytest.mark.sqlite_only
def test_a_message_is_given_up_only_after_days_and_loudly(
    essay: Path, make_app: Callable[..., Flask], clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    down = SMTPServer()
    app = make_app(**down.config())
    with app.app_context(), write_transaction():
        enqueue("someone@example.net", "Hello", "Body", None, utcnow())
    send_due(app)
    clock.advance(days=1)
    send_due(app)
    assert outbox(app)[0].status is MailStatus.QUEUED  # a day of failures: still trying
    clock.set(NOW + GIVE_UP_AFTER + timedelta(minutes=1))
    with caplog.at_level(logging.ERROR, logger="blog.mail.sender"):
        assert send_due(app).failed == 1
    assert outbox(app)[0].status is MailStatus.FAILED
    assert "MAIL GIVEN UP" in caplog.text


def test_a_claimed_message_is_sent_by_one_worker_only(
    mail_app: Flask, make_app: Callable[..., Flask], smtp: SMTPServer
) -> None:
    other = make_app(**smtp.config())
    with mail_app.app_context(), write_transaction():
        ids = [enqueue(f"r{i}@example.net", f"No. {i}", "Body", None, utcnow()).id
               for i in range(12)]  # fmt: skip
    lease_until = NOW + timedelta(minutes=5)
    with mail_app.app_context():
        assert claim(ids[0], NOW, lease_until)
    with other.app_context():
        assert not claim(ids[0], NOW, lease_until)  # the first claim holds it

    # Two workers (two apps on one database) racing over the rest: each message once.
    results = []
    threads = [
        threading.Thread(target=lambda a=a: results.append(send_due(a))) for a in (mail_app, other)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sum(r.sent for r in results) == 11
    subjects = sorted(m.subject for m in smtp.messages)
    assert subjects == sorted(f"No. {i}" for i in range(1, 12))


@pytest.mark.sqlite_only
def test_without_smtp_host_mail_waits_in_the_outbox(
    essay: Path, make_app: Callable[..., Flask]
) -> None:
    app = make_app(SMTP_HOST="", AUTHOR_EMAIL=AUTHOR)
    comment(reader(app), "Nobody sends this yet.")
    assert send_due(app).sent == 0
    assert outbox(app)[0].status is MailStatus.QUEUED


# --- new posts -------------------------------------------------------------------------------


def write(posts_dir: Path, name: str, date: str, draft: bool = False) -> None:
    (posts_dir / f"{name}.md").write_text(
        f"---\ntitle: {name.title()}\ndate: {date}\nid: {name}\n"
        + ("draft: true\n" if draft else "")
        + "---\n\nThe opening of a brand new post.\n",
        encoding="utf-8",
    )


@pytest.mark.sqlite_only
def test_first_sync_of_an_existing_blog_mails_nobody(
    essay: Path, posts_dir: Path, make_app: Callable[..., Flask], smtp: SMTPServer
) -> None:
    write(posts_dir, "recent", "2026-11-25 11:00")  # live and recent, but part of the first sync
    app = make_app(**smtp.config())
    with app.app_context():
        posts = db.session.scalars(db.select(Post)).all()
        assert all(p.announced_at is not None for p in posts if p.layout.value == "post")
    subscribe(app, "fan@example.net", SubscriptionKind.POSTS)
    sync(app)
    with app.app_context():
        assert announce_posts(utcnow()) == 0
    assert outbox(app) == []


def test_new_post_mail_goes_out_once_per_post(
    mail_app: Flask, posts_dir: Path, smtp: SMTPServer
) -> None:
    subscribe(mail_app, "fan@example.net", SubscriptionKind.POSTS)
    subscribe(mail_app, "fan@example.net", SubscriptionKind.POSTS)  # a duplicate row: one mail
    write(posts_dir, "fresh-news", "2026-11-25 11:30")
    write(posts_dir, "old-import", "2021-03-01 09:00")  # imported into a live blog: old news
    write(posts_dir, "still-a-draft", "2026-11-25 11:00", draft=True)
    sync(mail_app)
    sync(mail_app)
    with mail_app.app_context():
        assert announce_posts(utcnow()) == 0
    send_due(mail_app)
    (received,) = smtp.to("fan@example.net")
    assert received.subject == "[True Connections] New post: Fresh-News"
    assert "http://blog.test/2026/11/25/fresh-news/" in received.body
    assert "The opening of a brand new post." in received.body
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    write(posts_dir, "still-a-draft", "2026-11-25 11:00")  # the draft is published now
    sync(mail_app)
    send_due(mail_app)
    assert [m.subject for m in smtp.to("fan@example.net")][1] == (
        "[True Connections] New post: Still-A-Draft"
    )


def test_scheduled_post_is_announced_at_its_time_once_across_app_servers(
    mail_app: Flask, make_app: Callable[..., Flask], posts_dir: Path, smtp: SMTPServer,
    clock: FrozenClock,
) -> None:  # fmt: skip
    subscribe(mail_app, "fan@example.net", SubscriptionKind.POSTS)
    write(posts_dir, "tomorrow", "2026-11-26 09:00")
    sync(mail_app)
    second = make_app(**smtp.config())  # another app server on the same database
    assert outbox(mail_app) == []

    clock.set(NOW + timedelta(days=1))
    results: list[int] = []

    def announce(app: Flask) -> None:
        with app.app_context():
            results.append(announce_posts(utcnow()))

    threads = [threading.Thread(target=announce, args=(a,)) for a in (mail_app, second) * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == [0, 0, 0, 1]
    send_due(mail_app)
    send_due(second)
    assert [m.subject for m in smtp.to("fan@example.net")] == [
        "[True Connections] New post: Tomorrow"
    ]


# --- the worker command and the background sender ----------------------------------------------


@pytest.mark.sqlite_only
def test_send_mail_command_announces_and_sends(
    mail_app: Flask, posts_dir: Path, smtp: SMTPServer, clock: FrozenClock
) -> None:
    subscribe(mail_app, "fan@example.net", SubscriptionKind.POSTS)
    write(posts_dir, "later", "2026-11-25 18:00")
    sync(mail_app)
    clock.advance(hours=7)
    result = mail_app.test_cli_runner().invoke(args=["blog", "send-mail", "--once"])
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 to retry, 0 failed" in result.output
    assert [m.subject for m in smtp.messages] == ["[True Connections] New post: Later"]


@pytest.mark.sqlite_only
def test_background_sender_runs_only_when_asked(
    essay: Path, make_app: Callable[..., Flask], smtp: SMTPServer
) -> None:
    app = make_app(**smtp.config(), AUTHOR_EMAIL=AUTHOR, MAIL_BACKGROUND=True)
    comment(reader(app), "Sent from a thread.")
    assert SENDER_KEY not in app.extensions  # never started by itself under tests
    sender = start_background_sender(app, interval=0.02)
    try:
        assert len(smtp.wait_for(1)) == 1
    finally:
        sender.stop()
    assert not sender.thread.is_alive()
    assert outbox(app)[0].status is MailStatus.SENT
