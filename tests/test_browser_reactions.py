"""In real headless Chromium, with JavaScript on and off: like and unlike the post and a
comment, report a comment, feature one; what the next anonymous reader sees follows."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from tests.support.auth_helpers import serve_site
from tests.support.browser import (
    axe_violations,
    describe_violations,
    in_own_thread,
    launch_chromium,
    local_context,
    screenshot,
)
from tests.support.live import LiveServer
from tests.support.moderation_helpers import (
    ESSAY,
    MODERATORS,
    add_comment,
    add_moderator,
    add_user,
    log_in,
)
from tests.support.oauth_site import OAuthSite

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

# A journey in the browser is the same on either database: the HTTP-level tests of each
# feature run on both, so the browser runs once, on SQLite.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

BODY = "Hiring is a conversation, not a funnel."
DAY = 24 * 3600
OpenContext = Callable[..., "BrowserContext"]


@pytest.fixture
def app(essay: Path, make_app: Callable[..., Flask]) -> Flask:
    """The essay behind the page cache, with one moderator configured."""
    return make_app(MODERATORS=MODERATORS, PAGE_CACHE=True, PAGE_CACHE_SECONDS=30 * DAY)


@contextmanager
def contexts(server: LiveServer, app: Flask) -> Iterator[OpenContext]:
    """Open isolated contexts reaching only 127.0.0.1, optionally logged in as a user."""
    with launch_chromium() as browser:
        opened: list[BrowserContext] = []

        def open_context(
            user_id: int | None = None, js: bool = True, width: int = 1280, scheme: str = "light"
        ) -> BrowserContext:
            context = local_context(browser, width, scheme, js)
            opened.append(context)
            if user_id is not None:
                client = app.test_client()
                log_in(client, user_id)
                cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
                assert cookie is not None
                jar = {"name": cookie.key, "value": cookie.value, "url": server.url}
                context.add_cookies([jar])  # type: ignore[list-item]
            return context

        try:
            yield open_context
        finally:
            for context in opened:
                context.close()


def watch_errors(page: Page) -> list[str]:
    """JavaScript errors and failed loads on the page, collected as they happen."""
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


@pytest.fixture
def server(app: Flask) -> Iterator[LiveServer]:
    """The app over real HTTP."""
    live = LiveServer(app).start()
    app.config["SITE_URL"] = live.url
    yield live
    live.stop()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_like_and_unlike_the_post_and_a_comment(app: Flask, server: LiveServer, js: bool) -> None:
    comment = add_comment(app, add_user(app, "Writer"), BODY)
    alice = add_user(app, "Alice")

    def scenario() -> None:
        from playwright.sync_api import expect

        with contexts(server, app) as open_context:
            page = open_context(alice, js=js).new_page()
            errors = watch_errors(page)
            page.goto(server.url + ESSAY)
            post_like = page.locator("#likes .like-button")
            comment_like = page.locator(f"#comment-{comment} > article .like-button")
            expect(post_like).to_have_text("Like")

            post_like.click()
            expect(post_like).to_have_text("Liked")
            expect(post_like).to_have_attribute("aria-pressed", "true")
            expect(page.locator("#likes .like-count")).to_have_text("1 like")
            expect(page.get_by_text("You liked this.")).to_be_visible()
            comment_like.click()
            expect(comment_like).to_have_text("Liked")
            expect(page.locator(f"#comment-{comment} > article .like-count")).to_have_text("1 like")
            if js:
                assert page.url == server.url + ESSAY  # in place: no navigation

            post_like.click()
            expect(post_like).to_have_text("Like")
            expect(page.get_by_text("You liked this.")).to_be_hidden()
            comment_like.click()
            expect(comment_like).to_have_text("Like")
            expect(page.locator(f"#comment-{comment} > article .like-count")).to_have_text("")
            post_like.click()
            comment_like.click()
            expect(comment_like).to_have_text("Liked")

            stranger = open_context(js=js).new_page()
            stranger.goto(server.url + ESSAY)
            expect(stranger.locator("#likes .like-count")).to_have_text("1 like")
            their_count = stranger.locator(f"#comment-{comment} > article .like-count")
            expect(their_count).to_have_text("1 like")
            expect(stranger.get_by_text("You liked this.")).to_have_count(0)
            stranger.locator("#likes .like-button").click()
            expect(stranger.locator("#respond")).to_be_in_viewport()
            assert stranger.url.endswith("#respond")
            assert errors == [], errors

    in_own_thread(scenario, timeout=240)


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_report_and_feature_a_comment(app: Flask, server: LiveServer, js: bool) -> None:
    comment = add_comment(app, add_user(app, "Writer"), BODY)
    alice = add_user(app, "Alice")
    author = add_moderator(app)

    def scenario() -> None:
        from playwright.sync_api import expect

        with contexts(server, app) as open_context:
            page = open_context(alice, js=js).new_page()
            errors = watch_errors(page)
            page.goto(server.url + ESSAY)
            page.locator(f"#comment-{comment} > article .comment-report-link").click()
            expect(page.get_by_role("heading", name="Report a comment")).to_be_visible()
            page.get_by_label("Off topic").check()
            page.get_by_label("Anything the moderators should know (optional)").fill("Not hiring.")
            page.get_by_role("button", name="Send report").click()
            expect(page.get_by_text("Thank you for your report")).to_be_visible()

            admin = open_context(author, js=js).new_page()
            admin.goto(server.url + "/admin/")
            admin_nav = admin.get_by_role("navigation", name="Admin")
            admin_nav.get_by_role("link", name="Reports").click()
            expect(admin.locator(f"#reported-{comment}")).to_contain_text("Off topic")
            admin.goto(server.url + ESSAY)
            admin.locator(f"#comment-{comment} > article .feature-button").click()
            expect(admin.locator(".featured-comments")).to_contain_text(BODY)

            stranger = open_context(js=js).new_page()
            stranger.goto(server.url + ESSAY)
            featured = stranger.locator(".featured-comments")
            expect(featured.locator(".featured-badge")).to_have_text("Featured")
            featured.locator(f'a[href="#comment-{comment}"]').click()
            assert stranger.url.endswith(f"#comment-{comment}")
            assert errors == [], errors

    in_own_thread(scenario, timeout=240)


def test_screens_in_both_schemes_and_widths_pass_axe(app: Flask, server: LiveServer) -> None:
    """Screenshots for a person to look at; axe-core finds nothing serious on them."""
    writer = add_user(app, "Writer")
    comment = add_comment(app, writer, BODY)
    add_comment(app, writer, "A reply that nobody likes yet.", parent_id=comment)
    alice = add_user(app, "Alice")
    author = add_moderator(app)

    def scenario() -> None:
        with contexts(server, app) as open_context:
            setup = open_context(alice).new_page()
            setup.goto(server.url + ESSAY)
            setup.locator("#likes .like-button").click()
            setup.locator(f"#comment-{comment} > article .like-button").click()
            setup.goto(server.url + f"/comments/{comment}/report")
            setup.get_by_label("Something else").check()
            setup.get_by_role("button", name="Send report").click()
            admin = open_context(author).new_page()
            admin.goto(server.url + ESSAY)
            admin.locator(f"#comment-{comment} > article .feature-button").click()
            report: list[str] = []
            for scheme in ("light", "dark"):
                for width in (390, 1280):
                    for who, user in (("anonymous", None), ("alice", alice)):
                        page = open_context(user, width=width, scheme=scheme).new_page()
                        page.goto(server.url + ESSAY + "#likes")
                        screenshot(page, f"reactions-{who}-{width}-{scheme}")
                        found = axe_violations(page)
                        if found:
                            report.append(f"{who} {width} {scheme}:\n{describe_violations(found)}")
                    page = open_context(alice, width=width, scheme=scheme).new_page()
                    page.goto(server.url + f"/comments/{comment}/report")
                    screenshot(page, f"reactions-report-{width}-{scheme}")
                    page = open_context(author, width=width, scheme=scheme).new_page()
                    admin_pages = (("admin-reports", "/admin/reports"), ("dashboard", "/admin/"))
                    for name, path in admin_pages:
                        page.goto(server.url + path)
                        screenshot(page, f"reactions-{name}-{width}-{scheme}")
                        found = axe_violations(page)
                        if found:
                            report.append(f"{path} {width} {scheme}:\n{describe_violations(found)}")
            assert not report, "axe-core found serious violations:\n" + "\n".join(report)

    in_own_thread(scenario, timeout=240)


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    """The blog behind the page cache, and the local identity provider."""
    yield from serve_site(make_app, PAGE_CACHE=True, PAGE_CACHE_SECONDS=30 * DAY)


def test_a_stranger_logs_in_from_the_like_box_and_likes(site: OAuthSite) -> None:
    """The Like link of a logged-out reader leads to the comment form's login buttons."""

    def scenario() -> None:
        from playwright.sync_api import expect

        with launch_chromium() as browser:
            context = local_context(browser)
            try:
                page = context.new_page()
                errors = watch_errors(page)
                page.goto(site.url + ESSAY)
                page.locator("#likes a.like-button").click()
                login = page.locator("button.login-google")
                expect(login).to_be_in_viewport()
                login.click()
                page.wait_for_url(re.compile(re.escape(site.idp_url)))
                page.locator("#identity-alice").check()
                page.get_by_role("button", name="Allow").click()
                page.wait_for_url(re.compile(re.escape(site.url + ESSAY)))
                post_like = page.locator("#likes button.like-button")
                post_like.click()
                expect(post_like).to_have_text("Liked")
                expect(page.locator("#likes .like-count")).to_have_text("1 like")
                assert errors == [], errors
            finally:
                context.close()

    in_own_thread(scenario, timeout=240)
