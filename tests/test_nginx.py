"""A real nginx on 127.0.0.1 with the shipped deploy/nginx.conf in front of the live blog:
anonymous pages come from nginx's proxy_cache for the validity, everything personal reaches
the app, and the app sees nginx's X-Forwarded-* values, never the client's."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from flask import Flask, Response, jsonify, request

from bench.nginx_local import (
    MARK_HEADER,
    SITE_CONF,
    LocalNginx,
    NginxError,
    find_nginx,
    marked_values,
    site_conf,
)
from bench.procs import free_port
from blog.auth.devmode import dev_provider_settings, idp_config_for
from blog.clock import utcnow
from blog.config import PROJECT_ROOT, load_settings
from blog.database import write_transaction
from blog.devidp import create_idp_app
from blog.extensions import db
from blog.mail import tokens
from blog.mail.subscriptions import subscribe
from blog.models import Comment, CommentStatus, SubscriptionKind, User
from blog.moderation.service import Action, moderate
from tests.support.auth_helpers import ESSAY, FastServer, logged_in, new_comment_id, post_comment
from tests.support.databases import skip_or_fail
from tests.support.moderation_helpers import add_user
from tests.support.oauth_site import OAuthSite

# nginx only proxies and keeps copies: one run is enough, not one per database backend.
pytestmark = pytest.mark.sqlite_only

MARK = MARK_HEADER
CACHE = "X-Cache-Status"
LOGGED_IN = "You are commenting using your Google account."
LOGIN_FORM = "Please log in using one of these methods"
# nginx counts validity in whole seconds: a copy kept for "1s" expires 1 to 2 s after it was
# stored.
VALIDITY_S = 1
EXPIRED_BY_S = VALIDITY_S + 1


@dataclass
class Proxied:
    """The blog (site.app, served by blog_server at app_addr) behind nginx at site.url."""

    site: OAuthSite
    blog_server: FastServer
    app_addr: str
    nginx: LocalNginx

    def upstream(self, mark: str) -> str:
        """Where nginx got its answer to the request marked so: the app's address, or '-'."""
        return self.nginx.upstream(mark)


def add_probes(app: Flask) -> None:
    """Test-only pages: what the app sees of a request, and answers nginx must never keep."""
    served = itertools.count()

    @app.get("/probe/forwarded/")
    def forwarded() -> Response:
        seen = {"host": request.host, "scheme": request.scheme, "remote": request.remote_addr}
        return jsonify({**dict(request.headers), **seen})

    @app.get("/probe/public-with-cookie/")
    def public_with_cookie() -> Response:
        # Marked public, as a page the app got wrong would be: only the cookie says personal.
        response = app.response_class(f"answer {next(served)}", mimetype="text/plain")
        response.headers["Cache-Control"] = "public, max-age=60"
        response.set_cookie("probe", "personal")
        return response


@pytest.fixture
def proxied(essay: Path, make_app: Callable[..., Flask], tmp_path: Path) -> Iterator[Proxied]:
    """The essay's blog on a live server, its identity provider, and nginx in front."""
    if find_nginx() is None:
        skip_or_fail("nginx is not installed (not on PATH, /usr/sbin or /usr/local/sbin)")
    port = free_port()
    public = f"http://127.0.0.1:{port}"  # BLOG_SITE_URL is nginx's address, as in production
    blog_server, idp_server = FastServer(None), FastServer(None)  # apps set before start
    idp_server.server.app = create_idp_app(idp_config_for(idp_server.url, [public]))
    providers = dev_provider_settings(idp_server.url)
    for settings in providers.values():
        settings.pop("dev")
    app = make_app(
        AUTH_PROVIDERS=providers, SITE_URL=public, DEV_IDP=False, AUTH_TIMEOUT_SECONDS=2,
        PAGE_CACHE=True, PROXY_HOPS=1, MODERATION_HOLD="all",
    )  # fmt: skip
    add_probes(app)
    blog_server.server.app = app
    blog_server.start()
    idp_server.start()
    site = OAuthSite(app, public, idp_server.server.app.extensions["devidp"], idp_server.url)
    try:  # after the yield runs even when the test fails; finally covers a failed start
        app_addr = f"127.0.0.1:{blog_server.port}"
        conf = site_conf(
            {
                "listen": f"127.0.0.1:{port}",
                "upstream": app_addr,
                "cache_path": str(tmp_path / "nginx-cache"),
                "validity": f"{VALIDITY_S}s",
                "static": f"{PROJECT_ROOT / 'static'}/",
            }
        )
        with LocalNginx(tmp_path / "nginx", conf, [port]) as nginx:
            yield Proxied(site, blog_server, app_addr, nginx)
    finally:
        for server in (blog_server, idp_server):
            server.stop()  # a second stop (after a test stopped the blog) returns at once


