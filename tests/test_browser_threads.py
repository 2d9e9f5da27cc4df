"""In real headless Chromium, JavaScript on and off: comment on a paragraph and follow its
marker, send a private note that the author finds under Notes, a reply that mails the reader
it answers (a real SMTP server), and paging through a long thread."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlalchemy import insert, select

from blog.clock import utcnow
from blog.database import write_transaction
from blog.devidp import identity
from blog.extensions import db
from blog.mail.sender import send_due
from blog.models import Comment, CommentStatus, Post
from tests.support.auth_helpers import ESSAY, serve_site
from tests.support.browser import (
    in_own_thread,
    launch_chromium,
    local_context,
    screenshot,
)
from tests.support.oauth_site import OAuthSite
from tests.support.smtp_server import SMTPServer, header_url
from tests.test_browser_moderation import log_in_with_google

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Locator, Page

# A journey in the browser is the same on either database: the HTTP-level tests of each
# feature run on both, so the browser runs once, on SQLite.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

AUTHOR_MODERATES = frozenset({("google", identity("author").subject("google"))})
JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask], smtp: SMTPServer) -> Iterator[OAuthSite]:
    """The blog and the identity provider; the author moderates; mail goes to `smtp`."""
    yield from serve_site(
        make_app,
        MODERATORS=AUTHOR_MODERATES,
        MODERATION_HOLD="none",
        AUTHOR_EMAIL="author@example.com",
        COMMENTS_PER_PAGE=3,
        **smtp.config(),
    )


@contextmanager
def contexts(javascript: bool) -> Iterator[Callable[..., BrowserContext]]:
    """A headless system Chromium opening isolated contexts that reach only 127.0.0.1."""
    with launch_chromium() as browser:
        opened: list[BrowserContext] = []

        def open_context(width: int = 1280, dark: bool = False) -> BrowserContext:
            context = local_context(browser, width, "dark" if dark else "light", javascript)
            opened.append(context)
            return context

        try:
            yield open_context
        finally:
            for context in opened:
                context.close()


def shots(page: Page, name: str) -> None:
    """The page at 390 and 1280 px, light and dark, as this reader sees it."""
    for width in (390, 1280):
        for scheme in ("light", "dark"):
            page.set_viewport_size({"width": width, "height": 900})
            page.emulate_media(color_scheme=scheme)
            page.reload()
            screenshot(page, f"threads-{name}-{width}-{scheme}")


def comment_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Comment", exact=True)


@JS
def test_comment_on_a_paragraph_and_follow_its_marker(site: OAuthSite, javascript: bool) -> None:
    in_own_thread(lambda: paragraph_scenario(site, javascript))


def paragraph_scenario(site: OAuthSite, javascript: bool) -> None:
    from playwright.sync_api import expect

    with contexts(javascript) as open_context:
        alice = open_context().new_page()
        log_in_with_google(alice, site, "alice")
        markers = alice.locator(".entry-content p[id^='p-'] > a.paragraph-marker")
        expect(markers.first).to_be_visible()
        second = alice.locator(".entry-content p[id^='p-']").nth(1)
        anchor = second.get_attribute("id")
        assert anchor and re.fullmatch(r"p-[0-9a-f]{10}", anchor)
        alice.evaluate("window.stillHere = true")
        second.locator("a.paragraph-marker").click()
        alice.wait_for_url(re.compile(rf"\?paragraph={anchor}#respond$"))
        # With JavaScript the box opens in place (paragraphs.js); without, the server's page.
        assert alice.evaluate("window.stillHere === true") is javascript
        choice = alice.locator(".paragraph-choice")
        expect(choice).to_contain_text("Commenting on this paragraph")
        quoted = (second.inner_text()).strip()
        expect(choice.locator(".paragraph-quote-text")).to_contain_text(quoted[:40])
        text = f"About this paragraph, with JavaScript {'on' if javascript else 'off'}."
        comment_box(alice).fill(text)
        alice.get_by_role("button", name="Post Comment").click()
        shown = alice.locator("li.comment", has_text=text)
        expect(shown).to_be_visible()
        expect(shown.locator(".paragraph-quote")).to_contain_text(quoted[:40])

        reader = open_context().new_page()
        reader.goto(site.url + ESSAY)
        marker = reader.locator(f"#{anchor} > a.paragraph-marker")
        expect(marker).to_have_attribute("aria-label", re.compile("^1 comment on this paragraph"))
        reader.locator("li.comment", has_text=text).get_by_role(
            "link", name="On this paragraph"
        ).click()
        reader.wait_for_url(re.compile(rf"#{anchor}$"))
        marker.click()
        listed = reader.locator(".paragraph-comments")
        expect(listed).to_contain_text("Alice Verified")
        listed.get_by_role("link", name="Alice Verified").click()
        reader.wait_for_url(re.compile(r"#comment-\d+$"))
        expect(reader.locator("li.comment", has_text=text)).to_be_visible()
        if javascript:
            shots(reader, "paragraph-marker")
            alice.goto(f"{site.url}{ESSAY}?paragraph={anchor}#respond")
            shots(alice, "paragraph-choice")


@JS
def test_a_private_note_reaches_the_notes_list_and_no_public_page(
    site: OAuthSite, javascript: bool
) -> None:
    in_own_thread(lambda: note_scenario(site, javascript))


def note_scenario(site: OAuthSite, javascript: bool) -> None:
    from playwright.sync_api import expect

    secret = f"Just between us ({'js' if javascript else 'no js'}): I was that candidate."
    with contexts(javascript) as open_context:
        alice = open_context().new_page()
        log_in_with_google(alice, site, "alice")
        comment_box(alice).fill(secret)
        alice.get_by_label("Send privately to the author").check()
        alice.get_by_role("button", name="Post Comment").click()
        expect(alice.get_by_role("status")).to_contain_text("went privately to the author")
        expect(alice.locator("li.comment", has_text=secret)).to_have_count(0)
        alice.goto(site.url + "/account/")
        expect(alice.locator(".own-note")).to_contain_text(secret)

        anonymous = open_context().new_page()
        anonymous.goto(site.url + ESSAY)
        expect(anonymous.get_by_text(secret)).to_have_count(0)

        author = open_context().new_page()
        log_in_with_google(author, site, "author")
        author.goto(site.url + "/admin/notes")
        note = author.locator("li.note", has_text=secret)
        expect(note).to_contain_text("Alice Verified")
        expect(note.get_by_role("link", name="Reply by mail")).to_have_attribute(
            "href", re.compile("^mailto:alice%40example.com")
        )
        if javascript:
            shots(author, "admin-notes")
            shots(alice, "account-notes")


@JS
def test_a_reply_mails_the_reader_who_asked(
    site: OAuthSite, smtp: SMTPServer, javascript: bool
) -> None:
    in_own_thread(lambda: reply_scenario(site, smtp, javascript))


def reply_scenario(site: OAuthSite, smtp: SMTPServer, javascript: bool) -> None:
    from playwright.sync_api import expect

    first = "Tell me when someone answers this."
    with contexts(javascript) as open_context:
        alice = open_context().new_page()
        log_in_with_google(alice, site, "alice")
        comment_box(alice).fill(first)
        alice.get_by_label("Notify me of replies to my comments.").check()
        alice.get_by_role("button", name="Post Comment").click()
        expect(alice.locator("li.comment", has_text=first)).to_be_visible()
        expect(alice.get_by_text("You get an email when someone replies")).to_be_visible()

        bob = open_context().new_page()
        log_in_with_google(bob, site, "bob")
        bob.locator("li.comment", has_text=first).get_by_role(
            "link", name=re.compile("^Reply")
        ).click()
        comment_box(bob).fill("Here is an answer, Alice.")
        bob.get_by_role("button", name="Post Comment").click()
        expect(
            bob.locator("li.comment.depth-2", has_text="Here is an answer, Alice.")
        ).to_be_visible()
        if javascript:
            alice.goto(site.url + "/account/subscriptions/")
            shots(alice, "subscriptions")
    send_due(site.app)
    [mail] = smtp.to("alice@example.com")
    assert mail.subject.endswith('replied to you on "Making TRUE Connections"')
    assert mail.raw_header("List-Unsubscribe-Post") == [
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click"
    ]
    assert header_url(mail).startswith(site.url + "/mail/unsubscribe/")
    assert b"Here is an answer, Alice." in mail.raw
    assert "?comment=" in mail.body


def seed(app: Flask, count: int) -> None:
    with app.app_context():
        post_id = db.session.scalar(select(Post.id).where(Post.slug == "making-true-connections"))
        start = utcnow() - timedelta(days=3)
        rows = [
            {
                "post_id": post_id,
                "author_name": f"Reader {n}",
                "body": f"Long thread comment {n}.",
                "body_html": f"<p>Long thread comment {n}.</p>",
                "body_hash": f"long-{n}",
                "status": CommentStatus.APPROVED,
                "created_at": start + timedelta(minutes=n),
                "depth": 0,
                "parent_key": 0,
            }
            for n in range(count)
        ]
        with write_transaction():
            db.session.execute(insert(Comment), rows)


@JS
def test_page_through_a_long_thread(site: OAuthSite, javascript: bool) -> None:
    seed(site.app, 8)
    in_own_thread(lambda: paging_scenario(site, javascript))


def paging_scenario(site: OAuthSite, javascript: bool) -> None:
    from playwright.sync_api import expect

    with contexts(javascript) as open_context:
        page = open_context().new_page()
        page.goto(site.url + ESSAY)
        pager = page.get_by_role("navigation", name="Comment pages")
        expect(pager).to_contain_text("Page 1 of 3")
        expect(page.locator("li.comment").first).to_contain_text("Long thread comment 0.")
        pager.get_by_role("link", name="Next page").click()
        page.wait_for_url(re.compile(r"/comment-page-2/#comments$"))
        expect(page.locator("li.comment").first).to_contain_text("Long thread comment 3.")
        page.get_by_role("navigation", name="Comment pages").get_by_role("link", name="3").click()
        page.wait_for_url(re.compile(r"/comment-page-3/#comments$"))
        expect(page.locator("li.comment")).to_have_count(2)
        page.get_by_role("link", name="Newest first").click()
        expect(page.locator("li.comment").first).to_contain_text("Long thread comment 7.")
        expect(page.get_by_role("navigation", name="Comment pages")).to_contain_text("Page 1 of 3")
        if javascript:
            shots(page, "pager")
