"""Sync of posts/ into the database: by content hash, removals, renames, broken files, schedule."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from blog.clock import FrozenClock
from blog.extensions import db
from blog.models import Post, PostAlias, PostStatus, Term, TermKind
from tests.conftest import NOW, sync


@dataclass(frozen=True)
class Row:
    """What the database holds for one post file."""

    id: int
    uid: str
    slug: str
    status: PostStatus
    title: str
    synced_at: datetime
    content_hash: str


def rows(app: Flask) -> dict[str, Row]:
    """Post rows by source file name."""
    with app.app_context():
        return {
            p.source_path: Row(p.id, p.uid, p.slug, p.status, p.title, p.synced_at, p.content_hash)
            for p in db.session.scalars(select(Post))
        }


def aliases(app: Flask) -> dict[str, str]:
    """Alias path -> the uid of the post it points to."""
    with app.app_context():
        return {a.path: a.post.uid for a in db.session.scalars(select(PostAlias))}


def test_only_visible_markdown_files_are_posts(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    first = write_post("first", title="First")
    posts_dir = first.parent
    # An editor's lock or swap file, a folder named like a post, and a note that is not Markdown.
    hidden = write_post("hidden", title="Hidden")
    hidden.rename(posts_dir / ".#hidden.md")
    (posts_dir / "folder.md").mkdir()
    (posts_dir / "notes.txt").write_text("not a post")
    (posts_dir / "alias.md").symlink_to(posts_dir / "missing.md")
    found = rows(make_app())
    assert set(found) == {"first.md"}


def test_start_up_sync_adds_every_post(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post("first", title="First")
    write_post("second", title="Second", draft="true")
    app = make_app()
    found = rows(app)
    assert set(found) == {"first.md", "second.md"}
    assert found["first.md"].status is PostStatus.PUBLISHED
    assert found["second.md"].status is PostStatus.DRAFT
    assert found["first.md"].synced_at == NOW
    report = sync(app)
    assert (report.added, report.updated, report.removed, report.unchanged) == ([], [], [], 2)
    assert not report.changed


def test_every_front_matter_field_lands_in_the_row(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post(
        "full",
        title="Full Post",
        date="2024-05-01 09:30",
        id="full-1",
        slug="full-post",
        categories=["Recruiting/Interviews", "Culture"],
        tags=["Job Search", "trust"],
        summary="The summary.",
        updated="2024-05-02",
        aliases=["/full/"],
        comments="closed",
        image="images/cover.png",
        author="Jane Recruiter",
    )
    write_post("plain", title="Plain Post")
    app = make_app(SITE_AUTHOR="Site Owner")
    with app.app_context():
        full = db.session.scalars(select(Post).where(Post.uid == "full-1")).one()
        assert (full.slug, full.title, full.author) == ("full-post", "Full Post", "Jane Recruiter")
        assert full.path == "/2024/05/01/full-post/"
        assert full.summary == "The summary."
        assert full.excerpt_html == "<p>The summary.</p>"
        assert full.updated_at == datetime(2024, 5, 2, tzinfo=UTC)
        assert full.comments_open is False
        assert full.image == "images/cover.png"
        assert [a.path for a in full.aliases] == ["/full/"]
        assert [c.slug for c in full.categories] == ["culture", "recruiting/interviews"]
        assert [(t.slug, t.name) for t in full.tags] == [
            ("job-search", "Job Search"),
            ("trust", "trust"),
        ]
        plain = db.session.scalars(select(Post).where(Post.uid == "plain")).one()
        assert (plain.author, plain.comments_open, plain.image) == ("Site Owner", True, None)
        category_slugs = set(
            db.session.scalars(select(Term.slug).where(Term.kind == TermKind.CATEGORY))
        )
        assert category_slugs == {"culture", "recruiting", "recruiting/interviews"}


def test_only_changed_files_are_re_rendered(
    write_post: Callable[..., Path], make_app: Callable[..., Flask], clock: FrozenClock
) -> None:
    write_post("stays", title="Stays")
    write_post("edited", title="Edited", body="Old words.")
    app = make_app()
    before = rows(app)
    clock.advance(hours=1)
    write_post("edited", title="Edited", body="New words, more of them.")
    report = sync(app)
    assert report.updated == ["edited.md"]
    assert report.added == []
    assert report.unchanged == 1
    after = rows(app)
    assert after["stays.md"].synced_at == NOW  # untouched: not rendered again
    assert after["stays.md"].content_hash == before["stays.md"].content_hash
    assert after["edited.md"].synced_at == NOW + timedelta(hours=1)
    assert after["edited.md"].content_hash != before["edited.md"].content_hash
    assert after["edited.md"].id == before["edited.md"].id
    page = app.test_client().get("/2024/01/15/edited/").get_data(as_text=True)
    assert "New words, more of them." in page
    assert "Old words." not in page


def test_touching_a_file_without_changing_it_renders_nothing(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    path = write_post("same")
    app = make_app()
    path.write_bytes(path.read_bytes())  # a new mtime, the same bytes
    report = sync(app)
    assert (report.updated, report.unchanged) == ([], 1)


def test_a_deleted_file_is_unpublished(
    write_post: Callable[..., Path], make_app: Callable[..., Flask], clock: FrozenClock
) -> None:
    gone = write_post("going", title="Going Away")
    write_post("staying", title="Staying")
    app = make_app()
    client = app.test_client()
    assert client.get("/2024/01/15/going/").status_code == 200
    gone.unlink()
    clock.advance(minutes=5)
    report = sync(app)
    assert report.removed == ["going.md"]
    assert rows(app)["going.md"].status is PostStatus.REMOVED
    assert client.get("/2024/01/15/going/").status_code == 404
    assert client.get("/going/").status_code == 404
    assert "Going Away" not in client.get("/").get_data(as_text=True)
    assert "Going Away" not in client.get("/feed/").get_data(as_text=True)
    assert sync(app).removed == []  # removed once, not at every sync


def test_a_deleted_file_that_comes_back_gets_its_old_row(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    path = write_post("phoenix", id="phoenix-1")
    app = make_app()
    first_id = rows(app)["phoenix.md"].id
    text = path.read_text()
    path.unlink()
    sync(app)
    path.write_text(text)
    report = sync(app)
    assert report.updated == ["phoenix.md"]
    row = rows(app)["phoenix.md"]
    assert (row.id, row.status) == (first_id, PostStatus.PUBLISHED)
    assert app.test_client().get("/2024/01/15/phoenix/").status_code == 200


def test_a_renamed_file_with_the_same_id_keeps_its_row_and_old_url_redirects(
    posts_dir: Path, write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post("old-name", title="Renamed", id="stable-1")
    app = make_app()
    old = rows(app)["old-name.md"]
    (posts_dir / "old-name.md").rename(posts_dir / "new-name.md")
    report = sync(app)
    assert report.updated == ["new-name.md"]
    assert report.removed == []
    found = rows(app)
    assert set(found) == {"new-name.md"}
    assert found["new-name.md"].id == old.id
    assert found["new-name.md"].slug == "new-name"
    client = app.test_client()
    assert client.get("/2024/01/15/new-name/").status_code == 200
    # The old permalink keeps working: it now redirects to the new one.
    moved = client.get("/2024/01/15/old-name/")
    assert moved.status_code == 301
    assert moved.headers["Location"] == "/2024/01/15/new-name/"
    assert aliases(app) == {"/2024/01/15/old-name/": "stable-1"}


def test_a_removed_posts_slug_can_be_taken_by_a_new_post(
    write_post: Callable[..., Path], make_app: Callable[..., Flask], posts_dir: Path
) -> None:
    write_post("hello", title="First Hello", id="first")
    app = make_app()
    (posts_dir / "hello.md").unlink()
    sync(app)
    write_post("hello-again", title="Second Hello", slug="hello", id="second")
    report = sync(app)
    assert report.problems == []
    assert report.added == ["hello-again.md"]
    page = app.test_client().get("/2024/01/15/hello/")
    assert page.status_code == 200
    assert "Second Hello" in page.get_data(as_text=True)


def test_two_posts_can_swap_slugs_in_one_sync(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post("a", title="Post A", slug="alpha", id="a")
    write_post("b", title="Post B", slug="beta", id="b")
    app = make_app()
    write_post("a", title="Post A", slug="beta", id="a")
    write_post("b", title="Post B", slug="alpha", id="b")
    report = sync(app)
    assert report.problems == []
    assert sorted(report.updated) == ["a.md", "b.md"]
    client = app.test_client()
    assert "Post A" in client.get("/2024/01/15/beta/").get_data(as_text=True)
    assert "Post B" in client.get("/2024/01/15/alpha/").get_data(as_text=True)


def test_a_published_post_that_breaks_keeps_its_last_good_version(
    write_post: Callable[..., Path],
    make_app: Callable[..., Flask],
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = write_post("fragile", title="Fragile", body="The good version.")
    app = make_app(SYNC_ON_REQUEST=True)
    good = rows(app)["fragile.md"]
    path.write_text("---\ntitle: [broken\n---\n\nThe broken version.\n")
    clock.advance(hours=1)
    with caplog.at_level(logging.WARNING, logger="blog.publishing.hooks"):
        page = app.test_client().get("/2024/01/15/fragile/")  # the edit syncs first
    assert page.status_code == 200
    assert "The good version." in page.get_data(as_text=True)
    assert any("fragile.md: front matter: broken YAML" in m for m in caplog.messages)
    assert rows(app)["fragile.md"] == good  # untouched row
    report = sync(app)
    assert [(p.file, p.field) for p in report.problems] == [("fragile.md", "front matter")]
    assert report.removed == []

    write_post("fragile", title="Fragile", body="The fixed version.")
    assert sync(app).updated == ["fragile.md"]
    assert "The fixed version." in app.test_client().get("/2024/01/15/fragile/").get_data(
        as_text=True
    )


def test_a_duplicate_slug_loses_to_the_post_that_already_has_it(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post("zz-original", title="Original", slug="shared")
    app = make_app()
    write_post("aa-copycat", title="Copycat", slug="shared")
    report = sync(app)
    assert [(p.file, p.field) for p in report.problems] == [("aa-copycat.md", "slug")]
    assert "'shared' is already used by zz-original.md" in report.problems[0].message
    assert set(rows(app)) == {"zz-original.md"}
    assert "Original" in app.test_client().get("/2024/01/15/shared/").get_data(as_text=True)


def test_a_duplicate_id_is_reported(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post("one", id="same-id")
    write_post("two", id="same-id")
    report = sync(make_app())
    assert [(p.file, p.field, p.message) for p in report.problems] == [
        ("two.md", "id", "'same-id' is already used by one.md")
    ]


def test_drafts_are_stored_but_not_shown_until_published(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post("wip", title="Work In Progress", draft="true")
    app = make_app()
    client = app.test_client()
    assert client.get("/2024/01/15/wip/").status_code == 404
    assert "Work In Progress" not in client.get("/").get_data(as_text=True)
    write_post("wip", title="Work In Progress", draft="false")
    sync(app)
    assert rows(app)["wip.md"].status is PostStatus.PUBLISHED
    assert client.get("/2024/01/15/wip/").status_code == 200


def test_changing_the_site_zone_re_renders_and_moves_permalinks(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post("late", date="2024-01-15 23:30")
    make_app()
    app = make_app(TIMEZONE="Asia/Tokyo")  # the same file now means 23:30 in Tokyo
    assert rows(app)["late.md"].synced_at == NOW
    client = app.test_client()
    assert client.get("/2024/01/15/late/").status_code == 200
    with app.app_context():
        post = db.session.scalars(select(Post)).one()
        assert post.published_at.isoformat() == "2024-01-15T14:30:00+00:00"


# --- development: the next request notices edits ----------------------------------------


def test_dev_edit_add_and_remove_show_on_the_next_request(
    write_post: Callable[..., Path], posts_dir: Path, make_app: Callable[..., Flask]
) -> None:
    write_post("live-edit", title="Before Edit")
    client = make_app(SYNC_ON_REQUEST=True).test_client()
    assert "Before Edit" in client.get("/").get_data(as_text=True)

    write_post("live-edit", title="After The Edit")
    home = client.get("/").get_data(as_text=True)
    assert "After The Edit" in home
    assert "Before Edit" not in home

    write_post("brand-new", title="Brand New Post", date="2024-02-01")
    assert "Brand New Post" in client.get("/").get_data(as_text=True)
    assert client.get("/2024/02/01/brand-new/").status_code == 200

    (posts_dir / "brand-new.md").unlink()
    assert client.get("/2024/02/01/brand-new/").status_code == 404
    assert "Brand New Post" not in client.get("/").get_data(as_text=True)


def test_without_dev_sync_an_edit_waits_for_the_next_sync(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post("steady", title="Steady Title")
    app = make_app()
    write_post("steady", title="Changed Title")
    client = app.test_client()
    assert "Steady Title" in client.get("/").get_data(as_text=True)
    sync(app)
    assert "Changed Title" in client.get("/").get_data(as_text=True)


# --- scheduled posts ---------------------------------------------------------------------


def test_a_scheduled_post_is_invisible_until_its_time_then_appears_without_restart(
    write_post: Callable[..., Path], make_app: Callable[..., Flask], clock: FrozenClock
) -> None:
    write_post("already-out", title="Already Out", date="2026-11-01 09:00", tags=["common"])
    write_post(
        "coming-soon",
        title="Coming Soon Essay",
        date="2026-11-25 18:00",  # six hours after the frozen now
        categories=["Futures"],
        tags=["later", "common"],
        aliases=["/soon/"],
        body="Zanzibar is the unusual word of this post.",
    )
    app = make_app()
    client = app.test_client()
    permalink = "/2026/11/25/coming-soon/"
    hidden_everywhere = {
        "/": "Coming Soon Essay",
        "/feed/": "Coming Soon Essay",
        "/feed/atom/": "Coming Soon Essay",
        "/sitemap.xml": "coming-soon",
        "/?s=zanzibar": "Coming Soon Essay",
        "/2026/": "Coming Soon Essay",
        "/2026/11/": "Coming Soon Essay",
        "/tag/common/": "Coming Soon Essay",
    }

    def check_hidden() -> None:
        for url, marker in hidden_everywhere.items():
            response = client.get(url)
            assert response.status_code == 200, url
            assert marker not in response.get_data(as_text=True), url
        for url in (permalink, "/coming-soon/", "/soon/", "/category/futures/", "/tag/later/"):
            assert client.get(url).status_code == 404, url

    check_hidden()
    clock.advance(hours=5, minutes=59)
    check_hidden()

    clock.advance(minutes=1)  # its time has come; no sync, no restart
    for url, marker in hidden_everywhere.items():
        assert marker in client.get(url).get_data(as_text=True), url
    assert client.get(permalink).status_code == 200
    for url in ("/coming-soon/", "/soon/"):
        response = client.get(url)
        assert (response.status_code, response.headers["Location"]) == (301, permalink)
    assert "Coming Soon Essay" in client.get("/category/futures/").get_data(as_text=True)
    assert "Coming Soon Essay" in client.get("/tag/later/").get_data(as_text=True)


def test_sync_reports_problems_for_every_bad_file_at_once(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post("ok")
    write_post("bad-one", raw="---\ntitle: One\n---\n")
    write_post("bad-two", raw="no front matter at all\n")
    report = sync(make_app())
    assert sorted((p.file, p.field) for p in report.problems) == [
        ("bad-one.md", "date"),
        ("bad-two.md", "front matter"),
    ]
    assert re.search(r"required", report.problems[0].message)
