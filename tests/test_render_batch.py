"""Rendering many posts on every core gives exactly what rendering them one by one gives."""

from __future__ import annotations

from pathlib import Path

from blog.content.batch import RenderQueue
from blog.content.render import RenderedPost, render_post

BODIES = [
    (
        f"Intro {n} with *emphasis* and a [link](https://example.com/{n}).\n\n"
        "<!--more-->\n\n## A heading\n\n```python\nprint('hi')\n```\n\n"
        f"| a | b |\n|---|---|\n| {n} | x |\n\nA footnote.[^1]\n\n[^1]: The note.\n\n"
        "![](images/missing.png)\n",
        f"Summary {n}" if n % 2 else "",
    )
    for n in range(12)
]


def render_many(
    jobs: list[tuple[str, str]], posts_dir: Path, parallel_from: int | None = None
) -> list[RenderedPost]:
    """Render (body, summary) pairs in order through a RenderQueue, as the sync does."""
    with RenderQueue(posts_dir, parallel_from) as queue:
        for body, summary in jobs:
            queue.add(body, summary)
        return queue.results()


def test_the_pool_renders_exactly_what_one_process_does(posts_dir: Path) -> None:
    alone = [render_post(body, summary) for body, summary in BODIES]
    one_by_one = render_many(BODIES, posts_dir, parallel_from=len(BODIES) + 1)
    pooled = render_many(BODIES, posts_dir, parallel_from=1)
    assert [r.html for r in pooled] == [r.html for r in one_by_one] == [r.html for r in alone]
    assert pooled == one_by_one
    # The image resolver ran in the pool too: the missing image is reported, in order.
    expected = [
        "image 'images/missing.png' has no alt text",
        "image 'images/missing.png' not found beside the posts",
    ]
    assert all(r.warnings == expected for r in pooled)
    assert [r.excerpt_html for r in pooled][3].startswith("<p>Intro 3 with <em>emphasis</em>")
