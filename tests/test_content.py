"""The content layer: front matter, bad posts, Markdown rendering, excerpts and images."""

from __future__ import annotations

import html
import logging
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from blog import create_app
from blog.content import parse_post_file, render_post
from blog.content.frontmatter import PostSource, Problem, parse_post_text, term_slug
from blog.content.images import image_resolver
from blog.extensions import db
from blog.models import Post
from tests.conftest import security_corpus

UTC_ZONE = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")


def parse(
    front: str, body: str = "Body.", name: str = "post.md", zone: ZoneInfo = UTC_ZONE
) -> tuple[PostSource | None, list[Problem]]:
    """Parse a post from its front matter lines; return (source, problems)."""
    return parse_post_text(name, f"---\n{front.strip()}\n---\n\n{body}\n", zone)


def ok(front: str, name: str = "post.md", zone: ZoneInfo = UTC_ZONE) -> PostSource:
    """Parse a post that must be valid."""
    source, problems = parse(front, name=name, zone=zone)
    assert problems == []
    assert source is not None
    return source


def only_problem(front: str, name: str = "post.md") -> Problem:
    """Parse a post that must have exactly one problem, and return it."""
    source, problems = parse(front, name=name)
    assert source is None
    assert len(problems) == 1, problems
    return problems[0]


def make_png(path: Path, width: int, height: int) -> Path:
    """A small real PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), (200, 30, 30)).save(path, format="PNG")
    return path


# --- front matter: every field ----------------------------------------------------------


def test_minimal_post_gets_defaults_from_the_file_name() -> None:
    source = ok("title: Hello World\ndate: 2024-05-01", name="2024-05-01-hello-world.md")
    assert source.title == "Hello World"
    assert source.slug == "hello-world"  # the leading date of the file name is dropped
    assert source.uid == "hello-world"  # id defaults to the slug
    assert source.author is None
    assert source.categories == ()
    assert source.tags == ()
    assert source.summary == ""
    assert source.draft is False
    assert source.updated_at is None
    assert source.aliases == ()
    assert source.comments_open is True
    assert source.image is None
    assert source.is_page is False
    assert source.body.strip() == "Body."


def test_every_field_is_read() -> None:
    source = ok(
        """
