"""The comment box and the thread around it: preview, replying, deleting with undo, moderating
in place, and Change. On the Flask test client; the browser journeys are in
tests/test_browser_journeys.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from blog.auth.personal_data import delete_account
from blog.clock import FrozenClock, utcnow
from blog.comments.editing import UNDO_MINUTES, purge_deleted_text
from blog.extensions import db
from blog.models import Comment, CommentDraft, CommentStatus
from tests.conftest import security_corpus
from tests.support.auth_helpers import (
    check_fragment,
    comment_html,
    comment_ids,
    form_data,
    parse,
    textarea,
)
from tests.support.comment_client import ESSAY, Reader, comment_id, log_in, set_status
from tests.support.moderation_helpers import MODERATOR_SUBJECT, MODERATORS
from tests.test_comments import offline_providers

SITE = "http://blog.test"
SAME_ORIGIN = {"Origin": SITE}
PREVIEW = "/comments/preview"


@pytest.fixture
def blog(essay: Path, make_app: Callable[..., Flask]) -> Flask:
    """The essay; one moderator; first comments held; Google and X offered (never reached)."""
    return make_app(
        MODERATORS=MODERATORS,
        MODERATION_HOLD="first",
        AUTH_PROVIDERS=offline_providers("google", "x"),
        DEV_IDP=False,
    )


def status_of(app: Flask, cid: int) -> CommentStatus:
    with app.app_context():
        return db.session.get_one(Comment, cid).status


def approved(app: Flask, reader: Reader, body: str) -> int:
    """A comment of the reader's, shown to everyone (a first comment is held otherwise)."""
    cid = comment_id(reader.post(body))
    set_status(app, cid, CommentStatus.APPROVED)
    return cid


def preview_section(html: str) -> str:
    """The preview box's markup, or ''."""
    found = re.search(r'<section class="comment-preview".*?</section>', html, re.S)
    return found.group(0) if found else ""


# --- the box ---------------------------------------------------------------------------------


def test_the_box_says_markdown_works_and_offers_a_preview_to_everyone(blog: Flask) -> None:
    anonymous = blog.test_client().get(ESSAY).text
    alice = log_in(blog, "alice", "Alice Reader")
    for html in (anonymous, alice.page()):
        hint = re.search(r'<small class="comment-hint" id="comment-hint">([^<]+)<', html)
        assert hint and hint.group(1).startswith("Markdown works")
        assert re.search(r'<textarea id="comment"[^>]*aria-describedby="comment-hint"', html)
        assert re.search(
            r'<button type="submit" class="preview-button" formaction="/comments/preview', html
        )
    # Logged in: the account that will post, by name and picture, and a Change that goes on.
    html = alice.page()
    identity = html[html.index('<div class="comment-form-identity">') :]
    identity = identity[: identity.index("</div>")]
    assert "Alice Reader" in identity and f'src="/avatars/{alice.user_id}.svg"' in identity
    assert "You are commenting using your Google account." in identity
    assert 'href="/account/change?next=/2019/06/10/making-true-connections/%23respond"' in identity


def test_a_logged_out_preview_renders_through_the_sanitiser_and_keeps_the_text(
    blog: Flask,
) -> None:
    client = blog.test_client()
    data = form_data(client.get(ESSAY).text, "/auth/start")
    text = "Some **bold** words <script>alert(1)</script> and [a link](javascript:alert(1))"
    response = client.post(PREVIEW, data={**data, "comment": text}, headers=SAME_ORIGIN)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Set-Cookie" not in response.headers  # nothing kept for a reader without a session
    shown = preview_section(response.text)
    assert "<strong>bold</strong>" in shown and "<script" not in shown
    content = shown[shown.index('<div class="comment-content">') + 29 : shown.rindex("</div>")]
    assert check_fragment(content) == []
    assert textarea(response.text) == text  # the draft survives, in the box
    assert form_data(response.text, "/auth/start")["post_id"] == data["post_id"]
    with blog.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


