"""Imported comments, the exporter's quirks, and the writers who claim them at login with a
verified email: on their account page, in their data export, gone with their account."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from blog.extensions import db
from blog.models import Comment, CommentStatus, ImportedComment, User
from tests.support.auth_helpers import logged_in, serve_site
from tests.support.moderation_helpers import MODERATORS, add_moderator, csrf_token, log_in
from tests.support.oauth_site import OAuthSite

QUIRKS = Path(__file__).parent / "fixtures" / "wordpress" / "quirks.wxr"


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    """The blog and the local identity provider over real HTTP."""
    yield from serve_site(make_app)


def import_quirks(app: Flask) -> str:
    """Import the hand-made WXR 1.1 file; its output."""
    result = app.test_cli_runner().invoke(args=["blog", "import", "wordpress", str(QUIRKS)])
    assert result.exit_code == 0, result.output
    return result.output


def rows(app: Flask) -> dict[str, Comment]:
    """The imported comments by their source id."""
    with app.app_context():
        found = {
            source_id: comment
            for source_id, comment in db.session.execute(
                select(ImportedComment.source_id, Comment).join(
                    Comment, Comment.id == ImportedComment.comment_id
                )
            ).all()
        }
        db.session.expunge_all()
    return found


def test_the_exporters_quirks(app: Flask, posts_dir: Path) -> None:
    output = import_quirks(app)

    found = rows(app)
    assert set(found) == {"100", "101", "102", "103", "104"}
    assert found["103"].status is CommentStatus.SPAM
    assert found["104"].status is CommentStatus.TRASH
    assert found["104"].parent_id is None  # its parent is not in the export
    # A reply listed before its parent still hangs under it; its 0000 GMT date is the
    # local date less the offset the other dates show (an hour).
    assert found["102"].parent_id == found["101"].id and found["102"].depth == 1
    assert found["102"].created_at.isoformat() == "2010-03-05T10:00:00+00:00"
    assert found["100"].author_url is None  # a javascript: "website" is never linked
    assert "1 trackbacks skipped" in output and "1 nav_menu_item items skipped" in output
    assert "1 binned posts skipped" in output
    assert "post 45 'Secret': password-protected: imported as a draft" in output
    assert "shortcode [unknown_code] kept as text" in output
    draft = (posts_dir / "2010-04-01-unfinished.md").read_text(encoding="utf-8")
    assert "date: '2010-04-01T08:00:00+00:00'" in draft and "draft: true" in draft
    # A slug that is one of our own routes gets the post's id.
    assert "slug: feed-post-45" in (posts_dir / "2010-05-01-feed-post-45.md").read_text("utf-8")
    old = (posts_dir / "2010-03-03-old-times-new.md").read_text(encoding="utf-8")
    assert "- /blog/archives/41/" in old and "[the draft](/2010/04/01/unfinished/)" in old
    client = app.test_client()
    assert client.get("/blog/archives/41/").headers["Location"] == "/2010/03/03/old-times-new/"
    assert client.get("/tag/hiring-2/").headers["Location"] == "/tag/hiring/"


def test_a_verified_email_claims_its_comments(site: OAuthSite) -> None:
    import_quirks(site.app)

    http, _page = logged_in(site, "google", "alice")  # alice@example.com, verified

    page = http.get(site.url + "/account/").text
    assert "Comments from the old blog" in page
    assert 'href="/2010/03/03/old-times-new/#comment-' in page and "Old times &amp; new" in page
    found = rows(site.app)
    with site.app.app_context():
        alice = db.session.scalar(select(User).where(User.email == "alice@example.com"))
        assert alice is not None
    assert found["100"].user_id == alice.id
    assert found["100"].author_name == alice.display_name
    assert found["101"].user_id is None  # bob's
    data = http.get(site.url + "/account/data.json").json()
    (claimed,) = [c for c in data["comments"] if c["imported"]]
    assert claimed["text"] == "Alice was here, long ago."
    assert claimed["imported"] == {
        "source": "wordpress:quirks.example.net",
        "source_id": "100",
        "email": "alice@example.com",
    }
    post_page = requests.get(site.url + "/2010/03/03/old-times-new/").text
    assert f"Comment by {alice.display_name}" in post_page


def test_an_unverified_email_claims_nothing(site: OAuthSite) -> None:
    import_quirks(site.app)
    http, _page = logged_in(site, "x", "bob")
    assert "Comments from the old blog" not in http.get(site.url + "/account/").text
    assert {c.user_id for c in rows(site.app).values()} == {None}


def test_a_deleted_account_takes_the_email_and_a_reimport_brings_nothing_back(
    site: OAuthSite,
) -> None:
    import_quirks(site.app)
    http, _page = logged_in(site, "google", "alice")
    page = http.get(site.url + "/account/").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    deleted = http.post(
        site.url + "/account/delete", data={"csrf_token": token, "confirm": "delete"}
    )
    assert deleted.status_code in (200, 303)

    with site.app.app_context():
        imported = db.session.get(ImportedComment, rows(site.app)["100"].id)
        assert imported is not None and imported.author_email is None
    output = import_quirks(site.app)
    assert "comments added" not in output and "comments updated" not in output
    comment = rows(site.app)["100"]
    assert (comment.user_id, comment.author_name) == (None, "Deleted user")


def test_the_moderation_queue_holds_the_imported_statuses(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(MODERATORS=MODERATORS)
    import_quirks(app)
    client = app.test_client()
    log_in(client, add_moderator(app))

    spam_tab = client.get("/admin/comments?status=spam").get_data(as_text=True)
    trash_tab = client.get("/admin/comments?status=trash").get_data(as_text=True)

    assert "Cheap watches" in spam_tab and "Alice was here" not in spam_tab
    assert "Binned with its post once." in trash_tab
    spam = rows(app)["103"]
    approved = client.post(
        f"/admin/comments/{spam.id}/approve", data={"csrf_token": csrf_token(client)}
    )
    assert approved.status_code in (302, 303)
    assert rows(app)["103"].status is CommentStatus.APPROVED
    page = client.get("/2010/03/03/old-times-new/").get_data(as_text=True)
    assert "Cheap watches" in page
