"""`flask blog import wordpress`: the export WordPress itself made (tests/fixtures/wordpress/),
every item of it in posts/ and the database, the old links, reruns, dry runs and bad files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import delete, func, select

from blog.content.frontmatter import load_front_matter, parse_post_file, split_front_matter
from blog.extensions import db
from blog.models import (
    Comment,
    CommentStatus,
    ImportedComment,
    ImportedFile,
    OldLink,
    Post,
    PostStatus,
)

FIXTURES = Path(__file__).parent / "fixtures" / "wordpress"
WXR = FIXTURES / "blog.wxr"
UPLOADS = FIXTURES / "uploads"
CLASSIC = "2019-06-10-making-true-connections.md"
BLOCKS = "2019-06-12-networking-habits.md"


def run_import(runner: FlaskCliRunner, *args: str | Path) -> str:
    """Import and return the output; the command must succeed."""
    result = runner.invoke(args=["blog", "import", "wordpress", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output


def front(path: Path) -> dict[str, object]:
    """A post file's front matter."""
    split = split_front_matter(path.read_text(encoding="utf-8"))
    assert split is not None
    meta = load_front_matter(split[0])
    assert isinstance(meta, dict)
    return meta


def comments_by_author(app: Flask) -> dict[str, list[Comment]]:
    """Every comment, oldest first, by its writer's name."""
    with app.app_context():
        rows = db.session.scalars(select(Comment).order_by(Comment.created_at)).all()
        db.session.expunge_all()
    found: dict[str, list[Comment]] = {}
    for row in rows:
        found.setdefault(row.author_name, []).append(row)
    return found


def test_posts_and_pages_become_markdown_files(
    app: Flask, runner: FlaskCliRunner, posts_dir: Path
) -> None:
    output = run_import(runner, WXR, "--uploads", UPLOADS)

    names = sorted(p.name for p in posts_dir.glob("*.md"))
    assert names == sorted(
        [
            CLASSIC,
            BLOCKS,
            "2019-07-01-salary-notes.md",
            "2031-03-01-coming-soon.md",
            "2026-12-07-hello-world.md",
            "about.md",
            "sample-page.md",
            "privacy-policy.md",
            names[names.index("2026-12-07-half-an-idea.md")],
        ]
    )
    classic = front(posts_dir / CLASSIC)
    assert classic == {
        "title": "Making TRUE Connections",
        # WordPress's GMT date: 23:30 in Paris, where the old site was.
        "date": "2019-06-10T21:30:00+00:00",
        "slug": "making-true-connections",
        "id": "wp-6",
        "author": "Ada Lovelace",
        "categories": ["Recruiting/Interviews"],
        "tags": ["C++", "networking", "Résumés"],
        "summary": "How trust is built, one conversation at a time.",
        "image": "images/2019/06/handshake.png",
        "aliases": ["/2019/06/making-true-connections/"],
    }
    blocks = front(posts_dir / BLOCKS)
    assert blocks["comments"] == "closed"
    assert blocks["categories"] == ["News & Views"]
    about = front(posts_dir / "about.md")
    assert about["layout"] == "page" and about["slug"] == "about"
    assert front(posts_dir / "2026-12-07-half-an-idea.md")["draft"] is True
    assert front(posts_dir / "2031-03-01-coming-soon.md")["date"] == "2031-03-01T07:00:00+00:00"
    private = posts_dir / "2019-07-01-salary-notes.md"
    assert front(private)["draft"] is True
    assert "# private on WordPress: kept as a draft" in private.read_text(encoding="utf-8")
    assert "post 10 'Salary notes': private: imported as a draft" in output
    assert "post 5 'Networking habits': <video> kept as HTML" in output
    # Every file is one the blog's own parser accepts.
    for path in posts_dir.glob("*.md"):
        assert parse_post_file(path, ZoneInfo("UTC"))[1] == [], path.name
    for size in ("handshake.png", "handshake-300x200.png"):
        assert (posts_dir / "images" / "2019" / "06" / size).read_bytes() == (
            UPLOADS / "2019" / "06" / size
        ).read_bytes()


