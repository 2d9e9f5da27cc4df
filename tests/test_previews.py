"""Moderators preview drafts and scheduled posts at their URLs; everybody else gets a 404."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from blog.clock import FrozenClock
from tests.conftest import sync
from tests.support.moderation_helpers import ESSAY, MODERATORS, add_moderator, add_user, log_in

DRAFT = "/2026/12/01/a-future-draft/"
SCHEDULED = "/2027/01/05/coming-soon/"
DRAFT_PAGE = "/draft-page/"
NOINDEX_META = '<meta name="robots" content="noindex">'


@dataclass
class Site:
    app: Flask
    moderator: FlaskClient
    reader: FlaskClient
    anonymous: FlaskClient


@pytest.fixture
def site(essay: Path, write_post: Callable[..., Path], make_app: Callable[..., Flask]) -> Site:
    write_post("a-future-draft", title="A Future Draft", date="2026-12-01 09:00", draft="true",
               body="Draft words only the author sees.")  # fmt: skip
    write_post("coming-soon", title="Coming Soon", date="2027-01-05 08:00",
               body="Scheduled words.")  # fmt: skip
    write_post("draft-page", title="Draft Page", layout="page", draft="true", body="Page words.")
    app = make_app(MODERATORS=MODERATORS)
    moderator, reader = app.test_client(), app.test_client()
    log_in(moderator, add_moderator(app))
    log_in(reader, add_user(app, "Alice"))
    return Site(app, moderator, reader, app.test_client())


@pytest.mark.parametrize(
    ("path", "words", "state"),
    [
        (DRAFT, "Draft words only the author sees.", "This is a draft"),
        (SCHEDULED, "Scheduled words.", "This post is scheduled: readers see it from"),
        (DRAFT_PAGE, "Page words.", "This is a draft"),
    ],
)
def test_a_moderator_previews_unpublished_posts_marked_noindex_and_never_cached(
    site: Site, path: str, words: str, state: str
) -> None:
    response = site.moderator.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert words in html
    assert '<div class="preview-banner" role="status">' in html
    assert "<strong>Preview.</strong>" in html and state in html
    assert NOINDEX_META in html
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers
    assert 'id="commentform"' not in html  # nobody can comment before it is published


def test_the_scheduled_preview_says_when_it_goes_live(site: Site) -> None:
    html = site.moderator.get(SCHEDULED).get_data(as_text=True)
    assert "January 5, 2027 at 8:00 am" in html


@pytest.mark.parametrize("path", [DRAFT, SCHEDULED, DRAFT_PAGE, "/a-future-draft/"])
@pytest.mark.parametrize("who", ["anonymous", "reader"])
def test_everybody_else_gets_a_404(site: Site, path: str, who: str) -> None:
    client = site.anonymous if who == "anonymous" else site.reader
    response = client.get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Draft words" not in html and "Scheduled words" not in html
    assert "preview-banner" not in html


def test_a_wrong_date_or_the_bare_slug_redirects_the_moderator_to_the_preview(
    site: Site,
) -> None:
    for path in ("/2026/12/02/a-future-draft/", "/a-future-draft/"):
        response = site.moderator.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == DRAFT
        assert response.headers["Cache-Control"] == "private, no-store"


def test_a_scheduled_post_goes_live_by_itself_without_the_banner(
    site: Site, clock: FrozenClock
) -> None:
    clock.set(clock.now().replace(year=2027, month=1, day=6))
    for client in (site.anonymous, site.moderator):
        response = client.get(SCHEDULED)
        assert response.status_code == 200
        assert "preview-banner" not in response.get_data(as_text=True)


def test_published_posts_look_the_same_to_a_moderator(site: Site) -> None:
    html = site.moderator.get(ESSAY).get_data(as_text=True)
    assert "preview-banner" not in html and NOINDEX_META not in html


def test_removed_posts_and_unknown_slugs_are_404_even_for_moderators(
    site: Site, posts_dir: Path
) -> None:
    (posts_dir / "coming-soon.md").unlink()
    sync(site.app)
    assert site.moderator.get(SCHEDULED).status_code == 404
    assert site.moderator.get("/2026/12/01/no-such-post/").status_code == 404


def test_the_drafts_screen_lists_drafts_and_scheduled_posts_with_preview_links(
    site: Site,
) -> None:
    response = site.moderator.get("/admin/drafts")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for path, title in [(DRAFT, "A Future Draft"), (SCHEDULED, "Coming Soon"),
                        (DRAFT_PAGE, "Draft Page")]:  # fmt: skip
        assert f'<a href="{path}">{title}</a>' in html
    assert "Making TRUE Connections" not in html
    row = html[html.index(SCHEDULED) :]
    assert "Scheduled" in row[: row.index("</tr>")]
    dashboard = site.moderator.get("/admin/").get_data(as_text=True)
    assert "3 posts not published yet" in dashboard
    assert site.reader.get("/admin/drafts").status_code == 403
