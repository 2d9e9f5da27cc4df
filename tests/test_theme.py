"""The theme's markup: authors and their pages and feeds, featured images, share cards, chrome."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import lxml.etree
import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

from blog.content.authors import AuthorsError, parse_authors
from blog.content.cards import CARD_SIZE, card_name
from tests.conftest import sync
from tests.support.moderation_helpers import MODERATORS, add_moderator, log_in
from tests.test_pages import css, doc, text_of

SITE = "http://blog.test"
AUTHORS = """\
jane:
  name: Jane Doe
  bio: Recruiter since 2009 <b>and proud</b>.
  avatar: images/jane.png
"""


@pytest.fixture
def derived(tmp_path: Path) -> Path:
    """This test's own folder for drawn cards and scaled images."""
    return tmp_path / "derived"


@pytest.fixture
def themed(make_app: Callable[..., Flask], derived: Path) -> Callable[..., FlaskClient]:
    """A client on an app that draws into this test's derived folder."""

    def make(**overrides: object) -> FlaskClient:
        return make_app(DERIVED_MEDIA_DIR=derived, **overrides).test_client()

    return make


def write_image(path: Path, width: int, height: int) -> None:
    """A real JPEG of the given size."""
    Image.new("RGB", (width, height), (40, 90, 160)).save(path, format="JPEG")


def image_of(response: TestResponse) -> Image.Image:
    """The image a response carries (the response is closed: its file handle with it)."""
    with response:
        return Image.open(io.BytesIO(response.get_data()))


def status_of(client: FlaskClient, path: str) -> int:
    """A GET's status, its response closed."""
    with client.get(path) as response:
        return response.status_code


# --- authors ---------------------------------------------------------------------------------


def test_a_configured_author_is_named_in_byline_json_ld_feeds_and_has_a_page(
    write_post: Callable[..., Path], posts_dir: Path, themed: Callable[..., FlaskClient]
) -> None:
    (posts_dir / "authors.yml").write_text(AUTHORS, encoding="utf-8")
    write_image(posts_dir / "images" / "jane.png", 64, 64)
    write_post("first", title="First", author="jane")
    write_post("second", title="Second", author="Jane Doe", date="2024-02-01")
    write_post("other", title="Other", date="2024-03-01")
    client = themed()

    post = doc(client.get("/2024/01/15/first/"))
    byline = css(post, ".entry-meta .author a")[0]
    assert (text_of(byline), byline.get("href")) == ("Jane Doe", "/author/jane/")
    data = json.loads(css(post, 'script[type="application/ld+json"]')[0].text)
    assert data["author"] == {"@type": "Person", "name": "Jane Doe", "url": f"{SITE}/author/jane/"}
    box = css(post, ".author-box")[0]
    assert "Recruiter since 2009 <b>and proud</b>." in text_of(box)  # escaped, not markup
    assert css(box, "img")[0].get("src") == "/media/images/jane.png"

    page = client.get("/author/jane/")
    assert page.status_code == 200
    listed = [text_of(a) for a in css(doc(page), ".entry-title a")]
    assert listed == ["Second", "First"]  # by slug or by display name; not "Other"
    assert text_of(css(doc(page), "h1")[0]) == "Jane Doe"
    alternate = css(doc(page), 'link[type="application/rss+xml"]')
    assert "/author/jane/feed/" in [link.get("href") for link in alternate]

    feed = client.get("/author/jane/feed/")
    assert feed.status_code == 200
    items = lxml.etree.fromstring(feed.get_data()).findall("channel/item")
    assert [i.findtext("title") for i in items] == ["Second", "First"]
    site_feed = lxml.etree.fromstring(client.get("/feed/").get_data())
    creators = site_feed.findall("channel/item/{http://purl.org/dc/elements/1.1/}creator")
    assert "Jane Doe" in " ".join(c.text or "" for c in creators)

    # An author nobody configured still has a page, under their name's slug.
    assert [text_of(a) for a in css(doc(client.get("/author/the-author/")), ".entry-title a")] == [
        "Other"
    ]
    assert client.get("/author/nobody/").status_code == 404
    assert client.get("/author/nobody/feed/").status_code == 404


