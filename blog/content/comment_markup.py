"""Comment text: a small Markdown subset, rendered once and sanitised with nh3 after Markdown."""

from __future__ import annotations

import re
import threading

import markdown
import nh3

ALLOWED_TAGS = frozenset(
    {"p", "br", "em", "strong", "code", "pre", "a", "blockquote", "ul", "ol", "li"}
)
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener noreferrer"
MAX_COMMENT_CHARS = 5000
# fenced_code: readers write ``` blocks; nl2br: a line break is a line break, as they typed it.
EXTENSIONS = ["fenced_code", "nl2br", "sane_lists"]


# What XML 1.0 cannot carry (feeds are XML): C0 controls but tab, newline and return, and the
# two non-characters U+FFFE and U+FFFF. NUL is among them, which PostgreSQL refuses too.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Lone surrogates (JSON can send "\\ud800") cannot be encoded as UTF-8, for a database or a page.
_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """The text with each lone surrogate replaced by U+FFFD, so that it encodes as UTF-8."""
    return _SURROGATE.sub("\ufffd", text)


def xml_text(text: str) -> str:
    """The text without what XML 1.0 cannot carry; lone surrogates become U+FFFD."""
    return _NOT_XML.sub("", valid_unicode(text))


def normalise_text(text: str) -> str:
    """Typed text as stored: Unix newlines, nothing XML cannot carry, no outer blanks."""
    return xml_text(text.replace("\r\n", "\n")).strip()


_local = threading.local()
# Built once: nh3.clean builds the same sanitiser from these sets on every call.
_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    link_rel=LINK_REL,
    strip_comments=True,
)


def _renderer() -> markdown.Markdown:
    # Building a Markdown instance costs more than converting a comment; one per thread,
    # since an instance keeps state while it converts.
    found: markdown.Markdown | None = getattr(_local, "markdown", None)
    if found is None:
        found = _local.markdown = markdown.Markdown(extensions=EXTENSIONS, output_format="html")
    return found


def render_comment(text: str) -> str:
    """Markdown (paragraphs, breaks, emphasis, code, links, quotes, lists) to safe HTML."""
    renderer = _renderer()
    try:
        html = renderer.convert(text)
    finally:
        renderer.reset()
    return _CLEANER.clean(html)
