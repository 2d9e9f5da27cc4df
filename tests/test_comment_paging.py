"""Long threads in pages: /comment-page-N/, the order setting and switch, a comment's page,
bad page numbers, the page cache, and the query's cost on a long thread."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Select, insert, select, text
from sqlalchemy.dialects import postgresql

from blog.clock import utcnow
from blog.comments.paging import (
    _COUNTS,
    CommentOrder,
    _earlier_roots,
    page_roots,
    roots_before_new,
)
from blog.comments.service import _history_and_page
from blog.config import ConfigError
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Comment, CommentStatus, Post
from tests.support import moderation_helpers as mh
from tests.support.comment_client import comment_id, log_in
from tests.support.moderation_helpers import ESSAY

Make = Callable[..., Flask]


def essay_id(app: Flask) -> int:
    with app.app_context():
        found = db.session.scalar(select(Post.id).where(Post.slug == "making-true-connections"))
        assert found is not None
        return found


def seed_roots(app: Flask, count: int, replies_every: int = 0) -> list[int]:
    """`count` approved top-level comments a minute apart, oldest first; a reply under every
    `replies_every`-th one. Returns the top-level ids, oldest first."""
    post_id = essay_id(app)
    with app.app_context():
        start = utcnow() - timedelta(days=30)
    rows = [
        {
            "post_id": post_id,
            "author_name": f"Reader {n}",
            "body": f"Top-level comment number {n}.",
            "body_html": f"<p>Top-level comment number {n}.</p>",
            "body_hash": f"root-{n}",
            "status": CommentStatus.APPROVED,
            "created_at": start + timedelta(minutes=n),
            "depth": 0,
            "parent_key": 0,
        }
        for n in range(count)
    ]
    with app.app_context(), write_transaction():
        db.session.execute(insert(Comment), rows)
    with app.app_context():
        ids = list(
            db.session.scalars(
                select(Comment.id).where(Comment.parent_id.is_(None)).order_by(Comment.id)
            )
        )
    if replies_every:
        replies = [
            {
                **rows[n],
                "author_name": f"Replier {n}",
                "body": f"A reply to comment number {n}.",
                "body_html": f"<p>A reply to comment number {n}.</p>",
                "body_hash": f"reply-{n}",
                "parent_id": ids[n],
                "parent_key": ids[n],
                "depth": 1,
                "created_at": start + timedelta(minutes=n, seconds=30),
            }
            for n in range(0, count, replies_every)
        ]
        with app.app_context(), write_transaction():
            db.session.execute(insert(Comment), replies)
    return ids


def shown_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<li id="comment-(\d+)"', html)]


def page_app(make_app: Make, **overrides: object) -> Flask:
    return make_app(COMMENTS_PER_PAGE=3, **overrides)


def test_pages_split_top_level_comments_with_their_replies_oldest_first(
    essay: Path, make_app: Make
) -> None:
    app = page_app(make_app)
    ids = seed_roots(app, 7, replies_every=3)
    client = app.test_client()
    first = client.get(ESSAY)
    assert first.status_code == 200
    html = first.text
    with app.app_context():
        reply_to_first = db.session.scalar(select(Comment.id).where(Comment.parent_id == ids[0]))
    assert shown_ids(html) == [ids[0], reply_to_first, ids[1], ids[2]]
    assert "10 Comments" in html  # the whole thread's count, not the page's
    assert "Page 1 of 3" in html
    assert f'href="{ESSAY}comment-page-2/#comments"' in html
    second = client.get(f"{ESSAY}comment-page-2/")
    assert second.status_code == 200
    assert shown_ids(second.text)[0] == ids[3] and ids[5] in shown_ids(second.text)
    assert "Page 2 of 3" in second.text and f'href="{ESSAY}#comments"' in second.text
    third = client.get(f"{ESSAY}comment-page-3/")
    assert [i for i in shown_ids(third.text) if i in ids] == [ids[6]]


def test_newest_first_as_a_setting_and_as_the_readers_switch(essay: Path, make_app: Make) -> None:
    app = page_app(make_app, COMMENTS_ORDER="newest")
    ids = seed_roots(app, 5)
    client = app.test_client()
    html = client.get(ESSAY).text
    assert shown_ids(html) == [ids[4], ids[3], ids[2]]
    assert f'href="{ESSAY}?comment_order=oldest#comments"' in html and "Oldest first" in html
    switched = client.get(f"{ESSAY}?comment_order=oldest")
    assert shown_ids(switched.text) == ids[:3]
    # Its pages keep the order the reader chose; switching back is the plain permalink.
    assert f'href="{ESSAY}comment-page-2/?comment_order=oldest#comments"' in switched.text
    assert f'href="{ESSAY}#comments" rel="nofollow">Newest first' in switched.text
    page2 = client.get(f"{ESSAY}comment-page-2/?comment_order=oldest")
    assert shown_ids(page2.text) == ids[3:]
    # Anything else asked for is the blog's own order.
    assert shown_ids(client.get(f"{ESSAY}?comment_order=sideways").text) == shown_ids(html)


@pytest.mark.parametrize(
    "path",
    [
        "comment-page-4/",
        "comment-page-0/",
        "comment-page-99999999999999999999999999/",
        "comment-page-2147483648/",
    ],
)
def test_a_page_past_the_end_is_a_404_never_a_500(essay: Path, make_app: Make, path: str) -> None:
    app = page_app(make_app)
    seed_roots(app, 7)
    response = app.test_client().get(ESSAY + path)
    assert response.status_code in (301, 404)
    if response.status_code == 301:
        assert response.headers["Location"] == ESSAY


def test_page_one_and_a_wrong_date_redirect_to_the_canonical_page(
    essay: Path, make_app: Make
) -> None:
    app = page_app(make_app)
    seed_roots(app, 7)
    client = app.test_client()
    one = client.get(f"{ESSAY}comment-page-1/")
    assert one.status_code == 301 and one.headers["Location"] == ESSAY
    moved = client.get("/2019/06/11/making-true-connections/comment-page-2/")
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"{ESSAY}comment-page-2/"
    unpaged = make_app(COMMENTS_PER_PAGE=0)
    assert unpaged.test_client().get(f"{ESSAY}comment-page-2/").status_code == 301


def test_a_comments_link_finds_its_page_and_a_new_comment_lands_on_its_page(
    essay: Path, make_app: Make
) -> None:
    app = page_app(make_app)
    ids = seed_roots(app, 7, replies_every=3)
    with app.app_context():
        reply = db.session.scalar(select(Comment.id).where(Comment.parent_id == ids[3]))
    client = app.test_client()
    for target, page in ((ids[0], ESSAY), (reply, f"{ESSAY}comment-page-2/")):
        found = client.get(f"{ESSAY}?comment={target}")
        assert found.status_code == 302
        assert found.headers["Location"] == f"{page}#comment-{target}"
        assert f'id="comment-{target}"' in client.get(page).text
    newest = client.get(f"{ESSAY}?comment={ids[6]}&comment_order=newest")
    assert newest.headers["Location"] == f"{ESSAY}?comment_order=newest#comment-{ids[6]}"
    for junk in ("abc", "99999999", "-1", str(10**30)):
        assert client.get(f"{ESSAY}?comment={junk}").headers["Location"] == ESSAY
    # A reader's new top-level comment is the newest: its redirect names the last page.
    reader = log_in(app, "paging-reader", "Paula Pager")
    posted = reader.post("My comment lands on the third page.")
    cid = comment_id(posted)
    assert posted.headers["Location"] == f"{ESSAY}comment-page-3/#comment-{cid}"
    assert "My comment lands on the third page." in reader.page(f"{ESSAY}comment-page-3/")


def test_a_held_comment_counts_on_its_writers_pages_only(essay: Path, make_app: Make) -> None:
    app = page_app(make_app, MODERATION_HOLD="all")
    seed_roots(app, 6)
    reader = log_in(app, "held-reader", "Hilda Held")
    # Asked before: the reader's count is kept, and their new comment must move it.
    assert reader.client.get(f"{ESSAY}comment-page-3/").status_code == 404
    cid = comment_id(reader.post("Held, and on a third page only for me."))
    with app.app_context():
        assert db.session.get_one(Comment, cid).status is CommentStatus.PENDING
    assert reader.client.get(f"{ESSAY}comment-page-3/").status_code == 200
    assert app.test_client().get(f"{ESSAY}comment-page-3/").status_code == 404


@pytest.mark.sqlite_only
def test_comment_pages_are_cached_per_url_and_a_new_comment_refreshes_them(
    essay: Path, make_app: Make, tmp_path: Path
) -> None:
    app = page_app(make_app, PAGE_CACHE=True, PAGE_CACHE_STATE_DIR=tmp_path / "state")
    ids = seed_roots(app, 5)
    path = f"{ESSAY}comment-page-2/"
    first = app.test_client().get(path)
    assert first.headers["Cache-Control"].startswith("public")
    assert "Set-Cookie" not in first.headers
    hit = app.test_client().get(path)
    assert hit.data == first.data
    user = mh.add_user(app, "Late Reader")
    cid = mh.add_comment(app, user, "A late comment that fills page two.")
    refreshed = app.test_client().get(path).text
    assert shown_ids(refreshed) == [ids[3], ids[4], cid]


@pytest.mark.sqlite_only
def test_a_page_is_one_index_range_however_long_the_thread(essay: Path, make_app: Make) -> None:
    """SQLite's plan for a page: the post-and-parent index in order, no sort of the thread."""
    app = page_app(make_app)
    seed_roots(app, 400, replies_every=2)
    html = app.test_client().get(ESSAY).text
    assert len(shown_ids(html)) == 5  # three top-level comments and two replies
    assert "Page 1 of 134" in html
    for order in CommentOrder:
        with app.app_context():
            statement = page_roots(order, False).params(post_id=essay_id(app), limit=3, offset=0)
            compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
            plan = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        details = " | ".join(str(row[-1]) for row in plan)
        assert "ix_comments_post_root" in details, details
        assert "TEMP B-TREE" not in details, details
    # Counting a reader's pages reads the post-and-status index alone, one range per part
    # (each shown status, own held), never the table.
    with app.app_context():
        for viewer in (False, True):
            statement = _COUNTS[viewer].params(post_id=essay_id(app), viewer_id=1)
            compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
            plan = db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
            searches = [str(row[-1]) for row in plan if str(row[-1]).startswith("SEARCH")]
            assert len(searches) == (3 if viewer else 2), searches
            for search in searches:
                assert search.startswith("SEARCH comments USING COVERING INDEX"), searches
                assert "ix_comments_post_status" in search, searches


