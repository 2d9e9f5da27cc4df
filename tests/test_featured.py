"""Featured comments: the author pins a comment above the thread, marked and linked to its
place; unpins it; every anonymous reader's cached page follows at once."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from blog.extensions import db
from blog.models import CommentStatus, FeaturedComment
from tests.support.moderation_helpers import (
    ESSAY,
    MODERATORS,
    add_comment,
    add_moderator,
    add_user,
    csrf_token,
    log_in,
    set_status,
)

DAY = 24 * 3600
BODY = "The comment everyone should read first."
FEATURED_BOX = re.compile(r'<section class="featured-comments".*?</section>', re.DOTALL)


@pytest.fixture
def app(essay: Path, make_app: Callable[..., Flask]) -> Flask:
    """The essay behind the page cache, with one moderator configured."""
    return make_app(MODERATORS=MODERATORS, PAGE_CACHE=True, PAGE_CACHE_SECONDS=30 * DAY)


def moderator(app: Flask) -> FlaskClient:
    client = app.test_client()
    log_in(client, add_moderator(app))
    return client


def featured_box(app: Flask) -> str:
    """The Featured box of the anonymous page ('' when there is none)."""
    response = app.test_client().get(ESSAY)
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    found = FEATURED_BOX.search(response.text)
    return found.group(0) if found else ""


def press(client: FlaskClient, url: str) -> tuple[int, str]:
    response = client.post(url, data={"csrf_token": csrf_token(client)})
    return response.status_code, response.headers.get("Location") or response.text


def featured_rows(app: Flask) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(FeaturedComment.comment_id)))


def test_the_author_pins_a_comment_above_the_thread_and_unpins_it(app: Flask) -> None:
    writer = add_user(app, "Writer")
    add_comment(app, writer, "An ordinary comment first.")
    comment = add_comment(app, writer, BODY)
    assert featured_box(app) == "" and featured_box(app) == ""  # the second from the cache
    client = moderator(app)
    assert f'formaction="/admin/featured/{comment}/add"' in client.get(ESSAY).text

    assert press(client, f"/admin/featured/{comment}/add") == (303, f"{ESSAY}#comment-{comment}")

    box = featured_box(app)
    assert '<span class="featured-badge">Featured</span>' in box
    assert BODY in box and f'href="#comment-{comment}"' in box and "Writer" in box
    page = app.test_client().get(ESSAY).text
    assert page.index("featured-comments") < page.index('<ol class="comment-list">')
    assert f'formaction="/admin/featured/{comment}/remove"' in client.get(ESSAY).text
    assert featured_rows(app) == [comment]
    assert press(client, f"/admin/featured/{comment}/add")[0] == 303  # again: no second row
    assert featured_rows(app) == [comment]

    assert press(client, f"/admin/featured/{comment}/remove") == (
        303,
        f"{ESSAY}#comment-{comment}",
    )
    assert featured_box(app) == "" and featured_rows(app) == []


def test_a_hidden_comment_is_not_featured_and_cannot_be(app: Flask) -> None:
    writer = add_user(app, "Writer")
    comment = add_comment(app, writer, BODY)
    held = add_comment(app, writer, "Held back.", status=CommentStatus.PENDING)
    client = moderator(app)
    press(client, f"/admin/featured/{comment}/add")
    assert BODY in featured_box(app)

    set_status(app, comment, CommentStatus.TRASH)

    assert featured_box(app) == ""
    assert press(client, f"/admin/featured/{held}/add")[0] == 409
    assert press(client, "/admin/featured/999999/add")[0] == 404
    assert press(client, "/admin/featured/999999/remove")[0] == 404


def test_only_moderators_pin(app: Flask) -> None:
    comment = add_comment(app, add_user(app, "Writer"), BODY)
    reader = app.test_client()
    log_in(reader, add_user(app, "Alice"))
    assert "/admin/featured/" not in reader.get(ESSAY).text
    assert press(reader, f"/admin/featured/{comment}/add")[0] == 403
    assert featured_rows(app) == []
    assert app.test_client().post(f"/admin/featured/{comment}/add").status_code in (400, 403)
