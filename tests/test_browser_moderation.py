"""In real headless Chromium: a first comment is held, the author approves it, all can see it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from blog.devidp import identity
from tests.support.auth_helpers import ESSAY, serve_site
from tests.support.browser import (
    axe_violations,
    describe_violations,
    in_own_thread,
    launch_chromium,
    local_context,
    screenshot,
)
from tests.support.oauth_site import OAuthSite

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

# A journey in the browser is the same on either database: the HTTP-level tests of each
# feature run on both, so the browser runs once, on SQLite.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

AUTHOR_MODERATES = frozenset({("google", identity("author").subject("google"))})
AWAITING = "Your comment is awaiting moderation."
TEXT = "A first comment from a new reader, held for the author."


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    """The blog and the identity provider; the author moderates and first comments are held."""
    yield from serve_site(make_app, MODERATORS=AUTHOR_MODERATES, MODERATION_HOLD="first")


@contextmanager
def contexts() -> Iterator[Callable[[], BrowserContext]]:
    """A headless system Chromium opening isolated contexts that reach only 127.0.0.1."""
    with launch_chromium() as browser:
        opened: list[BrowserContext] = []

        def open_context() -> BrowserContext:
            context = local_context(browser)
            opened.append(context)
            return context

        try:
            yield open_context
        finally:
            for context in opened:
                context.close()


def log_in_with_google(page: Page, site: OAuthSite, who: str) -> None:
    """From the essay's logged-out form, through the provider's consent page, and back."""
    from playwright.sync_api import expect

    page.goto(site.url + ESSAY)
    page.locator("button.login-google").click()
    page.wait_for_url(re.compile(re.escape(site.idp_url)))
    page.locator(f"#identity-{who}").check()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(re.compile(re.escape(site.url + ESSAY)))
    expect(page.get_by_text("You are commenting using your Google account.")).to_be_visible()


def test_a_held_first_comment_is_approved_by_the_author_and_then_shown_to_everyone(
    site: OAuthSite,
) -> None:
    in_own_thread(lambda: held_then_approved(site))


def held_then_approved(site: OAuthSite) -> None:
    """The scenario: Alice's first comment is held, the author approves it, everyone sees it."""
    with contexts() as open_context:
        held_then_approved_in(site, open_context)


def held_then_approved_in(site: OAuthSite, contexts: Callable[[], BrowserContext]) -> None:
    """The scenario's steps, in browser contexts opened by `contexts`."""
    from playwright.sync_api import expect

    alice = contexts().new_page()
    errors: list[str] = []
    alice.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in_with_google(alice, site, "alice")
    alice.get_by_role("textbox", name="Comment", exact=True).fill(TEXT)
    alice.get_by_role("button", name="Post Comment").click()
    held = alice.locator("li.comment", has_text=TEXT)
    expect(held).to_be_visible()
    expect(held.get_by_text(AWAITING)).to_be_visible()
    screenshot(alice, "moderation-1-held-for-its-author")

    anonymous = contexts().new_page()
    anonymous.goto(site.url + ESSAY)
    expect(anonymous.get_by_role("heading", name="Leave a Reply")).to_be_visible()
    expect(anonymous.get_by_text(TEXT)).to_have_count(0)
    expect(anonymous.get_by_text(AWAITING)).to_have_count(0)

    author = contexts().new_page()
    log_in_with_google(author, site, "author")
    author.goto(site.url + "/admin/comments")
    expect(author.get_by_role("link", name=re.compile(r"^Pending \(1\)"))).to_be_visible()
    row = author.get_by_role("row").filter(has_text=TEXT)
    expect(row).to_contain_text("Alice Verified")
    expect(row).to_contain_text("via Google")
    screenshot(author, "moderation-2-queue")
    found = axe_violations(author)
    assert not found, "axe-core on /admin/comments:\n" + describe_violations(found)
    row.get_by_role("button", name=re.compile(r"^Approve comment \d+$")).click()
    author.wait_for_url(site.url + "/admin/comments?status=pending")
    expect(author.get_by_role("status")).to_have_text("1 comment approved.")
    expect(author.get_by_text("No pending comments.")).to_be_visible()
    screenshot(author, "moderation-3-approved")

    anonymous.reload()
    shown = anonymous.locator("li.comment", has_text=TEXT)
    expect(shown).to_be_visible()
    expect(shown).to_contain_text("Alice Verified")
    expect(anonymous.get_by_text(AWAITING)).to_have_count(0)
    screenshot(anonymous, "moderation-4-shown-to-everyone")

    alice.reload()
    expect(alice.locator("li.comment", has_text=TEXT).get_by_text(AWAITING)).to_have_count(0)
    assert errors == [], f"JavaScript errors on the page: {errors}"
