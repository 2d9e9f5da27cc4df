"""A real nginx on 127.0.0.1 in front of the live blog, with the config `flask blog nginx-config`
renders: anonymous pages come from the static folder, everything personal reaches the app."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from flask import Flask

from bench.nginx_local import MARK_HEADER, LocalNginx, find_nginx
from blog.auth.devmode import dev_provider_settings, idp_config_for
from blog.cache import page_cache
from blog.clock import utcnow
from blog.devidp import create_idp_app
from blog.extensions import db
from blog.models import Comment, CommentStatus
from blog.moderation.service import Action, moderate
from tests.support.auth_helpers import ESSAY, FastServer, logged_in, new_comment_id, post_comment
from tests.support.databases import skip_or_fail
from tests.support.oauth_site import OAuthSite

# nginx only reads files and proxies: one run is enough, not one per database backend.
pytestmark = pytest.mark.sqlite_only

MARK = MARK_HEADER
LOGGED_IN = "You are commenting using your Google account."


@dataclass
class Proxied:
    """The blog (site.app, served at app_addr) behind nginx at site.url, and its folder."""

    site: OAuthSite
    app_addr: str
    pages: Path
    nginx: LocalNginx

    @property
    def essay_file(self) -> Path:
        return self.pages / ESSAY.strip("/") / "index.html"

    def upstream(self, mark: str) -> str:
        """Where nginx got its answer to the request marked so: the app's address, or '-'."""
        return self.nginx.upstream(mark)


def site_conf(app: Flask, port: int, upstream: str) -> str:
    """The blog's own rendered config, as `flask blog nginx-config` prints it."""
    args = ["blog", "nginx-config", "--listen", f"127.0.0.1:{port}", "--upstream", upstream]
    rendered = app.test_cli_runner().invoke(args=args)
    assert rendered.exit_code == 0, rendered.output
    return rendered.output


@pytest.fixture
def proxied(essay: Path, make_app: Callable[..., Flask], tmp_path: Path) -> Iterator[Proxied]:
    """The essay's blog on a live server, its identity provider, and nginx in front."""
    if find_nginx() is None:
        skip_or_fail("nginx is not installed (not on PATH, /usr/sbin or /usr/local/sbin)")
    with socket.socket() as sock:  # a free port for nginx
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    public = f"http://127.0.0.1:{port}"  # BLOG_SITE_URL is nginx's address, as in production
    blog_server, idp_server = FastServer(None), FastServer(None)  # apps set before start
    idp_server.server.app = create_idp_app(idp_config_for(idp_server.url, [public]))
    providers = dev_provider_settings(idp_server.url)
    for settings in providers.values():
        settings.pop("dev")
    pages = tmp_path / "static-pages"
    app = make_app(
        AUTH_PROVIDERS=providers, SITE_URL=public, DEV_IDP=False, AUTH_TIMEOUT_SECONDS=2,
        PAGE_CACHE=True, STATIC_CACHE_DIR=pages, PROXY_HOPS=1, MODERATION_HOLD="all",
    )  # fmt: skip
    blog_server.server.app = app
    blog_server.start()
    idp_server.start()
    site = OAuthSite(app, public, idp_server.server.app.extensions["devidp"], idp_server.url)
    try:  # after the yield runs even when the test fails; finally covers a failed start
        app_addr = f"127.0.0.1:{blog_server.port}"
        conf = site_conf(app, port, app_addr)
        with LocalNginx(tmp_path / "nginx", conf, [port]) as nginx:
            yield Proxied(site, app_addr, pages, nginx)
    finally:
        cache = page_cache(app)
        if cache is not None and cache.maintenance is not None:
            cache.maintenance.stop()
        for server in (blog_server, idp_server):
            server.stop()


def anonymous(proxied: Proxied, path: str = ESSAY, mark: str = "-") -> requests.Response:
    """A GET through nginx from a browser without cookies, marked for the access log."""
    return requests.get(
        proxied.site.url + path, headers={MARK: mark}, allow_redirects=False, timeout=10
    )


def assert_public_page(response: requests.Response) -> None:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=60"
    # nginx's gzip_vary adds Accept-Encoding; Cookie must be there, from the app or nginx.
    assert "Cookie" in response.headers["Vary"].split(", ")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Set-Cookie" not in response.headers


