"""Rate limits per IP on logins and comment posts: a clear 429, nothing lost, shared via Redis,
and counted in memory while Redis is down; under gunicorn, per worker without Redis."""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from limits import parse_many
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from bench.procs import WORKERS, Gunicorn, clean_env
from blog.auth.devmode import dev_provider_settings
from blog.config import ConfigError, load_settings
from blog.extensions import db
from blog.models import CommentDraft
from blog.web.ratelimit import LIMITER_KEY, STORAGE_RETRY_SECONDS, RateLimiter, storage_uri
from tests.support.auth_helpers import essay_id, form_data, textarea
from tests.support.comment_client import ESSAY, Reader, assert_refused, comment_id, log_in, statuses
from tests.support.databases import skip_or_fail

SITE = "http://blog.test"
IP, OTHER_IP = "198.51.100.7", "198.51.100.8"
LOGIN_LIMIT, COMMENT_LIMIT = 3, 2
TOO_MANY_LOGINS = "Too many login attempts from your network. Please wait"
TOO_MANY_COMMENTS = "You are posting comments too quickly from your network"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


def offline_providers() -> dict[str, dict[str, str]]:
    """X pointed at an address nobody answers: starting a login only redirects there."""
    settings = dev_provider_settings("http://127.0.0.1:9/devidp")
    x = settings["x"]
    x.pop("dev")
    return {"x": x}


