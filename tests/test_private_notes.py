"""A private word to the author: never public, in the Notes list and the author's mail, the
sender's own account page and export, and the same rules as comments."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from blog.clock import utcnow
from blog.extensions import db
from blog.mail.sender import send_due
from blog.models import Comment, NoteStatus, PrivateNote
from blog.moderation.bans import Ban, ban_user
from tests.support import moderation_helpers as mh
from tests.support.moderation_helpers import page_csrf
from tests.support.smtp_server import AUTHOR, ESSAY, SMTPServer, comment, login, make_user, reader

Make = Callable[..., Flask]
SECRET = "Only for you: my employer is the recruiter in your story."


@pytest.fixture
def app(essay: Path, make_app: Make, smtp: SMTPServer) -> Flask:
    return make_app(**smtp.config(), AUTHOR_EMAIL=AUTHOR, MODERATORS=mh.MODERATORS)


def notes(app: Flask) -> list[PrivateNote]:
    with app.app_context():
        rows = list(db.session.scalars(select(PrivateNote).order_by(PrivateNote.id)))
        db.session.expunge_all()
        return rows


def comment_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(Comment)) or 0)


def moderator(app: Flask) -> FlaskClient:
    client = app.test_client()
    mh.log_in(client, mh.add_moderator(app))
    return client


def test_a_private_note_is_never_public_and_reaches_the_author(
    app: Flask, smtp: SMTPServer
) -> None:
    alice = reader(app, "Alice", "alice@example.com")
    assert "Send privately to the author" in alice.get(ESSAY).text
    sent = comment(alice, SECRET, private="1")
    assert sent.status_code == 303 and sent.headers["Location"] == f"{ESSAY}#respond"
    [note] = notes(app)
    assert note.body == SECRET and note.status is NoteStatus.NEW
    assert comment_count(app) == 0
    assert "went privately to the author" in alice.get(ESSAY).text
    for path in (ESSAY, "/", f"{ESSAY}feed/", "/comments/feed/", "/feed/"):
        page = app.test_client().get(path)
        assert SECRET not in page.text and "my employer" not in page.text, path
    assert "No comments yet" in app.test_client().get(ESSAY).text

    send_due(app)
    [mail] = smtp.to(AUTHOR)
    assert mail.subject == '[True Connections] A private note on "Making TRUE Connections"'
    assert SECRET in mail.body and "/admin/notes" in mail.body
    assert mail.raw_header("Reply-To") == [b"Reply-To: alice@example.com"]
    assert smtp.to("alice@example.com") == []


def test_the_notes_list_is_for_moderators_who_answer_by_mail_or_publicly(
    app: Flask, smtp: SMTPServer
) -> None:
    alice = reader(app, "Alice", "alice@example.com")
    comment(alice, SECRET, private="1")
    assert alice.get("/admin/notes").status_code == 403
    assert app.test_client().get("/admin/notes").status_code == 403
    author = moderator(app)
    page = author.get("/admin/notes")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    assert SECRET in page.text and 'href="mailto:alice%40example.com?subject=' in page.text
    assert ">Notes</a>" in author.get("/admin/comments").text
    [note] = notes(app)
    token = page_csrf(page.text)
    answer = author.post(
        f"/admin/notes/{note.id}/answer",
        data={"csrf_token": token, "comment": "Thank you; I will keep it between us."},
    )
    assert answer.status_code == 303
    assert notes(app)[0].status is NoteStatus.ANSWERED
    public = app.test_client().get(ESSAY).text
    assert "Thank you; I will keep it between us." in public and SECRET not in public
    assert author.post(f"/admin/notes/{note.id}/answer", data={"comment": "x"}).status_code == 400
    for path in ("/admin/notes/999999/answered", "/admin/notes/999999/delete"):
        assert author.post(path, data={"csrf_token": token}).status_code == 404
    assert (
        author.post(f"/admin/notes/{note.id}/delete", data={"csrf_token": token}).status_code == 303
    )
    assert notes(app) == []


def test_the_sender_sees_deletes_and_exports_their_notes(app: Flask, smtp: SMTPServer) -> None:
    alice = reader(app, "Alice", "alice@example.com")
    comment(alice, SECRET, private="1")
    [note] = notes(app)
    account = alice.get("/account/").text
    assert SECRET in account and "Delete this note" in account
    export = alice.get("/account/data.json").json
    assert export is not None and export["private_notes"][0]["text"] == SECRET
    mallory = reader(app, "Mallory", "mallory@example.com")
    token = page_csrf(mallory.get("/account/").text)
    refused = mallory.post(f"/account/notes/{note.id}/delete", data={"csrf_token": token})
    assert refused.status_code == 303 and len(notes(app)) == 1
    assert mallory.post(f"/account/notes/{note.id}/delete").status_code == 400  # no token
    token = page_csrf(account)
    done = alice.post(f"/account/notes/{note.id}/delete", data={"csrf_token": token})
    assert done.status_code == 303 and done.headers["Location"] == "/account/#notes"
    assert notes(app) == []


def test_deleting_the_account_deletes_its_notes(app: Flask, smtp: SMTPServer) -> None:
    alice = reader(app, "Alice", "alice@example.com")
    comment(alice, SECRET, private="1")
    html = alice.get("/account/").text
    alice.post("/account/delete", data={"csrf_token": page_csrf(html), "confirm": "delete"})
    assert notes(app) == []


def test_the_comment_rules_apply_to_notes(essay: Path, make_app: Make, smtp: SMTPServer) -> None:
    app = make_app(**smtp.config(), AUTHOR_EMAIL=AUTHOR, FLOOD_SECONDS=60)
    alice = reader(app, "Alice", "alice@example.com")
    assert comment(alice, SECRET, private="1").status_code == 303
    flood = comment(alice, "And another, at once.", private="1")
    assert flood.status_code == 429 and "too quickly" in flood.text
    assert (
        "And another, at once." in flood.text
        and 'name="private" id="private" value="1" checked' in flood.text
    )
    too_long = comment(alice, "x" * 6000, private="1")
    assert too_long.status_code in (400, 413) and len(notes(app)) == 1
    honeypot = reader(app, "Bot", "bot@example.com")
    spam = comment(honeypot, "Buy things.", private="1", website="http://spam.example")
    assert spam.status_code == 303
    assert [n.status for n in notes(app)] == [NoteStatus.NEW, NoteStatus.SPAM]
    bob_id = make_user(app, "Bob", "bob@example.com", True)
    with app.app_context():
        ban_user(bob_id, Ban(days=None, reason="Abuse"), utcnow())
    bob = app.test_client()
    login(bob, bob_id)
    banned = comment(bob, "Let me in.", private="1")
    assert banned.status_code == 403 and len(notes(app)) == 2
    send_due(app)
    assert len(smtp.to(AUTHOR)) == 1  # the spam note is not mailed


@pytest.mark.sqlite_only
def test_no_cached_page_ever_holds_a_note(
    essay: Path, make_app: Make, smtp: SMTPServer, tmp_path: Path
) -> None:
    app = make_app(
        **smtp.config(), AUTHOR_EMAIL=AUTHOR, PAGE_CACHE=True, PAGE_CACHE_STATE_DIR=tmp_path / "s"
    )
    before = app.test_client().get(ESSAY)
    assert before.headers["Cache-Control"].startswith("public")
    alice = reader(app, "Alice", "alice@example.com")
    comment(alice, SECRET, private="1")
    own = alice.get(ESSAY)
    assert own.headers["Cache-Control"] == "private, no-store"
    assert "went privately to the author" in own.text and SECRET not in own.text
    account = alice.get("/account/")
    assert SECRET in account.text and account.headers["Cache-Control"] == "private, no-store"
    for path in (ESSAY, "/", "/account/", "/comments/feed/"):
        page = app.test_client().get(path)
        assert SECRET not in page.text, path
    # A note changes no shared page: the cached copy is still the one served.
    assert app.test_client().get(ESSAY).data == before.data