def test_second_anonymous_get_is_served_from_the_static_folder(proxied: Proxied) -> None:
    assert not proxied.essay_file.exists()
    first = anonymous(proxied, mark="first")
    assert_public_page(first)
    assert "Making TRUE Connections" in first.text
    assert "Please log in using one of these methods" in first.text
    assert proxied.essay_file.read_bytes() == first.content  # the app wrote what it sent
    cache = page_cache(proxied.site.app)
    assert cache is not None
    hits = cache.hits

    second = anonymous(proxied, mark="second")
    assert_public_page(second)
    assert second.content == first.content
    assert second.headers["Last-Modified"] == first.headers["Last-Modified"]
    assert second.headers["ETag"] != first.headers["ETag"]  # nginx's own, from mtime and size
    # nginx asked the app the first time only, and the app's own cache never saw the second.
    assert proxied.upstream("first") == proxied.app_addr
    assert proxied.upstream("second") == "-"
    assert cache.hits == hits


def test_approved_comment_shows_on_the_next_anonymous_request(proxied: Proxied) -> None:
    site = proxied.site
    http, _page = logged_in(site)  # the whole login, through nginx
    anonymous(proxied)
    assert anonymous(proxied, mark="cached").content == proxied.essay_file.read_bytes()
    assert proxied.upstream("cached") == "-"

    text = "Held until the author reads it, then public."
    comment_id = new_comment_id(post_comment(site, http, text))  # POST /comments/ via nginx
    with site.app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment is not None and comment.status is CommentStatus.PENDING
    held = anonymous(proxied)
    assert_public_page(held)
    assert text not in held.text

    with site.app.app_context():
        assert moderate(Action.APPROVE, [comment_id], utcnow()).changed == 1
    assert not proxied.essay_file.exists()  # the approval deleted the stale copy at once
    shown = anonymous(proxied, mark="shown")
    assert_public_page(shown)
    assert f'id="comment-{comment_id}"' in shown.text and text in shown.text
    assert proxied.upstream("shown") == proxied.app_addr
    # The new copy is on disk again, and it is what the next reader gets from nginx.
    again = anonymous(proxied, mark="again")
    assert again.content == shown.content == proxied.essay_file.read_bytes()
    assert proxied.upstream("again") == "-"


def test_logged_in_reader_always_reaches_the_app(proxied: Proxied) -> None:
    http, _page = logged_in(proxied.site)
    assert http.cookies.get("blog_session")  # every request below carries it
    anonymous(proxied)
    static_copy = anonymous(proxied, mark="anonymous").content
    assert static_copy == proxied.essay_file.read_bytes()
    assert proxied.upstream("anonymous") == "-"
    for n in range(3):
        headers = {MARK: f"reader-{n}"}
        page = http.get(proxied.site.url + ESSAY, headers=headers, timeout=10)
        assert page.status_code == 200, page.text[:500]
        assert page.headers["Cache-Control"] == "private, no-store"
        assert LOGGED_IN in page.text
        assert "Please log in using one of these methods" not in page.text
        assert page.content != static_copy
        assert proxied.upstream(f"reader-{n}") == proxied.app_addr
    # The personal page was never written for anonymous readers.
    assert proxied.essay_file.read_bytes() == static_copy
    assert LOGGED_IN.encode() not in static_copy


def test_query_strings_and_posts_go_to_the_app(proxied: Proxied) -> None:
    home = proxied.pages / "index.html"
    anonymous(proxied, "/")
    assert_public_page(anonymous(proxied, "/", mark="home"))
    assert proxied.upstream("home") == "-" and home.is_file()

    found = anonymous(proxied, "/?s=trust", mark="search")
    assert found.status_code == 200, found.text[:500]
    assert "Search results for: <span>trust</span>" in found.text
    assert "Making TRUE Connections" in found.text
    assert "Search results for" not in home.read_text(encoding="utf-8")
    assert proxied.upstream("search") == proxied.app_addr

    # A POST where a file exists: nginx alone would answer its own bare 405 page; the app
    # answers with the blog's error page.
    posted = requests.post(proxied.site.url + "/", headers={MARK: "post"}, timeout=10)
    assert posted.status_code == 405
    assert set(posted.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}
    assert "Method Not Allowed" in posted.text and "<center>nginx" not in posted.text
    assert "Powered by Markdown files and a small Flask app." in posted.text
    assert proxied.upstream("post") == proxied.app_addr
