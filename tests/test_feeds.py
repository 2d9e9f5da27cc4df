"""RSS 2.0, Atom, the sitemap and robots.txt: parsed, with the right posts and links."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import lxml.html
import pytest
from flask import Flask
from flask.testing import FlaskClient

from blog.clock import FrozenClock

SITE = "http://blog.test"
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
}


@pytest.fixture
def make_app(make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """The shared factory, without the development identity provider feeds never use."""

    def make(**overrides: object) -> Flask:
        overrides.setdefault("DEV_IDP", False)
        return make_app(**overrides)

    return make


@pytest.fixture
def blog(write_post: Callable[..., Path], make_app: Callable[..., Flask]) -> FlaskClient:
    """Two posts, a page, a draft and a scheduled post."""
    write_post(
        "older",
        title="Older Post",
        date="2024-03-01 08:00",
        categories=["Recruiting/Interviews"],
        tags=["Job Search"],
        body="Older opening.\n\n<!--more-->\n\nOlder full text with <b>bold & brave</b> markup.",
    )
    write_post(
        "newer",
        title="Newer & Better",
        date="2024-04-01 08:00",
        updated="2024-04-02 10:00",
        author="Jane Recruiter",
        body="Newer opening with *emphasis*.\n\nSecond paragraph of the newer post.",
    )
    write_post("about", title="About Page", date="2024-01-01", layout="page")
    write_post("wip", title="Draft Post", date="2024-02-01", draft="true")
    write_post("later", title="Future Post", date="2027-01-01")
    return make_app().test_client()


def parse(client: FlaskClient, url: str, mimetype: str) -> ET.Element:
    """GET an XML document and parse it."""
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    return ET.fromstring(response.data)


def test_rss_is_valid_rss_2_with_full_content(blog: FlaskClient) -> None:
    rss = parse(blog, "/feed/", "application/rss+xml")
    assert (rss.tag, rss.get("version")) == ("rss", "2.0")
    channel = rss.find("channel")
    assert channel is not None
    assert channel.findtext("title") == "True Connections"
    assert channel.findtext("link") == f"{SITE}/"  # the site, not the feed
    assert channel.findtext("description")
    self_link = channel.find("atom:link", NS)
    assert self_link is not None
    assert (self_link.get("rel"), self_link.get("href")) == ("self", f"{SITE}/feed/")
    items = channel.findall("item")
    assert [i.findtext("title") for i in items] == ["Newer & Better", "Older Post"]

    older = items[1]
    assert older.findtext("link") == f"{SITE}/2024/03/01/older/"
    guid = older.find("guid")
    assert guid is not None
    assert (guid.text, guid.get("isPermaLink")) == (f"{SITE}/2024/03/01/older/", "true")
    assert parsedate_to_datetime(older.findtext("pubDate") or "") == datetime(
        2024, 3, 1, 8, 0, tzinfo=UTC
    )
    assert older.findtext("description") == "<p>Older opening.</p>"
    content = older.findtext("content:encoded", namespaces=NS) or ""
    assert "<p>Older opening.</p>" in content
    assert "Older full text with <b>bold &amp; brave</b> markup." in content
    assert {c.text for c in older.findall("category")} == {"Recruiting/Interviews", "Job Search"}


def test_atom_is_valid_with_full_content(blog: FlaskClient) -> None:
    feed = parse(blog, "/feed/atom/", "application/atom+xml")
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    assert feed.findtext("atom:title", namespaces=NS) == "True Connections"
    assert feed.findtext("atom:id", namespaces=NS) == f"{SITE}/"
    links = {link.get("rel"): link.get("href") for link in feed.findall("atom:link", NS)}
    assert links == {"self": f"{SITE}/feed/atom/", "alternate": f"{SITE}/"}
    assert datetime.fromisoformat(feed.findtext("atom:updated", namespaces=NS) or "") == (
        datetime(2024, 4, 2, 10, 0, tzinfo=UTC)
    )
    entries = feed.findall("atom:entry", NS)
    assert [e.findtext("atom:title", namespaces=NS) for e in entries] == [
        "Newer & Better",
        "Older Post",
    ]
    newer = entries[0]
    assert newer.findtext("atom:id", namespaces=NS) == f"{SITE}/2024/04/01/newer/"
    link = newer.find("atom:link", NS)
    assert link is not None
    # A link without rel is rel="alternate" in Atom.
    assert link.get("rel", "alternate") == "alternate"
    assert link.get("href") == f"{SITE}/2024/04/01/newer/"
    assert newer.findtext("atom:author/atom:name", namespaces=NS) == "Jane Recruiter"
    assert newer.findtext("atom:published", namespaces=NS) == "2024-04-01T08:00:00+00:00"
    assert newer.findtext("atom:updated", namespaces=NS) == "2024-04-02T10:00:00+00:00"
    content = newer.find("atom:content", NS)
    assert content is not None
    assert content.get("type") == "html"  # Atom allows text, html or xhtml only
    assert "<p>Second paragraph of the newer post.</p>" in (content.text or "")
    summary = newer.find("atom:summary", NS)
    assert summary is not None
    assert summary.get("type") == "html"
    assert summary.text == "<p>Newer opening with <em>emphasis</em>.</p>"


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/"])
def test_feeds_leave_out_pages_drafts_and_scheduled_posts(blog: FlaskClient, url: str) -> None:
    text = blog.get(url).get_data(as_text=True)
    for hidden in ("About Page", "Draft Post", "Future Post", "/about/"):
        assert hidden not in text


def test_feeds_hold_the_configured_number_of_newest_posts(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    for day in range(1, 6):
        write_post(f"post-{day}", title=f"Post {day}", date=f"2024-05-0{day}")
    client = make_app(FEED_ITEMS=3).test_client()
    rss = parse(client, "/feed/", "application/rss+xml")
    assert [i.findtext("title") for i in rss.iter("item")] == ["Post 5", "Post 4", "Post 3"]
    atom = parse(client, "/feed/atom/", "application/atom+xml")
    assert len(atom.findall("atom:entry", NS)) == 3


def test_an_empty_blog_has_valid_feeds(make_app: Callable[..., Flask]) -> None:
    client = make_app().test_client()
    rss = parse(client, "/feed/", "application/rss+xml")
    assert rss.findall("channel/item") == []
    atom = parse(client, "/feed/atom/", "application/atom+xml")
    assert atom.findall("atom:entry", NS) == []


@pytest.fixture
def filed(write_post: Callable[..., Path], make_app: Callable[..., Flask]) -> FlaskClient:
    """Posts in categories and tags, and a draft and a scheduled post with terms of their own."""
    write_post("first", title="First", date="2024-03-01", categories=["Recruiting"], tags=["calls"])
    write_post(
        "second",
        title="Second & More",
        date="2024-03-02",
        categories=["Recruiting/Interviews"],
        tags=["Job Search", "calls"],
    )
    write_post("other", title="Other", date="2024-03-03", categories=["Negotiation"])
    write_post("wip", title="Draft", date="2024-03-04", tags=["calls", "unfinished"], draft="true")
    write_post("later", title="Future", date="2027-01-01", tags=["calls", "upcoming"])
    return make_app().test_client()


@pytest.mark.parametrize(
    ("page", "name", "expected"),
    [
        # A category's feed has its subcategories' posts, as its page has.
        ("/category/recruiting/", "Recruiting Category", ["Second & More", "First"]),
        ("/category/recruiting/interviews/", "Recruiting/Interviews Category", ["Second & More"]),
        ("/tag/calls/", "calls Tag", ["Second & More", "First"]),
        ("/tag/job-search/", "Job Search Tag", ["Second & More"]),
    ],
)
def test_category_and_tag_pages_have_their_own_rss_feed(
    filed: FlaskClient, page: str, name: str, expected: list[str]
) -> None:
    html = lxml.html.fromstring(filed.get(page).get_data(as_text=True))
    links = html.xpath('//head/link[@rel="alternate"][@type="application/rss+xml"]')
    assert [(link.get("href"), link.get("title")) for link in links] == [
        ("/feed/", "True Connections » Feed"),
        (f"{page}feed/", f"True Connections » {name} Feed"),
    ]
    rss = parse(filed, f"{page}feed/", "application/rss+xml")
    assert (rss.tag, rss.get("version")) == ("rss", "2.0")
    channel = rss.find("channel")
    assert channel is not None
    assert [i.findtext("title") for i in channel.findall("item")] == expected
    assert channel.findtext("title") == f"{name.rsplit(' ', 1)[0]} \u2013 True Connections"
    assert channel.findtext("link") == f"{SITE}{page}"  # the term's page, not the feed
    self_link = channel.find("atom:link", NS)
    assert self_link is not None
    assert (self_link.get("rel"), self_link.get("href")) == ("self", f"{SITE}{page}feed/")
    first = channel.find("item")
    assert first is not None
    assert first.findtext("link") == f"{SITE}/2024/03/02/second/"
    assert "Hello, readers." in (first.findtext("content:encoded", namespaces=NS) or "")


def test_a_term_feed_is_not_found_unless_the_term_has_live_posts(filed: FlaskClient) -> None:
    for url in (
        "/tag/nothing/feed/",
        "/category/nothing/feed/",
        "/category/recruiting/nothing/feed/",
        "/tag/unfinished/feed/",  # a draft's only
        "/tag/upcoming/feed/",  # a scheduled post's only
    ):
        assert filed.get(url).status_code == 404, url
    upper = filed.get("/tag/Job-Search/feed/")
    assert (upper.status_code, upper.headers["Location"]) == (301, "/tag/job-search/feed/")
    upper = filed.get("/category/Recruiting/Interviews/feed/")
    assert (upper.status_code, upper.headers["Location"]) == (
        301,
        "/category/recruiting/interviews/feed/",
    )
    text = filed.get("/tag/calls/feed/").get_data(as_text=True)
    assert "Draft" not in text and "Future" not in text


def test_sitemap_lists_every_public_url(blog: FlaskClient) -> None:
    urlset = parse(blog, "/sitemap.xml", "application/xml")
    assert urlset.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    entries = {
        u.findtext("sm:loc", namespaces=NS): u.findtext("sm:lastmod", namespaces=NS)
        for u in urlset.findall("sm:url", NS)
    }
    assert set(entries) == {
        f"{SITE}/",
        f"{SITE}/2024/04/01/newer/",
        f"{SITE}/2024/03/01/older/",
        f"{SITE}/about/",
        f"{SITE}/category/recruiting/",  # the parent, through its child
        f"{SITE}/category/recruiting/interviews/",
        f"{SITE}/tag/job-search/",
    }
    assert entries[f"{SITE}/2024/04/01/newer/"] == "2024-04-02"  # updated wins
    assert entries[f"{SITE}/2024/03/01/older/"] == "2024-03-01"
    assert entries[f"{SITE}/"] == "2024-04-02"


def test_sitemap_gains_a_scheduled_post_when_its_time_comes(
    blog: FlaskClient, clock: FrozenClock
) -> None:
    assert "/2027/01/01/later/" not in blog.get("/sitemap.xml").get_data(as_text=True)
    clock.set(datetime(2027, 1, 1, 0, 1, tzinfo=UTC))
    assert f"{SITE}/2027/01/01/later/" in blog.get("/sitemap.xml").get_data(as_text=True)
    rss = parse(blog, "/feed/", "application/rss+xml")
    assert rss.findtext("channel/item/title") == "Future Post"


def test_robots_txt_points_at_the_sitemap(blog: FlaskClient) -> None:
    response = blog.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    assert f"Sitemap: {SITE}/sitemap.xml" in lines
    assert "Disallow: /*?s=" in lines
    assert "Disallow: /" not in lines  # the blog itself stays crawlable


def test_the_site_icon_is_served_where_browsers_ask_for_it(blog: FlaskClient) -> None:
    icon = blog.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype in {"image/vnd.microsoft.icon", "image/x-icon"}
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert "Set-Cookie" not in icon.headers
    again = blog.get("/favicon.ico", headers={"If-None-Match": icon.headers["ETag"]})
    assert again.status_code == 304
    page = blog.get("/").get_data(as_text=True)
    linked = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert linked is not None
    svg = blog.get(linked.group(1))
    assert svg.status_code == 200
    assert svg.mimetype == "image/svg+xml"
    assert svg.data.startswith(b"<svg ")


def test_feeds_use_the_request_host_without_a_site_url(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post("hosted", date="2024-01-01")
    client = make_app(SITE_URL="").test_client()
    rss = parse(client, "/feed/", "application/rss+xml")
    assert rss.findtext("channel/item/link") == "http://localhost/2024/01/01/hosted/"
    robots = client.get("/robots.txt", base_url="https://example.org")
    assert "Sitemap: https://example.org/sitemap.xml" in robots.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/"])
def test_a_post_with_characters_xml_cannot_carry_still_has_a_feed(
    write_post: Callable[..., Path], make_app: Callable[..., Flask], url: str
) -> None:
    write_post("odd", title="Odd", body="Bell\x07 and\x0b tab\x1b here\ufffe.")
    feed = make_app().test_client().get(url)
    assert feed.status_code == 200
    assert "Bell and tab here." in "".join(ET.fromstring(feed.data).itertext())
