"""The full-page cache on the Flask test client: hits, validators, exact invalidation by writes
and by time, nothing personal ever stored or served, and the shared cache in Redis."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask, Response, make_response
from redis import Redis
from redis.exceptions import RedisError
from werkzeug.test import TestResponse

from blog.auth.accounts import end_sessions
from blog.auth.devmode import dev_provider_settings
from blog.auth.session import set_notice
from blog.cache import PageCache, page_cache
from blog.cache.http import public_page
from blog.cache.stores import CachedPage, MemoryStore, RedisStore
from blog.clock import FrozenClock
from blog.models import CommentStatus
from tests.conftest import sync
from tests.support import moderation_helpers as mh
from tests.support.auth_helpers import essay_id, form_data, textarea
from tests.support.comment_client import comment_id
from tests.support.comment_client import log_in as reader_log_in
from tests.support.databases import skip_or_fail
from tests.support.moderation_helpers import ESSAY, MODERATORS, add_user, csrf_token, status_of

LOGGED_IN = "You are commenting using your Google account."
LOGIN_FORM = "Please log in using one of these methods"
TITLE = "Making TRUE Connections"
DAY = 24 * 3600
REDIS_URL = os.environ.get("BLOG_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
Make = Callable[..., Flask]


@pytest.fixture
def make_cached(make_app: Make, tmp_path: Path) -> Iterator[Make]:
    """make_app with the page cache on, pages kept 30 days unless an event ends them sooner."""
    offline = dev_provider_settings("http://127.0.0.1:9")  # nothing listens on port 9
    providers = {name: {k: v for k, v in s.items() if k != "dev"} for name, s in offline.items()}
    apps: list[Flask] = []

    def make(**overrides: object) -> Flask:
        config = dict(PAGE_CACHE=True, PAGE_CACHE_SECONDS=30 * DAY, MODERATORS=MODERATORS)
        config.update(AUTH_PROVIDERS=providers, AUTH_TIMEOUT_SECONDS=0.5)
        config["PAGE_CACHE_STATE_DIR"] = tmp_path / "page-cache-state"
        apps.append(make_app(**{**config, **overrides}))
        return apps[-1]

    yield make
    for app in apps:  # the Redis clients the caches opened
        store = cache_of(app).store
        if isinstance(store, RedisStore):
            store.client.close()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the test Redis database; its keys deleted after."""
    client = Redis.from_url(REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)
    try:
        client.ping()
    except RedisError as exc:
        client.close()
        skip_or_fail(f"Redis at {REDIS_URL} unreachable: {exc}")
    prefix = f"blog-test:pc:{secrets.token_hex(6)}:"
    yield prefix
    for key in client.scan_iter(match=f"{prefix}*", count=500):
        client.delete(key)
    client.close()


def cache_of(app: Flask) -> PageCache:
    """The app's page cache (it must be on)."""
    cache = page_cache(app)
    assert cache is not None
    return cache


def anonymous(app: Flask, path: str = ESSAY, headers: dict[str, str] | None = None) -> TestResponse:
    """A GET from a browser without cookies: a fresh test client each time."""
    return app.test_client().get(path, headers=headers or {})


def assert_public(response: TestResponse) -> None:
    """A 200 every anonymous reader may share: public, Vary: Cookie, validators, no cookie."""
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert "Cookie" in response.headers["Vary"].split(", ")
    assert response.headers.get("ETag") and response.headers.get("Last-Modified")
    assert "Set-Cookie" not in response.headers


def served(app: Flask, path: str, from_cache: bool) -> str:
    """An anonymous GET that must be a hit, or a miss whose page is stored; the page."""
    cache = cache_of(app)
    stored, hits = cache.stored, cache.hits
    response = anonymous(app, path)
    assert_public(response)
    wanted = (stored, hits + 1) if from_cache else (stored + 1, hits)
    what = "served from the cache" if from_cache else "rendered and stored"
    assert (cache.stored, cache.hits) == wanted, f"{path} was not {what}"
    return response.text


def fresh(app: Flask, path: str = ESSAY) -> str:
    """A page that must be rendered anew (a miss), then stored."""
    return served(app, path, from_cache=False)


def hit(app: Flask, path: str = ESSAY) -> str:
    """A page that must come from the cache."""
    return served(app, path, from_cache=True)


