"""In real headless Chromium, with JavaScript on and off: the reader's and the author's journeys.

A reader previews a draft, logs in from the comment box (the draft survives), posts a comment
that is held; the author logs in from the admin area's login page, sees the count in the
header, approves the comment where it stands on the post page; the reader replies (in place
with JavaScript), edits, deletes after a question (a dialog, or a page without JavaScript),
and undoes the deletion. Screenshots at 390 and 1280 px, light and dark, go to test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlalchemy import select

from blog.devidp import identity
from blog.extensions import db
from blog.models import Comment, CommentStatus
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
    from playwright.sync_api import Browser, Page

# A journey in the browser is the same on either database: the HTTP-level tests of each
# feature run on both, so the browser runs once, on SQLite.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

AUTHOR_MODERATES = frozenset({("google", identity("author").subject("google"))})
DRAFT = "A **bold** first thought, previewed before logging in."
REPLY = "Answering myself, in place."
EDITED = "Answering myself, edited."
WIDTHS = (390, 1280)
SCHEMES = ("light", "dark")


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    """The blog and the identity provider; the author moderates; first comments are held."""
    yield from serve_site(make_app, MODERATORS=AUTHOR_MODERATES, MODERATION_HOLD="first")


def shots(page: Page, name: str) -> None:
    """Full-page screenshots at each width and colour scheme; back to 1280 light after."""
    for scheme in SCHEMES:
        page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            screenshot(page, f"journey-{name}-{width}-{scheme}")
    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 1280, "height": 900})


def no_serious_axe_violation(page: Page, where: str, mode: str) -> None:
    """axe-core finds nothing serious or critical on the page as it is now.

    Only where scripts run: axe is a script, and a context without JavaScript waits forever.
    """
    if mode != "js":
        return
    found = axe_violations(page)
    assert not found, f"axe-core on {where}:\n" + describe_violations(found)


def consent(page: Page, site: OAuthSite, who: str) -> None:
    """On the identity provider's page: pick an identity and allow."""
    page.wait_for_url(re.compile(re.escape(site.idp_url)))
    page.locator(f"#identity-{who}").check()
    page.get_by_role("button", name="Allow").click()


def comment_row(site: OAuthSite, text: str) -> Comment:
    """The one comment with this text."""
    with site.app.app_context():
        found = db.session.scalars(select(Comment).where(Comment.body == text)).one()
        db.session.expunge(found)
        return found


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_the_journeys_work_with_and_without_javascript(site: OAuthSite, javascript: bool) -> None:
    in_own_thread(lambda: journeys(site, javascript), timeout=300)


def journeys(site: OAuthSite, javascript: bool) -> None:
    """Both journeys in one browser: the reader's and the author's contexts side by side."""
    with launch_chromium() as browser:
        reader, author = (open_page(browser, javascript) for _ in range(2))
        mode = "js" if javascript else "nojs"
        held = reader_posts_a_held_comment(reader, site, mode)
        author_approves_in_place(author, site, mode, held)
        reader_replies_edits_deletes_and_undoes(reader, site, mode, javascript, held)


def open_page(browser: Browser, javascript: bool) -> Page:
    """A page in a fresh context that reaches only 127.0.0.1, failing on any script error."""
    page = local_context(browser, js=javascript).new_page()
    page.on("pageerror", lambda exc: pytest.fail(f"JavaScript error: {exc}"))
    return page


def reader_posts_a_held_comment(page: Page, site: OAuthSite, mode: str) -> int:
    """Preview while logged out, log in from the box, post; returns the held comment's id."""
    from playwright.sync_api import expect

    page.goto(site.url + ESSAY)
    box = page.get_by_role("textbox", name="Comment", exact=True)
    box.fill(DRAFT)
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#comment-preview")
    expect(preview.locator("strong")).to_have_text("bold")
    expect(box).to_have_value(DRAFT)
    # In place with JavaScript; without it, the server's page of the preview.
    in_place = page.url == site.url + ESSAY
    assert in_place == (mode == "js"), page.url
    expect(page.get_by_text("Markdown works")).to_be_visible()
    shots(page, f"{mode}-1-logged-out-preview")
    no_serious_axe_violation(page, "the logged-out preview", mode)

    page.get_by_role("button", name="Sign in with Google").click()
    consent(page, site, "alice")
    page.wait_for_url(re.compile(re.escape(site.url + ESSAY)))
    identity_block = page.locator(".comment-form-identity")
    expect(identity_block).to_contain_text("Alice Verified")
    expect(identity_block).to_contain_text("You are commenting using your Google account.")
    expect(identity_block.get_by_role("link", name="Change")).to_be_visible()
    expect(page.locator(".account-menu")).to_contain_text("Alice Verified")
    expect(box).to_have_value(DRAFT)  # the draft survived the login round trip
    shots(page, f"{mode}-2-logged-in-box")
    identity_block.get_by_role("link", name="Change").click()
    expect(page.get_by_role("heading", name="Change account")).to_be_visible()
    shots(page, f"{mode}-2b-change-account")
    no_serious_axe_violation(page, "the Change page", mode)
    page.get_by_role("link", name="Keep this account").click()
    page.wait_for_url(re.compile(re.escape(site.url + ESSAY)))

    page.get_by_role("button", name="Post Comment").click()
    mine = page.locator("li.comment", has_text="first thought")
    expect(mine.get_by_text("Your comment is awaiting moderation.")).to_be_visible()
    expect(mine.locator(".comment-reply-link")).to_have_count(0)  # no Reply on one's held comment
    held = comment_row(site, DRAFT)
    assert held.status is CommentStatus.PENDING
    return held.id