@pytest.fixture
def limited(essay: Path, make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """Apps with the limiter on and small limits, counting in memory unless told otherwise."""

    def make(**overrides: object) -> Flask:
        config: dict[str, object] = {
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_LOGIN": f"{LOGIN_LIMIT} per minute",
            "RATELIMIT_COMMENT": f"{COMMENT_LIMIT} per minute",
            "AUTH_PROVIDERS": offline_providers(),
        }
        config.update(overrides)
        return make_app(**config)

    return make


def from_ip(client: FlaskClient, ip: str = IP) -> FlaskClient:
    """Make every request of this client come from one address."""
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def start_login(client: FlaskClient, comment: str | None = None) -> TestResponse:
    """Press a login button on the essay's logged-out form (with a half-written comment)."""
    data = {"provider": "x", "next": ESSAY}
    if comment is not None:
        data |= {"post_id": str(essay_id(client.get(ESSAY).text)), "comment": comment}
    return client.post("/auth/start", data=data, headers={"Origin": SITE})


def assert_limited(response: TestResponse, message: str, period: int = 60) -> None:
    """A 429 that says what happened, with a Retry-After within the limit's period."""
    page = response.get_data(as_text=True)
    assert response.status_code == 429, page[:2000]
    assert message in page
    assert 1 <= int(response.headers["Retry-After"]) <= period
    assert response.headers["Cache-Control"] == "private, no-store"


def reader_from(app: Flask, ip: str = IP, subject: str = "alice") -> Reader:
    """A logged-in reader whose requests come from this address."""
    reader = log_in(app, subject)
    from_ip(reader.client, ip)
    return reader


# --- the limits ------------------------------------------------------------------------------


def test_the_limits_and_their_storage_come_from_the_environment() -> None:
    defaults = load_settings({})
    assert (defaults["RATELIMIT_LOGIN"], defaults["RATELIMIT_COMMENT"]) == (
        "30 per minute",
        "60 per minute",
    )
    assert storage_uri(defaults) == "memory://"
    env = {
        "BLOG_RATELIMIT_LOGIN": "5 per hour",
        "BLOG_RATELIMIT_COMMENT": "7/minute",
        "BLOG_REDIS_URL": "redis://cache.internal:6379/3",
    }
    configured = load_settings(env)
    assert (configured["RATELIMIT_LOGIN"], configured["RATELIMIT_COMMENT"]) == (
        "5 per hour",
        "7/minute",
    )
    assert storage_uri(configured) == "redis://cache.internal:6379/3"


def test_logins_are_limited_per_address(limited: Callable[..., Flask]) -> None:
    app = limited()
    client = from_ip(app.test_client())
    for _ in range(LOGIN_LIMIT):
        assert start_login(client).status_code == 302
    refused = start_login(client)
    assert_limited(refused, TOO_MANY_LOGINS)
    assert '<h1 class="page-title">Too Many Requests</h1>' in refused.text
    # Another address is not held back by this one's attempts.
    assert start_login(from_ip(app.test_client(), OTHER_IP)).status_code == 302


def test_a_refused_login_keeps_the_comment(limited: Callable[..., Flask]) -> None:
    app = limited()
    client = from_ip(app.test_client())
    for _ in range(LOGIN_LIMIT):
        start_login(client)
    body = "My <b>half-written</b> thought & more"
    refused = start_login(client, comment=body)
    assert_limited(refused, TOO_MANY_LOGINS)
    assert "Your comment is kept." in refused.text
    # Back on the post, the logged-out form holds the draft.
    assert textarea(client.get(ESSAY).text) == body


def test_comment_posts_are_limited_per_address_and_the_text_is_kept(
    limited: Callable[..., Flask],
) -> None:
    app = limited()
    reader = reader_from(app)
    for n in range(COMMENT_LIMIT):
        comment_id(reader.post(f"Comment number {n}."))
    body = "The third <b>one</b> & it matters."
    refused = reader.post(body)
    assert_limited(refused, TOO_MANY_COMMENTS)
    assert_refused(refused, 429, "your comment is kept below", body)
    assert len(statuses(app)) == COMMENT_LIMIT
    # The text is the draft now: the post page shows it again, ready to post later.
    assert textarea(reader.page()) == body
    # Someone on another network comments as usual.
    comment_id(reader_from(app, OTHER_IP, "bob").post("Hello from elsewhere."))


def test_limits_are_off_when_the_limiter_is_disabled(
    essay: Path, make_app: Callable[..., Flask]
) -> None:
    app = make_app(RATELIMIT_LOGIN="1 per minute", AUTH_PROVIDERS=offline_providers())
    client = from_ip(app.test_client())
    assert [start_login(client).status_code for _ in range(3)] == [302, 302, 302]


# --- where the counts live -------------------------------------------------------------------


def test_counts_are_in_memory_by_default_one_count_per_server(
    limited: Callable[..., Flask],
) -> None:
    one, two = limited(), limited()
    for app in (one, two):
        assert type(app.extensions[LIMITER_KEY].storage).__name__ == "MemoryStorage"
    a, b = from_ip(one.test_client()), from_ip(two.test_client())
    for _ in range(LOGIN_LIMIT):
        assert start_login(a).status_code == 302
        assert start_login(b).status_code == 302
    assert start_login(a).status_code == 429
    assert start_login(b).status_code == 429


@pytest.fixture
def dead_redis_url() -> Iterator[str]:
    """A Redis URL whose port refuses every connection: bound, never listening."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


def test_a_dead_redis_takes_neither_logins_nor_comments_down(
    limited: Callable[..., Flask], dead_redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="blog.web.ratelimit")
    app = limited(RATELIMIT_STORAGE_URI=dead_redis_url)
    assert type(app.extensions[LIMITER_KEY].storage).__name__ == "RedisStorage"
    client = from_ip(app.test_client())
    for _ in range(LOGIN_LIMIT):
        assert start_login(client).status_code == 302
    assert "falling back to in-memory storage" in caplog.text
    # The same limits hold, counted in this process until Redis answers again.
    assert_limited(start_login(client), TOO_MANY_LOGINS)
    assert start_login(from_ip(app.test_client(), OTHER_IP)).status_code == 302
    reader = reader_from(app, OTHER_IP, "bob")
    for n in range(COMMENT_LIMIT):
        comment_id(reader.post(f"Posted while Redis is down, number {n}."))
    body = "One too many, kept all the same."
    assert_refused(reader.post(body), 429, "your comment is kept below", body)
    assert len(statuses(app)) == COMMENT_LIMIT


def test_a_dead_storage_is_asked_again_only_after_a_while(
    dead_redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = [1000.0]
    limiter = RateLimiter(dead_redis_url, {"socket_connect_timeout": 1}, "t", lambda: clock[0])
    two = parse_many("2 per minute")

    def redis_failures() -> int:
        return caplog.text.count("falling back to in-memory storage")

    caplog.set_level(logging.WARNING, logger="blog.web.ratelimit")
    # One failed attempt, then the same limit counted in memory.
    assert [limiter.hit(two, IP, "auth.start") for _ in range(3)] == [None, None, two[0]]
    assert redis_failures() == 1
    clock[0] += STORAGE_RETRY_SECONDS - 1
    assert limiter.hit(two, OTHER_IP, "auth.start") is None
    assert redis_failures() == 1
    clock[0] += 1
    assert limiter.hit(two, OTHER_IP, "auth.start") is None
    assert redis_failures() == 2  # asked again, still down


@pytest.mark.parametrize(
    ("setting", "value", "refusal"),
    [
        ("RATELIMIT_COMMENT", "sixty a minute", "BLOG_RATELIMIT_COMMENT must be a rate limit"),
        ("RATELIMIT_STORAGE_URI", "async+memory://", "is asynchronous"),
    ],
)
def test_a_malformed_limit_or_storage_stops_the_app_at_start(
    make_app: Callable[..., Flask], setting: str, value: str, refusal: str
) -> None:
    with pytest.raises(ConfigError, match=refusal):
        make_app(RATELIMIT_ENABLED=True, **{setting: value})


def redis_url() -> str:
    """The test Redis (BLOG_REDIS_URL, REDIS_URL or the local default); skip when unreachable."""
    url = os.environ.get("BLOG_REDIS_URL") or os.environ.get("REDIS_URL") or DEFAULT_REDIS
    try:
        client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
    except (RedisError, OSError, ValueError) as exc:
        skip_or_fail(f"Redis at {url} unreachable: {exc}")
    return url


@pytest.fixture
def redis_servers(limited: Callable[..., Flask]) -> Iterator[tuple[Flask, Flask, Redis]]:
    """Two app servers on one database and one Redis, under a key prefix of their own."""
    url = redis_url()
    prefix = f"blog-test-{secrets.token_hex(6)}"
    settings = {
        "REDIS_URL": url,
        "RATELIMIT_KEY_PREFIX": prefix,
        "PAGE_CACHE_REDIS_PREFIX": f"{prefix}:pc:",
    }
    client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        yield limited(**settings), limited(**settings), client
    finally:
        stale = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        if stale:
            client.delete(*stale)
        client.close()


def test_servers_on_one_redis_share_the_login_count(
    redis_servers: tuple[Flask, Flask, Redis],
) -> None:
    one, two, redis = redis_servers
    for app in (one, two):
        assert type(app.extensions[LIMITER_KEY].storage).__name__ == "RedisStorage"
    clients = [from_ip(one.test_client()), from_ip(two.test_client())]
    codes = [start_login(clients[n % 2]).status_code for n in range(LOGIN_LIMIT)]
    assert codes == [302] * LOGIN_LIMIT
    prefix = one.config["RATELIMIT_KEY_PREFIX"]
    assert list(redis.scan_iter(match=f"*{prefix}*auth.start*")), "no count in Redis"
    # The next attempt is refused on either server, whichever took the earlier ones.
    assert_limited(start_login(clients[0]), TOO_MANY_LOGINS)
    assert_limited(start_login(clients[1]), TOO_MANY_LOGINS)
    assert start_login(from_ip(two.test_client(), OTHER_IP)).status_code == 302


def test_servers_on_one_redis_share_the_comment_count(
    redis_servers: tuple[Flask, Flask, Redis],
) -> None:
    one, two, _redis = redis_servers
    readers = [reader_from(one), reader_from(two)]
    for n in range(COMMENT_LIMIT):
        comment_id(readers[n % 2].post(f"Comment number {n}."))
    body = "Split across two servers, still counted once."
    for reader in readers:
        refused = reader.post(body)
        assert_limited(refused, TOO_MANY_COMMENTS)
        assert_refused(refused, 429, "your comment is kept below", body)
    assert len(statuses(one)) == COMMENT_LIMIT
    assert textarea(readers[1].page()) == body
    assert form_data(readers[1].page(), "/comments/")["comment"] == body


# --- under gunicorn: what a reader gets from two workers -----------------------------------

WORKERS_LIMIT = 4


def login_starts_passed(database_url: str, posts_dir: Path, tmp_path: Path, **env: str) -> int:
    """Start gunicorn (2 sync workers) and press a login button twice the limit and more from
    one address; how many were let through."""
    settings = {
        "BLOG_DATABASE_URL": database_url,
        "BLOG_POSTS_DIR": str(posts_dir),
        "BLOG_DEV_IDP": "0",
        "BLOG_RATELIMIT_LOGIN": f"{WORKERS_LIMIT} per minute",
        "BLOG_X_CLIENT_ID": "x-id",
        "BLOG_X_CLIENT_SECRET": "x-secret",
        "BLOG_X_AUTHORIZE_URL": "http://127.0.0.1:9/x/i/oauth2/authorize",
    }
    with Gunicorn(
        "tests.support.served_app:app", clean_env(settings | env), tmp_path, "limits"
    ) as server:
        assert WORKERS == 2
        codes = [
            requests.post(
                server.url + "/auth/start",
                data={"provider": "x", "next": "/"},
                headers={"Origin": server.url},
                allow_redirects=False,
                timeout=10,
            ).status_code
            for _ in range(WORKERS * WORKERS_LIMIT + 2)
        ]
    assert set(codes) == {302, 429}, codes
    return codes.count(302)


@pytest.mark.slow
@pytest.mark.sqlite_only  # about where the counts live, not the database
def test_in_memory_each_gunicorn_worker_counts_for_itself(
    database_url: str, posts_dir: Path, tmp_path: Path
) -> None:
    # Without Redis the counts live in each worker's memory: an address gets the limit from
    # each worker it happens to reach (the README says so; BLOG_REDIS_URL makes it exact).
    passed = login_starts_passed(database_url, posts_dir, tmp_path)
    assert WORKERS_LIMIT <= passed <= WORKERS * WORKERS_LIMIT


@pytest.mark.slow
@pytest.mark.sqlite_only  # about where the counts live, not the database
def test_with_redis_gunicorn_workers_share_the_count(
    database_url: str, posts_dir: Path, tmp_path: Path
) -> None:
    url = redis_url()
    prefix = f"blog-test-{secrets.token_hex(6)}"
    overrides = {"RATELIMIT_KEY_PREFIX": prefix, "PAGE_CACHE_REDIS_PREFIX": f"{prefix}:pc:"}
    client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        passed = login_starts_passed(
            database_url, posts_dir, tmp_path,
            BLOG_REDIS_URL=url, TEST_APP_OVERRIDES=json.dumps(overrides),
        )  # fmt: skip
        assert list(client.scan_iter(match=f"*{prefix}*auth.start*")), "no count in Redis"
    finally:
        stale = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        if stale:
            client.delete(*stale)
        client.close()
    assert passed == WORKERS_LIMIT


def test_refusals_to_cookie_less_requests_keep_no_draft(limited: Callable[..., Flask]) -> None:
    app = limited()
    post = str(essay_id(app.test_client().get(ESSAY).text))
    comment = {"post_id": post, "parent_id": "", "comment": "z" * 100_000}
    login = {"provider": "x", "next": ESSAY, "post_id": post, "comment": "z" * 100_000}
    refused = []
    for _ in range(COMMENT_LIMIT + LOGIN_LIMIT + 5):
        refused.append(from_ip(app.test_client()).post("/comments/", data=comment).status_code)
    for _ in range(LOGIN_LIMIT):
        start_login(from_ip(app.test_client()))  # the address's logins, used up
    for _ in range(5):
        client = from_ip(app.test_client())
        response = client.post("/auth/start", data=login, headers={"Origin": SITE})
        assert_limited(response, TOO_MANY_LOGINS)
        assert "Your comment is kept." not in response.text
    assert set(refused) == {400}  # the CSRF check comes first
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CommentDraft)) == 0
