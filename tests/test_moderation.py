"""The moderation service: every action, bulk, placeholders, edits, the author's replies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from blog.clock import FrozenClock
from blog.comments.page import rules
from blog.comments.rules import body_hash
from blog.extensions import db
from blog.models import Comment, CommentStatus
from blog.moderation import service
from blog.moderation.service import Action, ModerationError
from tests.support.auth_helpers import check_fragment, comment_html, comment_ids
from tests.support.moderation_helpers import (
    ESSAY,
    MODERATORS,
    add_comment,
    add_moderator,
    add_user,
    set_status,
    status_of,
)

S = CommentStatus


@pytest.fixture
def app(essay: Path, make_app: Callable[..., Flask]) -> Flask:
    """The essay, one moderator configured, first comments held."""
    return make_app(MODERATORS=MODERATORS, MODERATION_HOLD="first")


def reader_page(app: Flask) -> str:
    """The essay as an anonymous reader sees it."""
    response = app.test_client().get(ESSAY)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def moderate(app: Flask, action: Action, *ids: int) -> service.Outcome:
    with app.app_context():
        from blog.clock import utcnow

        return service.moderate(action, ids, utcnow())


@pytest.mark.parametrize(
    ("start", "action", "end"),
    [
        (S.PENDING, Action.APPROVE, S.APPROVED),
        (S.SPAM, Action.APPROVE, S.APPROVED),
        (S.TRASH, Action.APPROVE, S.APPROVED),
        (S.APPROVED, Action.UNAPPROVE, S.PENDING),
        (S.PENDING, Action.SPAM, S.SPAM),
        (S.APPROVED, Action.SPAM, S.SPAM),
        (S.SPAM, Action.NOT_SPAM, S.APPROVED),  # "not spam" approves: the moderator judged it
        (S.APPROVED, Action.TRASH, S.TRASH),
        (S.PENDING, Action.TRASH, S.TRASH),
        (S.TRASH, Action.RESTORE, S.PENDING),
        (S.SPAM, Action.DELETE, None),
        (S.TRASH, Action.DELETE, None),
        (S.PENDING, Action.DELETE, None),
    ],
)
def test_each_action_moves_the_comment_and_readers_see_only_approved(
    app: Flask, start: CommentStatus, action: Action, end: CommentStatus | None
) -> None:
    alice = add_user(app, "Alice")
    comment = add_comment(app, alice, "A thought about hiring.", status=start)
    assert ("A thought about hiring." in reader_page(app)) is (start is S.APPROVED)

    outcome = moderate(app, action, comment)

    assert (outcome.changed, outcome.skipped) == (1, 0)
    assert status_of(app, comment) is end
    assert ("A thought about hiring." in reader_page(app)) is (end is S.APPROVED)


@pytest.mark.parametrize(
    ("start", "action"),
    [
        (S.APPROVED, Action.APPROVE),
        (S.PENDING, Action.UNAPPROVE),
        (S.PENDING, Action.RESTORE),
        (S.APPROVED, Action.NOT_SPAM),
        (S.SPAM, Action.SPAM),
        (S.TRASH, Action.TRASH),
    ],
)
def test_inapplicable_actions_change_nothing(
    app: Flask, start: CommentStatus, action: Action
) -> None:
    comment = add_comment(app, add_user(app, "Alice"), "Hello there.", status=start)
    outcome = moderate(app, action, comment)
    assert (outcome.changed, outcome.skipped) == (0, 1)
    assert outcome.message().startswith("No comment changed.")
    assert status_of(app, comment) is start


def test_unknown_and_deleted_comments_are_skipped(app: Flask) -> None:
    outcome = moderate(app, Action.APPROVE, 4242)
    assert (outcome.changed, outcome.skipped) == (0, 1)


def test_bulk_applies_to_the_applicable_part_of_a_selection(app: Flask) -> None:
    alice, bob, carol = (add_user(app, n) for n in ("Alice", "Bob", "Carol"))
    first = add_comment(app, alice, "First.")
    second = add_comment(app, bob, "Second.")
    untouched = add_comment(app, carol, "Third.")
    already = add_comment(app, alice, "Fourth.", status=S.APPROVED)

    outcome = moderate(app, Action.APPROVE, first, second, already, 999)

    assert (outcome.changed, outcome.skipped) == (2, 2)
    assert outcome.message() == (
        "2 comments approved. 2 skipped (already there, gone, or not applicable)."
    )
    assert [status_of(app, c) for c in (first, second, untouched, already)] == [
        S.APPROVED, S.APPROVED, S.PENDING, S.APPROVED
    ]  # fmt: skip
    page = reader_page(app)
    assert "First." in page and "Second." in page and "Third." not in page


def test_counts_per_status(app: Flask) -> None:
    alice = add_user(app, "Alice")
    for text, status in [("a", S.PENDING), ("b", S.PENDING), ("c", S.APPROVED), ("d", S.SPAM)]:
        add_comment(app, alice, f"Comment {text}.", status=status)
    with app.app_context():
        assert service.counts() == {S.PENDING: 2, S.APPROVED: 1, S.SPAM: 1, S.TRASH: 0}


def test_approval_tells_the_mail_service_once_per_approved_comment(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blog.mail import notify

    told: list[int] = []
    monkeypatch.setattr(notify, "comment_approved", told.append)
    alice = add_user(app, "Alice")
    held = add_comment(app, alice, "Held.")
    junk = add_comment(app, alice, "Junk.", status=S.SPAM)
    moderate(app, Action.APPROVE, held)
    moderate(app, Action.APPROVE, held)  # already approved: nothing to tell
    moderate(app, Action.TRASH, junk)
    moderate(app, Action.RESTORE, junk)
    assert told == [held]
    moderate(app, Action.SPAM, junk)
    moderate(app, Action.NOT_SPAM, junk)
    assert told == [held, junk]


def test_approved_reply_under_a_pending_parent_stays_hidden_until_it_is_approved(
    app: Flask,
) -> None:
    alice, bob = add_user(app, "Alice"), add_user(app, "Bob")
    parent = add_comment(app, alice, "The parent comment.", status=S.APPROVED)
    reply = add_comment(app, bob, "The reply to it.", parent_id=parent, status=S.APPROVED)
    moderate(app, Action.UNAPPROVE, parent)

    page = reader_page(app)
    assert "The parent comment." not in page
    assert "The reply to it." not in page  # approved, but under a pending parent
    assert status_of(app, reply) is S.APPROVED

    moderate(app, Action.APPROVE, parent)
    page = reader_page(app)
    assert comment_ids(page) == [parent, reply]
    assert "The reply to it." in comment_html(page, reply)


def test_delete_for_good_keeps_a_placeholder_while_replies_exist(app: Flask) -> None:
    alice, bob = add_user(app, "Alice"), add_user(app, "Bob")
    parent = add_comment(app, alice, "Something regrettable.", status=S.APPROVED)
    reply = add_comment(app, bob, "A good answer.", parent_id=parent, status=S.APPROVED)

    moderate(app, Action.TRASH, parent)
    assert moderate(app, Action.DELETE, parent).changed == 1

    assert status_of(app, parent) is S.DELETED
    with app.app_context():
        row = db.session.get(Comment, parent)
        assert row is not None
        assert (row.body, row.body_html, row.ip_hash) == ("", "", None)
        assert row.deleted_at is not None
        assert service.counts()[S.TRASH] == 0
    page = reader_page(app)
    assert "Something regrettable." not in page
    assert "This comment was deleted." in comment_html(page, parent)
    assert comment_ids(page) == [parent, reply]

    # Deleting the last reply removes the placeholder that stood only for it.
    moderate(app, Action.TRASH, reply)
    moderate(app, Action.DELETE, reply)
    assert status_of(app, reply) is None
    assert status_of(app, parent) is None
    assert "This comment was deleted." not in reader_page(app)


def test_deleting_a_parent_and_its_reply_together_leaves_nothing(app: Flask) -> None:
    alice, bob = add_user(app, "Alice"), add_user(app, "Bob")
    parent = add_comment(app, alice, "Spam one.", status=S.APPROVED)
    reply = add_comment(app, bob, "Spam two.", parent_id=parent, status=S.APPROVED)
    moderate(app, Action.SPAM, parent, reply)
    assert moderate(app, Action.DELETE, parent, reply).changed == 2
    with app.app_context():
        assert db.session.scalars(select(Comment)).all() == []


def test_edit_rerenders_sanitised_html_and_updates_the_duplicate_key(
    app: Flask, clock: FrozenClock
) -> None:
    alice = add_user(app, "Alice")
    comment = add_comment(app, alice, "Orginal txet.", status=S.APPROVED)
    clock.advance(hours=2)
    text = (
        "**Bold** fix <script>alert(1)</script> <img src=x onerror=alert(2)> "
        "[click](javascript:alert(3)) [site](https://example.com)"
    )
    with app.app_context():
        service.edit(comment, text, clock.now(), rules())
        row = db.session.get(Comment, comment)
        assert row is not None
        assert row.body == text
        assert row.body_hash == body_hash(text)
        assert row.edited_at == clock.now()
        assert "<strong>Bold</strong>" in row.body_html
        assert check_fragment(row.body_html) == []
        assert "<script" not in row.body_html and "javascript:" not in row.body_html
        assert 'href="https://example.com"' in row.body_html
    page = comment_html(reader_page(app), comment)
    assert "<strong>Bold</strong>" in page and "(edited)" in page


def test_edit_refuses_empty_text_and_a_duplicate_of_the_same_users_comment(app: Flask) -> None:
    alice = add_user(app, "Alice")
    first = add_comment(app, alice, "One thing.", status=S.APPROVED)
    second = add_comment(app, alice, "Another thing.", status=S.APPROVED)
    with app.app_context():
        from blog.clock import utcnow

        with pytest.raises(ModerationError, match="empty"):
            service.edit(first, "   ", utcnow(), rules())
        with pytest.raises(ModerationError) as caught:
            service.edit(second, "one  THING.", utcnow(), rules())
        assert caught.value.status == 409
        assert db.session.get(Comment, second).body == "Another thing."  # type: ignore[union-attr]


def test_reply_as_author_is_approved_at_once_and_approves_a_pending_parent(app: Flask) -> None:
    author = add_moderator(app)
    alice = add_user(app, "Alice")
    parent = add_comment(app, alice, "Is this post still relevant?")
    assert status_of(app, parent) is S.PENDING
    with app.app_context():
        from blog.clock import utcnow
        from blog.models import User

        moderator = db.session.get(User, author)
        assert moderator is not None
        reply = service.reply_as_author(
            moderator, parent, "Yes, *very* much.", utcnow(), rules(), "key", provider="google"
        ).id
    assert status_of(app, parent) is S.APPROVED
    assert status_of(app, reply) is S.APPROVED
    page = reader_page(app)
    assert comment_ids(page) == [parent, reply]
    reply_html = comment_html(page, reply)
    assert '<span class="author-badge">Author</span>' in reply_html
    assert "<em>very</em>" in reply_html
    assert "author-badge" not in comment_html(page, parent)


def test_reply_as_author_to_spam_is_refused(app: Flask) -> None:
    author = add_moderator(app)
    junk = add_comment(app, add_user(app, "Alice"), "Cheap pills.", status=S.SPAM)
    with app.app_context():
        from blog.clock import utcnow
        from blog.models import User

        moderator = db.session.get(User, author)
        assert moderator is not None
        with pytest.raises(ModerationError, match="restore or approve it") as caught:
            service.reply_as_author(moderator, junk, "No.", utcnow(), rules(), "key")
        assert caught.value.status == 409
        with pytest.raises(ModerationError, match="empty"):
            service.reply_as_author(moderator, junk, "  ", utcnow(), rules(), "key")
    assert status_of(app, junk) is S.SPAM


def test_placeholders_and_unknown_comments_cannot_be_edited(app: Flask) -> None:
    alice = add_user(app, "Alice")
    comment = add_comment(app, alice, "Soon gone.", status=S.APPROVED)
    set_status(app, comment, S.DELETED)
    with app.app_context():
        from blog.clock import utcnow

        for missing in (comment, 12345):
            with pytest.raises(ModerationError) as caught:
                service.edit(missing, "New text.", utcnow(), rules())
            assert caught.value.status == 404
