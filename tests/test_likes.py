"""Likes of posts and comments: one per reader, undone by a second click, exact through the
page cache, nothing of a liker's own state on a shared page, in the export, gone with the
account."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from blog.cache import page_cache
from blog.clock import utcnow
from blog.extensions import db
from blog.models import Avatar, CommentReport, CommentStatus, FeaturedComment, Like
from blog.models.base import SITE, post_tag
from tests.support.moderation_helpers import (
    ESSAY,
    MODERATORS,
    add_comment,
    add_user,
    csrf_token,
    essay_post_id,
    log_in,
    set_status,
)

JSON = {"Accept": "application/json"}
YOU_LIKED = "You liked this."
DAY = 24 * 3600


@pytest.fixture
def app(essay: Path, make_app: Callable[..., Flask]) -> Flask:
    """The essay with the page cache on, as in production."""
    return make_app(MODERATORS=MODERATORS, PAGE_CACHE=True, PAGE_CACHE_SECONDS=30 * DAY)


def reader(app: Flask, name: str) -> tuple[FlaskClient, int]:
    """A logged-in reader's client, and their id."""
    user_id = add_user(app, name)
    client = app.test_client()
    log_in(client, user_id)
    return client, user_id


def like(client: FlaskClient, path: str, **headers: str) -> tuple[int, str]:
    """Press a Like button: the status and where it leads (or the JSON)."""
    response = client.post(path, data={"csrf_token": csrf_token(client)}, headers=headers)
    return response.status_code, response.headers.get("Location") or response.text


def likes_in_database(app: Flask) -> list[tuple[int, int | None, int]]:
    """Every like as (post, comment, user)."""
    with app.app_context():
        rows = db.session.execute(
            select(Like.post_id, Like.comment_id, Like.user_id).order_by(Like.id)
        )
        return list(rows)


def anonymous_page(app: Flask) -> str:
    """The essay as a reader without cookies gets it."""
    response = app.test_client().get(ESSAY)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    return response.text


def test_a_reader_likes_the_post_and_a_second_click_undoes_it(app: Flask) -> None:
    client, alice = reader(app, "Alice")
    post_id = essay_post_id(app)

    status, location = like(client, f"/posts/{post_id}/like")

    assert (status, location) == (303, f"{ESSAY}#likes")
    assert likes_in_database(app) == [(post_id, None, alice)]
    page = client.get(ESSAY).text
    assert YOU_LIKED in page and '<span class="like-count">1 like</span>' in page
    assert 'aria-pressed="true"' in page

    assert like(client, f"/posts/{post_id}/like") == (303, f"{ESSAY}#likes")
    assert likes_in_database(app) == []
    page = client.get(ESSAY).text
    assert "data-you-liked hidden>You liked this." in page
    assert '<span class="like-count"></span>' in page


def test_a_comment_like_counts_each_reader_once_and_answers_a_script_in_json(app: Flask) -> None:
    writer = add_user(app, "Writer")
    comment = add_comment(app, writer, "A comment worth liking.")
    alice, _ = reader(app, "Alice")
    bob, _ = reader(app, "Bob")

    status, body = like(alice, f"/comments/{comment}/like", **JSON)
    assert status == 200 and json.loads(body) == {"liked": True, "count": 1, "count_text": "1 like"}
    status, body = like(bob, f"/comments/{comment}/like", **JSON)
    assert json.loads(body) == {"liked": True, "count": 2, "count_text": "2 likes"}
    status, body = like(alice, f"/comments/{comment}/like", **JSON)
    assert json.loads(body) == {"liked": False, "count": 1, "count_text": "1 like"}

    assert like(bob, f"/comments/{comment}/like") == (303, f"{ESSAY}#comment-{comment}")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Like)) == 0


def cache_counts(app: Flask) -> tuple[int, int]:
    """Pages the page cache has stored, and served."""
    cache = page_cache(app)
    assert cache is not None
    return cache.stored, cache.hits


def test_the_anonymous_page_shows_exact_counts_from_the_page_cache_and_nothing_personal(
    app: Flask,
) -> None:
    writer = add_user(app, "Writer")
    comment = add_comment(app, writer, "A comment worth liking.")
    first = anonymous_page(app)
    stored, hits = cache_counts(app)
    assert anonymous_page(app) == first
    assert cache_counts(app) == (stored, hits + 1)  # the second came from the page cache
    assert '<a class="like-button like-login" href="#respond"' in first
    client, _ = reader(app, "Alice")

    like(client, f"/posts/{essay_post_id(app)}/like")
    like(client, f"/comments/{comment}/like")
    assert YOU_LIKED in client.get(ESSAY).text  # her own page, never stored

    page = anonymous_page(app)
    assert cache_counts(app) == (stored + 1, hits + 1)  # rendered anew, then kept
    assert page.count('<span class="like-count">1 like</span>') == 2
    assert YOU_LIKED not in page and "aria-pressed" not in page
    assert 'id="reaction-form"' not in page and "csrf_token" not in page
    assert "/report" not in page and 'form="reaction-form"' not in page
    assert 'class="likers"' in page
    assert anonymous_page(app) == page and cache_counts(app) == (stored + 1, hits + 2)


def test_a_reader_without_likes_gets_the_controls_anonymous_readers_do_not(app: Flask) -> None:
    """Readers share filled threads by what they like: a stranger never gets a member's."""
    comment = add_comment(app, add_user(app, "Writer"), "A comment worth liking.")
    client, _ = reader(app, "Alice")
    assert f'href="/comments/{comment}/report"' in client.get(ESSAY).text
    assert f"/comments/{comment}/report" not in anonymous_page(app)
    assert f'href="/comments/{comment}/report"' in client.get(ESSAY).text