def _root_rows(
    post_id: int,
    user_id: int | None,
    count: int,
    first: int,
    start: datetime,
    status: CommentStatus = CommentStatus.PENDING,
) -> list[dict[str, Any]]:
    """Rows of top-level comments numbered from `first`, a second apart from `start`."""
    return [
        {
            "post_id": post_id,
            "user_id": user_id,
            "author_name": f"Reader {n}",
            "body": f"Comment {n}",
            "body_html": f"<p>Comment {n}</p>",
            "body_hash": f"comment-{n}",
            "status": status,
            "created_at": start + timedelta(seconds=n),
            "depth": 0,
            "parent_key": 0,
        }
        for n in range(first, first + count)
    ]


@pytest.mark.sqlite_only
def test_a_new_comments_page_costs_sqlite_the_same_however_many_held_comments(
    essay: Path, make_app: Make
) -> None:
    """The POST's history and page count, in SQLite's own steps: 2,000 comments held from
    others change nothing. Counting "up to now" walked the post's time index through them."""
    app = page_app(make_app)
    seed_roots(app, 3)
    post_id = essay_id(app)
    writer = mh.add_user(app, "Busy Writer")
    with app.app_context():
        now = utcnow()
    values = {"user_id": writer, "viewer_id": writer, "post_id": post_id, "now": now}
    statement = _history_and_page(CommentOrder.OLDEST)

    def steps() -> int:
        counted = [0]

        def count() -> int:
            counted[0] += 1
            return 0  # go on

        with app.app_context():
            sqlite = db.session.connection().connection.driver_connection
            assert sqlite is not None
            sqlite.set_progress_handler(count, 1)
            assert db.session.execute(statement, values).one().roots_before == 8
            sqlite.set_progress_handler(None, 1)
            db.session.rollback()
        return counted[0]

    with app.app_context(), write_transaction():
        db.session.execute(
            insert(Comment), _root_rows(post_id, writer, 5, 0, now - timedelta(days=9))
        )
    before = steps()
    with app.app_context(), write_transaction():
        db.session.execute(
            insert(Comment), _root_rows(post_id, None, 2000, 5, now - timedelta(days=9))
        )
    assert steps() <= before + 50


