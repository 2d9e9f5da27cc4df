"""Production hardening through real requests: headers, settings, health, schema and lock guards."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import func, insert, select
from sqlalchemy.exc import OperationalError
from werkzeug.test import TestResponse

from blog import create_app
from blog.auth.drafts import MAX_DRAFTS
from blog.cache import page_cache
from blog.clock import FrozenClock
from blog.config import ConfigError
from blog.database import write_transaction
from blog.extensions import db, init_migrations
from blog.models import SCHEMA_REVISION, Comment, CommentDraft, Post
from tests.support.auth_helpers import essay_id, textarea
from tests.support.comment_client import ESSAY, log_in

SITE = "https://blog.example.com"
SQLITE = pytest.mark.sqlite_only


def assert_hardened(response: TestResponse, form_action: set[str], hsts: bool = False) -> None:
    """Every security header is on the response; HSTS only when asked for."""
    parts = [p.split() for p in response.headers["Content-Security-Policy"].split(";")]
    policy = {p[0]: p[1:] for p in parts if p}
    assert policy["script-src"] == ["'self'"], policy
    assert not any("unsafe" in s for s in policy["script-src"] + policy["default-src"])
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert set(policy["form-action"]) == {"'self'", *form_action}, policy["form-action"]
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer")
    assert "camera=()" in headers["Permissions-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert ("Strict-Transport-Security" in headers) is hsts, headers


@pytest.fixture
def production(env_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """Build apps the way wsgi.py does, from BLOG_ENV=production and BLOG_* variables."""

    def make(**env: str) -> Flask:
        settings = {
            "BLOG_ENV": "production",
            "BLOG_SECRET_KEY": "a-production-secret-of-32-chars!",
            "BLOG_SITE_URL": SITE,
        }
        return env_app(**(settings | env))

    return make


def bare_app(make_app: Callable[..., Flask], url: str, tmp_path: Path, **extra: object) -> Flask:
    """The test app on another database URL, with nothing synced at start-up."""
    extra |= {"SYNC_ON_START": False, "PAGE_CACHE_STATE_DIR": tmp_path / "cache"}
    return make_app(SQLALCHEMY_DATABASE_URI=url, **extra)


@SQLITE
def test_every_kind_of_response_carries_the_security_headers(
    monkeypatch: pytest.MonkeyPatch, essay: Path, make_app: Callable[..., Flask]
) -> None:
    monkeypatch.setenv("BLOG_X_CLIENT_ID", "x-id")
    monkeypatch.setenv("BLOG_X_CLIENT_SECRET", "x-secret")
    client = make_app().test_client()  # X enabled; Google and Facebook not configured
    responses = {
        "page": client.get(ESSAY),
        "home": client.get("/"),
        "cached home": client.get("/"),
        "404": client.get("/no-such-page/"),
        "405": client.get("/auth/logout"),
        "400 CSRF": client.post("/auth/logout"),
        "308 redirect": client.get(ESSAY.rstrip("/")),
        "login redirect": client.post(
            "/auth/start", data={"provider": "x"}, headers={"Origin": "http://localhost"}
        ),
        "static": client.get("/static/css/blog.css"),
        "feed": client.get("/feed/"),
        "health": client.get("/healthz"),
    }
    expected = {"404": 404, "405": 405, "400 CSRF": 400, "308 redirect": 308, "login redirect": 302}
    for name, response in responses.items():
        assert response.status_code == expected.get(name, 200), name
        assert_hardened(response, {"https://x.com"})  # no origin of a disabled provider
        response.close()
    assert responses["login redirect"].headers["Location"].startswith("https://x.com/")
    callback = client.application.test_client().get("/auth/callback/x?code=forged&state=forged")
    assert callback.status_code == 400
    assert callback.headers["Referrer-Policy"] == "no-referrer"
    assert_hardened(callback, {"https://x.com"})
    assert responses["page"].headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


class ScriptFinder(HTMLParser):
    """Each <script>'s attributes and text, and every inline event handler attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[tuple[dict[str, str | None], list[str]]] = []
        self.handlers: list[str] = []
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note scripts and on* attributes."""
        self.handlers += [f"{tag} {name}" for name, _ in attrs if name.startswith("on")]
        self.inside = tag == "script"
        if self.inside:
            self.scripts.append((dict(attrs), []))

    def handle_data(self, data: str) -> None:
        """Keep the text of the open script."""
        if self.inside:
            self.scripts[-1][1].append(data)

    def handle_endtag(self, tag: str) -> None:
        """Close the open script."""
        self.inside = False


@SQLITE
def test_pages_have_no_inline_script_but_json_ld(essay: Path, client: FlaskClient) -> None:
    json_ld = 0
    for path in ("/", ESSAY, "/about/"):
        finder = ScriptFinder()
        finder.feed(client.get(path).get_data(as_text=True))
        assert finder.handlers == [], path
        for attrs, parts in finder.scripts:
            text = "".join(parts)
            if attrs.get("src"):
                assert not text.strip() and str(attrs["src"]).startswith("/static/"), (path, attrs)
            else:
                assert attrs.get("type") == "application/ld+json", (path, attrs, text[:200])
                json.loads(text)
                json_ld += 1
    assert json_ld >= 1  # the post page describes itself to search engines


@SQLITE
def test_production_cookies_hsts_and_proxy_hops(
    production: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = production(BLOG_X_CLIENT_ID="x-id", BLOG_X_CLIENT_SECRET="x-secret")
    client = app.test_client()
    start = client.post(
        "/auth/start", data={"provider": "x"}, base_url=SITE, headers={"Origin": SITE}
    )
    assert start.status_code == 302
    cookie = start.headers["Set-Cookie"]
    assert cookie.startswith("blog_session=")
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {p.strip() for p in cookie.split(";")}
    assert_hardened(client.get("/healthz", base_url=SITE), {"https://x.com"}, hsts=True)
    assert_hardened(client.get("/healthz"), {"https://x.com"}, hsts=False)

    caplog.set_level(logging.INFO, logger="blog.requests")
    forwarded = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7", "X-Forwarded-Proto": "https"}
    for hops, proto, client_ip, hsts in [
        ("0", "https", "127.0.0.1", False),  # no proxy configured: the headers are ignored
        ("1", "https", "198.51.100.7", True),  # one proxy: its values, not the client's
        ("1", "https, http", "198.51.100.7", False),  # one hop only, even when more are sent
        ("2", "https, http", "203.0.113.9", True),
    ]:
        hopped = production(BLOG_PROXY_HOPS=hops).test_client()
        caplog.clear()
        response = hopped.get("/healthz", headers={**forwarded, "X-Forwarded-Proto": proto})
        assert ("Strict-Transport-Security" in response.headers) is hsts, (hops, proto)
        lines = [r.getMessage() for r in caplog.records if r.name == "blog.requests"]
        assert lines[-1].startswith(f'{client_ip} "GET /healthz"')
        # A page the page cache answers is logged with the same address.
        for _ in range(2):
            assert hopped.get("/", headers=forwarded, base_url=SITE).status_code == 200
        assert page_cache(hopped.application) is not None
        assert page_cache(hopped.application).hits >= 1  # type: ignore[union-attr]
        lines = [r.getMessage() for r in caplog.records if r.name == "blog.requests"]
        assert lines[-1].startswith(f'{client_ip} "GET /"'), lines[-1]


@SQLITE
def test_a_request_cannot_forge_request_log_lines(
    production: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="blog.requests")
    client = production(BLOG_PROXY_HOPS="1").test_client()
    forged = "/%0D%0A10.0.0.1%20%22GET%20/admin/%22%20200%200%201.0ms%E2%80%A8"
    response = client.get(forged, base_url=SITE, headers={"X-Forwarded-For": "a\tb"})
    assert response.status_code == 404
    lines = [r.getMessage() for r in caplog.records if r.name == "blog.requests"]
    assert len(lines) == 1
    assert lines[0].isprintable(), lines[0]
    assert lines[0].startswith('a\\tb "GET /\\r\\n10.0.0.1 "GET /admin/" 200 0 1.0ms\\u2028" 404 ')


@SQLITE
def test_production_trusted_hosts_and_request_size(production: Callable[..., Flask]) -> None:
    app = production(
        BLOG_TRUSTED_HOSTS="blog.example.com", BLOG_PROXY_HOPS="1", BLOG_MAX_REQUEST_BYTES="2000"
    )
    client = app.test_client()
    assert client.get("/", base_url=SITE).status_code == 200
    for headers in ({"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example"}):
        refused = client.get("/", base_url=SITE, headers=headers)
        assert refused.status_code == 400, headers
        assert "not served here" in refused.get_data(as_text=True)
        assert_hardened(refused, set(), hsts=True)
    proxied = {"Host": "10.0.0.5", "X-Forwarded-Host": "blog.example.com"}
    assert client.get("/", headers=proxied).status_code == 200
    big = client.post("/comments/", data={"comment": "x" * 5000}, base_url=SITE)
    assert big.status_code == 413
    page = big.get_data(as_text=True)
    assert "Request Entity Too Large" in page and "exceeds the capacity limit" in page
    assert client.post("/comments/", data={"comment": "x"}, base_url=SITE).status_code == 400


@SQLITE
def test_production_refuses_no_secret_key_and_the_local_identity_provider(
    production: Callable[..., Flask],
) -> None:
    for secret in ("", "too-short"):
        with pytest.raises(ConfigError, match="BLOG_SECRET_KEY must be set"):
            production(BLOG_SECRET_KEY=secret)
    for value in ("1", "true", "yes", "ON"):
        with pytest.raises(ConfigError, match="BLOG_DEV_IDP cannot be enabled"):
            production(BLOG_DEV_IDP=value)
    app = production(BLOG_DEV_IDP="auto")  # auto, with no provider configured: still off
    assert app.config["DEV_IDP"] is False
    client = app.test_client()
    assert client.get("/devidp/google/.well-known/openid-configuration").status_code == 404
    assert "development provider" not in client.get("/", base_url=SITE).get_data(as_text=True)
    with pytest.raises(RuntimeError, match="cannot run in production"):
        create_app({"PRODUCTION": True, "DEV_IDP": True})  # as blog.cfg or an override would


def test_production_workers_do_not_sync_posts_at_boot(
    production: Callable[..., Flask], write_post: Callable[..., Path]
) -> None:
    write_post("fresh", title="Fresh")
    app = production()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 0
    assert app.test_client().get("/2024/01/15/fresh/", base_url=SITE).status_code == 404
    result = app.test_cli_runner().invoke(args=["blog", "sync"])  # the deploy step does it
    assert "1 added" in result.output
    assert app.test_client().get("/2024/01/15/fresh/", base_url=SITE).status_code == 200


def garbage_file(tmp_path: Path) -> str:
    """The URL of a file that is not an SQLite database."""
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not an SQLite database\n" * 100)
    return f"sqlite:///{path}"


@SQLITE
@pytest.mark.parametrize("kind", ["postgres-closed-port", "sqlite-missing-dir", "sqlite-garbage"])
def test_healthz_answers_503_when_the_database_is_down(
    kind: str, tmp_path: Path, make_app: Callable[..., Flask]
) -> None:
    url = {
        "postgres-closed-port": "postgresql+psycopg://postgres@127.0.0.1:1/blog",  # a closed port
        "sqlite-missing-dir": f"sqlite:///{tmp_path / 'missing' / 'blog.db'}",
        "sqlite-garbage": garbage_file(tmp_path),
    }[kind]
    client = bare_app(make_app, url, tmp_path).test_client()
    health = client.get("/healthz")
    assert (health.status_code, health.get_json()["status"]) == (503, "error")
    assert client.get("/").status_code == 503  # every page: unavailable, never a 500


@SQLITE
def test_healthz_answers_503_on_a_corrupt_file_in_development(
    tmp_path: Path, make_app: Callable[..., Flask]
) -> None:
    app = bare_app(make_app, garbage_file(tmp_path), tmp_path, SYNC_ON_REQUEST=True)
    assert app.test_client().get("/healthz").status_code == 503


def test_an_unmigrated_database_is_refused_until_flask_db_upgrade(
    fresh_url: str, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app, head = bare_app(make_app, fresh_url, tmp_path), SCHEMA_REVISION
    init_migrations(app)
    with app.app_context():
        config = current_app.extensions["migrate"].migrate.get_config()
        previous = ScriptDirectory.from_config(config).get_revision(head)
    for found in ("no schema", str(previous.down_revision)):
        if found != "no schema":
            with app.app_context():
                upgrade(revision=found)  # one migration behind the code
        refused = app.test_client().get("/")
        page = refused.get_data(as_text=True)
        assert (refused.status_code, refused.headers["Retry-After"]) == (503, "30")
        assert "flask db upgrade" in page and f"<code>{head}</code>" in page
        assert f"<code>{found}</code>" in page
    with app.app_context():
        upgrade()
    assert app.test_client().get("/").status_code == 200
    health = app.test_client().get("/healthz")
    assert (health.status_code, health.get_json()) == (200, {"status": "ok", "database": "ok"})


@SQLITE
def test_a_locked_database_answers_503_with_retry_after_on_a_write(
    essay: Path, make_app: Callable[..., Flask]
) -> None:
    app = make_app(SQLITE_BUSY_TIMEOUT_MS=50)
    reader = log_in(app)
    form = reader.form()
    path = str(app.config["SQLALCHEMY_DATABASE_URI"]).removeprefix("sqlite:///")
    other = sqlite3.connect(path, isolation_level=None)  # another worker, mid-write
    try:
        other.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        busy = reader.post("Written while another worker holds the lock.", form=form)
        assert time.monotonic() - started < 3
        assert busy.status_code == 503, busy.get_data(as_text=True)[:1000]
        assert busy.headers["Retry-After"] == "2"
        assert "Busy for a moment" in busy.get_data(as_text=True)
        assert_hardened(busy, set())
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert reader.post("Written once the lock is gone.", form=form).status_code == 303
    with app.app_context():
        assert db.session.scalars(select(Comment.body)).all() == ["Written once the lock is gone."]


@SQLITE
def test_a_forwarded_port_never_reaches_another_readers_cached_links(
    essay: Path, make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    # Development without BLOG_SITE_URL, behind a proxy that passes X-Forwarded-* through.
    app = make_app(SITE_URL="", PROXY_HOPS=1, PAGE_CACHE=True,
                   PAGE_CACHE_STATE_DIR=tmp_path / "cache")  # fmt: skip
    client = app.test_client()
    poisoned = {"X-Forwarded-Port": "6666", "X-Forwarded-Prefix": "/evil"}
    for path in ("/", ESSAY, "/feed/"):
        assert ":6666" in client.get(path, headers=poisoned).get_data(as_text=True)
        page = client.get(path).get_data(as_text=True)
        assert ":6666" not in page and "/evil" not in page, path


@SQLITE
def test_production_links_come_from_the_site_url_whatever_the_request_says(
    production: Callable[..., Flask], essay: Path
) -> None:
    client = production(BLOG_PROXY_HOPS="1", BLOG_PAGE_CACHE="1").test_client()
    forged = {"Host": "attacker.example", "X-Forwarded-Host": "evil.example",
              "X-Forwarded-Port": "6666", "X-Forwarded-Proto": "http"}  # fmt: skip
    for path in ("/", ESSAY, "/feed/"):
        for headers in (forged, {}):
            page = client.get(path, headers=headers).get_data(as_text=True)
            assert f"{SITE}/" in page and "example:" not in page and ":6666" not in page
            assert "attacker.example" not in page and "evil.example" not in page, path


# --- drafts: kept for a reader with a session, bounded, and they expire --------------------


def drafts(app: Flask) -> list[CommentDraft]:
    with app.app_context():
        return list(db.session.scalars(select(CommentDraft).order_by(CommentDraft.updated_at)))


def essay_form_id(client: FlaskClient) -> str:
    return str(essay_id(client.get(ESSAY).get_data(as_text=True)))


def test_cookie_less_refused_comment_posts_keep_no_draft(
    essay: Path, make_app: Callable[..., Flask]
) -> None:
    app = make_app()
    client = app.test_client()
    data = {"post_id": essay_form_id(client), "parent_id": "", "comment": "x" * 100_000}
    for n in range(30):
        # A fresh client each time: no session cookie, no CSRF token.
        response = app.test_client().post("/comments/", data=data)
        assert response.status_code == 400
        # A cookie of our name that we never signed is no session either.
        forged = app.test_client()
        forged.set_cookie("blog_session", f"forged-{n}", domain="blog.test")
        assert forged.post("/comments/", data=data).status_code == 400
    assert drafts(app) == []


def test_a_session_keeps_one_draft_no_longer_than_a_comment(
    essay: Path, make_app: Callable[..., Flask]
) -> None:
    app = make_app()
    reader = log_in(app)
    long_text = "y" * (app.config["COMMENT_MAX_CHARS"] * 20)
    form = {"post_id": essay_form_id(reader.client), "parent_id": ""}
    for text in (long_text, "Second try", "Third try"):
        # No CSRF token: the form had expired; the text comes back and is kept.
        response = reader.client.post("/comments/", data={**form, "comment": text})
        assert response.status_code == 400 and "Your form had expired" in response.text
    assert textarea(reader.page()) == "Third try"
    kept = drafts(app)
    assert [d.body for d in kept] == ["Third try"]
    reader.client.post("/comments/", data={**form, "comment": long_text})
    assert [len(d.body) for d in drafts(app)] == [app.config["COMMENT_MAX_CHARS"]]


def test_drafts_expire_by_the_apps_clock(
    essay: Path, make_app: Callable[..., Flask], clock: FrozenClock
) -> None:
    app = make_app()
    reader = log_in(app)
    form = {"post_id": essay_form_id(reader.client), "parent_id": ""}
    reader.client.post("/comments/", data={**form, "comment": "Kept for a while"})
    clock.advance(days=6)
    assert textarea(reader.page()) == "Kept for a while"
    clock.advance(days=2)
    assert textarea(reader.page()) == ""
    # The next draft saved, by anyone, clears the expired ones away.
    log_in(app, "bob").client.post("/comments/", data={**form, "comment": "Bob's"})
    assert [d.body for d in drafts(app)] == ["Bob's"]


def test_drafts_are_bounded_in_total_the_oldest_go_first(
    essay: Path, make_app: Callable[..., Flask], clock: FrozenClock
) -> None:
    app = make_app()
    reader = log_in(app)
    post = essay_form_id(reader.client)
    with app.app_context(), write_transaction():
        base = clock.now() - timedelta(hours=1)
        db.session.execute(
            insert(CommentDraft),
            [
                {
                    "id": f"old-{n}",
                    "post_id": int(post),
                    "body": "old",
                    "started_at": base,
                    "updated_at": base + timedelta(seconds=n),
                }
                for n in range(MAX_DRAFTS)
            ],
        )
    reader.client.post("/comments/", data={"post_id": post, "comment": "Mine"})
    kept = drafts(app)
    assert len(kept) == MAX_DRAFTS
    assert "old-0" not in {d.id for d in kept} and kept[-1].body == "Mine"
    assert textarea(reader.page()) == "Mine"


def test_a_search_page_no_database_integer_can_reach_is_not_a_500(
    essay: Path, client: FlaskClient
) -> None:
    for number in ("2147483647", "214748364"):
        response = client.get(f"/page/{number}/", query_string={"s": "connections"})
        assert response.status_code == 200, number
        assert "Sorry, nothing matched" in response.get_data(as_text=True)
    # Past what an id column holds, a number in a URL names nothing.
    huge = client.get("/page/9223372036854775807/", query_string={"s": "connections"})
    assert huge.status_code == 404
    assert "search-result" in client.get("/?s=connections").get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/category/a%00b/",
        "/tag/a%00/",
        "/2019/06/10/making-true-connections%00/",
        "/making%00/",
        "/?s=a%00b",
        "/account/?next=%00",
    ],
)
def test_a_nul_anywhere_in_the_url_is_refused_at_the_edge(
    essay: Path, client: FlaskClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    assert "Bad Request" in response.get_data(as_text=True)


def test_a_path_cannot_forge_error_log_lines(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    def broken(rest: str) -> str:
        raise RuntimeError("a view that fails")

    # A real failure in a real view: what is about is the line the error handler writes.
    app.add_url_rule("/broken/<rest>", view_func=broken)
    caplog.set_level(logging.ERROR, logger="blog.web.errors")
    response = app.test_client().get("/broken/x%0A2026-11-25 ERROR forged line")
    assert response.status_code == 500
    lines = [r.getMessage() for r in caplog.records if r.name == "blog.web.errors"]
    assert lines == ["unhandled error on GET /broken/x\\n2026-11-25 ERROR forged line"]


def test_flasks_own_error_line_cannot_be_forged_either(
    make_app: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(PROPAGATE_EXCEPTIONS=False)  # as served: tests let errors through otherwise

    def broken(rest: str) -> str:
        # Not a lock: the busy-database handler passes it on, and Flask logs it itself.
        raise OperationalError("SELECT 1", {}, Exception("disk I/O error"))

    app.add_url_rule("/broken/<rest>", view_func=broken)
    caplog.set_level(logging.ERROR, logger=app.logger.name)
    response = app.test_client().get("/broken/x%0A2026-11-25 ERROR forged line")
    assert response.status_code == 500
    lines = [r.getMessage() for r in caplog.records if r.name == app.logger.name]
    assert lines == ["Exception on /broken/x\\n2026-11-25 ERROR forged line [GET]"]


def test_a_display_name_with_a_lone_surrogate_keeps_the_site_usable(
    essay: Path, app: Flask
) -> None:
    reader = log_in(app, subject="odd", name="Odd \ud800 Name\ufffe")
    for path in (ESSAY, "/account/", "/"):
        response = reader.client.get(path)
        assert response.status_code == 200, path
    assert "Odd \ufffd Name" in reader.page("/account/")
    assert reader.post("Still here.").status_code == 303
    assert reader.client.get("/comments/feed/").status_code == 200


@pytest.mark.parametrize("duration", ["⁰⁴⁵", "٣", "007x", "1e3", " 7 "])
def test_a_ban_duration_that_is_no_plain_number_is_refused_not_a_500(
    essay: Path, make_app: Callable[..., Flask], duration: str
) -> None:
    from tests.support.moderation_helpers import MODERATORS, add_moderator, add_user
    from tests.support.moderation_helpers import csrf_token as admin_csrf
    from tests.support.moderation_helpers import log_in as admin_log_in

    app = make_app(MODERATORS=MODERATORS)
    alice = add_user(app, "Alice")
    client = app.test_client()
    admin_log_in(client, add_moderator(app))
    app.config["WTF_CSRF_ENABLED"] = True
    form = {"duration": duration, "reason": "x", "csrf_token": admin_csrf(client)}
    response = client.post(f"/admin/users/{alice}/ban", data=form)
    page = client.get(f"/admin/users/{alice}").get_data(as_text=True)
    if duration == " 7 ":  # blanks around a number are a slip of the hand
        assert response.status_code == 303 and "Banned for 7 days." in page
        return
    assert response.status_code == 303
    assert "Not banned: Choose a ban of 1 to 3650 days, or for good." in page


@pytest.mark.parametrize("path", ["/0001/", "/0001/01/", "/9999/", "/9999/12/"])
def test_archives_at_the_ends_of_the_calendar_are_not_found(
    essay: Path, client: FlaskClient, path: str
) -> None:
    assert client.get(path).status_code == 404
