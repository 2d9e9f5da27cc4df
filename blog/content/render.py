"""Markdown to HTML for posts: extensions, excerpt, table of contents, images, reading time."""

from __future__ import annotations

import html
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from pygments.formatters import HtmlFormatter

from blog.content.frontmatter import slugify

MORE_MARKER = re.compile(r"^[ \t]*<!--\s*more\s*-->[ \t]*$", re.MULTILINE)
WORDS_PER_MINUTE = 230
_TAGS = re.compile(r"<[^>]+>")
_NOT_WORDS = re.compile(
    r'<a class="(?:headerlink|footnote-backref)"[^>]*>.*?</a>|<sup id="fnref[^"]*">.*?</sup>',
    re.DOTALL,
)
_FIRST_PARAGRAPH = re.compile(r"<p\b[^>]*>.*?</p>", re.DOTALL)


@dataclass(frozen=True)
class ImageInfo:
    """Where an image is served and how big it is."""

    url: str
    width: int
    height: int


ImageResolver = Callable[[str], ImageInfo | None]


@dataclass
class RenderedPost:
    """HTML and derived text of one post body."""

    html: str
    excerpt_html: str
    toc_html: str
    text: str
    word_count: int
    reading_minutes: int
    warnings: list[str] = field(default_factory=list)


class _ImageProcessor(Treeprocessor):
    """Points local images at their served URL, adds width/height, notes missing alt text."""

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        # Set for each document by Renderer.convert.
        self.resolver: ImageResolver | None = None
        self.warnings: list[str] = []

    def run(self, root: ET.Element) -> None:
        for img in root.iter("img"):
            src = img.get("src", "")
            if not img.get("alt", "").strip():
                self.warnings.append(f"image {src!r} has no alt text")
            img.set("loading", "lazy")
            img.set("decoding", "async")
            if self.resolver is None or re.match(r"^[a-z][a-z0-9+.-]*:|^//", src, re.I):
                continue
            info = self.resolver(src)
            if info is None:
                self.warnings.append(f"image {src!r} not found beside the posts")
                continue
            img.set("src", info.url)
            if info.width and info.height:
                img.set("width", str(info.width))
                img.set("height", str(info.height))


class _ImageExtension(Extension):
    def __init__(self) -> None:
        super().__init__()
        self.processor: _ImageProcessor | None = None

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        self.processor = _ImageProcessor(md)
        md.treeprocessors.register(self.processor, "blog_img", 5)


@lru_cache(maxsize=32)
def _cached_formatter(options: tuple[tuple[str, Any], ...]) -> HtmlFormatter[str]:
    return HtmlFormatter(**dict(options))


def _html_formatter(lang_str: str = "", **options: Any) -> HtmlFormatter[str]:
    """Pygments' HTML formatter for these options, built once and shared by every code block."""
    # The formatter codehilite builds by default (`html`, by name), which never sees lang_str:
    # codehilite passes that to formatter callables only. Formatting leaves no state behind.
    key = tuple(sorted(options.items()))
    try:
        return _cached_formatter(key)
    except TypeError:  # an unhashable option, such as a list of lines to highlight
        return HtmlFormatter(**options)


Formatter = str | Callable[..., HtmlFormatter[str]]


def _markdown(images: _ImageExtension, formatter: Formatter) -> markdown.Markdown:
    return markdown.Markdown(
        extensions=[
            "tables",
            "footnotes",
            "fenced_code",
            "codehilite",
            "toc",
            "def_list",
            "attr_list",
            "smarty",
            "sane_lists",
            images,
        ],
        extension_configs={
            "codehilite": {
                "css_class": "highlight",
                "guess_lang": False,
                "pygments_formatter": formatter,
            },
            "toc": {
                "permalink": "#",
                "permalink_title": "Link to this section",
                "slugify": _toc_slug,
            },
            "smarty": {"smart_angled_quotes": False},
        },
        output_format="html",
    )


class Renderer:
    """One configured Markdown instance, reset between documents instead of rebuilt."""

    def __init__(self, formatter: Formatter = _html_formatter) -> None:
        # Building the instance (extensions, patterns, Pygments options) is a good part of the
        # work of rendering one post, so each thread builds it once. `formatter="html"` is
        # codehilite's own default, which builds a formatter per code block.
        self.images = _ImageExtension()
        self.md = _markdown(self.images, formatter)

    def convert(self, text: str, resolver: ImageResolver | None) -> tuple[str, str, list[str]]:
        """Render one document; return (html, toc_html, warnings)."""
        assert self.images.processor is not None
        # reset() clears what the last document left: footnotes, references, TOC, stashes.
        self.md.reset()
        warnings: list[str] = []
        self.images.processor.resolver = resolver
        self.images.processor.warnings = warnings
        body = self.md.convert(text)
        toc_tokens = getattr(self.md, "toc_tokens", [])
        toc = getattr(self.md, "toc", "") if _count_headings(toc_tokens) >= 3 else ""
        return body, toc, warnings


_local = threading.local()


def _renderer() -> Renderer:
    """This thread's renderer: a Markdown instance is not safe to share between threads."""
    renderer: Renderer | None = getattr(_local, "renderer", None)
    if renderer is None:
        renderer = _local.renderer = Renderer()
    return renderer


def _toc_slug(value: str, separator: str) -> str:
    return slugify(value) or "section"


def plain_text(fragment: str) -> str:
    """Text of an HTML fragment, tags stripped and entities decoded."""
    # Heading permalinks (#), footnote numbers and back-links are marks, not words.
    fragment = _NOT_WORDS.sub(" ", fragment)
    # split() and join collapse each run of whitespace to one space and trim both ends.
    return " ".join(html.unescape(_TAGS.sub(" ", fragment)).split())


def render_markdown(text: str, resolver: ImageResolver | None = None) -> tuple[str, str, list[str]]:
    """Render Markdown; return (html, toc_html, warnings)."""
    renderer = _renderer()
    try:
        return renderer.convert(text, resolver)
    except Exception:
        # A document that failed halfway may leave parser state behind: start afresh.
        _local.renderer = None
        raise


def _count_headings(tokens: list[dict[str, object]]) -> int:
    total = 0
    for token in tokens:
        children = token.get("children")
        total += 1 + (_count_headings(children) if isinstance(children, list) else 0)
    return total


def render_post(
    body: str, summary: str = "", resolver: ImageResolver | None = None
) -> RenderedPost:
    """Render a post body and derive its excerpt, plain text and reading time."""
    parts = MORE_MARKER.split(body, maxsplit=1)
    full_html, toc, warnings = render_markdown(MORE_MARKER.sub("", body), resolver)
    if len(parts) == 2:
        excerpt = render_markdown(parts[0], resolver)[0]
    elif summary:
        excerpt = f"<p>{html.escape(summary)}</p>"
    else:
        first = _FIRST_PARAGRAPH.search(full_html)
        excerpt = first.group(0) if first else ""
    text = plain_text(full_html)
    words = len(text.split())
    return RenderedPost(
        html=full_html,
        excerpt_html=excerpt,
        toc_html=toc,
        text=text,
        word_count=words,
        reading_minutes=max(1, round(words / WORDS_PER_MINUTE)),
        warnings=warnings,
    )
