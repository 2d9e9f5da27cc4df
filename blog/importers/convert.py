"""WordPress post and comment HTML to Markdown, as WordPress itself would have shown it.

Classic-editor text has no `<p>`: WordPress adds paragraphs on output (wpautop), and so do we,
by the same rule. Block-editor text has its `<!-- wp:... -->` comments dropped. `[caption]`
and `[gallery]` become images with their captions; then markdownify writes Markdown, keeping as
HTML what Markdown cannot say (video, iframes, audio). What could not be carried over is noted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any, cast
from urllib.parse import urlsplit

import nh3
from bs4 import Tag
from markdownify import MarkdownConverter

# Block-level tags, as WordPress's wpautop lists them: no paragraph is wrapped around them.
_BLOCKS = (
    "table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map"
    "|area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|article|aside"
    "|hgroup|header|footer|nav|figure|figcaption|details|menu|summary|video|audio|iframe"
)
_BLOCK_OPEN = re.compile(rf"(<(?:{_BLOCKS})[\s/>])", re.IGNORECASE)
_BLOCK_CLOSE = re.compile(rf"(</(?:{_BLOCKS})>)", re.IGNORECASE)
_STARTS_BLOCK = re.compile(rf"^</?(?:{_BLOCKS})[\s/>]", re.IGNORECASE)
_PRE = re.compile(r"<pre[\s>].*?</pre>", re.IGNORECASE | re.DOTALL)
_BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:[^>]*?-->\n?")
_MORE = re.compile(r"<!--more(?:\s[^>]*)?-->", re.IGNORECASE)
_NOTEASER = re.compile(r"<!--noteaser-->", re.IGNORECASE)
MORE_MARK = "WPIMPORTMOREMARK"
_SHORTCODE = re.compile(r"\[(\[?)(\w[\w-]*)([^\]]*?)(/?)\](?:(.*?)\[/\2\])?(\]?)", re.DOTALL)
_CODE = re.compile(r"(<pre[\s>].*?</pre>|<code[\s>].*?</code>)", re.IGNORECASE | re.DOTALL)
_ATTRIBUTE = re.compile(r"""(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
# Kept as they are: Markdown has no word for them.
_KEPT_AS_HTML = ("video", "audio", "iframe", "embed", "object", "svg", "details")
# What is kept as HTML keeps only what shows media: no handlers, no script, http(s) sources.
_MEDIA = {"src", "width", "height", "title"}
_KEPT_CLEANER = nh3.Cleaner(
    tags={"video", "audio", "source", "track", "iframe", "details", "summary", "p", "a", "em"},
    attributes={
        "video": _MEDIA | {"controls", "poster", "loop", "muted", "preload", "playsinline"},
        "audio": {"src", "controls", "loop", "preload"},
        "source": {"src", "type"},
        "track": {"src", "kind", "srclang", "label"},
        "iframe": _MEDIA | {"allow", "allowfullscreen", "loading", "referrerpolicy"},
        "a": {"href"},
    },
    url_schemes={"http", "https"},
    link_rel=None,
)
_DROPPED = ("script", "style", "form", "input", "button", "select", "textarea", "noscript")


def has_blocks(html: str) -> bool:
    """True for block-editor content (WordPress then applies no wpautop)."""
    return "<!-- wp:" in html


def autop(text: str) -> str:
    """WordPress's wpautop: blank lines make paragraphs, a single newline a `<br>`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        """Set a <pre> aside, leaving a placeholder wpautop passes over."""
        kept.append(match.group(0))
        return f"<wpimportpre{len(kept) - 1}></wpimportpre>"

    text = _PRE.sub(keep, text)
    text = _BLOCK_OPEN.sub(r"\n\n\1", text)
    text = _BLOCK_CLOSE.sub(r"\1\n\n", text)
    text = re.sub(r"(?<!\[)(\[(?:caption|gallery|embed)[^\]]*\])(?!\])", r"\n\n\1", text)
    text = re.sub(r"(?<!\[)(\[/(?:caption|embed)\])(?!\])", r"\1\n\n", text)
    text = _MORE.sub(lambda m: f"\n\n{m.group(0)}\n\n", text)
    chunks = [c.strip() for c in re.split(r"\n\s*\n", text) if c.strip()]
    out = []
    for chunk in chunks:
        if (
            _STARTS_BLOCK.match(chunk)
            or chunk.startswith(("<wpimportpre", "[caption", "[gallery", "[embed", "<!--"))
            or _BLOCK_CLOSE.search(chunk)
        ):
            out.append(chunk)
        else:
            out.append("<p>" + re.sub(r"\s*\n\s*", "<br />\n", chunk) + "</p>")
    joined = "\n\n".join(out)
    return re.sub(r"<wpimportpre(\d+)></wpimportpre>", lambda m: kept[int(m.group(1))], joined)


@dataclass(frozen=True)
class Media:
    """An attachment of the old site: its URL, alt text and caption."""

    url: str
    alt: str = ""
    caption: str = ""


@dataclass
class Conversion:
    """What converting one text needs (how links and images move) and what it noted."""

    rewrite_link: Callable[[str], str]
    rewrite_image: Callable[[str], str]
    attachments: dict[int, Media] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        """Remember something that could not be carried over, once."""
        if message not in self.notes:
            self.notes.append(message)


def _attributes(text: str) -> dict[str, str]:
    return {
        m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
        for m in _ATTRIBUTE.finditer(text)
    }


def _figure(img_html: str, caption: str) -> str:
    caption = caption.strip()
    inner = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f"<figure>{img_html.strip()}{inner}</figure>"


def shortcodes(text: str, conversion: Conversion) -> str:
    """`[caption]` and `[gallery]` as figures; `[embed]` as a link; others kept and noted."""

    def replace(match: re.Match[str]) -> str:
        """One shortcode as HTML, or as it was."""
        if match.group(1) == "[" and match.group(6) == "]":
            return match.group(0)[1:-1]  # [[escaped]] shortcodes are literal text
        name, attrs, body = match.group(2).lower(), _attributes(match.group(3)), match.group(5)
        if name in ("caption", "wp_caption"):
            body = body or ""
            image = re.match(r"\s*((?:<a [^>]*>)?\s*<img [^>]*>\s*(?:</a>)?)(.*)", body, re.S)
            if image is None:
                return body
            return _figure(image.group(1), attrs.get("caption") or image.group(2))
        if name == "gallery":
            return _gallery(attrs, conversion)
        if name == "embed" and body:
            url = body.strip()
            return f'<p><a href="{escape(url)}">{escape(url)}</a></p>'
        if attrs or body is not None:  # a plugin's shortcode, not a word in brackets
            conversion.note(f"shortcode [{match.group(2)}] kept as text")
        return match.group(0)

    # Code shows its brackets as they are.
    parts = _CODE.split(text)
    return "".join(p if i % 2 else _SHORTCODE.sub(replace, p) for i, p in enumerate(parts))


def _gallery(attrs: dict[str, str], conversion: Conversion) -> str:
    ids = [int(i) for i in re.findall(r"\d+", attrs.get("ids", attrs.get("include", "")))]
    if not ids:
        conversion.note("[gallery] without ids (the post's attached images) left out")
        return ""
    figures = []
    for media_id in ids:
        media = conversion.attachments.get(media_id)
        if media is None:
            conversion.note(f"[gallery] image {media_id} is not in the export")
            continue
        img = f'<img src="{escape(media.url)}" alt="{escape(media.alt)}">'
        figures.append(_figure(img, escape(media.caption)))
    return "\n\n".join(figures)


class _Converter(MarkdownConverter):
    """markdownify with our links and images, and HTML kept where Markdown has no word."""

    def __init__(self, conversion: Conversion, **options: Any) -> None:
        super().__init__(**options)
        self.conversion = conversion

    def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """A link, pointing at the new permalink when it was to the old site."""
        href = el.get("href")
        if isinstance(href, str):
            scheme = urlsplit(href.strip()).scheme.lower()
            if scheme not in ("", "http", "https", "mailto"):
                self.conversion.note(f"a {scheme}: link left as plain text")
                return text
            el["href"] = self.conversion.rewrite_link(href)
        return str(cast(Any, super()).convert_a(el, text, parent_tags))

    def convert_img(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """An image from posts/images/ when we have it, with its alt text."""
        src = el.get("src")
        if isinstance(src, str):
            if urlsplit(src.strip()).scheme.lower() not in ("", "http", "https"):
                self.conversion.note("an image from a data: or other non-web address left out")
                return ""
            el["src"] = self.conversion.rewrite_image(src)
        if not el.get("alt"):
            self.conversion.note(f"image {el.get('src')} has no alt text")
        return str(cast(Any, super()).convert_img(el, text, {*parent_tags} - {"_inline"}))

    def convert_figure(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """A figure's content; its caption an emphasised line under it."""
        return f"\n\n{text.strip()}\n\n"

    def convert_figcaption(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        """A caption: an emphasised line under its image."""
        return f"\n\n*{text.strip()}*\n\n" if text.strip() else ""

    def _kept(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        kept = _KEPT_CLEANER.clean(str(el)).strip()
        if not kept or (el.name == "iframe" and "src=" not in kept):
            self.conversion.note(f"<{el.name}> left out")
            return ""
        self.conversion.note(f"<{el.name}> kept as HTML")
        return f"\n\n{kept}\n\n"

    def _dropped(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        self.conversion.note(f"<{el.name}> left out")
        return ""


for _tag in _KEPT_AS_HTML:
    setattr(_Converter, f"convert_{_tag}", _Converter._kept)
for _tag in _DROPPED:
    setattr(_Converter, f"convert_{_tag}", _Converter._dropped)


def to_markdown(html: str, conversion: Conversion) -> str:
    """Post content (classic or block editor) as Markdown for a post file."""
    html = _BLOCK_COMMENT.sub("", html) if has_blocks(html) else autop(html)
    html = _NOTEASER.sub("", html)
    html = _MORE.sub(f"<p>{MORE_MARK}</p>", html)
    html = shortcodes(html, conversion)
    converter = _Converter(
        conversion,
        heading_style="ATX",
        bullets="-",
        code_language="",
        strip_document="strip",
        escape_misc=False,
        escape_underscores=False,  # Python-Markdown ignores underscores inside words
    )
    markdown = converter.convert(html)
    markdown = markdown.replace(MORE_MARK, "<!--more-->")
    return re.sub(r"\n{3,}", "\n\n", markdown).strip() + "\n"


# Text in which neither HTML nor Markdown could see markup: it is already its own Markdown.
_PLAIN = re.compile(r"[^<>&*_`#\[\]\\|~=+]*")
_LIST_START = re.compile(r"^\s*(?:[-+]|\d+[.)])\s", re.MULTILINE)


def comment_markdown(html: str, conversion: Conversion) -> str:
    """A comment's text (HTML with paragraphs by blank lines, as WordPress keeps it)."""
    if _PLAIN.fullmatch(html) and not _LIST_START.search(html):
        paragraphs = re.split(r"\n\s*\n", html.replace("\r\n", "\n").strip())
        return "\n\n".join(p.strip() for p in paragraphs if p.strip())
    converter = _Converter(
        conversion, heading_style="ATX", bullets="-", strip_document="strip", escape_misc=False
    )
    return re.sub(r"\n{3,}", "\n\n", converter.convert(autop(html))).strip()