def test_content_converts_as_wordpress_showed_it(
    app: Flask, runner: FlaskCliRunner, posts_dir: Path
) -> None:
    run_import(runner, WXR, "--uploads", UPLOADS)

    classic = (posts_dir / CLASSIC).read_text(encoding="utf-8").split("---\n", 2)[2]
    # wpautop: a blank line is a paragraph, a single newline a line break.
    assert "Trust is built in small steps.\n\nIt starts with a *real* conversation, and  \n" in (
        classic
    )
    assert "\n<!--more-->\n" in classic
    assert "![Two people shaking hands](images/2019/06/handshake-300x200.png)\n\n*Two hands" in (
        classic
    )
    assert "### What to ask\n\n- What are you working on?\n- How can I help?" in classic
    assert "> Ask, then listen." in classic
    # The link to the other post now points at its new permalink.
    assert "[my networking habits](/2019/06/12/networking-habits/)" in classic
    assert "```\nconnect();\nfollow_up();\n```" in classic
    blocks = (posts_dir / BLOCKS).read_text(encoding="utf-8")
    assert "wp:" not in blocks
    assert "## Three habits" in blocks and "1. Write to one person a week." in blocks
    assert "| Habit | Minutes |" in blocks
    assert '<video controls="" src="https://videos.example.org/talk.mp4"></video>' in blocks


def test_every_item_in_the_database_and_on_the_site(
    app: Flask, runner: FlaskCliRunner, posts_dir: Path
) -> None:
    run_import(runner, WXR, "--uploads", UPLOADS)

    with app.app_context():
        posts = {p.uid: p for p in db.session.scalars(select(Post))}
        assert {uid: posts[uid].status for uid in ("wp-6", "wp-8", "wp-10")} == {
            "wp-6": PostStatus.PUBLISHED,
            "wp-8": PostStatus.DRAFT,
            "wp-10": PostStatus.DRAFT,
        }
        assert posts["wp-6"].path == "/2019/06/10/making-true-connections/"
        assert posts["wp-5"].comments_open is False
        classic_id = posts["wp-6"].id
        emails = dict(
            db.session.execute(
                select(ImportedComment.source_id, ImportedComment.author_email)
            ).all()
        )
    by_author = comments_by_author(app)
    grace, grace_again = by_author["Grace Hopper"]
    (ada,) = by_author["Ada Lovelace"]
    assert (grace.parent_id, ada.parent_id, grace_again.parent_id) == (None, grace.id, ada.id)
    assert (grace.depth, ada.depth, grace_again.depth) == (0, 1, 2)
    assert grace.post_id == classic_id and grace.user_id is None
    assert grace.author_url == "https://grace.example.com/"
    assert ada.author_url is None  # her website was the old blog itself
    assert "<script" not in grace.body_html and "<strong>agree</strong>" in grace.body_html
    assert by_author["Linus"][0].status is CommentStatus.PENDING
    assert by_author["Troll"][0].status is CommentStatus.TRASH
    assert "Another Blog" not in by_author  # the pingback, left out by default
    assert "Cheap Pills" not in by_author  # WordPress exports no spam
    assert emails == {
        "1": "wapuu@wordpress.example",
        "2": "grace@example.com",
        "3": "ada@example.org",
        "4": "grace@example.com",
        "5": "linus@example.net",
        "7": "troll@example.net",
    }

    client = app.test_client()
    page = client.get("/2019/06/10/making-true-connections/").get_data(as_text=True)
    assert "3 Comments" in page
    assert (
        '<a href="https://grace.example.com/" rel="nofollow ugc noopener" class="url">'
        "Grace Hopper</a>" in page
    )
    assert 'src="/media/images/2019/06/handshake-300x200.png"' in page
    assert "grace@example.com" not in page
    assert "Waiting for a moderator" not in page and "binned comment" not in page
    assert client.get("/2019/07/01/salary-notes/").status_code == 404


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/?p=6", "/2019/06/10/making-true-connections/"),
        ("/?p=5", "/2019/06/12/networking-habits/"),
        ("/?page_id=7", "/about/"),
        ("/?p=7", "/about/"),
        ("/2019/06/making-true-connections/", "/2019/06/10/making-true-connections/"),
        ("/2019/06/networking-habits", "/2019/06/12/networking-habits/"),
        ("/?cat=3", "/category/recruiting/interviews/"),
        ("/?cat=4", "/category/news-views/"),
        ("/?tag=resumes", "/tag/resumes/"),
        ("/?feed=rss2", "/feed/"),
        ("/?feed=comments-rss2", "/comments/feed/"),
        (
            "/2019/06/making-true-connections/feed/",
            "/2019/06/10/making-true-connections/feed/",
        ),
    ],
)
def test_old_links_redirect(app: Flask, runner: FlaskCliRunner, old: str, new: str) -> None:
    run_import(runner, WXR)
    response = app.test_client().get(old)
    assert response.status_code == 301
    assert response.headers["Location"] == new
    assert app.test_client().get(new).status_code == 200


