"""A reader's edit of their own comment goes through the rules a new comment does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from blog.auth.personal_data import delete_account
from blog.clock import FrozenClock, utcnow
from blog.comments.service import DUPLICATE_MESSAGE
from blog.comments.views import SPAM_NOTICE
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Comment, CommentEdit, CommentStatus, User
from tests.conftest import NOW
from tests.support.auth_helpers import comment_html, form_data, textarea
from tests.support.comment_client import (
    ESSAY,
    Reader,
    assert_refused,
    comment_id,
    log_in,
    set_status,
    statuses,
)

APPROVED, PENDING, SPAM = CommentStatus.APPROVED, CommentStatus.PENDING, CommentStatus.SPAM


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """make_app, with the essay in posts/."""
    return make_app


def bodies(app: Flask) -> list[str]:
    """Every comment's stored text, oldest first."""
    with app.app_context():
        return list(db.session.scalars(select(Comment.body).order_by(Comment.id)))


# --- duplicates ------------------------------------------------------------------------------


def test_an_edit_into_the_text_of_another_own_comment_is_a_duplicate(
    site: Callable[..., Flask],
) -> None:
    app = site()
    alice = log_in(app)
    comment_id(alice.post("The first thing I said."))
    second = comment_id(alice.post("Something else entirely."))
    typed = "  the FIRST thing I said. "
    assert_refused(alice.edit(second, typed), 409, DUPLICATE_MESSAGE, typed)
    assert bodies(app) == ["The first thing I said.", "Something else entirely."]
    # The same text as itself, or as another reader's comment, is no duplicate.
    assert alice.edit(second, "Something else entirely.").status_code == 303
    comment_id(log_in(app, "bob", "Bob").post("Bob's own words."))
    assert alice.edit(second, "Bob's own words.").status_code == 303
    assert ESSAY in alice.edit(second, "Bob's own words, again.").headers["Location"]


# --- the rules a new comment meets -----------------------------------------------------------

AUTHOR = ("google", "the-author")
AWAITING_EDIT = "Your edit is awaiting moderation"
LINKS = "Read these: " + " ".join(f"https://spam.example/{n}" for n in range(12))


@pytest.fixture
def moderated(site: Callable[..., Flask]) -> Flask:
    """Comments approved at once unless a rule holds them; one moderator."""
    return site(MODERATION_HOLD="none", MODERATORS=frozenset({AUTHOR}))


def public(app: Flask) -> str:
    """The essay as an anonymous reader sees it."""
    return app.test_client().get(ESSAY).get_data(as_text=True)


def queue(moderator: Reader) -> str:
    """The pending tab of the moderation queue."""
    response = moderator.client.get("/admin/comments")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def held_row(page: str, cid: int) -> str:
    """The queue's row for a comment's held edit."""
    start = page.index(f'<tr id="edit-{cid}"')
    return page[start : page.index("</tr>", start)]


def act_on_edit(moderator: Reader, page: str, cid: int, action: str) -> TestResponse:
    """Press a held edit's Approve or Reject button in the queue."""
    url = f"/admin/edits/{cid}/{action}"
    return moderator.client.post(url, data=form_data(page, url))


def test_an_approved_comment_edited_into_a_dozen_links_stays_as_approved_until_a_moderator_agrees(
    moderated: Flask,
) -> None:
    app = moderated
    alice, author = log_in(app), log_in(app, AUTHOR[1], "The Author")
    cid = comment_id(alice.post("A fair point about hiring."))
    edited = alice.edit(cid, LINKS)
    assert edited.status_code == 303 and edited.headers["Location"].endswith(f"#comment-{cid}")
    assert statuses(app) == [APPROVED]
    assert bodies(app) == ["A fair point about hiring."]
    shown = comment_html(public(app), cid)
    assert "A fair point about hiring." in shown and "spam.example" not in shown
    own = comment_html(alice.page(), cid)
    assert AWAITING_EDIT in own and "A fair point about hiring." in own
    assert AWAITING_EDIT not in public(app)
    # The edit form carries on from the held text.
    assert textarea(alice.client.get(f"/comments/{cid}/edit").get_data(as_text=True)) == LINKS
    # The moderator sees both texts and why the edit waits, and approves it.
    page = queue(author)
    row = held_row(page, cid)
    assert "A fair point about hiring." in row and "https://spam.example/11" in row
    assert "more than 2 links" in row and "Alice Reader" in row
    approved = act_on_edit(author, page, cid, "approve")
    assert approved.status_code == 303
    assert approved.headers["Location"] == "/admin/comments?status=pending"
    assert bodies(app) == [LINKS]
    assert "https://spam.example/11" in comment_html(public(app), cid)
    assert AWAITING_EDIT not in alice.page()
    assert f'id="edit-{cid}"' not in queue(author)


def test_a_rejected_edit_leaves_the_approved_text(moderated: Flask) -> None:
    app = moderated
    alice, author = log_in(app), log_in(app, AUTHOR[1], "The Author")
    cid = comment_id(alice.post("Measured words."))
    assert alice.edit(cid, LINKS).status_code == 303
    page = queue(author)
    assert act_on_edit(author, page, cid, "reject").status_code == 303
    assert bodies(app) == ["Measured words."]
    assert AWAITING_EDIT not in alice.page()
    assert "Measured words." in comment_html(public(app), cid)
    assert f'id="edit-{cid}"' not in queue(author)
    assert act_on_edit(author, page, cid, "approve").status_code == 404  # nothing left to approve


