"""Each model declares the cache tags a write of its rows makes stale, and every write path is
seen: ORM rows, bulk statements by their table's model, raw SQL by what its writer names. (That
the cache imports no domain module is import-linter's to check: pyproject.toml.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text, update

from blog.auth.accounts import link_profile
from blog.auth.providers import Profile
from blog.cache import page_cache
from blog.cache.tracking import invalidate_on_commit
from blog.clock import utcnow
from blog.database import write_transaction
from blog.extensions import Base, db
from blog.models import Comment, Post, post_terms
from blog.models.base import SITE, TABLE_TAGS, NotShownOnPages, ShownOnPages, post_tag
from tests.support.moderation_helpers import ESSAY, add_comment, add_user

Make = Callable[..., Flask]
TITLE = "Making TRUE Connections"


def counts(app: Flask) -> tuple[int, int]:
    """How many pages the app's page cache has stored and served."""
    cache = page_cache(app)
    assert cache is not None
    return cache.stored, cache.hits


def page(app: Flask, path: str = ESSAY) -> str:
    """An anonymous GET's page."""
    response = app.test_client().get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_every_model_declares_its_tags_or_that_no_page_shows_it() -> None:
    """A new model (or table) cannot escape invalidation by saying nothing."""
    undeclared = [
        mapper.class_.__name__
        for mapper in Base.registry.mappers
        if not issubclass(mapper.class_, ShownOnPages | NotShownOnPages)
    ]
    assert undeclared == []
    modelled = {table for mapper in Base.registry.mappers for table in mapper.tables}
    bare = [
        table.name
        for table in db.metadata.tables.values()
        if table not in modelled and TABLE_TAGS not in table.info
    ]
    assert bare == []


def test_rows_and_bulk_statements_name_their_tags() -> None:
    assert Post.bulk_cache_tags({"announced_at"}, None) == set()
    assert Post.bulk_cache_tags({"title"}, None) == {SITE}
    assert Comment.bulk_cache_tags(None, [{"post_id": 7}, {"post_id": 8}]) == {
        "comments",
        post_tag(7),
        post_tag(8),
    }
    assert Comment.bulk_cache_tags(None, [{"post_id": 7}, {"body": "no post"}]) == {SITE}
    assert Comment.bulk_cache_tags({"author_name"}, None) == {SITE}
    assert Post(id=3).cache_tags({"announced_at"}) == set()
    assert Post(id=3).cache_tags(None) == {SITE}
    assert Comment(post_id=5).cache_tags(None) == {"comments", post_tag(5)}


def test_a_bulk_write_of_unshown_columns_or_of_a_table_no_page_shows_keeps_every_page(
    essay: Path, make_app: Make
) -> None:
    app = make_app()
    page(app)
    with app.app_context(), write_transaction():
        db.session.execute(update(Post).values(announced_at=utcnow()))
        db.session.execute(update(db.metadata.tables["users"]).values(email=None))
    stored, hits = counts(app)
    page(app)
    assert counts(app) == (stored, hits + 1)


def test_an_association_table_declares_its_tags(essay: Path, make_app: Make) -> None:
    app = make_app()
    page(app)
    with app.app_context(), write_transaction():
        db.session.execute(post_terms.delete())
    stored, _hits = counts(app)
    page(app)
    assert counts(app)[0] == stored + 1


def test_raw_sql_is_never_parsed_its_writer_names_the_tags(essay: Path, make_app: Make) -> None:
    app = make_app()
    assert TITLE in page(app)
    with app.app_context(), write_transaction():
        db.session.execute(text("UPDATE posts SET title = 'Renamed By Hand'"))
        invalidate_on_commit(db.session(), {SITE})
    html = page(app)
    assert "Renamed By Hand" in html and TITLE not in html


def test_the_blog_wide_comment_feed_shows_a_comment_on_a_post_it_did_not_show(
    essay: Path, make_app: Make
) -> None:
    """The feed names the `comments` tag itself: before this comment it loaded no post."""
    app = make_app()
    assert "<item>" not in page(app, "/comments/feed/")
    stored, hits = counts(app)
    assert "<item>" not in page(app, "/comments/feed/")
    assert counts(app) == (stored, hits + 1)
    add_comment(app, add_user(app, "Alice"), "The first comment anywhere.")
    assert "The first comment anywhere." in page(app, "/comments/feed/")


@pytest.mark.parametrize("page_cache_on", [True, False])
def test_linking_a_moderators_identity_gives_their_comments_the_badge(
    essay: Path, make_app: Make, page_cache_on: bool
) -> None:
    app = make_app(PAGE_CACHE=page_cache_on)
    alice = add_user(app, "Alice", "alice-on-x", provider="x")
    add_comment(app, alice, "Written before the link.")
    result = app.test_cli_runner().invoke(args=["blog", "admin", "add", "google:alice-google"])
    assert result.exit_code == 0, result.output
    assert 'class="author-badge"' not in page(app)
    with app.app_context():
        profile = Profile("google", "alice-google", "Alice", None, False, None)
        link_profile(alice, profile, utcnow() + timedelta(seconds=1))
    assert 'class="author-badge"' in page(app)
