"""The look, in real headless Chromium: every page at 320, 390 and 1280 px, light and dark.

Full-page screenshots land in test-artifacts/look-*.png (CI keeps the folder); each page must
pass axe with no violation at all, fit its width without sideways scrolling and use the theme's
fonts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from PIL import Image

from blog.models import CommentStatus
from tests.support.auth_helpers import serve_site
from tests.support.browser import (
    ARTIFACTS,
    axe_violations,
    describe_violations,
    in_own_thread,
    launch_chromium,
    local_context,
    screenshot,
)
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
    from playwright.sync_api import Browser, Page

# The look does not depend on the database: PostgreSQL would only double a minute of screenshots.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

WIDTHS = (320, 390, 1280)
SCHEMES = ("light", "dark")
EVERY_IMPACT = frozenset({"minor", "moderate", "serious", "critical"})
SESSION_COOKIE = "blog_session"
WHO = {"reader": "Alice Reader", "moderator": "The Author"}


@pytest.fixture
def site(
    essay: Path, write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> Iterator[tuple[OAuthSite, dict[str, str]]]:
    """The essay with a thread five deep and a held comment, and a newer post with a featured
    image, served with the identity provider (so the login buttons show); cookies by viewer."""
    cover = essay.parent / "images" / "cover.jpg"
    gradient = Image.linear_gradient("L").resize((1600, 900))
    Image.merge("RGB", (gradient, gradient.rotate(90), Image.new("L", (1600, 900), 150))).save(
        cover, format="JPEG"
    )
    write_post(
        "hiring-in-the-open",
        title="'Hiring in the open: what candidates wish recruiters told them'",
        date="2019-07-01 09:00",
        image="images/cover.jpg",
        categories=["Recruiting"],
        tags=["candidates"],
        body="Candidates ask the same five questions. " * 12,
    )
    for served in serve_site(make_app, MODERATORS=MODERATORS, MODERATION_HOLD="none"):
        app = served.app
        alice = add_user(app, WHO["reader"])
        bob = add_user(app, "Bob Builder")
        author = add_moderator(app, WHO["moderator"])
        parent = None
        for depth in range(5):
            writer = author if depth % 2 else (alice if depth % 4 == 0 else bob)
            parent = add_comment(
                app,
                writer,
                f"Reply at depth {depth + 1}: trust grows when both sides take the time to "
                "listen, and a long-winded sentence tests how the column copes at 320 px.",
                parent_id=parent,
                moderator=writer == author,
            )
        add_comment(app, bob, "A second comment, with a [link](https://example.com/a/long/path).")
        add_comment(app, bob, "Held for the author to look at.", status=CommentStatus.PENDING)
        cookies: dict[str, str] = {}
        for role, user_id in (("reader", alice), ("moderator", author)):
            client = app.test_client()
            log_in(client, user_id)
            cookie = client.get_cookie(SESSION_COOKIE)
            assert cookie is not None
            cookies[role] = cookie.value
        yield served, cookies


# (name, path, who is looking); who is "" for an anonymous reader.
PAGES = (
    ("home", "/", ""),
    ("post", ESSAY, ""),
    ("post-reader", ESSAY, "reader"),
    ("post-moderator", ESSAY, "moderator"),
    ("search", "/?s=trust", ""),
    ("not-found", "/no/such/page/", ""),
    ("about", "/about/", ""),
    ("author", "/author/the-author/", ""),
    ("account", "/account/", "reader"),
    ("moderation-queue", "/admin/comments?status=pending", "moderator"),
)


# One test per width and scheme: six shorter tests spread over the workers.
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_page_at_phone_and_desktop_widths(
    site: tuple[OAuthSite, dict[str, str]], scheme: str, width: int
) -> None:
    server, cookies = site
    problems: list[str] = []

    def scenario() -> None:
        with launch_chromium() as browser:
            problems.extend(shoot_all(browser, server, cookies, scheme, width))

    in_own_thread(scenario, timeout=600)
    assert not problems, "\n".join(problems)


def shoot_all(
    browser: Browser, server: OAuthSite, cookies: dict[str, str], scheme: str, width: int
) -> list[str]:
    """Every page in one colour scheme and width: screenshot, axe, fit and fonts."""
    problems: list[str] = []
    host = server.url.split("://", 1)[1].split(":", 1)[0]
    for name, path, who in PAGES:
        context = local_context(browser, width, scheme)
        try:
            if who:
                context.add_cookies(
                    [{"name": SESSION_COOKIE, "value": cookies[who], "domain": host, "path": "/"}]
                )
            page = context.new_page()
            response = page.goto(server.url + path)
            assert response is not None
            expected = 404 if name == "not-found" else 200
            label = f"{name} {width}px {scheme}"
            if response.status != expected:
                problems.append(f"{label}: status {response.status}")
                continue
            # A full-page screenshot does not scroll: lazy images below the fold would be blank.
            page.evaluate(
                "document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')"
            )
            # Every image settled, loaded or failed (page_problems names a failed one): sooner
            # than waiting for half a second without network traffic. (wait_for_function would
            # compile its text in the page, which the blog's CSP forbids.)
            page.evaluate(
                "Promise.all([...document.images].filter(i => !i.complete).map(i =>"
                " new Promise(done => { i.onload = i.onerror = done; })))"
            )
            screenshot(page, f"look-{name}-{width}-{scheme}")
            if name == "home" and not page.locator(".featured-image img").count():
                problems.append(f"{label}: no featured image in the listing")
            if name == "post":
                page.locator("#comments").screenshot(
                    path=str(ARTIFACTS / f"look-thread-{width}-{scheme}.png")
                )
            problems.extend(f"{label}: {p}" for p in page_problems(page, width))
            if name == "post" and width == WIDTHS[-1]:
                problems.extend(f"{label} printed: {p}" for p in printed_problems(page, scheme))
        finally:
            context.close()
    return problems


def page_problems(page: Page, width: int) -> list[str]:
    """What is wrong with a rendered page: axe violations, sideways scrolling, fonts."""
    problems: list[str] = []
    violations = axe_violations(page, EVERY_IMPACT)
    if violations:
        problems.append("axe:\n" + describe_violations(violations))
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        problems.append(f"scrolls sideways: {scroll_width} px wide")
    monospace = page.evaluate(
        "[...document.querySelectorAll('textarea, input, button, select')]"
        ".filter(e => /mono/i.test(getComputedStyle(e).fontFamily)).map(e => e.name || e.id)"
    )
    if monospace:
        problems.append(f"controls in a monospace font: {monospace}")
    broken = page.evaluate(
        "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    if broken:
        problems.append(f"images that did not load: {broken}")
    return problems


def printed_problems(page: Page, scheme: str) -> list[str]:
    """The essay as printed (in either scheme): black on white, the comments kept, no forms."""
    page.emulate_media(media="print")
    screenshot(page, f"look-post-print-{scheme}")
    problems: list[str] = []
    colours = page.evaluate(
        "[getComputedStyle(document.body).backgroundColor,"
        " getComputedStyle(document.querySelector('.entry-content p')).color]"
    )
    if colours != ["rgb(255, 255, 255)", "rgb(0, 0, 0)"]:
        problems.append(f"not black on white: {colours}")
    for selector, shown in ((".comment-list", True), ("#respond", False), (".site-footer", False)):
        if page.locator(selector).first.is_visible() != shown:
            problems.append(f"{selector} {'hidden' if shown else 'shown'}")
    return problems