def anonymous(proxied: Proxied, path: str = ESSAY, mark: str = "-") -> requests.Response:
    """A GET through nginx from a browser without cookies, marked for the access log."""
    return requests.get(
        proxied.site.url + path, headers={MARK: mark}, allow_redirects=False, timeout=10
    )


def cached(proxied: Proxied, path: str = ESSAY) -> requests.Response:
    """An anonymous GET that nginx answers from its cache (stored first if need be)."""
    for _attempt in range(3):  # a copy may expire between two requests on a slow machine
        response = anonymous(proxied, path)
        if response.headers[CACHE] == "HIT":
            return response
    raise AssertionError(f"nginx did not keep {path}: {response.headers[CACHE]}")


def assert_public_page(response: requests.Response) -> None:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=60"
    # nginx's gzip_vary adds Accept-Encoding; Cookie comes from the app.
    assert "Cookie" in response.headers["Vary"].split(", ")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Set-Cookie" not in response.headers


def test_tests_and_bench_run_the_shipped_config_with_only_marked_values_replaced() -> None:
    shipped = SITE_CONF.read_text(encoding="utf-8")
    assert marked_values(shipped) == {
        "cache_path": "/var/cache/nginx-blog",
        "upstream": "127.0.0.1:8000",
        "listen": "80",
        "server_name": "blog.example.com",
        "validity": "1s",
        "static": "/srv/blog/static/",
    }
    # The config bypasses the cache for the cookie the app names its sessions with.
    assert f"$cookie_{load_settings({})['SESSION_COOKIE_NAME']}|" in shipped
    conf = site_conf({"upstream": "10.0.0.5:9000", "validity": "3s"})
    assert marked_values(conf)["upstream"] == "10.0.0.5:9000"
    assert conf.replace("10.0.0.5:9000", "127.0.0.1:8000").replace(" 3s;", " 1s;") == shipped
    with pytest.raises(NginxError, match="upstrem"):
        site_conf({"upstrem": "10.0.0.5:9000"})
    with pytest.raises(NginxError, match="cannot go into"):
        site_conf({"upstream": "10.0.0.5:9000; evil"})


def test_second_anonymous_get_within_the_validity_comes_from_nginx(proxied: Proxied) -> None:
    first = anonymous(proxied, mark="first")
    assert_public_page(first)
    assert first.headers[CACHE] == "MISS"
    assert "Making TRUE Connections" in first.text and LOGIN_FORM in first.text

    second = anonymous(proxied, mark="second")
    assert_public_page(second)
    assert second.headers[CACHE] == "HIT"
    assert second.content == first.content
    assert second.headers["ETag"] == first.headers["ETag"]  # the app's own, kept by nginx
    assert second.headers["Last-Modified"] == first.headers["Last-Modified"]
    assert proxied.upstream("first") == proxied.app_addr
    assert proxied.upstream("second") == "-"  # nginx did not ask the app

    head = requests.head(proxied.site.url + ESSAY, headers={MARK: "head"}, timeout=10)
    assert head.status_code == 200 and head.headers[CACHE] == "HIT"
    assert proxied.upstream("head") == "-"


def test_approved_comment_shows_to_anonymous_readers_once_the_copy_expires(
    proxied: Proxied,
) -> None:
    site = proxied.site
    http, _page = logged_in(site)  # the whole login, through nginx
    text = "Held until the author reads it, then public."
    comment_id = new_comment_id(post_comment(site, http, text))  # POST /comments/ via nginx
    with site.app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment is not None and comment.status is CommentStatus.PENDING
    assert text not in cached(proxied).text

    approved_at = time.monotonic()
    with site.app.app_context():
        assert moderate(Action.APPROVE, [comment_id], utcnow()).changed == 1
    # Until the copy nginx holds expires, readers get it, from nginx alone; then the app's page.
    for n in itertools.count():
        page = anonymous(proxied, mark=f"after-{n}")
        assert_public_page(page)
        if text in page.text:
            break
        assert page.headers[CACHE] == "HIT", "the app answered without the approved comment"
        assert time.monotonic() - approved_at < EXPIRED_BY_S + 1, "nginx kept its copy too long"
        time.sleep(0.1)
    assert time.monotonic() - approved_at < EXPIRED_BY_S + 1
    assert f'id="comment-{comment_id}"' in page.text
    assert page.headers[CACHE] in {"EXPIRED", "MISS"}
    assert proxied.upstream(f"after-{n}") == proxied.app_addr
    # The new copy is what the next reader gets from nginx.
    again = anonymous(proxied, mark="again")
    assert again.headers[CACHE] == "HIT" and again.content == page.content