def test_a_readers_own_likes_are_on_their_page_only(app: Flask) -> None:
    writer = add_user(app, "Writer")
    liked = add_comment(app, writer, "Alice likes this one.")
    other = add_comment(app, writer, "Nobody likes this one.")
    alice, _ = reader(app, "Alice")
    bob, _ = reader(app, "Bob")
    like(alice, f"/comments/{liked}/like")

    mine = alice.get(ESSAY).text
    theirs = bob.get(ESSAY).text

    assert f'action="/comments/{liked}/like" class="like-button" data-like aria-pressed="true"' in (
        mine.replace('formaction="', 'action="')
    )
    assert mine.count('aria-pressed="true"') == 1
    assert 'aria-pressed="true"' not in theirs
    assert f"/comments/{other}/like" in theirs


def test_a_reader_who_wrote_here_gets_their_likes_and_no_report_link_on_their_own_comment(
    app: Flask,
) -> None:
    other = add_comment(app, add_user(app, "Writer"), "Someone else's comment.")
    client, alice = reader(app, "Alice")
    own = add_comment(app, alice, "Alice's own comment.")
    like(client, f"/comments/{other}/like")
    like(client, f"/comments/{own}/like")

    page = client.get(ESSAY).text

    assert page.count('aria-pressed="true"') == 2
    assert f'href="/comments/{other}/report"' in page
    assert f'href="/comments/{own}/report"' not in page
    assert f'action="/comments/{own}/delete"' in page  # her thread, rendered for her


def test_likes_from_one_address_are_rate_limited_with_a_clear_page(
    essay: Path, make_app: Callable[..., Flask]
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_REACTION="2 per minute")
    client, _ = reader(app, "Alice")
    url = f"/posts/{essay_post_id(app)}/like"
    assert [like(client, url)[0] for _ in range(2)] == [303, 303]
    response = client.post(url, data={"csrf_token": csrf_token(client)})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    assert "You are liking too quickly from your network." in response.text
    assert likes_in_database(app) == []


def test_no_like_for_a_stranger_a_held_comment_or_a_banned_reader(app: Flask) -> None:
    writer = add_user(app, "Writer")
    held = add_comment(app, writer, "Waiting for a moderator.")
    set_status(app, held, CommentStatus.PENDING)
    stranger = app.test_client()
    assert stranger.post(f"/posts/{essay_post_id(app)}/like").status_code == 400  # no token
    client, alice = reader(app, "Alice")
    assert like(client, f"/comments/{held}/like")[0] == 404
    assert like(client, "/comments/999999/like")[0] == 404
    assert like(client, "/posts/999999/like")[0] == 404
    from blog.models import User

    with app.app_context():
        user = db.session.get(User, alice)
        assert user is not None
        user.ban_permanent = True
        db.session.commit()
    status, body = like(client, f"/posts/{essay_post_id(app)}/like", **JSON)
    assert status == 403 and "banned from liking" in json.loads(body)["error"]
    assert likes_in_database(app) == []


def test_likes_are_in_the_export_and_go_with_the_account(app: Flask) -> None:
    writer = add_user(app, "Writer")
    comment = add_comment(app, writer, "A comment worth liking.")
    client, _ = reader(app, "Alice")
    like(client, f"/posts/{essay_post_id(app)}/like")
    like(client, f"/comments/{comment}/like")
    assert '<span class="like-count">1 like</span>' in anonymous_page(app)

    export = client.get("/account/data.json").get_json()
    assert [(x["post"], x["comment_id"]) for x in export["likes"]] == [
        (ESSAY, None),
        (ESSAY, comment),
    ]

    data = {"csrf_token": csrf_token(client), "confirm": "delete"}
    response = client.post("/account/delete", data=data)
    assert response.status_code in (302, 303)
    assert likes_in_database(app) == []
    assert '<span class="like-count">1 like</span>' not in anonymous_page(app)


def test_likes_and_featured_comments_name_their_posts_reports_name_nothing() -> None:
    assert Like(post_id=7).cache_tags(None) == {post_tag(7)}
    assert Like.bulk_cache_tags(None, [{"post_id": 7}, {"post_id": 8}]) == {
        post_tag(7),
        post_tag(8),
    }
    assert Like.bulk_cache_tags(None, None) == {SITE}
    assert Like.bulk_cache_tags(None, [{"post_id": 7}, {"user_id": 1}]) == {SITE}
    assert FeaturedComment(post_id=5).cache_tags(None) == {post_tag(5)}
    assert CommentReport().cache_tags(None) == set()
    assert CommentReport.bulk_cache_tags({"status"}, None) == set()


def test_a_likers_new_picture_reaches_the_cached_page_of_a_post_they_only_liked(
    app: Flask,
) -> None:
    client, alice = reader(app, "Alice")
    like(client, f"/posts/{essay_post_id(app)}/like")
    assert f"/avatars/{alice}.svg" in anonymous_page(app)
    with app.app_context():
        db.session.add(
            Avatar(
                user_id=alice,
                content_type="image/png",
                data=b"\x89PNG",
                digest="d1g3st",
                fetched_at=utcnow(),
            )
        )
        db.session.commit()
    assert f"/avatars/{alice}.png?v=d1g3st" in anonymous_page(app)