@pytest.mark.parametrize("order", list(CommentOrder))
def test_the_statuses_are_written_into_the_sql_for_postgresql_plans(order: CommentOrder) -> None:
    """A prepared statement's generic plan cannot see bound statuses, and walked the time index
    through every held comment of the blog; with the statuses in the text it seeks the post."""
    values = {"post_id": 1, "viewer_id": 2, "limit": 3, "offset": 0, "root_id": 4}
    statements = [_COUNTS[True], _earlier_roots(order, True), page_roots(order, True)]
    for statement in statements:
        bound = statement.params(values, created_at=datetime(2026, 12, 7, tzinfo=UTC))
        compiled = bound.compile(
            dialect=postgresql.psycopg.dialect(), compile_kwargs={"render_postcompile": True}
        )
        sql = str(compiled)
        assert "IN ('approved'" in sql, sql
        assert "IN ('pending')" in sql, sql


def _rows_read(statement: Select[Any], values: dict[str, Any]) -> int:
    """How many index entries and rows PostgreSQL's generic plan of a statement reads, as
    psycopg prepares it after five runs: planned for any values, with the table's statistics."""
    compiled = statement.compile(dialect=postgresql.psycopg.dialect())
    names = list(compiled.params)
    sql = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m[1]) + 1}", str(compiled))
    # EXECUTE takes no bound parameters: the values go in as text, typed by the casts above.
    given = {**compiled.params, **values}

    def literal(value: Any) -> str:
        if isinstance(value, int):
            return str(value)
        return f"'{value.isoformat() if isinstance(value, datetime) else value.value}'"

    literals = ", ".join(literal(given[name]) for name in names)
    connection = db.session.connection()
    connection.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    connection.execute(text(f"PREPARE counted AS {sql}"))
    explained = f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE counted({literals})"
    plan = connection.execute(text(explained)).scalar_one()
    connection.execute(text("DEALLOCATE counted"))

    def read(node: dict[str, Any]) -> int:
        here = 0
        if node.get("Relation Name") == "comments":
            here = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
        return here + sum(read(child) for child in node.get("Plans", []))

    return read(plan[0]["Plan"])


