"""A reader's edit of their own comment goes through the rules a new comment does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from blog.comments.service import DUPLICATE_MESSAGE
from blog.extensions import db
from blog.models import Comment
from tests.support.comment_client import ESSAY, assert_refused, comment_id, log_in


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