def prime(app: Flask, path: str = ESSAY) -> str:
    """A page rendered and stored, then served from the cache unchanged."""
    page = fresh(app, path)
    assert hit(app, path) == page
    return page


def approve_over_http(app: Flask, cid: int) -> None:
    """The moderator presses Approve on the comment in the queue."""
    client = app.test_client()
    mh.log_in(client, mh.add_moderator(app))
    data = {"csrf_token": csrf_token(client), "status": "pending"}
    response = client.post(f"/admin/comments/{cid}/approve", data=data)
    assert response.status_code == 303, response.text[:500]
    assert status_of(app, cid) is CommentStatus.APPROVED


def test_the_memory_store_drops_the_least_recently_used_page_beyond_its_bytes() -> None:
    def page(body: bytes) -> CachedPage:
        return CachedPage(body, (), "e", None, ("site",), (0,), 0.0)

    store = MemoryStore(max_bytes=3 * page(b"x" * 1000).size)
    for key in "abc":
        store.put(key, page(key.encode() * 1000), ttl=60)
    assert store.get("a") is not None  # now the most recently used
    store.put("d", page(b"d" * 1000), ttl=60)
    assert store.get("b") is None and len(store) == 3
    store.put("huge", page(b"h" * 10_000), ttl=60)  # larger than the whole store
    assert store.get("huge") is None and store.get("a") is not None


@pytest.mark.sqlite_only
def test_anonymous_page_is_stored_then_hit_and_revalidated(essay: Path, make_cached: Make) -> None:
    app = make_cached()
    cache = cache_of(app)
    first = anonymous(app)
    assert (cache.stored, cache.hits) == (1, 0) and TITLE in first.text
    second = anonymous(app)
    assert (cache.stored, cache.hits) == (1, 1) and second.data == first.data
    assert_public(first)
    assert_public(second)
    for name in ("ETag", "Last-Modified", "Cache-Control", "Vary", "Content-Security-Policy"):
        assert second.headers[name] == first.headers[name], name
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        revalidated = anonymous(app, headers=headers)
        assert revalidated.status_code == 304, headers
        assert revalidated.data == b"" and revalidated.headers["ETag"] == etag
    assert (cache.stored, cache.hits) == (1, 3)
    assert anonymous(app, headers={"If-None-Match": '"other"'}).status_code == 200
    assert anonymous(app, "/?s=trust").headers["Cache-Control"].startswith("public")
    assert (cache.stored, cache.hits) == (1, 4)  # a query string is never a key


def test_moderator_approval_shows_on_the_next_anonymous_post_page_and_home(
    essay: Path, make_cached: Make
) -> None:
    app = make_cached(MODERATION_HOLD="all")
    prime(app)
    assert "Leave a comment<span" in prime(app, "/")
    text = "Held until the author reads it, then public."
    cid = mh.add_comment(app, add_user(app, "Alice Reader"), text)
    assert status_of(app, cid) is CommentStatus.PENDING
    assert text not in fresh(app)
    hit(app)
    approve_over_http(app, cid)
    page = fresh(app)
    assert f'id="comment-{cid}"' in page and text in page and "1 Comment" in page
    assert "1 Comment<span" in fresh(app, "/")
    assert text in hit(app)


def test_a_new_comment_makes_only_the_pages_that_show_its_post_stale(
    essay: Path, make_cached: Make
) -> None:
    """The comment is one row written with a plain insert: its post's pages and the home page
    are rendered anew, and a page that does not show that post stays in the cache."""
    app = make_cached()
    prime(app)
    prime(app, "/")
    prime(app, "/about/")
    text = "Only the essay's pages should notice me."
    cid = mh.add_comment(app, add_user(app, "Alice Reader"), text)
    assert status_of(app, cid) is CommentStatus.APPROVED
    assert text in fresh(app)
    assert "1 Comment<span" in fresh(app, "/")
    hit(app, "/about/")