@pytest.mark.postgresql_only
@pytest.mark.parametrize("statistics", [False, True], ids=["no-statistics", "analyzed"])
def test_postgresql_counts_pages_without_reading_everyones_held_comments(
    essay: Path, make_app: Make, statistics: bool
) -> None:
    """A thread full of held comments, on a table PostgreSQL has not analyzed yet (a new blog
    before autovacuum's first pass, or the benchmark's burst) and on one it has: each count of
    a reader's pages reads only what it counts. An IN list of the shown statuses walked the
    post's time index through every held comment, and a comment POST slowed with each one."""
    app = page_app(make_app)
    post_id = essay_id(app)
    writer = mh.add_user(app, "Busy Writer")
    start = datetime(2026, 11, 1, tzinfo=UTC)
    shown = _root_rows(post_id, None, 3, 0, start, CommentStatus.APPROVED)
    own = _root_rows(post_id, writer, 5, 3, start)
    others = _root_rows(post_id, None, 5000, 8, start)
    at = datetime(2026, 12, 7, tzinfo=UTC)
    values = {"post_id": post_id, "viewer_id": writer, "now": at, "created_at": at, "root_id": 0}
    statements = [
        _COUNTS[False],
        _COUNTS[True],
        select(roots_before_new(CommentOrder.OLDEST)),
        *(_earlier_roots(order, True) for order in CommentOrder),
    ]
    with app.app_context():
        # A copy of the table with its indexes, in this transaction alone: never analyzed.
        db.session.execute(text("CREATE SCHEMA fresh"))
        db.session.execute(text("CREATE TABLE fresh.comments (LIKE comments INCLUDING ALL)"))
        db.session.execute(text("SET LOCAL search_path = fresh"))
        db.session.execute(insert(Comment), shown + own + others)
        if statistics:
            db.session.execute(text("ANALYZE fresh.comments"))
        for statement in statements:
            # The three shown comments (twice where a count subtracts) and the writer's own
            # five held ones: nothing of the 5,000 held by others.
            assert _rows_read(statement, values) <= 11, str(statement)
        # A new comment's POST asks the same with the writer's history: one more, their latest.
        history = _history_and_page(CommentOrder.OLDEST)
        assert _rows_read(history, {**values, "user_id": writer}) <= 12
        db.session.rollback()


def test_the_order_setting_refuses_anything_but_oldest_or_newest(env_app: Make) -> None:
    assert env_app(BLOG_COMMENTS_ORDER="Newest").config["COMMENTS_ORDER"] == "newest"
    assert env_app(BLOG_COMMENTS_PER_PAGE="0").config["COMMENTS_PER_PAGE"] == 0
    with pytest.raises(ConfigError, match="BLOG_COMMENTS_ORDER"):
        env_app(BLOG_COMMENTS_ORDER="sideways")