def test_editing_authors_yml_renames_the_byline_at_the_next_sync(
    write_post: Callable[..., Path], posts_dir: Path, make_app: Callable[..., Flask]
) -> None:
    write_post("first", title="First", author="jane")
    app = make_app()
    client = app.test_client()
    assert text_of(css(doc(client.get("/2024/01/15/first/")), ".entry-meta .author")[0]) == "jane"
    (posts_dir / "authors.yml").write_text(AUTHORS, encoding="utf-8")
    report = sync(app)
    assert report.updated == ["first.md"]
    assert text_of(css(doc(client.get("/2024/01/15/first/")), ".entry-meta .author")[0]) == (
        "Jane Doe"
    )


def test_a_broken_authors_yml_is_reported_and_the_site_stays_up(
    write_post: Callable[..., Path], posts_dir: Path, make_app: Callable[..., Flask]
) -> None:
    write_post("first", title="First", author="jane")
    (posts_dir / "authors.yml").write_text("jane:\n  name: Jane\n  twitter: '@j'\n", "utf-8")
    app = make_app()
    report = sync(app)
    assert [(p.file, p.field) for p in report.problems] == [("authors.yml", "authors")]
    assert "twitter" in str(report.problems[0])
    assert app.test_client().get("/2024/01/15/first/").status_code == 200


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("- a list", "mapping"),
        ("Jane Doe:\n  name: J", "not a slug"),
        ("jane: {}", "name"),
        ("jane:\n  name: ''", "empty"),
        ("jane:\n  name: [1]", "name"),
        ("jane:\n  name: J\n  bio: " + "x" * 700, "too long"),
        ("jane: [", "YAML"),
    ],
)
def test_authors_yml_problems_say_what_is_wrong(raw: str, message: str) -> None:
    with pytest.raises(AuthorsError, match=message):
        parse_authors(raw.encode())


# --- share cards and featured images -------------------------------------------------------


def test_a_post_without_an_image_shares_a_card_drawn_at_sync_time(
    essay: Path, themed: Callable[..., FlaskClient], derived: Path
) -> None:
    client = themed()
    name = card_name("making-true-connections", "True Connections", "Making TRUE Connections")
    assert (derived / "cards" / name).is_file()  # drawn by the sync, before any request
    page = doc(client.get("/2019/06/10/making-true-connections/"))

    def meta(attr: str, key: str) -> str:
        return str(css(page, f'meta[{attr}="{key}"]')[0].get("content"))

    assert meta("property", "og:image") == meta("name", "twitter:image") == f"{SITE}/cards/{name}"
    assert meta("name", "twitter:card") == "summary_large_image"
    assert meta("property", "og:locale") == "en_US"
    card = client.get(f"/cards/{name}")
    assert (card.status_code, card.mimetype) == (200, "image/png")
    assert image_of(card).size == CARD_SIZE


def test_pages_that_are_not_posts_share_the_sites_card(
    essay: Path, themed: Callable[..., FlaskClient], derived: Path
) -> None:
    client = themed()
    name = card_name(
        "_site", "True Connections", "Recruiting, networking and the people in between"
    )
    assert (derived / "cards" / name).is_file()
    for path in ("/", "/category/recruiting/", "/?s=trust"):
        page = doc(client.get(path))
        images = [
            css(page, f'meta[{k}="{v}"]')[0].get("content")
            for k, v in (("property", "og:image"), ("name", "twitter:image"))
        ]
        assert images == [f"{SITE}/cards/{name}"] * 2, path
    (derived / "cards" / name).unlink()
    assert image_of(client.get(f"/cards/{name}")).size == CARD_SIZE
    assert status_of(client, "/cards/_site-000000000000.png") == 404


