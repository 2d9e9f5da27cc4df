"""The memo (post shells, comment threads, listings, site-wide counts) with the page cache off:
kept between requests, never stale after a write or once a scheduled post goes live, never
shared where it is personal."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import update

from blog.auth.accounts import login_profile
from blog.auth.providers import Profile
from blog.auth.subscription_choices import set_replies, wants_replies
from blog.cache.memo import (
    ENTRY_OVERHEAD,
    Memo,
    footprint,
    kept,
    memo,
    read_versions_first,
    tag_versions,
)
from blog.clock import FrozenClock, utcnow
from blog.config import ConfigError, load_settings
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Avatar, CommentStatus, User
from tests.conftest import sync
from tests.support.databases import sql_statements
from tests.support.moderation_helpers import (
    ESSAY,
    MODERATORS,
    add_comment,
    add_moderator,
    add_user,
    csrf_token,
    essay_post_id,
    log_in,
    set_status,
)

Make = Callable[..., Flask]


@pytest.fixture
def uncached(essay: Path, make_app: Make) -> Flask:
    """The blog with the full-page cache off: every request reaches the views."""
    return make_app(PAGE_CACHE=False)


def page(app: Flask, path: str = ESSAY) -> str:
    """A page for an anonymous reader."""
    response = app.test_client().get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@dataclass(frozen=True)
class Shell:
    """A value shaped like the ones pages keep."""

    html: bytes
    count: int


def test_the_memo_drops_the_least_recently_used_to_stay_in_its_bytes() -> None:
    each = footprint("a" * 600) + ENTRY_OVERHEAD
    values = Memo(max_bytes=3 * each)
    for key in "abc":
        values.put(key, key * 600)
    assert values.get("a") == "a" * 600  # now the most recently used
    values.put("d", "d" * 600)
    assert values.get("b") != "b" * 600  # the least recently used went
    assert (values.get("a"), values.get("c"), values.get("d")) == ("a" * 600, "c" * 600, "d" * 600)
    assert values.used <= 3 * each
    values.put("huge", "h" * 10 * each)  # larger than the whole memo: not kept
    assert values.get("huge") != "h" * 10 * each and len(values) == 3


def test_the_memos_setting_under_its_old_name_is_refused() -> None:
    assert load_settings({"BLOG_MEMO_BYTES": "1024"})["MEMO_BYTES"] == 1024
    with pytest.raises(ConfigError, match="BLOG_FRAGMENT_CACHE_BYTES is now called BLOG_MEMO"):
        load_settings({"BLOG_FRAGMENT_CACHE_BYTES": "1024"})


def test_a_values_footprint_counts_what_it_holds() -> None:
    small, large = Shell(b"<p></p>", 1), Shell(b"x" * 10_000, 1)
    assert footprint(large) - footprint(small) >= 9_000
    assert footprint([large, large]) >= 2 * footprint(large)


def test_a_new_comment_shows_on_the_next_view(uncached: Flask) -> None:
    alice = add_user(uncached, "Alice")
    add_comment(uncached, alice, "The first word.")
    assert "The first word." in page(uncached)
    assert len(memo(uncached)) >= 2  # the shell and the thread, at least
    assert "The first word." in page(uncached)
    add_comment(uncached, alice, "A second thought.")
    html = page(uncached)
    assert "The first word." in html and "A second thought." in html
    assert "2 Comments" in html


def test_a_held_or_deleted_comment_leaves_the_thread(uncached: Flask) -> None:
    alice = add_user(uncached, "Alice")
    comment = add_comment(uncached, alice, "Soon to be held.")
    assert "Soon to be held." in page(uncached)
    set_status(uncached, comment, CommentStatus.PENDING)
    assert "Soon to be held." not in page(uncached)
    set_status(uncached, comment, CommentStatus.APPROVED)
    assert "Soon to be held." in page(uncached)


def test_a_bulk_update_and_a_new_avatar_show_at_once(uncached: Flask) -> None:
    alice = add_user(uncached, "Alice")
    add_comment(uncached, alice, "Who wrote this?")
    assert f"/avatars/{alice}.svg" in page(uncached)
    with uncached.app_context():
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
    assert f"/avatars/{alice}.png?v=d1g3st" in page(uncached)
    with uncached.app_context():
        db.session.execute(update(User).where(User.id == alice).values(display_name="Renamed"))
        db.session.execute(
            update(db.metadata.tables["comments"]).values(author_name="Someone Else")
        )
        db.session.commit()
    assert "Someone Else" in page(uncached)


def test_an_added_moderator_gets_the_badge_at_once(uncached: Flask) -> None:
    alice = add_user(uncached, "Alice", "alice-sub")
    add_comment(uncached, alice, "Soon a moderator.")
    assert 'class="author-badge"' not in page(uncached)
    result = uncached.test_cli_runner().invoke(args=["blog", "admin", "add", "google:alice-sub"])
    assert result.exit_code == 0, result.output
    assert 'class="author-badge"' in page(uncached)


def test_the_writers_own_comments_are_never_the_shared_rendering(uncached: Flask) -> None:
    alice = add_user(uncached, "Alice")
    bob = add_user(uncached, "Bob")
    add_comment(uncached, alice, "Alice speaks.")
    assert "Alice speaks." in page(uncached)  # the shared rendering, kept
    mine = uncached.test_client()
    log_in(mine, alice)
    csrf_token(mine)
    html = mine.get(ESSAY).get_data(as_text=True)
    assert 'class="comment-edit-link"' in html and ">Delete</button>" in html
    theirs = uncached.test_client()
    log_in(theirs, bob)
    html = theirs.get(ESSAY).get_data(as_text=True)
    assert "Alice speaks." in html
    assert 'class="comment-edit-link"' not in html and ">Delete</button>" not in html
    assert 'class="comment-edit-link"' not in page(uncached)
    add_comment(uncached, bob, "Bob answers.")  # Bob has now written here: his forms show
    html = theirs.get(ESSAY).get_data(as_text=True)
    assert html.count('class="comment-edit-link"') == 1 and "Bob answers." in html


def test_the_shared_comment_section_has_an_etag_that_follows_its_comments(
    uncached: Flask,
) -> None:
    """The anonymous page's ETag is made from its parts: equal while nothing changes, new
    with a new comment, and a match gives a 304."""
    alice = add_user(uncached, "Alice")
    add_comment(uncached, alice, "Before.")
    client = uncached.test_client()
    first = client.get(ESSAY)
    etag = first.headers["ETag"]
    assert client.get(ESSAY).headers["ETag"] == etag
    again = client.get(ESSAY, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    add_comment(uncached, alice, "After.")
    changed = client.get(ESSAY, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "After." in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != etag


def test_a_reader_with_a_session_never_gets_the_shared_section(uncached: Flask) -> None:
    """A logged-out reader who left a draft gets it back, not the box every reader shares."""
    assert "Leave a Reply" in page(uncached)  # the shared section, kept
    client = uncached.test_client()
    post_id = essay_post_id(uncached)
    token = csrf_token(client)
    response = client.post(
        "/comments/",
        data={"post_id": post_id, "comment": "Half a thought, kept.", "csrf_token": token},
    )
    assert response.status_code == 303  # logged out: kept as a draft, asked to log in
    html = client.get(ESSAY).get_data(as_text=True)
    assert "Half a thought, kept." in html
    assert "Half a thought, kept." not in page(uncached)


def test_a_reply_link_never_changes_the_section_other_readers_share(uncached: Flask) -> None:
    """`?replytocom=N` sets the form to answer N for that reader; the next reader, without
    it, gets a plain form, and the one after with it still gets the reply form."""
    alice = add_user(uncached, "Alice")
    comment = add_comment(uncached, alice, "Answer me.")
    asked = f"{ESSAY}?replytocom={comment}"
    replying = f'name="parent_id" value="{comment}"'
    assert replying in page(uncached, asked)
    plain = page(uncached)
    assert replying not in plain and 'name="parent_id" value=""' in plain
    assert replying in page(uncached, asked)
    assert replying not in page(uncached)


def test_a_held_comment_is_shown_to_its_writer_only(uncached: Flask) -> None:
    alice = add_user(uncached, "Alice")
    add_comment(uncached, alice, "Waiting for approval.", status=CommentStatus.PENDING)
    assert "Waiting for approval." not in page(uncached)
    mine = uncached.test_client()
    log_in(mine, alice)
    html = mine.get(ESSAY).get_data(as_text=True)
    assert "Waiting for approval." in html and "awaiting moderation" in html
    assert "Waiting for approval." not in page(uncached)


def test_the_edit_window_closes_on_a_kept_thread(uncached: Flask, clock: FrozenClock) -> None:
    alice = add_user(uncached, "Alice")
    add_comment(uncached, alice, "Editable for a while.")
    mine = uncached.test_client()
    log_in(mine, alice)
    assert 'class="comment-edit-link"' in mine.get(ESSAY).get_data(as_text=True)
    clock.advance(minutes=16)
    html = mine.get(ESSAY).get_data(as_text=True)
    assert 'class="comment-edit-link"' not in html and ">Delete</button>" in html


def test_an_edited_post_and_a_new_post_show_after_the_sync(
    uncached: Flask, write_post: Callable[..., Path]
) -> None:
    write_post("fresh-news", title="Fresh News", date="2024-03-01 10:00", body="First draft.")
    sync(uncached)
    path = "/2024/03/01/fresh-news/"
    assert "First draft." in page(uncached, path)
    assert "Fresh News" in page(uncached, "/")
    write_post("fresh-news", title="Fresh News", date="2024-03-01 10:00", body="Second draft.")
    sync(uncached)
    assert "Second draft." in page(uncached, path)
    write_post("later-news", title="Later News", date="2024-04-01 10:00")
    sync(uncached)
    assert "Later News" in page(uncached, "/")
    assert "Later News" in page(uncached, path)  # the newer neighbour's link


def test_comment_counts_on_the_home_page_follow_the_comments(uncached: Flask) -> None:
    alice = add_user(uncached, "Alice")
    assert "1 Comment" not in page(uncached, "/")
    comment = add_comment(uncached, alice, "Counted.")
    assert "1 Comment" in page(uncached, "/")
    set_status(uncached, comment, CommentStatus.SPAM)
    assert "1 Comment" not in page(uncached, "/")


def test_a_kept_page_makes_no_query(uncached: Flask) -> None:
    """An anonymous view of a kept post page or listing reads versions, not the database."""
    alice = add_user(uncached, "Alice")
    add_comment(uncached, alice, "Read without a query.")
    for path in (ESSAY, "/"):
        page(uncached, path)
    with sql_statements(uncached) as seen:
        assert "Read without a query." in page(uncached)
        assert "Making TRUE Connections" in page(uncached, "/")
    assert seen == []


def test_a_value_built_across_a_write_is_not_kept(uncached: Flask) -> None:
    """A write that commits during a request may predate its snapshot: nothing is kept."""
    with uncached.test_request_context("/"):
        read_versions_first()
        versions = tag_versions()
        assert versions is not None
        before = len(memo(uncached))
        versions.bump({"post:1"})  # another process commits, after this request began
        assert kept("thread-key", ("post:1",), lambda: "old thread") == "old thread"
        assert kept("thread-key", ("post:1",), lambda: "again") == "again"
        assert len(memo(uncached)) == before
    with uncached.test_request_context("/"):
        read_versions_first()
        assert kept("thread-key", ("post:1",), lambda: "new thread") == "new thread"
        assert kept("thread-key", ("post:1",), lambda: "unused") == "new thread"
        versions = tag_versions()
        assert versions is not None
        versions.bump({"post:1"})
    with uncached.test_request_context("/"):
        read_versions_first()
        assert kept("thread-key", ("post:1",), lambda: "newer") == "newer"


# --- site-wide reads: sidebar counts, navigation, totals -----------------------------------


def sidebar_counts(app: Flask) -> dict[str, int]:
    """Category name -> count, as the sidebar of the home page shows them."""
    html = page(app, "/")
    section = html.split('id="categories-heading"', 1)[1].split("</nav>", 1)[0]
    return {name: int(n) for name, n in re.findall(r">([^<>]+)</a> \((\d+)\)", section)}


def nav_pages(app: Flask) -> list[str]:
    """The titles of the standalone pages in the site navigation."""
    html = page(app, "/")
    return re.findall(r'<li><a href="/[a-z-]+/">([^<]+)</a></li>', html.split("</nav>", 1)[0])


def test_a_sync_refreshes_counts_pages_and_totals(
    make_app: Make, write_post: Callable[..., Path], posts_dir: Path
) -> None:
    write_post("one", categories=["Recruiting"])
    app = make_app(PAGE_CACHE=False)
    assert sidebar_counts(app) == {"Recruiting": 1}
    assert nav_pages(app) == []

    write_post("two", categories=["Recruiting", "Careers"], date="2024-02-01 09:00")
    write_post("colophon", title="Colophon", layout="page")
    report = sync(app)
    assert len(report.added) == 2
    assert sidebar_counts(app) == {"Careers": 1, "Recruiting": 2}
    assert nav_pages(app) == ["Colophon"]
    older = page(app, "/2024/02/01/two/")
    assert 'rel="prev"' in older and "One" in older.split('rel="prev"', 1)[1][:200]

    (posts_dir / "one.md").unlink()
    sync(app)
    assert sidebar_counts(app) == {"Careers": 1, "Recruiting": 1}
    assert 'rel="prev"' not in page(app, "/2024/02/01/two/")


@pytest.mark.parametrize("page_cache_on", [False, True])
def test_a_scheduled_post_shows_once_its_time_comes(
    make_app: Make, write_post: Callable[..., Path], clock: FrozenClock, page_cache_on: bool
) -> None:
    """No write happens when a scheduled post goes live: its time ends what was kept."""
    write_post("now", categories=["Recruiting"])
    later = clock.now() + timedelta(hours=1)
    write_post("later", categories=["Careers"], date=later.strftime("%Y-%m-%d %H:%M"))
    app = make_app(POSTS_PER_PAGE=1, PAGE_CACHE=page_cache_on)
    path = later.strftime("/%Y/%m/%d/later/")
    assert sidebar_counts(app) == {"Recruiting": 1}
    assert app.test_client().get("/page/2/").status_code == 404
    assert app.test_client().get(path).status_code == 404
    clock.advance(minutes=59)
    assert sidebar_counts(app) == {"Recruiting": 1}
    clock.advance(minutes=1)
    assert sidebar_counts(app) == {"Careers": 1, "Recruiting": 1}
    assert app.test_client().get("/page/2/").status_code == 200
    assert "Later" in page(app, path)
    assert 'rel="next"' in page(app, "/2024/01/15/now/")


def test_a_sync_in_another_process_is_seen_at_the_next_request(
    make_app: Make, write_post: Callable[..., Path]
) -> None:
    write_post("one", categories=["Recruiting"])
    reader = make_app(SYNC_ON_START=False, PAGE_CACHE=False)
    sync(reader)
    assert sidebar_counts(reader) == {"Recruiting": 1}
    write_post("two", categories=["Recruiting"], date="2024-02-01 09:00")
    make_app()  # another process of the same blog: its start-up sync adds "two"
    assert sidebar_counts(reader) == {"Recruiting": 2}


def test_a_logged_in_readers_page_asks_one_query_their_row(essay: Path, make_app: Make) -> None:
    """Whether they moderate, their picture and their reply mail come with the row that
    Flask-Login loads; everything else on the page is kept for every reader."""
    uncached = make_app(PAGE_CACHE=False, MODERATORS=MODERATORS)
    author, reader = add_moderator(uncached), add_user(uncached, "Alice")
    add_comment(uncached, author, "Words from the author.", moderator=True)
    for user_id, moderates in ((reader, False), (author, True)):
        client = uncached.test_client()
        log_in(client, user_id)
        assert client.get(ESSAY).status_code == 200  # fills what is kept for every reader
        with sql_statements(uncached) as seen:
            html = client.get(ESSAY).get_data(as_text=True)
        queries = [statement for statement in seen if not statement.startswith("BEGIN")]
        assert queries[0].startswith("SELECT users.id"), queries
        # A moderator's thread is their own (held comments in place, with their actions).
        assert len(queries) == 1 or moderates, [query[:90] for query in queries]
        assert "Words from the author." in html
        assert ('class="moderation-link"' in html) is moderates  # the header's queue link
        assert html.count(f"/avatars/{user_id}.svg") >= 2  # the header and the comment box


def test_a_readers_reply_choice_is_answered_outside_a_request(uncached: Flask) -> None:
    """The per-request memo keeps nothing without a request, and the answer still comes."""
    with uncached.app_context():
        now = utcnow()
        profile = Profile("google", "sub-replies", "Rita", "rita@example.com", True, None)
        user = login_profile(profile, now)
        with write_transaction():
            assert set_replies(user, True, now)
        assert wants_replies(user) is True
        with write_transaction():
            assert set_replies(user, False, now)
        assert wants_replies(user) is False
