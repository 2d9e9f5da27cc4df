"""One Markdown instance per thread, reset between posts, and one Pygments formatter per set of
options: every post still renders exactly as a fresh Python-Markdown, as it comes, renders it."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from blog.content import render
from blog.content.images import image_resolver
from blog.content.render import Renderer, render_markdown, render_post

FIRST = """Intro with a claim[^1] and a [reference][docs] and a note[^note].

## Intro

Text.

## Intro

*[HTML]: Hyper Text Markup Language

HTML is mentioned here.

### Details

[docs]: https://example.com/docs "The docs"
[^1]: The first source.
[^note]: A named note.
"""

SECOND = """Another claim[^1], and [docs] without a definition in this post.

## Intro

## Intro

### Details

HTML again.

[^1]: The second post's only note.
"""

# Every inline syntax, each next to the others' characters.
TRICKY = """Intro "quotes" and 'single' -- dashes --- ellipses... and <<angles>>, 'tis the '90s.
He said "it's 'nested'" -- ok. Footnote[^a], [^missing] and a\\*escaped\\* star, &amp; &copy; &x
& < > and 2*3*4 and a * b, snake_case_name, __strong__, _em_, ***both***, **_mixed_**.
A hard break{BREAK}here, a soft one
there. <https://example.com/x> <me@example.com> <span class="x">*html*</span> <!-- c -->

[ref][r1], [short ref], [Short Ref], ![img][i1], ![inline](pic.png "t"), [in](/p 'T'),
[link with `code` and *em*](http://x "t"), [![nested](i.png)](u), `` a ` b ``, ```t```.

[r1]: https://example.com/r1 "Ref One"
[short ref]: /short
[i1]: ./images/one.png

## Heading *one* "quoted" {#custom-id .cls}

Term
:   Definition with *em* -- and "quotes".

| Col `a` | Col "b" |
|:--------|--------:|
| 1 -- 2  | it's    |

```python
print("quote's" -- 1)
```

    indented "code" -- *stars*

> Quote with [^a] -- dash and 'quotes'.

* item "one"
    1. nested 'two'

[^a]: Footnote with *em*, a [link](https://x.y) and "quotes".
""".replace("{BREAK}", "  \n")  # two trailing spaces: a <br>


# One syntax each, so that one cannot hide behind another.
SNIPPETS = [
    "`code`",
    "a \\` b",
    "\\*not em\\*",
    "note[^1]\n\n[^1]: n",
    "[ref]\n\n[ref]: /r",
    "[text](/u)",
    "![alt](i.png)",
    "![alt][i]\n\n[i]: i.png",
    "[Short]\n\n[short]: /s",
    "![Short]\n\n[short]: s.png",
    "<https://example.com>",
    "<me@example.com>",
    "line  \nbreak",
    "<b>bold</b>",
    "&copy; &#169; &#xA9;",
    "*em* **strong**",
    "_em_ __strong__",
    "a---b",
    "a--b",
    "wait...",
    "'single'",
    '"double"',
    "it's the '90s",
    "<<angled>>",
    "`it's -- code`, no prose quotes",
    "    indented 'code' -- only",
    # Code blocks: one Pygments formatter per set of options, shared by every block.
    "```python\nx = 'a'\n```\n\n```python\ny = 2\n```",
    '```python hl_lines="1 3"\na = 1\nb = 2\nc = 3\n```',
    '``` { .sql linenums="1" }\nSELECT 1;\n```',
    "```nosuchlanguage\n<tag> & 'x'\n```",
    "```\nno language\n```",
    "    :::bash\n    echo 'hi'",
    "    #!/usr/bin/env python\n    print(1)",
    # Blocks, one processor each.
    "a | b\n--|--\n1 | 2",
    "## Heading ##",
    "Title\n=====",
    "Subtitle\n--------",
    "para\n\n***\n\n___\n\n- - -",
    "Term\n:   Definition",
    "> quoted\n> lines",
    "text[^n]\n\n[^n]: The note\n    continued.",
    "[link][r]\n\n[r]: https://example.com/r 'Title'",
    "[r]: /only-a-definition",
]


def fresh(text: str) -> tuple[str, str, list[str]]:
    """What a new Python-Markdown with codehilite's own formatter renders: the behaviour to keep."""
    return Renderer(formatter="html").convert(text, None)


def test_a_reused_renderer_leaks_nothing_from_one_post_into_the_next() -> None:
    first, second = render_markdown(FIRST), render_markdown(SECOND)
    assert first == fresh(FIRST)
    assert second == fresh(SECOND)
    html, toc, _ = second
    # Footnotes are numbered from 1 again, and only this post's are listed.
    assert '<sup id="fnref:1"><a class="footnote-ref" href="#fn:1">1</a></sup>' in html
    assert "named note" not in html
    assert "first source" not in html
    # The previous post's reference definition does not resolve this post's [docs].
    assert "[docs]" in html
    assert "example.com/docs" not in html
    # Heading ids start over: the same headings get the same ids as in the first post.
    assert re.findall(r'<h\d id="([^"]+)"', html) == ["intro", "intro_1", "details"]
    assert re.findall(r'<h\d id="([^"]+)"', first[0]) == ["intro", "intro_1", "details"]
    assert 'href="#intro_1"' in toc
    # Abbreviations are not an extension here, in the first post or the next.
    assert "<abbr" not in first[0] + html
    assert render_markdown(FIRST) == first


def test_one_renderer_renders_every_syntax_as_a_fresh_one() -> None:
    renderer = Renderer()
    # Line by line too, so that each syntax is also seen without the others.
    texts = [TRICKY, FIRST, SECOND, "", "plain words only", *TRICKY.splitlines(), *SNIPPETS]
    for text in texts:
        assert renderer.convert(text, None) == fresh(text), text


def test_posts_render_as_before_through_render_post(posts_dir: Path) -> None:
    resolver = image_resolver(posts_dir)
    for body in (TRICKY, FIRST, SECOND, FIRST):
        out = render_post(body, "", resolver)
        html, toc, warnings = Renderer(formatter="html").convert(body, resolver)
        assert (out.html, out.toc_html, out.warnings) == (html, toc, warnings)


def test_each_thread_renders_with_its_own_markdown() -> None:
    bodies = [
        f"Post {n}[^1] with *em*.\n\n## A\n\n## B\n\n## C\n\n[^1]: Note {n}." for n in range(40)
    ]
    expected = [render_post(b) for b in bodies]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(render_post, bodies)) == expected


def test_a_render_that_fails_halfway_leaves_nothing_behind() -> None:
    def broken(src: str) -> render.ImageInfo | None:
        raise OSError("disk gone")

    render_markdown(FIRST)
    used = render._renderer()
    with pytest.raises(OSError, match="disk gone"):
        render_markdown(SECOND + "\n![alt](images/x.png)\n", broken)
    assert render._renderer() is not used
    assert render_markdown(SECOND) == fresh(SECOND)
