"""WordPress HTML to Markdown: wpautop's paragraphs, blocks, shortcodes, links, and what is
never carried over (script, handlers, javascript: links)."""

from __future__ import annotations

import pytest

from blog.content.comment_markup import render_comment
from blog.importers.convert import Conversion, Media, autop, comment_markdown, to_markdown


def conversion() -> Conversion:
    """Links to /2019/06/x/ move to /new/; images to images/; one attachment."""
    return Conversion(
        rewrite_link=lambda href: href.replace("https://old.example.org/2019/06/x/", "/new/"),
        rewrite_image=lambda src: "images/" + src.rsplit("/", 1)[-1],
        attachments={7: Media("https://old.example.org/a.png", "An A", "The caption")},
    )


def test_autop_follows_wordpress() -> None:
    assert autop("One\ntwo\n\nThree") == "<p>One<br />\ntwo</p>\n\n<p>Three</p>"
    # Block tags get no paragraph around them, and <pre> keeps its newlines.
    listed = autop("<ul><li>a</li></ul>\nAfter")
    assert "<p><ul" not in listed and "<p><li" not in listed and listed.endswith("<p>After</p>")
    assert autop("<pre>a\n\nb</pre>") == "<pre>a\n\nb</pre>"


def test_blocks_and_shortcodes() -> None:
    c = conversion()
    text = to_markdown(
        '<!-- wp:paragraph --><p>Hello <a href="https://old.example.org/2019/06/x/">x</a></p>'
        "<!-- /wp:paragraph -->\n<!-- wp:more --><!--more--><!-- /wp:more -->\n"
        '<!-- wp:shortcode -->[gallery ids="7,8"]<!-- /wp:shortcode -->',
        c,
    )
    assert text == ("Hello [x](/new/)\n\n<!--more-->\n\n![An A](images/a.png)\n\n*The caption*\n")
    assert c.notes == ["[gallery] image 8 is not in the export"]
    caption = to_markdown(
        '[caption id="attachment_7" width="300"]<a href="https://old.example.org/a.png">'
        '<img src="https://old.example.org/a-300x200.png" alt="An A"></a> Said so.[/caption]'
        "\n\n[[caption]] is how you write it.",
        conversion(),
    )
    assert caption == (
        "[![An A](images/a-300x200.png)](https://old.example.org/a.png)\n\n*Said so.*\n\n"
        "[caption] is how you write it.\n"
    )


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" JaVaScRiPt:alert(1)">x</a>',
        '<video src="x.mp4" onplay="alert(1)"></video>',
        '<iframe src="javascript:alert(1)"></iframe>',
        '<svg onload="alert(1)"><script>alert(1)</script></svg>',
        '<img src="data:text/html,alert(1)" alt="x">',
        '<img src="x.png" onerror="alert(1)" alt="x">',
    ],
)
def test_nothing_active_is_carried_over(html: str) -> None:
    text = to_markdown(f"<p>Before</p>{html}<p>After</p>", conversion())
    assert "alert" not in text and "javascript" not in text.lower() and "<script" not in text


@pytest.mark.parametrize(
    "html",
    [
        "Plain words.\n\nA second paragraph,\nwith a break.",
        "Caf\u00e9 \u2013 \u201cquoted\u201d \u2026 100%",
    ],
)
def test_plain_comments_render_as_through_the_parser(html: str) -> None:
    fast = comment_markdown(html, conversion())
    # The slow path, forced by a harmless tag that changes nothing visible.
    slow = comment_markdown(html + "<span></span>", conversion())
    assert render_comment(fast) == render_comment(slow)
