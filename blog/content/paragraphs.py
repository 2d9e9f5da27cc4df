"""Paragraph anchors: every paragraph of a rendered post gets an id derived from its own text.

An anchor depends only on the paragraph's words, so editing another paragraph (or moving this
one) keeps it, and a comment on it can still find it; a paragraph whose text changes gets a
new anchor, and comments on the old text keep their quote. Pure Python, like the rest of the
content layer: the markers with comment counts are added to the HTML here too.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from blog.content.render import plain_text

# A paragraph as Python-Markdown writes it: no nesting, attributes only from attr_list.
_PARAGRAPH = re.compile(r"<p(?P<attrs>\s[^>]*)?>(?P<inner>.*?)</p>", re.DOTALL)
_ID = re.compile(r"""\bid=(?:"([^"]*)"|'([^']*)')""")
ANCHOR = re.compile(r"p-[0-9a-f]{10}(?:-[0-9]{1,3})?")
QUOTE_CHARS = 600


@dataclass(frozen=True)
class Paragraph:
    """One paragraph: its anchor and its plain text."""

    id: str
    text: str


def anchor_for(text: str) -> str:
    """The anchor of a paragraph with this plain text."""
    words = " ".join(text.split())
    return "p-" + hashlib.sha1(words.encode(), usedforsecurity=False).hexdigest()[:10]


def anchor_paragraphs(body_html: str) -> tuple[str, list[Paragraph]]:
    """The post's HTML with an id on every paragraph, and the paragraphs in order.

    A paragraph that already has an id (the author's `{#name}`) keeps it and is left out;
    two paragraphs with the same words get `-2`, `-3` after the first one's anchor.
    """
    found: list[Paragraph] = []
    seen: dict[str, int] = {}

    def add_id(match: re.Match[str]) -> str:
        attrs = match.group("attrs") or ""
        text = plain_text(match.group("inner"))
        if not text:
            return match.group(0)
        if _ID.search(attrs):
            return match.group(0)  # the author named it: their anchor, no marker
        anchor = anchor_for(text)
        seen[anchor] = seen.get(anchor, 0) + 1
        if seen[anchor] > 1:
            anchor = f"{anchor}-{seen[anchor]}"
        found.append(Paragraph(anchor, text))
        return f'<p id="{anchor}"{attrs}>{match.group("inner")}</p>'

    return _PARAGRAPH.sub(add_id, body_html), found


def find_paragraph(body_html: str, anchor: str) -> Paragraph | None:
    """The paragraph with this anchor in a post's HTML; None when it is gone."""
    if not ANCHOR.fullmatch(anchor):
        return None
    return next((p for p in anchor_paragraphs(body_html)[1] if p.id == anchor), None)


def quote_of(paragraph: Paragraph) -> str:
    """The words a comment keeps of its paragraph: all of them, or the first few hundred."""
    if len(paragraph.text) <= QUOTE_CHARS:
        return paragraph.text
    return paragraph.text[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"


def add_markers(anchored_html: str, counts: Mapping[str, int], href: Callable[[str], str]) -> str:
    """Each anchored paragraph with a marker in its margin: a link to comment on it, showing
    how many comments it has."""

    def mark(match: re.Match[str]) -> str:
        own = _ID.search(match.group("attrs") or "")
        anchor = (own.group(1) or own.group(2) or "") if own else ""
        if not ANCHOR.fullmatch(anchor):
            return match.group(0)
        count = counts.get(anchor, 0)
        label = (
            f"{count} comment{'s' if count != 1 else ''} on this paragraph; add yours"
            if count
            else "Comment on this paragraph"
        )
        marker = (
            f'<a class="paragraph-marker{" has-comments" if count else ""}" '
            f'href="{html.escape(href(anchor))}" aria-label="{label}" title="{label}">'
            f'<span aria-hidden="true">{count if count else "+"}</span></a>'
        )
        return f"<p{match.group('attrs')}>{match.group('inner')}{marker}</p>"

    return _PARAGRAPH.sub(mark, anchored_html)
