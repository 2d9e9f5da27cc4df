"""Comment feeds (RSS 2.0): the blog's and each post's, with exactly the comments readers see."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from blog.auth.accounts import login_profile
from blog.auth.providers import Profile
from blog.clock import FrozenClock, utcnow
from blog.extensions import db
from blog.models import Comment, CommentStatus
from tests.conftest import NOW
from tests.support.moderation_helpers import ESSAY, add_comment, add_user, set_status

S = CommentStatus
SITE = "http://blog.test"
ALL = "/comments/feed/"
QUIET = "/2024/01/15/quiet/"
RSS = "application/rss+xml"
NS = {"atom": "http://www.w3.org/2005/Atom", "dc": "http://purl.org/dc/elements/1.1/"}
TRICKY_NAME = 'Ann "A&B" <O\'Neil>'
TRICKY_BODY = 'Tom & Jerry said 1 < 2 & "quoted" <script>alert(1)</script>'
TRICKY_TEXT = 'Tom & Jerry said 1 < 2 & "quoted"'  # the sanitiser drops the script


@dataclass
class Feeds:
    """The blog with comments in every status; bodies by status, newest approved first."""

    app: Flask
    client: FlaskClient
    ids: dict[str, int]

    def items(self, path: str) -> list[ET.Element]:
        """The items of a feed, parsed."""
        return channel(self.client, path).findall("item")

    def bodies(self, path: str) -> list[str]:
        """The text of each item's comment, in feed order."""
        return [
            (ET.fromstring(f"<x>{i.findtext('description')}</x>").findtext("p") or "").strip()
            for i in self.items(path)
        ]


def channel(client: FlaskClient, path: str) -> ET.Element:
    """GET a feed, check it is RSS 2.0, return its channel."""
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == RSS
    rss = ET.fromstring(response.data)
    assert (rss.tag, rss.get("version")) == ("rss", "2.0")
    found = rss.find("channel")
    assert found is not None
    return found


@pytest.fixture
def feeds(
    essay: Path,
    write_post: Callable[..., Path],
    make_app: Callable[..., Flask],
    clock: FrozenClock,
) -> Feeds:
    write_post("quiet", title="A Quiet Post", date="2024-01-15 09:00")
    app = make_app()
    alice = add_user(app, "Alice Reader")
    with app.app_context():
        tricky = login_profile(
            Profile("x", "tricky", TRICKY_NAME, "ann@example.com", True, None), utcnow()
        ).id
    ids: dict[str, int] = {}

    def comment(key: str, user: int, body: str, **kwargs: object) -> None:
        clock.advance(minutes=1)
        ids[key] = add_comment(app, user, body, **kwargs)  # type: ignore[arg-type]

    comment("first", alice, "First approved comment.")
    comment("pending", alice, "Pending comment.", status=S.PENDING)
    comment("spam", alice, "Spam comment.", status=S.SPAM)
    comment("trash", alice, "Trashed comment.", status=S.TRASH)
    comment("deleted", alice, "Deleted comment.", status=S.DELETED)
    comment("tricky", tricky, TRICKY_BODY)
    comment("held-parent", alice, "A parent held back later.")
    comment("reply", tricky, "An approved reply under it.", parent_id=ids["held-parent"])
    set_status(app, ids["held-parent"], S.PENDING)
    comment("latest", alice, "The newest approved comment.")
    return Feeds(app, app.test_client(), ids)


SHOWN = ["The newest approved comment.", TRICKY_TEXT, "First approved comment."]
HIDDEN = [
    "Pending comment.",
    "Spam comment.",
    "Trashed comment.",
    "Deleted comment.",
    "A parent held back later.",
    "An approved reply under it.",  # its parent is pending: readers do not see it either
]


@pytest.mark.parametrize("path", [ALL, f"{ESSAY}feed/"])
def test_only_approved_comments_newest_first(feeds: Feeds, path: str) -> None:
    assert feeds.bodies(path) == SHOWN
    text = feeds.client.get(path).get_data(as_text=True)
    for hidden in HIDDEN:
        assert hidden not in text
    dates = [parsedate_to_datetime(i.findtext("pubDate") or "") for i in feeds.items(path)]
    assert dates == sorted(dates, reverse=True)
    assert dates[0] == NOW.replace(minute=9)  # nine comments, a minute apart