title: "Making: TRUE Connections"
date: 2019-06-10 09:00
id: essay-1
slug: true-connections
author: Jane Recruiter
categories: [Recruiting, Recruiting/Interviews]
tags: [trust, networking]
summary: Slow down and build trust.
draft: true
updated: 2019-07-01 10:30
aliases: [/old-essay/, /2019/06/09/old/, /essay.html]
comments: closed
image: images/cover.png
layout: page
"""
    )
    assert source.title == "Making: TRUE Connections"
    assert source.published_at == datetime(2019, 6, 10, 9, 0, tzinfo=UTC)
    assert source.uid == "essay-1"
    assert source.slug == "true-connections"
    assert source.author == "Jane Recruiter"
    assert source.categories == ("Recruiting", "Recruiting/Interviews")
    assert source.tags == ("trust", "networking")
    assert source.summary == "Slow down and build trust."
    assert source.draft is True
    assert source.updated_at == datetime(2019, 7, 1, 10, 30, tzinfo=UTC)
    assert source.aliases == ("/old-essay/", "/2019/06/09/old/", "/essay.html")
    assert source.comments_open is False
    assert source.image == "images/cover.png"
    assert source.is_page is True


@pytest.mark.parametrize(
    ("raw", "expected_utc", "local_day"),
    [
        # A bare date is midnight in the site's zone.
        ("2024-05-01", datetime(2024, 5, 1, 4, 0, tzinfo=UTC), date(2024, 5, 1)),
        # A time without a zone is in the site's zone too; late evening is the next UTC day.
        ("2024-05-01 22:30", datetime(2024, 5, 2, 2, 30, tzinfo=UTC), date(2024, 5, 1)),
        ("2024-01-15 09:00", datetime(2024, 1, 15, 14, 0, tzinfo=UTC), date(2024, 1, 15)),
        # An explicit zone wins; the local date follows the site's zone.
        ("2024-05-02T01:00:00+00:00", datetime(2024, 5, 2, 1, 0, tzinfo=UTC), date(2024, 5, 1)),
        ("2024-05-01T09:30:00+02:00", datetime(2024, 5, 1, 7, 30, tzinfo=UTC), date(2024, 5, 1)),
    ],
)
def test_dates_are_read_in_the_site_zone(raw: str, expected_utc: datetime, local_day: date) -> None:
    source = ok(f"title: T\ndate: {raw}", zone=NEW_YORK)
    assert source.published_at == expected_utc
    assert source.local_date == local_day


def test_categories_and_tags_accept_a_single_name_and_hierarchies_slugify() -> None:
    source = ok("title: T\ndate: 2024-01-01\ncategories: Recruiting\ntags: trust")
    assert source.categories == ("Recruiting",)
    assert source.tags == ("trust",)
    assert term_slug("Recruiting/Interviews") == "recruiting/interviews"
    assert term_slug("Hiring Tips, 2024!") == "hiring-tips-2024"
    assert term_slug("Café / Über Uns") == "cafe/uber-uns"


def test_comments_accept_booleans_and_alias_paths_get_a_trailing_slash() -> None:
    source = ok("title: T\ndate: 2024-01-01\ncomments: false\naliases: /old")
    assert source.comments_open is False
    assert source.aliases == ("/old/",)
    assert ok("title: T\ndate: 2024-01-01\ncomments: true").comments_open is True


# --- bad posts: file, field and what is wrong ------------------------------------------


def test_broken_yaml_names_the_file_and_the_line() -> None:
    problem = only_problem("title: [unclosed\ndate: 2024-01-01", name="broken.md")
    assert problem.file == "broken.md"
    assert problem.field == "front matter"
    # Line 3 of the file (after the opening ---): where the parser found the unclosed list.
    assert problem.message.startswith("broken YAML at line 3, column 5: ")
    assert "expected ',' or ']'" in problem.message
    assert "unicode string" not in problem.message  # no parser internals
    assert "\n" not in problem.message
    assert str(problem).startswith("broken.md: front matter: broken YAML")


@pytest.mark.parametrize(
    ("front", "field", "message"),
    [
        ("date: 2024-01-01", "title", "required"),
        ("title: '  '\ndate: 2024-01-01", "title", "required"),
        ("title: T", "date", "required"),
        ("title: T\ndate: next tuesday", "date", "cannot parse 'next tuesday'"),
        ("title: T\ndate: 2024-13-45", "date", "cannot parse '2024-13-45'"),
        ("title: T\ndate: 2024-01-01\nupdated: soon", "updated", "cannot parse 'soon'"),
        ("title: T\ndate: 2024-01-01\nsubtitle: x", "subtitle", "unknown field"),
        ("title: T\ndate: 2024-01-01\nslug: Not A Slug", "slug", "lowercase letters"),
        ("title: T\ndate: 2024-01-01\nid: has space", "id", "letters, digits"),
        ("title: T\ndate: 2024-01-01\nlayout: gallery", "layout", "must be post or page"),
        ("title: T\ndate: 2024-01-01\ncomments: maybe", "comments", "must be open or closed"),
        ("title: T\ndate: 2024-01-01\ndraft: 'perhaps'", "draft", "true or false"),
        ("title: T\ndate: 2024-01-01\nauthor: [a, b]", "author", "must be text"),
        ("title: T\ndate: 2024-01-01\ntags: {a: 1}", "tags", "list of names"),
        ("title: T\ndate: 2024-01-01\naliases: [old-path]", "aliases", "starting with /"),
        ("title: T\ndate: 2024-01-01\naliases: [/../etc/]", "aliases", "starting with /"),
        ("title: T\ndate: 2024-01-01\nslug: feed", "slug", "reserved"),
        ("title: T\ndate: 2024-01-01\nslug: '2019'", "slug", "reserved"),
        # Longer than the database columns: PostgreSQL would refuse the whole sync.
        (f"title: {'x' * 301}\ndate: 2024-01-01", "title", "longer than 300"),
        (f"title: T\ndate: 2024-01-01\nslug: {'s' * 201}", "slug", "longer than 200"),
        (f"title: T\ndate: 2024-01-01\ntags: [{'t' * 201}]", "tags", "longer than 200"),
    ],
)
def test_each_bad_field_is_reported(front: str, field: str, message: str) -> None:
    problem = only_problem(front, name="bad.md")
    assert (problem.file, problem.field) == ("bad.md", field)
    assert message in problem.message


def test_every_problem_of_a_file_is_listed() -> None:
    source, problems = parse("date: someday\ncolour: blue")
    assert source is None
    assert {p.field for p in problems} == {"title", "date", "colour"}


def test_a_file_without_front_matter_or_utf8_is_reported(tmp_path: Path) -> None:
    assert parse_post_text("plain.md", "Just text.\n", UTC_ZONE)[1] == [
        Problem("plain.md", "front matter", "missing: the file must start with ---")
    ]
    latin = tmp_path / "latin.md"
    latin.write_bytes("---\ntitle: Caf\xe9\n---\n".encode("latin-1"))
    source, problems = parse_post_file(latin, UTC_ZONE)
    assert source is None
    assert [(p.file, p.field) for p in problems] == [("latin.md", "file")]
    assert "UTF-8" in problems[0].message


def test_a_yaml_list_instead_of_a_mapping_is_reported() -> None:
    problem = only_problem("- title\n- date")
    assert problem.field == "front matter"
    assert "mapping" in problem.message


BAD_FILES = {
    "broken-yaml": ("---\ntitle: [oops\ndate: 2024-01-01\n---\n\nBody\n", "front matter"),
    "no-title": ("---\ndate: 2024-01-01\n---\n\nBody\n", "title"),
    "bad-date": ("---\ntitle: Bad date\ndate: 31/02/2024\n---\n\nBody\n", "date"),
    "unknown-field": ("---\ntitle: U\ndate: 2024-01-01\nmood: happy\n---\n\nBody\n", "mood"),
    "dup-slug": ("---\ntitle: Dup\ndate: 2024-01-01\nslug: good-post\n---\n\nBody\n", "slug"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_post_is_skipped_and_logged_while_the_others_are_served(
    name: str,
    write_post: Callable[..., Path],
    make_app: Callable[..., Flask],
    caplog: pytest.LogCaptureFixture,
) -> None:
    write_post("good-post", title="Good Post", body="All is well.")
    raw, field = BAD_FILES[name]
    write_post(f"zz-{name}", raw=raw)
    with caplog.at_level(logging.WARNING, logger="blog.publishing.hooks"):
        app = make_app()
    logged = [r.getMessage() for r in caplog.records if r.name == "blog.publishing.hooks"]
    assert len(logged) == 1
    assert f"zz-{name}.md: {field}:" in logged[0]

    client = app.test_client()
    home = client.get("/")
    assert home.status_code == 200
    assert "Good Post" in home.get_data(as_text=True)
    assert client.get("/2024/01/15/good-post/").status_code == 200
    with app.app_context():
        files = set(db.session.scalars(db.select(Post.source_path)))
    assert files == {"good-post.md"}


# --- rendering --------------------------------------------------------------------------


def test_tables_footnotes_definition_lists_and_attribute_lists() -> None:
    out = render_post(
        """