def test_old_links_of_hidden_posts_are_not_found(app: Flask, runner: FlaskCliRunner) -> None:
    run_import(runner, WXR)
    client = app.test_client()
    # The private post and the draft: their old ids are known, and lead nowhere.
    assert client.get("/?p=10").status_code == 404
    assert client.get("/?p=8").status_code == 404
    assert client.get("/2019/07/salary-notes/").status_code == 404


def test_rerun_changes_nothing(app: Flask, runner: FlaskCliRunner, posts_dir: Path) -> None:
    run_import(runner, WXR, "--uploads", UPLOADS)
    files = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in posts_dir.glob("*.md")}
    with app.app_context():
        before = (
            db.session.scalar(select(func.count()).select_from(Comment)),
            db.session.scalar(select(func.count()).select_from(OldLink)),
            db.session.scalar(select(func.count()).select_from(Post)),
        )

    output = run_import(runner, WXR, "--uploads", UPLOADS)

    assert "Done: 6 comments unchanged, 3 pages unchanged" in output
    assert "added" not in output and "updated" not in output
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in posts_dir.glob("*.md")} == (
        files
    )
    with app.app_context():
        assert before == (
            db.session.scalar(select(func.count()).select_from(Comment)),
            db.session.scalar(select(func.count()).select_from(OldLink)),
            db.session.scalar(select(func.count()).select_from(Post)),
        )


def test_a_newer_export_updates_what_changed_and_keeps_local_edits(
    app: Flask, runner: FlaskCliRunner, posts_dir: Path, tmp_path: Path
) -> None:
    run_import(runner, WXR)
    edited = posts_dir / "about.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nWritten here.\n", encoding="utf-8")
    newer = tmp_path / "newer.wxr"
    text = WXR.read_text(encoding="utf-8")
    text = text.replace("Thank you, Grace!", "Thank you so much, Grace!")
    text = text.replace("Networking is a <strong>habit</strong>", "Networking is a <em>habit</em>")
    text = text.replace("I write about recruiting.", "I write about hiring.")
    newer.write_text(text, encoding="utf-8")

    output = run_import(runner, newer)

    assert "1 comments updated" in output and "1 posts updated" in output
    assert "about.md was edited here: kept as it is" in output
    assert "Written here." in edited.read_text(encoding="utf-8")
    assert "Networking is a *habit*" in (posts_dir / BLOCKS).read_text(encoding="utf-8")
    (ada,) = comments_by_author(app)["Ada Lovelace"]
    assert ada.body == "Thank you so much, Grace!"
    assert ada.parent_id is not None


