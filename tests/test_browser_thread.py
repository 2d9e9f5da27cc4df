"""In real headless Chromium: a thread five replies deep stays readable on a 320 px phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from blog.models import CommentStatus
from tests.support.browser import (
    in_own_thread,
    launch_chromium,
    local_context,
    screenshot,
)
from tests.support.live import LiveServer
from tests.support.moderation_helpers import ESSAY, add_comment, add_user

pytestmark = pytest.mark.browser

DEPTH = 5
# The narrowest text column a reply at depth 5 may get on a 320 px screen (280 px of it is the
# page's text column): before the indentation was capped it got 124 px at 390.
MIN_TEXT_PX = 200


def deep_thread(app: Flask) -> list[int]:
    """Two readers answering each other, five comments deep; returns the ids, top first."""
    alice, bob = add_user(app, "Alice Longname-Wellington"), add_user(app, "Bob")
    ids: list[int] = []
    for depth in range(DEPTH):
        writer = (alice, bob)[depth % 2]
        body = f"Reply at depth {depth + 1}: a sentence long enough to wrap over a few lines."
        ids.append(
            add_comment(app, writer, body, ids[-1] if ids else None, status=CommentStatus.APPROVED)
        )
    return ids


def test_a_deep_thread_keeps_a_readable_column_at_320_px(
    essay: Path, app: Flask, live_server: LiveServer
) -> None:
    ids = deep_thread(app)
    in_own_thread(lambda: measure(live_server.url, ids))


def measure(url: str, ids: list[int]) -> None:
    """Widths of the deepest reply's text and of the page, at 320 px; screenshots besides."""
    with launch_chromium() as browser:
        for scheme in ("light", "dark"):
            context = local_context(browser, 320, scheme, height=800)
            page = context.new_page()
            page.goto(url + ESSAY)
            deepest = page.locator(f"#comment-{ids[-1]} > .comment-body .comment-content")
            box = deepest.bounding_box()
            assert box is not None and box["width"] >= MIN_TEXT_PX, box
            overflow = page.evaluate("document.scrollingElement.scrollWidth")
            assert overflow <= 320, f"the page is {overflow} px wide at 320"
            for width in (320, 390, 1280):
                page.set_viewport_size({"width": width, "height": 800})
                screenshot(page, f"thread-depth-{DEPTH}-{width}-{scheme}")
            context.close()