def author_approves_in_place(page: Page, site: OAuthSite, mode: str, held: int) -> None:
    """From /admin/ (a login page for now) to the header's count, to Approve on the post."""
    from playwright.sync_api import expect

    response = page.goto(site.url + "/admin/comments")
    assert response is not None and response.status == 401
    expect(page.get_by_role("heading", name="Log in to continue")).to_be_visible()
    shots(page, f"{mode}-3-admin-login")
    no_serious_axe_violation(page, "the admin area's login page", mode)
    page.get_by_role("button", name="Sign in with Google").click()
    consent(page, site, "author")
    page.wait_for_url(site.url + "/admin/comments")  # back where the author asked to go

    page.goto(site.url + ESSAY)
    header = page.locator(".site-header")
    link = header.get_by_role("link", name=re.compile(r"^Moderation"))
    expect(link).to_contain_text("1")
    marked = page.locator(f"#comment-{held}")
    expect(marked).to_have_class(re.compile(r"\bunapproved\b"))
    expect(marked).to_contain_text("Pending")
    page.locator(".account-details summary").click()
    expect(page.get_by_role("link", name="Your account")).to_be_visible()
    shots(page, f"{mode}-4-moderator-post")
    no_serious_axe_violation(page, "the moderator's post page", mode)
    page.locator(".account-details summary").click()

    marked.get_by_role("button", name="Approve comment by Alice Verified").click()
    page.wait_for_url(re.compile(re.escape(f"{site.url}{ESSAY}#comment-{held}")))
    expect(page.locator(f"#comment-{held}")).not_to_have_class(re.compile(r"\bunapproved\b"))
    expect(page.get_by_role("status").filter(has_text="1 comment approved.")).to_be_visible()
    assert comment_row(site, DRAFT).status is CommentStatus.APPROVED
    # Reached from the header: the link goes to the queue, now empty.
    header.get_by_role("link", name=re.compile(r"^Moderation")).click()
    page.wait_for_url(site.url + "/admin/comments")
    expect(page.get_by_text("No pending comments.")).to_be_visible()


def reader_replies_edits_deletes_and_undoes(
    page: Page, site: OAuthSite, mode: str, javascript: bool, parent: int
) -> None:
    """Reply (in place with JavaScript), edit, delete with a question first, then undo."""
    from playwright.sync_api import expect

    page.goto(site.url + ESSAY)
    page.locator(f"#comment-{parent} .comment-reply-link").click()
    replying = page.locator("#replying-to")
    expect(replying).to_have_text(re.compile(r"Replying to Alice Verified · Cancel"))
    if javascript:
        # Moved under the comment it answers, without a page load.
        expect(page.locator(f"#comment-{parent} #respond")).to_have_count(1)
        assert "replytocom" not in page.url
    else:
        assert f"replytocom={parent}" in page.url
    shots(page, f"{mode}-5-replying")
    no_serious_axe_violation(page, "the form moved under a comment", mode)
    page.get_by_role("textbox", name="Comment", exact=True).fill(REPLY)
    page.get_by_role("button", name="Post Comment").click()
    reply = comment_row(site, REPLY)
    assert reply.parent_id == parent and reply.status is CommentStatus.APPROVED
    shown = page.locator(f"#comment-{parent} .children #comment-{reply.id}")
    expect(shown).to_contain_text(REPLY)

    shown.get_by_role("link", name="Edit").click()
    page.get_by_role("textbox", name="Comment").fill(EDITED)
    page.get_by_role("button", name="Save").click()
    shown = page.locator(f"#comment-{reply.id}")
    expect(shown).to_contain_text(EDITED)
    expect(shown).to_contain_text("(edited)")

    shown.get_by_role("button", name="Delete").click()
    if javascript:
        dialog = page.get_by_role("dialog", name="Delete your comment?")
        expect(dialog).to_be_visible()
        shots(page, f"{mode}-6-delete-question")
        no_serious_axe_violation(page, "the delete dialog", mode)
        dialog.get_by_role("button", name="Delete comment").click()
    else:
        expect(page.get_by_role("heading", name="Delete your comment?")).to_be_visible()
        shots(page, f"{mode}-6-delete-question")
        page.get_by_role("button", name="Delete comment").click()
    page.wait_for_url(re.compile(re.escape(f"{site.url}{ESSAY}#comments")))
    expect(page.locator(f"#comment-{reply.id}")).to_have_count(0)
    undo = page.locator("form.comment-undo")
    expect(undo).to_contain_text("Your comment was deleted.")
    shots(page, f"{mode}-7-undo")
    no_serious_axe_violation(page, "the undo notice", mode)
    assert comment_row(site, EDITED).status is CommentStatus.DELETED
    undo.get_by_role("button", name="Undo").click()
    expect(page.locator(f"#comment-{reply.id}")).to_contain_text(EDITED)
    expect(page.get_by_role("status").filter(has_text="Your comment is back.")).to_be_visible()
    assert comment_row(site, EDITED).status is CommentStatus.APPROVED