def test_edited_and_deleted_comments_show_on_the_next_anonymous_request(
    essay: Path, make_cached: Make
) -> None:
    app = make_cached()
    reader = reader_log_in(app)
    cid = comment_id(reader.post("First words of Alice."))
    assert "First words of Alice." in prime(app)
    assert "1 Comment<span" in prime(app, "/")

    edit_path = f"/comments/{cid}/edit"
    data = form_data(reader.client.get(edit_path).text, edit_path)
    data["comment"] = "Second thoughts of Alice."
    assert reader.client.post(edit_path, data=data).status_code == 303
    page = fresh(app)
    assert "Second thoughts of Alice." in page and "First words of Alice." not in page
    hit(app)

    token = csrf_token(reader.client)
    deleted = reader.client.post(
        f"/comments/{cid}/delete", data={"csrf_token": token, "confirm": "yes"}
    )
    assert deleted.status_code == 303
    page = fresh(app)
    assert f'id="comment-{cid}"' not in page and "Second thoughts" not in page
    assert "Leave a comment<span" in fresh(app, "/")


@pytest.mark.sqlite_only
def test_resynced_post_refreshes_its_page_home_and_feed(essay: Path, make_cached: Make) -> None:
    app = make_cached()
    for path in (ESSAY, "/", "/feed/"):
        assert TITLE in prime(app, path)
    essay.write_text(
        essay.read_text().replace(f"title: {TITLE}", "title: Making Lasting Connections")
    )
    assert sync(app).changed
    for path in (ESSAY, "/", "/feed/"):
        page = fresh(app, path)
        assert "Making Lasting Connections" in page and TITLE not in page, path
        hit(app, path)


@pytest.mark.sqlite_only
def test_scheduled_post_appears_on_the_cached_home_page_at_its_time(
    write_post: Callable[..., Path], make_cached: Make, clock: FrozenClock
) -> None:
    write_post("already-out", title="Already Out", date="2026-11-01 09:00")
    write_post("coming-soon", title="Coming Soon Essay", date="2026-11-25 18:00")
    app = make_cached()
    assert "Coming Soon Essay" not in prime(app, "/")
    clock.set(datetime(2026, 11, 25, 17, 59, 59, tzinfo=UTC))
    assert "Coming Soon Essay" not in hit(app, "/")
    clock.set(datetime(2026, 11, 25, 18, 0, tzinfo=UTC))  # its time: no sync, no write
    page = fresh(app, "/")
    assert "Coming Soon Essay" in page and "Already Out" in page
    assert "Coming Soon Essay" in hit(app, "/")


@pytest.mark.sqlite_only
def test_cached_post_page_loses_its_comment_form_when_comments_close(
    write_post: Callable[..., Path], make_cached: Make, clock: FrozenClock
) -> None:
    write_post("fresh-post", title="Fresh Post", date="2026-11-20 09:00")
    app = make_cached(COMMENTS_CLOSE_AFTER_DAYS=7)  # closes at 2026-11-27 09:00
    path = "/2026/11/20/fresh-post/"
    page = prime(app, path)
    assert 'id="commentform"' in page and "Comments are closed." not in page
    clock.set(datetime(2026, 11, 27, 8, 59, 59, tzinfo=UTC))
    assert 'id="commentform"' in hit(app, path)
    clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    page = fresh(app, path)
    assert "Comments are closed." in page and 'id="commentform"' not in page
    assert "Comments are closed." in hit(app, path)


@pytest.mark.sqlite_only
def test_logged_in_pages_are_private_never_stored_nor_served_to_anonymous(
    essay: Path, make_cached: Make
) -> None:
    app = make_cached()
    cache = cache_of(app)
    reader = reader_log_in(app)
    for _ in range(2):
        response = reader.client.get(ESSAY)
        assert (response.status_code, response.headers["Cache-Control"]) == (
            200,
            "private, no-store",
        )
        assert LOGGED_IN in response.text and LOGIN_FORM not in response.text
    assert (cache.stored, cache.hits) == (0, 0)
    page = prime(app)  # right after: the anonymous page, rendered for anonymous readers
    assert LOGGED_IN not in page and "Log Out" not in page and LOGIN_FORM in page
    again = reader.client.get(ESSAY)  # the cached copy exists now; the reader never gets it
    assert again.headers["Cache-Control"] == "private, no-store" and LOGGED_IN in again.text
    assert (cache.stored, cache.hits) == (1, 1)