| Stage | Days |
| ----- | ---: |
| Screen | 2 |

A claim.[^1]

Recruiter
:   Someone who connects people.

A lead paragraph.
{: .lead #intro }

[^1]: The source.
"""
    ).html
    assert re.search(r"<table>\s*<thead>\s*<tr>\s*<th>Stage</th>", out)
    assert '<td style="text-align: right;">2</td>' in out
    assert re.search(r'<sup id="fnref:1"><a class="footnote-ref" href="#fn:1"', out)
    assert re.search(r'<div class="footnote">.*<li id="fn:1">.*The source\.', out, re.DOTALL)
    assert "<dl>\n<dt>Recruiter</dt>\n<dd>Someone who connects people.</dd>" in out
    assert '<p class="lead" id="intro">A lead paragraph.</p>' in out


def test_fenced_code_is_highlighted_with_pygments_classes_and_no_smart_quotes() -> None:
    out = render_post('```python\ndef greet():\n    return "hi"\n```\n').html
    assert '<div class="highlight">' in out
    assert '<span class="k">def</span>' in out
    assert '<span class="nf">greet</span>' in out
    # Straight quotes stay straight in code: no smart quotes, as entity or character.
    assert re.search(r'<span class="s2">(&quot;|")hi(&quot;|")</span>', out)
    assert "ldquo" not in out
    assert "\u201c" not in out
    assert "style=" not in out  # classes, not inline styles: the CSS files carry the colours


@pytest.mark.parametrize("name", ["code-light.css", "code-dark.css"])
def test_light_and_dark_pygments_styles_are_shipped(name: str) -> None:
    from blog.config import PROJECT_ROOT

    css = (PROJECT_ROOT / "static" / "css" / name).read_text(encoding="utf-8")
    assert ".highlight .k" in css
    assert ".highlight .nf" in css


def test_headings_get_anchors_and_a_table_of_contents_from_three_headings() -> None:
    three = render_post("## First part\n\nA.\n\n## Second part\n\nB.\n\n### Detail\n\nC.\n")
    assert re.search(
        r'<h2 id="first-part">First part<a class="headerlink" href="#first-part"', three.html
    )
    assert '<h3 id="detail">' in three.html
    assert '<div class="toc">' in three.toc_html
    assert '<a href="#second-part">Second part</a>' in three.toc_html
    assert '<a href="#detail">Detail</a>' in three.toc_html
    two = render_post("## First part\n\nA.\n\n## Second part\n\nB.\n")
    assert '<h2 id="second-part">' in two.html
    assert two.toc_html == ""


def test_a_post_with_three_headings_shows_its_table_of_contents(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    write_post("guide", body="## One\n\nA.\n\n## Two\n\nB.\n\n## Three\n\nC.\n")
    write_post("short", body="## Only\n\nA.\n")
    client = make_app().test_client()
    page = client.get("/2024/01/15/guide/").get_data(as_text=True)
    toc = re.search(r'<nav class="toc-box" aria-label="Contents">(.*?)</nav>', page, re.DOTALL)
    assert toc is not None
    assert re.findall(r'href="#([\w-]+)"', toc.group(1)) == ["one", "two", "three"]
    assert '<h2 id="three">Three<a class="headerlink" href="#three"' in page
    assert "toc-box" not in client.get("/2024/01/15/short/").get_data(as_text=True)


def test_smart_quotes_and_dashes() -> None:
    text = html.unescape(render_post('"Hello," she said -- it\'s 9--5 --- always.').html)
    assert "“Hello,” she said – it’s 9–5 — always." in text  # noqa: RUF001


def test_excerpt_is_the_text_before_the_more_marker() -> None:
    out = render_post("Opening **lines**.\n\n<!--more-->\n\nThe rest.", summary="Ignored summary.")
    assert out.excerpt_html == "<p>Opening <strong>lines</strong>.</p>"
    assert "more" not in out.html
    assert "The rest." in out.html


def test_excerpt_falls_back_to_the_summary_then_the_first_paragraph() -> None:
    with_summary = render_post("First para.\n\nSecond para.", summary="A <short> summary.")
    assert with_summary.excerpt_html == "<p>A &lt;short&gt; summary.</p>"
    plain = render_post("## Heading\n\nFirst para.\n\nSecond para.")
    assert plain.excerpt_html == "<p>First para.</p>"


def test_word_count_and_reading_time() -> None:
    body = "## Heading\n\n" + " ".join(["word"] * 689) + "[^1]\n\n[^1]: note"
    out = render_post(body)
    # The heading, 689 words and the note: permalink marks and back-links are not words.
    assert out.word_count == 1 + 689 + 1
    assert out.reading_minutes == 3  # 230 words a minute
    assert "#" not in out.text
    assert render_post("Short.").reading_minutes == 1


# --- images -----------------------------------------------------------------------------


def test_local_images_get_their_served_url_and_size(posts_dir: Path) -> None:
    make_png(posts_dir / "images" / "photo.png", 12, 7)
    out = render_post(
        "![A photo](images/photo.png)\n\n![Same](./images/photo.png)\n\n"
        "![Remote](https://example.com/x.png)",
        resolver=image_resolver(posts_dir),
    )
    tags = re.findall(r'<img [^>]*src="/media/images/photo.png"[^>]*>', out.html)
    assert len(tags) == 2
    assert all('width="12"' in tag and 'height="7"' in tag for tag in tags)
    assert 'src="https://example.com/x.png"' in out.html
    assert out.warnings == []


def test_missing_alt_text_and_missing_files_are_warned(posts_dir: Path) -> None:
    make_png(posts_dir / "images" / "photo.png", 4, 4)
    out = render_post(
        "![](images/photo.png)\n\n![Gone](images/gone.png)\n\n![Up](../outside.png)",
        resolver=image_resolver(posts_dir),
    )
    assert "image 'images/photo.png' has no alt text" in out.warnings
    assert "image 'images/gone.png' not found beside the posts" in out.warnings
    assert "image '../outside.png' not found beside the posts" in out.warnings


def test_an_image_is_served_at_media_with_its_size_on_the_page(
    posts_dir: Path, write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    png = make_png(posts_dir / "images" / "chart.png", 30, 20)
    write_post("with-image", body="![A chart of hires](images/chart.png)")
    client = make_app().test_client()
    page = client.get("/2024/01/15/with-image/").get_data(as_text=True)
    tag = re.search(r'<img [^>]*src="/media/images/chart.png"[^>]*>', page)
    assert tag is not None
    assert 'width="30"' in tag.group(0)
    assert 'height="20"' in tag.group(0)
    assert 'alt="A chart of hires"' in tag.group(0)
    with client.get("/media/images/chart.png") as media:
        assert media.status_code == 200
        assert media.mimetype == "image/png"
        assert media.data == png.read_bytes()


def corpus_params(name: str) -> list[object]:
    """A bad-input corpus as parameters; one skipped parameter when the corpus is absent."""
    try:
        return list(security_corpus(name))
    except pytest.skip.Exception as exc:
        return [pytest.param("", marks=pytest.mark.skip(reason=str(exc)))]


@pytest.fixture(scope="module")
def media_client(
    tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path
) -> Iterator[FlaskClient]:
    """One app for the module whose posts/ has an image, with secrets right outside it."""
    root = tmp_path_factory.mktemp("media")
    posts = root / "posts"
    make_png(posts / "images" / "ok.png", 2, 2)
    (root / "secret.png").write_bytes(b"SECRET-OUTSIDE-POSTS")
    (root / "blog.cfg").write_text("SECRET = 'SECRET-OUTSIDE-POSTS'\n")
    (posts / "images" / "link.png").symlink_to(root / "secret.png")
    database = root / "blog.db"
    shutil.copyfile(migrated_sqlite, database)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "POSTS_DIR": posts,
            "SYNC_ON_START": False,
            "SYNC_ON_REQUEST": False,
        }
    )
    yield app.test_client()
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    "path",
    [
        "/media/../secret.png",
        "/media/%2e%2e/secret.png",
        "/media/images/..%2f..%2fsecret.png",
        "/media/images/%2e%2e/%2e%2e/secret.png",
        "/media/%2Fetc%2Fpasswd",
        "/media//etc/passwd",
        "/media/images/link.png",
        "/media/images/ok.png%00.md",
        "/media/images/o%00k.png",
        "/media/../blog.cfg",
        "/media/images/",
    ],
)
def test_media_refuses_paths_outside_posts(media_client: FlaskClient, path: str) -> None:
    # `//` is first merged into `/` by a redirect; where it lands must still refuse. A NUL is
    # refused (400) before any view sees it.
    with media_client.get(path, follow_redirects=True) as response:
        assert response.status_code == (400 if "%00" in path else 404)
        assert b"SECRET-OUTSIDE-POSTS" not in response.data


def test_media_serves_what_is_inside_posts(media_client: FlaskClient) -> None:
    with media_client.get("/media/images/ok.png") as response:
        assert response.status_code == 200
        assert response.data.startswith(b"\x89PNG")


@pytest.mark.parametrize("payload", corpus_params("pat_dir_traversal.txt"))
def test_media_refuses_the_traversal_corpus(media_client: FlaskClient, payload: str) -> None:
    with media_client.get("/media/" + payload, follow_redirects=True) as response:
        # 400: a NUL (`%00`) anywhere in a URL is refused before any view sees it.
        assert response.status_code in (200, 400, 404), response.status_code
        if response.status_code == 200:
            # Only ever a file that lives under posts/.
            assert response.data.startswith(b"\x89PNG")
        assert b"SECRET-OUTSIDE-POSTS" not in response.data
        assert b"root:" not in response.data