def test_a_missing_card_is_drawn_on_request_and_a_wrong_one_is_not_found(
    essay: Path, themed: Callable[..., FlaskClient], derived: Path
) -> None:
    client = themed()
    name = card_name("making-true-connections", "True Connections", "Making TRUE Connections")
    (derived / "cards" / name).unlink()  # another server's sync drew it, not this one's
    assert status_of(client, f"/cards/{name}") == 200
    assert (derived / "cards" / name).is_file()
    for wrong in (
        "making-true-connections-000000000000.png",  # an old title's card
        name.replace("making", "faking"),
        "about.png",
        "..%2Fsecret.png",
    ):
        assert status_of(client, f"/cards/{wrong}") == 404, wrong


def test_a_featured_image_is_responsive_and_lazy_below_the_fold(
    write_post: Callable[..., Path], posts_dir: Path, themed: Callable[..., FlaskClient]
) -> None:
    write_image(posts_dir / "images" / "cover.jpg", 1400, 700)
    write_post("newest", title="Newest", date="2024-03-01", image="images/cover.jpg")
    write_post("older", title="Older", date="2024-02-01", image="images/cover.jpg")
    client = themed()

    post = doc(client.get("/2024/03/01/newest/"))
    img = css(post, ".featured-image img")[0]
    assert img.get("src") == "/media/images/cover.jpg"
    assert (img.get("width"), img.get("height")) == ("1400", "700")
    assert img.get("srcset") == (
        "/sized/480/images/cover.jpg 480w, /sized/800/images/cover.jpg 800w, "
        "/sized/1200/images/cover.jpg 1200w, /media/images/cover.jpg 1400w"
    )
    assert img.get("loading") is None  # above the fold on its own page
    og = css(post, 'meta[property="og:image"]')[0].get("content")
    assert og == f"{SITE}/media/images/cover.jpg"

    home = css(doc(client.get("/")), ".featured-image img")
    assert [i.get("loading") for i in home] == [None, "lazy"]

    sized = client.get("/sized/800/images/cover.jpg")
    assert sized.status_code == 200
    assert image_of(sized).size == (800, 400)
    for bad in (
        "/sized/801/images/cover.jpg",
        "/sized/1600/images/cover.jpg",
        "/sized/480/images/none.jpg",
        "/sized/480/../secret.jpg",
    ):
        assert status_of(client, bad) == 404, bad


# --- chrome ----------------------------------------------------------------------------------


def test_the_navigation_marks_the_current_page(essay: Path, client: FlaskClient) -> None:
    def current(path: str) -> list[str]:
        return [text_of(a) for a in css(doc(client.get(path)), '.site-nav a[aria-current="page"]')]

    assert current("/") == ["Home"]
    assert current("/about/") == ["About"]
    assert current("/?s=trust") == []
    assert current("/2019/06/10/making-true-connections/") == []


def test_search_and_not_found_pages_have_one_search_box(essay: Path, client: FlaskClient) -> None:
    for path, status in (("/?s=trust", 200), ("/no/such/page/", 404), ("/", 200)):
        response = client.get(path)
        assert response.status_code == status
        assert len(css(doc(response), "form.search-form")) == 1, path


def test_the_admin_area_has_its_own_frame_without_the_public_footer(
    essay: Path, make_app: Callable[..., Flask]
) -> None:
    app = make_app(MODERATORS=MODERATORS)
    client = app.test_client()
    log_in(client, add_moderator(app))
    page = client.get("/admin/comments")
    assert page.status_code == 200
    assert css(doc(page), ".site-footer") == []
    assert css(doc(page), ".admin-nav a[aria-current=page]")
    assert css(doc(client.get("/about/")), ".site-footer")


def test_the_header_leaves_a_place_for_the_account_menu() -> None:
    base = (Path(__file__).parent.parent / "templates" / "base.html").read_text("utf-8")
    assert '{% include "partials/account_menu.html" ignore missing %}' in base