def test_each_item_has_the_text_author_and_link_escaped(feeds: Feeds) -> None:
    items = {i.findtext("link"): i for i in feeds.items(ALL)}
    url = f"{SITE}{ESSAY}#comment-{feeds.ids['tricky']}"
    item = items[url]
    assert item.findtext("dc:creator", namespaces=NS) == TRICKY_NAME
    assert item.findtext("title") == f"Comment on Making TRUE Connections by {TRICKY_NAME}"
    guid = item.find("guid")
    assert guid is not None
    assert (guid.text, guid.get("isPermaLink")) == (url, "true")
    # The description is the comment's sanitised HTML, escaped once more inside the XML.
    html = item.findtext("description") or ""
    assert "Tom &amp; Jerry said 1 &lt; 2 &amp; " in html
    assert (ET.fromstring(f"<x>{html}</x>").findtext("p") or "").strip() == TRICKY_TEXT
    raw = feeds.client.get(ALL).get_data(as_text=True)
    assert "<script" not in html and "<script" not in raw and "alert(1)" not in raw
    assert "ann@example.com" not in raw  # commenters' addresses never appear


def test_the_feeds_change_as_comments_are_moderated(feeds: Feeds) -> None:
    assert feeds.bodies(ALL) == SHOWN  # cached now: moderation must make it stale
    set_status(feeds.app, feeds.ids["pending"], S.APPROVED)
    set_status(feeds.app, feeds.ids["held-parent"], S.APPROVED)
    set_status(feeds.app, feeds.ids["latest"], S.SPAM)
    assert feeds.bodies(ALL) == [
        "An approved reply under it.",
        "A parent held back later.",
        TRICKY_TEXT,
        "Pending comment.",
        "First approved comment.",
    ]


def test_channels_describe_their_feed(feeds: Feeds) -> None:
    everything = channel(feeds.client, ALL)
    assert everything.findtext("title") == "Comments for True Connections"
    assert everything.findtext("link") == f"{SITE}/"
    own = everything.find("atom:link", NS)
    assert own is not None and own.get("href") == f"{SITE}{ALL}"
    essay = channel(feeds.client, f"{ESSAY}feed/")
    assert essay.findtext("title") == "Comments on: Making TRUE Connections"
    assert essay.findtext("link") == f"{SITE}{ESSAY}"


def test_a_post_feed_holds_only_that_posts_comments(feeds: Feeds) -> None:
    assert feeds.bodies(f"{ESSAY}feed/") == SHOWN
    quiet = channel(feeds.client, f"{QUIET}feed/")
    assert quiet.findtext("title") == "Comments on: A Quiet Post"
    assert quiet.findall("item") == []  # a valid, empty feed


def test_an_empty_blog_has_a_valid_empty_comment_feed(make_app: Callable[..., Flask]) -> None:
    assert channel(make_app().test_client(), ALL).findall("item") == []


@pytest.mark.parametrize(
    "path",
    ["/2019/06/10/no-such-post/feed/", "/2030/01/01/making-true-connections-2/feed/"],
)
def test_an_unknown_posts_feed_is_404(feeds: Feeds, path: str) -> None:
    assert feeds.client.get(path).status_code == 404


def test_a_wrong_date_redirects_to_the_posts_feed(feeds: Feeds) -> None:
    response = feeds.client.get("/2020/01/01/making-true-connections/feed/")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"{ESSAY}feed/")


# Vertical tab, escape, bell and two non-characters: HTML pages carry them, XML 1.0 cannot.
NOT_XML = "\x0b\x1b\x07\ufffe\uffff"


def test_text_xml_cannot_carry_never_reaches_a_comment_feed(feeds: Feeds) -> None:
    alice = add_user(feeds.app, "Alice Reader")
    new = add_comment(feeds.app, alice, f"Fresh{NOT_XML} text")
    with feeds.app.app_context():
        stored = db.session.get_one(Comment, new)
        assert (stored.body, stored.body_html) == ("Fresh text", "<p>Fresh text</p>")
        # Rows written before text was cleaned as it came in still hold such characters.
        old = db.session.get_one(Comment, feeds.ids["first"])
        old.body_html = f"<p>Old{NOT_XML} text</p>"
        old.author_name = f"Old{NOT_XML} Name"
        db.session.commit()
    for path in (ALL, f"{ESSAY}feed/"):
        items = {i.findtext("link"): i for i in feeds.items(path)}
        item = items[f"{SITE}{ESSAY}#comment-{feeds.ids['first']}"]
        assert item.findtext("dc:creator", namespaces=NS) == "Old Name"
        assert item.findtext("description") == "<p>Old text</p>"
        assert "Fresh text" in (items[f"{SITE}{ESSAY}#comment-{new}"].findtext("description") or "")