@pytest.mark.parametrize("corpus", ["pat_XSS_Polyglots.txt", "markdownit_xss.txt"])
def test_no_preview_of_a_known_attack_carries_anything_unsafe(blog: Flask, corpus: str) -> None:
    client = blog.test_client()
    data = form_data(client.get(ESSAY).text, "/auth/start")
    for line in security_corpus(corpus)[:60]:
        response = client.post(PREVIEW, data={**data, "comment": line}, headers=SAME_ORIGIN)
        assert response.status_code == 200, line
        shown = preview_section(response.text)
        if shown:
            content = shown[
                shown.index('<div class="comment-content">') + 29 : shown.rindex("</div>")
            ]
            assert check_fragment(content) == [], line


@pytest.mark.parametrize(
    "headers", [{}, {"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}]
)
def test_a_preview_from_another_site_is_refused(blog: Flask, headers: dict[str, str]) -> None:
    client = blog.test_client()
    data = form_data(client.get(ESSAY).text, "/auth/start")
    response = client.post(PREVIEW, data={**data, "comment": "hi"}, headers=headers)
    assert response.status_code == 403


def test_a_preview_of_nothing_or_too_much_says_why_and_keeps_the_text(blog: Flask) -> None:
    client = blog.test_client()
    data = form_data(client.get(ESSAY).text, "/auth/start")
    empty = client.post(PREVIEW, data={**data, "comment": "   "}, headers=SAME_ORIGIN)
    assert empty.status_code == 200 and "Your comment is empty" in empty.text
    assert preview_section(empty.text) == ""
    long = "x" * (blog.config["COMMENT_MAX_CHARS"] + 1)
    refused = client.post(PREVIEW, data={**data, "comment": long}, headers=SAME_ORIGIN)
    assert "the limit is" in refused.text and textarea(refused.text) == long
    nowhere = client.post(PREVIEW, data={"post_id": "999999", "comment": "x"}, headers=SAME_ORIGIN)
    assert nowhere.status_code == 404


def test_a_logged_in_preview_keeps_the_draft_and_a_form_that_still_posts(blog: Flask) -> None:
    alice = log_in(blog, "alice", "Alice Reader")
    parent = approved(blog, alice, "The comment answered")
    form = alice.form(f"{ESSAY}?replytocom={parent}")
    response = alice.client.post(
        PREVIEW, data={**form, "comment": "A *draft* reply"}, headers=SAME_ORIGIN
    )
    assert "<em>draft</em>" in preview_section(response.text)
    assert textarea(response.text) == "A *draft* reply"
    assert "Replying to" in response.text and "Alice Reader</a>" in response.text
    with blog.app_context():
        draft = db.session.scalar(select(CommentDraft))
        assert draft is not None and draft.body == "A *draft* reply" and draft.parent_id == parent
    # The page's form posts the previewed text as a reply, as it would have been posted.
    again = form_data(response.text, "/comments/")
    assert again["parent_id"] == str(parent) and again["csrf_token"]
    reply = comment_id(alice.client.post("/comments/", data=again))
    with blog.app_context():
        row = db.session.get_one(Comment, reply)
        assert (row.parent_id, row.body_html) == (parent, "<p>A <em>draft</em> reply</p>")


# --- replying --------------------------------------------------------------------------------


def test_a_reply_link_names_the_writer_and_ones_own_held_comment_has_none(blog: Flask) -> None:
    alice, bob = log_in(blog, "alice", "Alice <Reader>"), log_in(blog, "bob", "Bob", provider="x")
    shown = approved(blog, alice, "Shown to all")
    held = comment_id(bob.post("Bob's first, held"))
    assert status_of(blog, held) is CommentStatus.PENDING
    page = bob.page()
    assert "comment-reply-link" not in comment_html(page, held)
    assert "comment-reply-link" in comment_html(page, shown)
    replying = blog.test_client().get(f"{ESSAY}?replytocom={shown}").text
    line = re.search(r'<p class="replying-to" id="replying-to">(.*?)</p>', replying, re.S)
    assert line and "Replying to" in line.group(1)
    assert (
        f'href="#comment-{shown}" class="replying-to-name">Alice &lt;Reader&gt;</a>'
        in line.group(1)
    )
    # The plain page carries the same line hidden, for the script to fill in.
    plain = blog.test_client().get(ESSAY).text
    assert '<p class="replying-to" id="replying-to" hidden>' in plain
    assert 'id="comment_parent" name="parent_id" value=""' in plain


# --- deleting, with a question first and an undo after ---------------------------------------


def delete_form(reader: Reader, cid: int) -> dict[str, str]:
    return form_data(reader.page(), f"/comments/{cid}/delete")


def confirm_delete(reader: Reader, cid: int) -> str:
    """Press Delete, answer the question page, and return where the reader lands."""
    asked = reader.client.post(f"/comments/{cid}/delete", data=delete_form(reader, cid))
    assert asked.status_code == 303 and asked.headers["Location"] == f"/comments/{cid}/delete"
    question = reader.client.get(asked.headers["Location"])
    assert question.status_code == 200 and "Delete your comment?" in question.text
    assert question.headers["Cache-Control"] == "private, no-store"
    answer = form_data(question.text, f"/comments/{cid}/delete")
    assert answer["confirm"] == "yes"
    done = reader.client.post(f"/comments/{cid}/delete", data=answer)
    assert done.status_code == 303
    return str(done.headers["Location"])


def undo_form(reader: Reader, cid: int) -> dict[str, str]:
    return form_data(reader.page(), f"/comments/{cid}/undelete")


def test_delete_asks_first_says_what_happened_and_can_be_undone(blog: Flask) -> None:
    alice = log_in(blog, "alice", "Alice Reader")
    cid = approved(blog, alice, "Something I regret")
    anonymous = blog.test_client()
    assert status_of(blog, cid) is CommentStatus.APPROVED  # the first press only asks
    assert confirm_delete(alice, cid) == ESSAY + "#comments"
    assert status_of(blog, cid) is CommentStatus.DELETED
    assert cid not in comment_ids(anonymous.get(ESSAY).text)
    page = alice.page()
    assert "Your comment was deleted." in page and f"{UNDO_MINUTES} minutes" in page
    back = alice.client.post(f"/comments/{cid}/undelete", data=undo_form(alice, cid))
    assert back.status_code == 303 and back.headers["Location"] == f"{ESSAY}#comment-{cid}"
    assert status_of(blog, cid) is CommentStatus.APPROVED
    assert "Something I regret" in comment_html(anonymous.get(ESSAY).text, cid)
    page = alice.page()
    assert "Your comment is back." in page and f"/comments/{cid}/undelete" not in page


def test_undo_puts_a_held_comment_back_in_the_queue_not_on_the_page(blog: Flask) -> None:
    alice = log_in(blog, "alice")
    cid = comment_id(alice.post("Held, then deleted"))
    confirm_delete(alice, cid)
    alice.client.post(f"/comments/{cid}/undelete", data=undo_form(alice, cid))
    assert status_of(blog, cid) is CommentStatus.PENDING


def test_undo_ends_after_its_minutes_and_the_text_is_then_emptied(
    blog: Flask, clock: FrozenClock
) -> None:
    alice = log_in(blog, "alice")
    cid = approved(blog, alice, "Gone for good soon")
    confirm_delete(alice, cid)
    form = undo_form(alice, cid)
    clock.advance(minutes=UNDO_MINUTES, seconds=1)
    assert f"/comments/{cid}/undelete" not in alice.page()
    late = alice.client.post(f"/comments/{cid}/undelete", data=form)
    assert late.status_code == 410 and "can no longer be undone" in late.text
    assert status_of(blog, cid) is CommentStatus.DELETED
    approved(blog, alice, "A later comment")  # the next write empties the deleted row
    with blog.app_context():
        row = db.session.get_one(Comment, cid)
        assert (row.body, row.body_html, row.author_name, row.ip_hash) == ("", "", "", None)


def test_the_purge_of_deleted_text_runs_once_a_minute_and_again_after_a_clock_set_back(
    blog: Flask, clock: FrozenClock
) -> None:
    alice = log_in(blog, "alice")
    cids = [approved(blog, alice, f"Deleted long ago, number {n}") for n in range(3)]
    now = clock.now()

    def delete_long_ago(cid: int) -> None:
        with blog.app_context():
            row = db.session.get_one(Comment, cid)
            row.status, row.deleted_at = CommentStatus.DELETED, now - timedelta(hours=3)
            db.session.commit()

    def body(cid: int) -> str:
        with blog.app_context():
            return db.session.get_one(Comment, cid).body

    with blog.test_request_context():
        delete_long_ago(cids[0])
        assert purge_deleted_text(now + timedelta(minutes=2)) == 1
        delete_long_ago(cids[1])
        # Within a minute of the last run nothing is asked, even with a row due.
        assert purge_deleted_text(now + timedelta(minutes=2, seconds=59)) == 0
        assert body(cids[1]) != ""
        assert purge_deleted_text(now + timedelta(minutes=3)) == 1
        assert body(cids[1]) == ""
        # A clock set back (say, a corrected system clock) does not stop the purge for long.
        delete_long_ago(cids[2])
        assert purge_deleted_text(now - timedelta(hours=1)) == 1
        assert body(cids[2]) == ""


def test_deleting_the_account_empties_a_deletion_that_could_still_be_undone(blog: Flask) -> None:
    alice = log_in(blog, "alice")
    cid = approved(blog, alice, "Deleted, then the whole account")
    confirm_delete(alice, cid)
    with blog.app_context():
        assert db.session.get_one(Comment, cid).body  # kept for the undo
        delete_account(alice.user_id, utcnow())
    with blog.app_context():
        row = db.session.get_one(Comment, cid)
        assert (row.body, row.body_html, row.user_id) == ("", "", None)


def test_only_the_session_that_deleted_can_undo_and_only_its_own(blog: Flask) -> None:
    alice = log_in(blog, "alice")
    cid = approved(blog, alice, "Deleted on my laptop")
    confirm_delete(alice, cid)
    phone = log_in(blog, "alice")  # the same reader, another browser
    token = form_data(phone.page(), "/comments/")["csrf_token"]
    refused = phone.client.post(f"/comments/{cid}/undelete", data={"csrf_token": token})
    assert refused.status_code == 404
    bob = log_in(blog, "bob", "Bob", provider="x")
    assert bob.client.get(f"/comments/{cid}/delete").status_code == 404
    no_token = alice.client.post(f"/comments/{cid}/undelete", data={})
    assert no_token.status_code == 400
    assert status_of(blog, cid) is CommentStatus.DELETED


def test_undo_after_posting_the_same_text_again_is_refused_clearly(blog: Flask) -> None:
    alice = log_in(blog, "alice")
    cid = approved(blog, alice, "Said twice")
    confirm_delete(alice, cid)
    form = undo_form(alice, cid)
    approved(blog, alice, "Said twice")  # the deleted text is no duplicate
    clash = alice.client.post(f"/comments/{cid}/undelete", data=form)
    assert clash.status_code == 409
    assert status_of(blog, cid) is CommentStatus.DELETED


# --- moderating where the comments are -------------------------------------------------------


def moderator(blog: Flask) -> Reader:
    return log_in(blog, MODERATOR_SUBJECT, "The Author")


def action_forms(html: str, cid: int) -> dict[str, dict[str, str]]:
    """The in-place moderation forms of a comment, by action."""
    forms = {}
    for form in parse(comment_html(html, cid)).forms:
        found = re.fullmatch(rf"/admin/comments/{cid}/(\w+)", form.attrs.get("action", ""))
        if found:
            forms[found.group(1)] = {
                f["name"]: f.get("value", "") for f in form.fields if f.get("name")
            }
    return forms


def test_a_moderator_sees_held_comments_in_place_and_nobody_else_does(blog: Flask) -> None:
    alice, bob = log_in(blog, "alice", "Alice"), log_in(blog, "bob", "Bob", provider="x")
    held = comment_id(alice.post("Please approve me"))
    author = moderator(blog)
    response = author.client.get(ESSAY)
    assert response.headers["Cache-Control"] == "private, no-store"
    marked = comment_html(response.text, held)
    assert 'class="comment depth-1 unapproved"' in marked and "Pending:" in marked
    assert set(action_forms(response.text, held)) == {"approve", "spam", "trash"}
    assert all(f["csrf_token"] for f in action_forms(response.text, held).values())
    for page in (bob.page(), blog.test_client().get(ESSAY).text):
        assert held not in comment_ids(page)
    own = comment_html(alice.page(), held)
    assert "Your comment is awaiting moderation." in own and "/admin/" not in own


def test_approve_in_place_returns_to_the_comment_and_shows_it_to_everyone(blog: Flask) -> None:
    alice = log_in(blog, "alice", "Alice")
    held = comment_id(alice.post("Approve me where I stand"))
    author = moderator(blog)
    form = action_forms(author.page(), held)["approve"]
    done = author.client.post(f"/admin/comments/{held}/approve", data=form)
    assert done.status_code == 303 and done.headers["Location"] == f"{ESSAY}#comment-{held}"
    assert status_of(blog, held) is CommentStatus.APPROVED
    page = author.page()
    assert "1 comment approved." in page and "unapproved" not in comment_html(page, held)
    assert held in comment_ids(blog.test_client().get(ESSAY).text)


@pytest.mark.parametrize(("action", "status"), [("spam", "SPAM"), ("trash", "TRASH")])
def test_spam_and_trash_in_place_return_to_the_thread(
    blog: Flask, action: str, status: str
) -> None:
    alice = log_in(blog, "alice", "Alice")
    held = comment_id(alice.post(f"Headed for the {action}"))
    author = moderator(blog)
    form = action_forms(author.page(), held)[action]
    done = author.client.post(f"/admin/comments/{held}/{action}", data=form)
    assert done.headers["Location"] == f"{ESSAY}#comments"
    assert status_of(blog, held) is CommentStatus[status]
    assert held not in comment_ids(author.page())


@pytest.mark.parametrize("line", ["//evil.example/", "https://evil.example/x", "/\\evil.example"])
def test_an_in_place_action_never_redirects_off_the_site(blog: Flask, line: str) -> None:
    alice = log_in(blog, "alice", "Alice")
    held = comment_id(alice.post("Held"))
    author = moderator(blog)
    form = {**action_forms(author.page(), held)["trash"], "next": line}
    done = author.client.post(f"/admin/comments/{held}/trash", data=form)
    assert done.status_code == 303 and done.headers["Location"] == "/"


def test_every_open_redirect_in_the_corpus_stays_on_the_site(blog: Flask) -> None:
    author = moderator(blog)
    alice = log_in(blog, "alice", "Alice")
    held = comment_id(alice.post("Held"))
    token = action_forms(author.page(), held)["approve"]["csrf_token"]
    for line in security_corpus("pat_open_redirect.txt")[:80]:
        done = author.client.post(
            f"/admin/comments/{held}/unapprove", data={"csrf_token": token, "next": line}
        )
        location = done.headers["Location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\")), line


# --- Change ----------------------------------------------------------------------------------


def test_change_offers_another_login_and_linking_one(blog: Flask) -> None:
    alice = log_in(blog, "alice", "Alice")  # logged in with Google
    client: FlaskClient = alice.client
    page = client.get("/account/change?next=/2019/06/10/making-true-connections/%23respond")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    switch = [f for f in parse(page.text).forms if f.attrs.get("action") == "/auth/start"]
    assert len(switch) == 1
    assert {f["value"] for f in switch[0].fields if f.get("name") == "provider"} == {"google", "x"}
    assert form_data(page.text, "/auth/start")["next"] == ESSAY + "#respond"
    link = form_data(page.text, "/account/link")
    assert link["csrf_token"]
    linkable = next(f for f in parse(page.text).forms if f.attrs.get("action") == "/account/link")
    assert [f["value"] for f in linkable.fields if f.get("name") == "provider"] == ["x"]
    evil = client.get("/account/change?next=//evil.example/")
    assert form_data(evil.text, "/auth/start")["next"] == "/"
    assert blog.test_client().get("/account/change").status_code == 401


def test_previews_are_rate_limited_and_the_text_survives_the_refusal(
    essay: Path, make_app: Callable[..., Flask]
) -> None:
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_COMMENT="2 per minute",
        AUTH_PROVIDERS=offline_providers("google"),
        DEV_IDP=False,
    )
    client = app.test_client()
    data = {**form_data(client.get(ESSAY).text, "/auth/start"), "comment": "Typed with care"}
    answers = [client.post(PREVIEW, data=data, headers=SAME_ORIGIN) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].headers["Retry-After"]
    assert textarea(answers[2].text) == "Typed with care"


@pytest.mark.parametrize("asked", ["\u00b2", "\u0661", "9" * 30, "-1", "1e3", "x"])
def test_an_odd_reply_link_is_a_plain_form_not_an_error(blog: Flask, asked: str) -> None:
    response = blog.test_client().get(ESSAY, query_string={"replytocom": asked})
    assert response.status_code == 200
    assert 'id="comment_parent" name="parent_id" value=""' in response.text
