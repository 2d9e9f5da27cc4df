"""In real headless Chromium: a reader follows the essay from home; pages pass axe-core."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.browser import (
    axe_violations,
    describe_violations,
    launch_chromium,
    local_context,
    screenshot,
)
from tests.support.live import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext

pytestmark = pytest.mark.browser

ESSAY_TITLE = "Making TRUE Connections"
ESSAY_PATH = "/2019/06/10/making-true-connections/"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless system Chromium for the session (skips, or fails in CI, without one)."""
    with launch_chromium() as launched:
        yield launched


@pytest.fixture
def open_context(browser: Browser) -> Iterator[list[BrowserContext]]:
    """Contexts a test opens are closed at its end, whatever happens."""
    contexts: list[BrowserContext] = []
    yield contexts
    for context in contexts:
        context.close()


def new_context(browser: Browser, contexts: list[BrowserContext], scheme: str) -> BrowserContext:
    """A fresh context in a colour scheme that can only reach 127.0.0.1."""
    context = local_context(browser, scheme=scheme, height=800)
    contexts.append(context)
    return context


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_reader_follows_the_essay_from_home(
    essay: Path,
    live_server: LiveServer,
    browser: Browser,
    open_context: list[BrowserContext],
    scheme: str,
) -> None:
    from playwright.sync_api import expect

    page = new_context(browser, open_context, scheme).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # A resource that fails to load (a 404, a blocked script) is logged as a console error.
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text) if msg.type == "error" else None)

    response = page.goto(live_server.url + "/")
    assert response is not None and response.status == 200
    page.get_by_role("link", name=ESSAY_TITLE, exact=True).first.click()
    page.wait_for_url(live_server.url + ESSAY_PATH)

    expect(page.get_by_role("heading", level=1, name=ESSAY_TITLE)).to_be_visible()
    expect(page.get_by_role("heading", name="Leave a Reply")).to_be_visible()
    expect(page).to_have_title(f"{ESSAY_TITLE} \N{EN DASH} True Connections")
    shot = screenshot(page, f"essay-{scheme}")
    assert shot.stat().st_size > 10_000
    assert errors == [], f"JavaScript errors on the page: {errors}"
    assert console == [], f"console errors on the pages: {console}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_home_and_post_have_no_serious_axe_violation(
    essay: Path,
    live_server: LiveServer,
    browser: Browser,
    open_context: list[BrowserContext],
    scheme: str,
) -> None:
    page = new_context(browser, open_context, scheme).new_page()
    report: list[str] = []
    for path in ("/", ESSAY_PATH):
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200
        found = axe_violations(page)
        if found:
            report.append(f"{path} ({scheme}):\n{describe_violations(found)}")
    assert not report, "axe-core found serious or critical violations:\n" + "\n".join(report)