@pytest.mark.parametrize(
    ("settings", "text", "reason"),
    [
        ({"DISALLOWED_WORDS": ("casino",)}, "Now with a CASINO in it.", "disallowed word"),
        ({"MODERATION_WORDS": ("lottery",)}, "Now about the lottery.", "moderation word"),
        ({"MODERATION_HOLD": "all"}, "Any change at all.", "every comment is moderated"),
    ],
)
def test_words_and_hold_all_hold_an_edit_too(
    site: Callable[..., Flask], settings: dict[str, object], text: str, reason: str
) -> None:
    app = site(MODERATORS=frozenset({AUTHOR}), **settings)
    alice, author = log_in(app), log_in(app, AUTHOR[1], "The Author")
    cid = comment_id(alice.post("Plain words."))
    set_status(app, cid, APPROVED)
    assert alice.edit(cid, text).status_code == 303
    assert bodies(app) == ["Plain words."] and statuses(app) == [APPROVED]
    assert AWAITING_EDIT in comment_html(alice.page(), cid)
    assert reason in held_row(queue(author), cid)
    # A moderator's own edit meets no hold.
    own = comment_id(author.post("The author's note."))
    assert author.edit(own, text + " (the author)").status_code == 303
    assert bodies(app) == ["Plain words.", text + " (the author)"]


def test_a_user_banned_after_posting_cannot_edit(moderated: Flask, clock: FrozenClock) -> None:
    app = moderated
    alice = log_in(app)
    cid = comment_id(alice.post("Posted before the ban."))
    with app.app_context(), write_transaction():
        user = db.session.get_one(User, alice.user_id)
        user.banned_until = NOW + timedelta(days=3)
        user.ban_reason = "Link spam."
    typed = "Edited after the ban."
    refused = alice.edit(cid, typed)
    message = "You are banned from commenting until November 28, 2026 at 12:00 UTC."
    assert_refused(refused, 403, message + " Reason: Link spam.", typed)
    assert bodies(app) == ["Posted before the ban."]


def test_a_held_comment_edited_with_a_disallowed_word_is_spam_and_its_writer_told(
    site: Callable[..., Flask],
) -> None:
    app = site(MODERATION_HOLD="first", DISALLOWED_WORDS=("casino",))
    alice = log_in(app)
    cid = comment_id(alice.post("My first words, held."))
    assert statuses(app) == [PENDING]
    edited = alice.edit(cid, "Visit the casino.")
    assert edited.status_code == 303 and edited.headers["Location"].endswith("#respond")
    assert statuses(app) == [SPAM]
    page = alice.page()
    assert SPAM_NOTICE in page and f'id="comment-{cid}"' not in page


def test_an_edit_that_passes_replaces_a_held_one(moderated: Flask) -> None:
    app = moderated
    alice, author = log_in(app), log_in(app, AUTHOR[1], "The Author")
    cid = comment_id(alice.post("First words."))
    assert alice.edit(cid, LINKS).status_code == 303
    assert alice.edit(cid, "Second thoughts, no links.").status_code == 303
    assert bodies(app) == ["Second thoughts, no links."]
    assert AWAITING_EDIT not in alice.page()
    assert f'id="edit-{cid}"' not in queue(author)


def test_editing_back_to_the_shown_text_takes_a_held_edit_back(moderated: Flask) -> None:
    app = moderated
    alice = log_in(app)
    cid = comment_id(alice.post("Where I started."))
    assert alice.edit(cid, LINKS).status_code == 303
    assert held_edits(app) == [cid]
    assert alice.edit(cid, "Where I started.").status_code == 303
    assert held_edits(app) == [] and bodies(app) == ["Where I started."]
    assert "(edited)" not in comment_html(public(app), cid)


def test_a_held_edit_goes_with_its_comment_and_its_writers_account(moderated: Flask) -> None:
    app = moderated
    alice, bob = log_in(app), log_in(app, "bob", "Bob")
    deleted = comment_id(alice.post("To be deleted."))
    comment_id(bob.post("A reply keeps a placeholder.", parent_id=deleted))
    kept = comment_id(alice.post("To be anonymised."))
    for cid in (deleted, kept):
        assert alice.edit(cid, LINKS + f" {cid}").status_code == 303
    assert held_edits(app) == [deleted, kept]
    exported = alice.client.get("/account/data.json").get_json()["comments"]
    assert [c["edit_awaiting_moderation"] for c in exported] == [
        LINKS + f" {deleted}",
        LINKS + f" {kept}",
    ]
    data = {**form_data(alice.page(), f"/comments/{deleted}/delete"), "confirm": "yes"}
    assert alice.client.post(f"/comments/{deleted}/delete", data=data).status_code == 303
    assert held_edits(app) == [kept]
    with app.app_context():
        delete_account(alice.user_id, utcnow())
    assert held_edits(app) == []


def test_a_held_edit_that_clashes_by_the_time_it_is_approved_is_refused(moderated: Flask) -> None:
    app = moderated
    alice, author = log_in(app), log_in(app, AUTHOR[1], "The Author")
    cid = comment_id(alice.post("Original."))
    assert alice.edit(cid, LINKS).status_code == 303
    comment_id(alice.post(LINKS))  # the same text posted anew: held by the link rule
    page = queue(author)
    refused = act_on_edit(author, page, cid, "approve")
    assert refused.status_code == 303
    assert "already posted that text" in queue(author)
    assert bodies(app) == ["Original.", LINKS]
    assert held_edits(app) == [cid]


def held_edits(app: Flask) -> list[int]:
    """The ids of the comments with an edit waiting for a moderator."""
    with app.app_context():
        return list(db.session.scalars(select(CommentEdit.comment_id).order_by("comment_id")))
