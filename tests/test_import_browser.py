"""In real headless Chromium: an imported post with its threaded comments and its image, reached
by the old site's `/?p=ID` link; at a phone's width and a desktop's, light and dark."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from tests.support.auth_helpers import SESSION_COOKIE, logged_in, serve_site, session_cookie
from tests.support.browser import (
    axe_violations,
    describe_violations,
    in_own_thread,
    launch_chromium,
    local_context,
    screenshot,
)
from tests.support.live import LiveServer
from tests.support.oauth_site import OAuthSite

# A journey in the browser is the same on either database: the HTTP-level tests of each
# feature run on both, so the browser runs once, on SQLite.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

FIXTURES = Path(__file__).parent / "fixtures" / "wordpress"
PERMALINK = "/2019/06/10/making-true-connections/"


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_an_old_link_opens_the_imported_post_with_its_conversation(
    live_server: LiveServer,
    runner: FlaskCliRunner,
    scheme: str,
    width: int,
) -> None:
    imported = runner.invoke(
        args=[
            "blog",
            "import",
            "wordpress",
            str(FIXTURES / "blog.wxr"),
            "--uploads",
            str(FIXTURES / "uploads"),
        ]
    )
    assert imported.exit_code == 0, imported.output

    def scenario() -> None:
        with launch_chromium() as browser:
            context = local_context(browser, width, scheme)
            page = context.new_page()
            console: list[str] = []
            page.on(
                "console", lambda msg: console.append(msg.text) if msg.type == "error" else None
            )

            response = page.goto(live_server.url + "/?p=6")

            assert response is not None and response.status == 200
            assert page.url == live_server.url + PERMALINK
            assert response.request.redirected_from is not None
            assert response.request.redirected_from.url == live_server.url + "/?p=6"
            heading = page.get_by_role("heading", level=1, name="Making TRUE Connections")
            assert heading.is_visible()
            image = page.locator('img[alt="Two people shaking hands"]').first
            image.scroll_into_view_if_needed()
            assert image.evaluate("img => img.complete && img.naturalWidth") == 300
            # The thread as it was: Ada's reply under Grace, Grace's answer under Ada's reply.
            top = page.locator("ol.comment-list > li.comment")
            assert top.count() == 1
            first = top.first
            assert first.locator("> article .comment-content").inner_text() == (
                "Lovely piece.\n\nI agree with this."
            )
            second = first.locator("> ol.children > li.comment")
            assert second.locator("> article .comment-content").inner_text() == "Thank you, Grace!"
            third = second.locator("> ol.children > li.comment")
            assert (
                third.locator("> article .comment-content").inner_text()
                == "Any time. Résumé tips next?"
            )
            grace = first.locator("> article .fn a")
            assert grace.get_attribute("href") == "https://grace.example.com/"
            assert grace.get_attribute("rel") == "nofollow ugc noopener"
            assert page.locator("text=Waiting for a moderator.").count() == 0
            page.locator("#comments").scroll_into_view_if_needed()
            shot = screenshot(page, f"imported-post-{width}-{scheme}")
            assert shot.stat().st_size > 10_000
            found = axe_violations(page)
            assert not found, describe_violations(found)
            assert console == [], f"console errors: {console}"

    in_own_thread(scenario)


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    """The blog and the local identity provider over real HTTP."""
    yield from serve_site(make_app)


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_account_page_lists_claimed_comments(site: OAuthSite, scheme: str, width: int) -> None:
    quirks = FIXTURES / "quirks.wxr"
    imported = site.app.test_cli_runner().invoke(args=["blog", "import", "wordpress", str(quirks)])
    assert imported.exit_code == 0, imported.output
    http, _page = logged_in(site, "google", "alice")

    def scenario() -> None:
        with launch_chromium() as browser:
            context = local_context(browser, width, scheme)
            context.add_cookies(
                [{"name": SESSION_COOKIE, "value": session_cookie(http) or "", "url": site.url}]
            )
            page = context.new_page()

            response = page.goto(site.url + "/account/")

            assert response is not None and response.status == 200
            listed = page.locator("ul.imported-comments li")
            assert listed.count() == 1
            assert listed.first.inner_text().startswith("Old times & new, March 4, 2010")
            shot = screenshot(page, f"account-claimed-{width}-{scheme}")
            assert shot.stat().st_size > 10_000
            found = axe_violations(page)
            assert not found, describe_violations(found)

    in_own_thread(scenario)
