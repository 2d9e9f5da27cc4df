"""Browser-test helpers: launch Debian's Chromium through Playwright, run axe-core on a page."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import pytest

from blog.config import PROJECT_ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Route

# Never let Playwright fetch a browser: it drives the system Chromium only.
CHROMIUM_FALLBACK = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


def services_required() -> bool:
    """True when a missing service must fail the test (CI sets BLOG_TEST_REQUIRE_SERVICES=1)."""
    return os.environ.get("BLOG_TEST_REQUIRE_SERVICES", "") == "1"


def skip_or_fail(reason: str) -> NoReturn:
    """Skip with a reason, or fail with it when services are required."""
    if services_required():
        pytest.fail(f"{reason} (BLOG_TEST_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def chromium_executable() -> str | None:
    """The system Chromium: `chromium` on PATH, else /usr/bin/chromium if it exists."""
    found = shutil.which("chromium")
    if found:
        return found
    return CHROMIUM_FALLBACK if os.access(CHROMIUM_FALLBACK, os.X_OK) else None


@contextmanager
def launch_chromium() -> Iterator[Browser]:
    """Start Playwright and a headless system Chromium; skip (or fail in CI) when unavailable."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        skip_or_fail(f"playwright is not importable ({exc}); `pip install -e '.[test]'`")
    executable = chromium_executable()
    if executable is None:
        skip_or_fail("no chromium executable found (install Debian's `chromium` package)")
    # Belt and braces: Playwright must never try to download a browser of its own.
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    manager = sync_playwright().start()
    try:
        try:
            browser = manager.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_ARGS, timeout=30_000
            )
        except PlaywrightError as exc:
            skip_or_fail(f"chromium at {executable} did not start: {exc.message.splitlines()[0]}")
        try:
            yield browser
        finally:
            browser.close()
    finally:
        manager.stop()


def local_only(route: Route) -> None:
    """Route handler: let requests to 127.0.0.1 through, abort anything bound off the machine."""
    host = urlsplit(route.request.url).hostname or ""
    if host in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:")):
        route.continue_()
    else:
        route.abort("blockedbyclient")


def local_context(
    browser: Browser,
    width: int = 1280,
    scheme: str = "light",
    js: bool = True,
    height: int = 900,
) -> BrowserContext:
    """A fresh context at this size and colour scheme that can reach only 127.0.0.1."""
    context = browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme=scheme,  # type: ignore[arg-type]
        java_script_enabled=js,
    )
    context.set_default_timeout(15_000)
    context.route("**/*", local_only)
    return context


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ and return its path.

    Written beside it first and then renamed: the same test on the other database, in another
    xdist worker, may be saving the same name at the same moment (the last one stays, whole)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    partial = path.with_name(f".{name}.{os.getpid()}.png")
    page.screenshot(path=str(partial), full_page=True)
    partial.replace(path)
    return path


def axe_violations(page: Page, impacts: frozenset[str] = BLOCKING_IMPACTS) -> list[dict[str, Any]]:
    """Run axe-core on the page; return its violations with one of the given impacts."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in impacts]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """Human-readable violations: rule, impact, each target selector and axe's summary."""
    lines: list[str] = []
    for violation in violations:
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} "
            f"[{len(violation['nodes'])} node(s)] {violation.get('helpUrl', '')}"
        )
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node.get("target", []))
            summary = " ".join(node.get("failureSummary", "").split())
            data = [c.get("data") for c in node.get("any", []) if isinstance(c.get("data"), dict)]
            colours = ""
            if data and "fgColor" in data[0]:
                d = data[0]
                colours = (
                    f" fg={d.get('fgColor')} bg={d.get('bgColor')}"
                    f" ratio={d.get('contrastRatio')} expected={d.get('expectedContrastRatio')}"
                )
            lines.append(f"  - {target}{colours}: {summary}")
    return "\n".join(lines)


def in_own_thread(scenario: Callable[[], None], timeout: float = 180) -> None:
    """Run a Playwright scenario on a thread of its own and re-raise what it raised there.

    Playwright's sync API allows one instance per thread, and another module's browser may
    already hold the test thread's.
    """
    raised: list[BaseException] = []

    def run() -> None:
        try:
            scenario()
        except BaseException as exc:  # re-raised below: failures, skips, timeouts alike
            raised.append(exc)

    thread = threading.Thread(target=run, name="browser-scenario", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail(f"the browser scenario did not finish within {timeout:.0f} s")
    if raised:
        raise raised[0]
