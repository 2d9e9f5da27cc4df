"""Comments on a paragraph: stable anchors (content layer), the marker and its count, the
comment box with the paragraph chosen (no JavaScript needed), the quote kept through an edit
of the post, and the page cache."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from blog.content.paragraphs import add_markers, anchor_for, anchor_paragraphs, find_paragraph
from blog.content.render import render_post
from blog.extensions import db
from blog.models import Comment
from tests.conftest import sync
from tests.support.auth_helpers import form_data
from tests.support.comment_client import comment_id, log_in

Make = Callable[..., Flask]
PATH = "/2024/03/01/three-paragraphs/"
FIRST = "The first paragraph says hello."
SECOND = "The second paragraph is about trust & care <3."
THIRD = "The third paragraph ends the post."


def write(posts_dir: Path, *paragraphs: str) -> None:
    front = "---\ntitle: Three paragraphs\ndate: 2024-03-01 09:00\n---\n\n"
    (posts_dir / "three-paragraphs.md").write_text(front + "\n\n".join(paragraphs) + "\n")


def anchors(html: str) -> list[str]:
    return re.findall(r'<p id="(p-[0-9a-f-]+)"', html)


# --- the content layer ------------------------------------------------------------------------


def test_each_paragraph_gets_an_anchor_from_its_own_words() -> None:
    html = render_post(f"{FIRST}\n\n{SECOND}\n\n{THIRD}\n").html
    anchored, found = anchor_paragraphs(html)
    assert [p.id for p in found] == anchors(anchored) == [anchor_for(p.text) for p in found]
    assert found[1].text == SECOND
    # Editing another paragraph, or moving this one, keeps its anchor.
    edited = render_post(f"{THIRD}\n\nA new first paragraph.\n\n{SECOND}\n").html
    assert found[1].id in anchors(anchor_paragraphs(edited)[0])
    assert found[0].id not in anchors(anchor_paragraphs(edited)[0])


def test_repeated_paragraphs_and_named_ones() -> None:
    html = render_post("Same words.\n\nSame words.\n\nNamed one.\n{: #mine }\n").html
    anchored, found = anchor_paragraphs(html)
    first = anchor_for("Same words.")
    assert [p.id for p in found] == [first, f"{first}-2"]
    assert 'id="mine"' in anchored
    assert find_paragraph(html, f"{first}-2") is not None
    assert find_paragraph(html, "mine") is None and find_paragraph(html, "p-zz") is None


def test_markers_link_to_the_form_and_escape_what_they_print() -> None:
    anchored, found = anchor_paragraphs("<p>One.</p><p>Two.</p>")
    marked = add_markers(anchored, {found[1].id: 3}, lambda a: f'?paragraph={a}&x="<>"#respond')
    assert marked.count('class="paragraph-marker') == 2
    assert "3 comments on this paragraph" in marked and "&quot;&lt;&gt;&quot;" in marked
    assert '"<>"' not in marked


# --- on the site ------------------------------------------------------------------------------


@pytest.fixture
def site(posts_dir: Path, make_app: Make) -> Flask:
    write(posts_dir, FIRST, SECOND, THIRD)
    return make_app()


def test_a_marker_opens_the_comment_box_with_the_paragraph_quoted_without_javascript(
    site: Flask,
) -> None:
    page = site.test_client().get(PATH).text
    second = anchors(page)[1]
    marker = f'href="?paragraph={second}#respond"'
    assert marker in page and "Comment on this paragraph" in page
    # The anonymous reader follows it: the login form remembers the paragraph.
    chosen = site.test_client().get(f"{PATH}?paragraph={second}")
    assert chosen.status_code == 200
    assert "Commenting on" in chosen.text and "trust &amp; care &lt;3." in chosen.text
    assert f'name="next" value="{PATH}?paragraph={second}"' in chosen.text
    # A paragraph that is not there is no choice (and no error).
    for junk in ("p-0000000000", "<script>", "x" * 5000):
        assert (
            "Commenting on"
            not in site.test_client().get(PATH, query_string={"paragraph": junk}).text
        )

    reader = log_in(site, "para", "Pat Paragraph")
    form = form_data(reader.page(f"{PATH}?paragraph={second}"), "/comments/")
    assert form["paragraph_id"] == second
    cid = comment_id(reader.post("A comment on the second paragraph.", form=form, path=PATH))
    with site.app_context():
        row = db.session.get_one(Comment, cid)
        assert row.paragraph_id == second and row.paragraph_quote == SECOND
    shown = site.test_client().get(PATH).text
    assert f'<a href="#{second}">On this paragraph</a>' in shown
    assert "1 comment on this paragraph" in shown
    listed = site.test_client().get(f"{PATH}?paragraph={second}").text
    assert f'href="{PATH}?comment={cid}#comment-{cid}">Pat Paragraph</a>' in listed


def test_a_forged_paragraph_is_ignored_and_a_reply_carries_none(site: Flask) -> None:
    reader = log_in(site, "forger", "Fran Forger")
    form = form_data(reader.page(PATH), "/comments/")
    first = comment_id(
        reader.post("Top level.", form={**form, "paragraph_id": "p-0123456789"}, path=PATH)
    )
    second_anchor = anchors(reader.page(PATH))[1]
    form = form_data(reader.page(PATH), "/comments/")
    reply = comment_id(
        reader.post(
            "A reply.",
            form={**form, "paragraph_id": second_anchor, "parent_id": str(first)},
            path=PATH,
        )
    )
    with site.app_context():
        rows = db.session.execute(
            select(Comment.id, Comment.paragraph_id).where(Comment.id.in_([first, reply]))
        ).all()
    assert {r.paragraph_id for r in rows} == {None}


def test_an_edit_of_the_post_keeps_the_quote_and_the_comment_under_the_post(
    site: Flask, posts_dir: Path
) -> None:
    page = site.test_client().get(PATH).text
    _first, second, third = anchors(page)
    reader = log_in(site, "keeper", "Kim Keeper")
    form = form_data(reader.page(f"{PATH}?paragraph={second}"), "/comments/")
    cid = comment_id(reader.post("About the second.", form=form, path=PATH))
    write(posts_dir, "A new first paragraph.", "The second paragraph, rewritten.", THIRD)
    sync(site)
    page = site.test_client().get(PATH).text
    assert third in anchors(page) and second not in anchors(page)
    assert f'id="comment-{cid}"' in page and "On a paragraph no longer in the post" in page
    assert "The second paragraph is about trust &amp; care &lt;3." in page


@pytest.mark.sqlite_only
def test_marker_counts_stay_exact_through_the_page_cache(
    posts_dir: Path, make_app: Make, tmp_path: Path
) -> None:
    write(posts_dir, FIRST, SECOND, THIRD)
    app = make_app(PAGE_CACHE=True, PAGE_CACHE_STATE_DIR=tmp_path / "state")
    page = app.test_client().get(PATH).text
    second = anchors(page)[1]
    assert app.test_client().get(PATH).text == page  # a hit
    reader = log_in(app, "counter", "Cy Counter")
    form = form_data(reader.page(f"{PATH}?paragraph={second}"), "/comments/")
    comment_id(reader.post("Counted.", form=form, path=PATH))
    fresh = app.test_client().get(PATH)
    assert "1 comment on this paragraph" in fresh.text
    assert "Set-Cookie" not in fresh.headers and "Kim" not in fresh.text