@pytest.mark.sqlite_only
def test_session_cookie_gets_its_own_draft_and_notice_not_the_cached_page(
    essay: Path, make_cached: Make
) -> None:
    app = make_cached()
    cache = cache_of(app)
    cached = prime(app)
    draft, client = "Half a thought, kept while I log in.", app.test_client()
    data = {"provider": "google", "next": ESSAY, "comment": draft, "post_id": essay_id(cached)}
    started = client.post("/auth/start", data=data, headers={"Origin": "http://blog.test"})
    assert started.status_code == 303 and "Set-Cookie" in started.headers
    stored, hits = cache.stored, cache.hits
    mine = client.get(ESSAY)
    assert (mine.status_code, mine.headers["Cache-Control"]) == (200, "private, no-store")
    assert "Google cannot be reached right now." in mine.text
    assert textarea(mine.text) == draft
    assert (cache.stored, cache.hits) == (stored, hits)
    page = hit(app)
    assert page == cached and draft not in page and "cannot be reached" not in page


@pytest.mark.sqlite_only
def test_public_pages_that_touch_the_session_or_set_a_cookie_are_not_stored(
    make_cached: Make,
) -> None:
    app = make_cached()

    @public_page
    def noted() -> str:
        """A public page that leaves a notice in the session."""
        set_notice("Saved.")
        return "<p>A notice for the next page.</p>"

    @public_page
    def cookie() -> Response:
        """A public page that sets a cookie of its own."""
        response = make_response("<p>A cookie of its own.</p>")
        response.set_cookie("seen", "1")
        return response

    app.add_url_rule("/test-noted/", "test_noted", noted)
    app.add_url_rule("/test-cookie/", "test_cookie", cookie)
    cache = cache_of(app)
    for path, cache_control in (("/test-noted/", "private"), ("/test-cookie/", "public")):
        for _ in range(2):
            response = anonymous(app, path)
            assert response.status_code == 200
            assert response.headers["Cache-Control"].startswith(cache_control)
            assert "Set-Cookie" in response.headers
    assert (cache.stored, cache.hits) == (0, 0)


def test_redis_cache_is_shared_and_an_approval_through_one_app_is_seen_by_the_other(
    essay: Path, make_cached: Make, redis_prefix: str
) -> None:
    shared = {"REDIS_URL": REDIS_URL, "PAGE_CACHE_REDIS_PREFIX": redis_prefix}
    one = make_cached(MODERATION_HOLD="all", **shared)
    two = make_cached(MODERATION_HOLD="all", **shared)
    assert isinstance(cache_of(one).store, RedisStore)
    page = fresh(one)
    with Redis.from_url(REDIS_URL) as client:
        assert any(client.scan_iter(match=f"{redis_prefix}p:*"))  # the page is in Redis
    assert hit(two) == page  # stored through one, served by the other
    assert "Leave a comment<span" in fresh(one, "/")
    hit(two, "/")

    text = "Approved on one server, shown by every server."
    cid = mh.add_comment(one, add_user(one, "Alice Reader"), text)
    assert text not in fresh(two)
    approve_over_http(one, cid)
    page = fresh(two)
    assert f'id="comment-{cid}"' in page and text in page
    assert text in hit(one)  # what two rendered after the approval, from Redis
    assert "1 Comment<span" in fresh(two, "/")
    assert "1 Comment<span" in hit(one, "/")


@pytest.mark.sqlite_only
def test_redis_never_serves_pages_rendered_with_other_settings(
    essay: Path, make_cached: Make, redis_prefix: str
) -> None:
    shared = {"REDIS_URL": REDIS_URL, "PAGE_CACHE_REDIS_PREFIX": redis_prefix}
    old = make_cached(SITE_TITLE="The Old Title", **shared)
    assert "The Old Title" in prime(old, "/")
    new = make_cached(SITE_TITLE="The New Title", **shared)
    page = fresh(new, "/")
    assert "The New Title" in page and "The Old Title" not in page
    assert "The New Title" in hit(new, "/")


def test_a_logout_or_account_change_leaves_every_page_cached(
    essay: Path, make_cached: Make
) -> None:
    """User writes move only the user tags, which no page carries: nothing is re-rendered."""
    app = make_cached()
    page = prime(app)
    alice = add_user(app, "Alice")
    with app.app_context():
        end_sessions(alice)
    assert hit(app) == page