def test_dry_run_changes_nothing(app: Flask, runner: FlaskCliRunner, posts_dir: Path) -> None:
    output = run_import(runner, WXR, "--dry-run", "--uploads", UPLOADS)

    assert "Dry run, nothing changed; it would be: 6 comments added" in output
    assert "6 posts added" in output and "3 pages added" in output
    assert list(posts_dir.glob("*.md")) == []
    assert list((posts_dir / "images").iterdir()) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 0
        assert db.session.scalar(select(func.count()).select_from(OldLink)) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda text: text[: len(text) // 2], "not well-formed XML at line"),
        (lambda text: "<html><body>Hello</body></html>", "not a WordPress export"),
        (
            lambda text: text.replace("<wp:wxr_version>1.2</wp:wxr_version>", ""),
            "no <wp:wxr_version>",
        ),
        (
            lambda text: text.replace(
                '<?xml version="1.0" encoding="UTF-8" ?>',
                '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">]>',
            ),
            "refused",
        ),
        (lambda text: "not xml at all", "not well-formed XML at line 1"),
    ],
)
def test_a_bad_file_changes_nothing(
    app: Flask,
    runner: FlaskCliRunner,
    posts_dir: Path,
    tmp_path: Path,
    content: Callable[[str], str],
    message: str,
) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text(content(WXR.read_text(encoding="utf-8")), encoding="utf-8")

    result = runner.invoke(args=["blog", "import", "wordpress", str(bad)])

    assert result.exit_code == 1
    assert message in result.output and "Nothing was changed." in result.output
    assert "Traceback" not in result.output
    assert list(posts_dir.glob("*.md")) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


def test_a_missing_file_is_a_clear_error(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["blog", "import", "wordpress", str(tmp_path / "none.xml")])
    assert result.exit_code == 1
    assert "no such file" in result.output


def test_pingbacks_kept_when_asked(app: Flask, runner: FlaskCliRunner) -> None:
    output = run_import(runner, WXR, "--pingbacks", "keep")
    assert "7 comments added" in output
    (pingback,) = comments_by_author(app)["Another Blog"]
    assert pingback.author_url == "https://another.example.net/2019/06/reply/"


def test_an_existing_post_file_is_never_overwritten(
    app: Flask, runner: FlaskCliRunner, posts_dir: Path
) -> None:
    mine = posts_dir / "about.md"
    mine.write_text("---\ntitle: Mine\ndate: 2020-01-01\nslug: mine\n---\n\nMine.\n", "utf-8")
    run_import(runner, WXR)
    assert mine.read_text(encoding="utf-8").startswith("---\ntitle: Mine")
    assert front(posts_dir / "about-7.md")["id"] == "wp-7"


def test_uploads_missing_keeps_the_old_url(
    app: Flask, runner: FlaskCliRunner, posts_dir: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "uploads"
    empty.mkdir()
    output = run_import(runner, WXR, "--uploads", empty)
    assert (
        "media: not found, old URL kept: https://old.example.org/wp-content/uploads/2019/06/handshake-300x200.png"
        in output
    )
    text = (posts_dir / CLASSIC).read_text(encoding="utf-8")
    assert "](https://old.example.org/wp-content/uploads/2019/06/handshake-300x200.png)" in text
    shutil.rmtree(empty)


def test_files_of_an_import_that_stopped_midway_are_adopted(
    app: Flask, runner: FlaskCliRunner, posts_dir: Path
) -> None:
    run_import(runner, WXR)
    names = sorted(p.name for p in posts_dir.glob("*.md"))
    # As if the import had stopped after writing the files, before recording them.
    with app.app_context():
        db.session.execute(delete(ImportedFile))
        db.session.commit()

    output = run_import(runner, WXR)

    assert "6 posts unchanged" in output and "edited here" not in output
    assert sorted(p.name for p in posts_dir.glob("*.md")) == names
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportedFile)) == 9


@pytest.mark.parametrize(
    "query",
    ["/?p=%00", "/?cat=%00x", "/?tag=" + "x" * 3000, "/?page_id=%ED%A0%80", "/?p=1%27%20OR%201=1"],
)
def test_hostile_old_link_queries_are_answered_calmly(
    app: Flask, runner: FlaskCliRunner, query: str
) -> None:
    run_import(runner, WXR)
    assert app.test_client().get(query).status_code in (200, 400, 404)


@pytest.mark.parametrize("path", ["/%00/", "/x%00y/feed/", "/" + "a/" * 400])
def test_hostile_old_paths_are_answered_calmly(
    app: Flask, runner: FlaskCliRunner, path: str
) -> None:
    run_import(runner, WXR)
    assert app.test_client().get(path).status_code in (400, 404)
