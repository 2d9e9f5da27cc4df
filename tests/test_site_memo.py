"""The site-wide reads kept in memory (sidebar counts, navigation, totals) never go stale."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import Flask

from blog.clock import FrozenClock
from tests.conftest import sync

HOME = "/"


def sidebar_counts(app: Flask) -> dict[str, int]:
    """Category name -> count, as the sidebar of the home page shows them."""
    page = app.test_client().get(HOME).get_data(as_text=True)
    section = page.split('id="categories-heading"', 1)[1].split("</nav>", 1)[0]
    return {name: int(n) for name, n in re.findall(r">([^<>]+)</a> \((\d+)\)", section)}


def nav_pages(app: Flask) -> list[str]:
    """The titles of the standalone pages in the site navigation."""
    page = app.test_client().get(HOME).get_data(as_text=True)
    return re.findall(r'<li><a href="/[a-z-]+/">([^<]+)</a></li>', page.split("</nav>", 1)[0])


def test_a_sync_refreshes_counts_pages_and_totals(
    make_app: Callable[..., Flask], write_post: Callable[..., Path], posts_dir: Path
) -> None:
    write_post("one", categories=["Recruiting"])
    app = make_app()
    assert sidebar_counts(app) == {"Recruiting": 1}
    assert nav_pages(app) == []

    write_post("two", categories=["Recruiting", "Careers"], date="2024-02-01 09:00")
    write_post("colophon", title="Colophon", layout="page")
    report = sync(app)
    assert len(report.added) == 2
    assert sidebar_counts(app) == {"Careers": 1, "Recruiting": 2}
    assert nav_pages(app) == ["Colophon"]
    older = app.test_client().get("/2024/02/01/two/").get_data(as_text=True)
    assert 'rel="prev"' in older and "One" in older.split('rel="prev"', 1)[1][:200]

    (posts_dir / "one.md").unlink()
    sync(app)
    assert sidebar_counts(app) == {"Careers": 1, "Recruiting": 1}
    assert 'rel="prev"' not in app.test_client().get("/2024/02/01/two/").get_data(as_text=True)


def test_a_scheduled_post_counts_once_its_time_comes(
    make_app: Callable[..., Flask], write_post: Callable[..., Path], clock: FrozenClock
) -> None:
    write_post("now", categories=["Recruiting"])
    later = clock.now() + timedelta(hours=1)
    write_post("later", categories=["Careers"], date=later.strftime("%Y-%m-%d %H:%M"))
    app = make_app(POSTS_PER_PAGE=1)
    assert sidebar_counts(app) == {"Recruiting": 1}
    assert app.test_client().get("/page/2/").status_code == 404
    clock.advance(hours=1)
    assert sidebar_counts(app) == {"Careers": 1, "Recruiting": 1}
    assert app.test_client().get("/page/2/").status_code == 200


def test_a_sync_in_another_process_is_seen_at_the_next_request(
    make_app: Callable[..., Flask], write_post: Callable[..., Path]
) -> None:
    write_post("one", categories=["Recruiting"])
    reader = make_app(SYNC_ON_START=False)
    sync(reader)
    assert sidebar_counts(reader) == {"Recruiting": 1}
    write_post("two", categories=["Recruiting"], date="2024-02-01 09:00")
    make_app()  # another process of the same blog: its start-up sync adds "two"
    assert sidebar_counts(reader) == {"Recruiting": 2}