def test_a_reader_with_the_session_cookie_always_reaches_the_app(proxied: Proxied) -> None:
    http, _page = logged_in(proxied.site)
    assert http.cookies.get("blog_session")  # every request below carries it
    shared = cached(proxied).content
    for n in range(3):
        page = http.get(proxied.site.url + ESSAY, headers={MARK: f"reader-{n}"}, timeout=10)
        assert page.status_code == 200, page.text[:500]
        assert page.headers[CACHE] == "BYPASS"
        assert page.headers["Cache-Control"] == "private, no-store"
        assert LOGGED_IN in page.text and LOGIN_FORM not in page.text
        assert proxied.upstream(f"reader-{n}") == proxied.app_addr
    # The personal page was not kept for anonymous readers, nor did it replace their copy.
    after = cached(proxied)
    assert after.content == shared and LOGGED_IN not in after.text


def test_nothing_personal_is_served_to_the_next_anonymous_reader(proxied: Proxied) -> None:
    app, email = proxied.site.app, "alice@example.com"
    alice = add_user(app, "Alice")
    with app.app_context(), write_transaction():
        user = db.session.get(User, alice)
        assert user is not None
        sub = subscribe(SubscriptionKind.POSTS, email, user, 0, utcnow(), confirmed=True)
        path = f"/mail/unsubscribe/{tokens.unsubscribe_token(sub)}"
    # A real page for one person (their address, a secret URL), marked private, no cookie.
    for n in range(2):
        page = anonymous(proxied, path, mark=f"private-{n}")
        assert page.status_code == 200, page.text[:500]
        assert page.headers["Cache-Control"] == "private, no-store"
        assert "Set-Cookie" not in page.headers and email in page.text
        assert page.headers[CACHE] == "MISS"  # looked up, never stored
        assert proxied.upstream(f"private-{n}") == proxied.app_addr
    # An answer that sets a cookie is never kept, even one marked public.
    answers = []
    for n in range(2):
        page = anonymous(proxied, "/probe/public-with-cookie/", mark=f"cookie-{n}")
        assert page.status_code == 200 and "probe=personal" in page.headers["Set-Cookie"]
        assert page.headers[CACHE] == "MISS"
        assert proxied.upstream(f"cookie-{n}") == proxied.app_addr
        answers.append(page.text)
    assert answers == ["answer 0", "answer 1"]


def test_query_strings_and_posts_are_never_cached(proxied: Proxied) -> None:
    home = cached(proxied, "/")
    for n in range(2):
        found = anonymous(proxied, "/?s=trust", mark=f"search-{n}")
        assert found.status_code == 200, found.text[:500]
        assert found.headers[CACHE] == "BYPASS"
        assert "Search results for: <span>trust</span>" in found.text
        assert "Making TRUE Connections" in found.text
        assert proxied.upstream(f"search-{n}") == proxied.app_addr
    assert cached(proxied, "/").content == home.content
    assert "Search results for" not in home.text

    for n in range(2):  # a POST to a page nginx holds: the app's own 405, never the copy
        posted = requests.post(proxied.site.url + "/", headers={MARK: f"post-{n}"}, timeout=10)
        assert posted.status_code == 405
        assert CACHE not in posted.headers  # nginx does not even look a POST up
        assert set(posted.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}
        assert "Method Not Allowed" in posted.text and "<center>nginx" not in posted.text
        assert "Powered by Markdown files and a small Flask app." in posted.text
        assert proxied.upstream(f"post-{n}") == proxied.app_addr


def test_the_app_sees_nginx_forwarded_values_not_the_clients(proxied: Proxied) -> None:
    port = proxied.site.url.rsplit(":", 1)[1]
    forged = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Port": "8443",
        "X-Forwarded-Prefix": "/evil",
    }
    answer = requests.get(proxied.site.url + "/probe/forwarded/", headers=forged, timeout=10)
    assert answer.status_code == 200 and answer.headers[CACHE] == "MISS"  # not public: unkept
    seen = answer.json()
    assert (seen["host"], seen["scheme"], seen["remote"]) == (
        f"127.0.0.1:{port}",
        "http",
        "127.0.0.1",
    )
    assert seen["X-Forwarded-For"] == "127.0.0.1"  # replaced, not appended to
    assert seen["X-Forwarded-Host"] == "127.0.0.1"
    assert seen["X-Forwarded-Proto"] == "http"
    assert seen["X-Forwarded-Port"] == port
    assert "X-Forwarded-Prefix" not in seen


def test_readers_get_the_last_copy_while_the_app_is_down(proxied: Proxied) -> None:
    page = cached(proxied)
    proxied.blog_server.stop()  # a restart, as readers see it: nothing answers on the port
    began = time.monotonic()
    while True:
        during = anonymous(proxied)
        assert during.status_code == 200 and during.content == page.content
        if during.headers[CACHE] != "HIT":
            break
        assert time.monotonic() - began < EXPIRED_BY_S + 1, "the copy never expired"
        time.sleep(0.1)
    assert during.headers[CACHE] == "STALE"
