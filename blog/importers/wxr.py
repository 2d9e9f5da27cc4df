"""Reading a WordPress eXtended RSS file (WXR 1.0-1.2): streamed item by item, safely.

defusedxml refuses entity declarations and external entities, so a hostile file can neither
expand to gigabytes nor read local files; iterparse with each item cleared once read keeps
memory bounded by the largest single item, however many there are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse


class ImportFileError(Exception):
    """The file cannot be imported: broken, truncated, unsafe or not an export at all."""


_PREFIXES = {
    "http://purl.org/rss/1.0/modules/content/": "content:",
    "http://purl.org/dc/elements/1.1/": "dc:",
    "http://wellformedweb.org/CommentAPI/": "wfw:",
}
_WP_NS = re.compile(r"^http://wordpress\.org/export/1\.\d+/(excerpt/)?$")


def _name(tag: str) -> str:
    """`{uri}local` as `prefix:local`: WXR versions differ only in the wp namespace's URI."""
    if not tag.startswith("{"):
        return tag
    uri, _, local = tag[1:].partition("}")
    wp = _WP_NS.match(uri)
    if wp:
        return ("excerpt:" if wp.group(1) else "wp:") + local
    return _PREFIXES.get(uri, "") + local


@dataclass
class WxrComment:
    """One `wp:comment` of an item."""

    id: str
    author: str
    email: str
    url: str
    date_gmt: datetime | None
    date_local: str
    content: str
    approved: str
    type: str
    parent: str
    user_id: str


@dataclass
class WxrItem:
    """One `item`: a post, page, attachment or anything else WordPress stores as a post."""

    post_id: int
    post_type: str
    status: str
    title: str
    link: str
    creator: str
    content: str
    excerpt: str
    date_local: str
    date_gmt: datetime | None
    modified_gmt: datetime | None
    comment_status: str
    slug: str
    parent: int
    password: str
    attachment_url: str
    # (domain, nicename, name): `category` and `post_tag` are the two taxonomies we keep.
    terms: list[tuple[str, str, str]] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    comments: list[WxrComment] = field(default_factory=list)


@dataclass
class WxrSite:
    """The channel: the old site's address, its authors and its terms."""

    title: str = ""
    link: str = ""
    base_site_url: str = ""
    version: str = ""
    authors: dict[str, str] = field(default_factory=dict)  # login -> display name
    # slug -> (name, parent slug): WordPress 6.1 lists each twice, as wp:category and wp:term.
    categories: dict[str, tuple[str, str]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # slug -> name
    # (taxonomy, slug) -> WordPress's term id, for the old `/?cat=ID` links.
    term_ids: dict[tuple[str, str], str] = field(default_factory=dict)


def wp_date(text: str | None) -> datetime | None:
    """A WordPress GMT date (`2019-06-10 21:30:00`) as aware UTC; None for empty or 0000-00-00."""
    text = (text or "").strip()
    if not text or text.startswith("0000"):
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    except ValueError:
        return None


def _text(element: Element, name: str) -> str:
    for child in element:
        if _name(child.tag) == name:
            return child.text or ""
    return ""


def _int(text: str) -> int:
    try:
        return int(text.strip() or 0)
    except ValueError:
        return 0


def _comment(element: Element) -> WxrComment:
    values = {_name(c.tag): c.text or "" for c in element}
    return WxrComment(
        id=values.get("wp:comment_id", "").strip(),
        author=unescape(values.get("wp:comment_author", "").strip()),
        email=values.get("wp:comment_author_email", "").strip(),
        url=values.get("wp:comment_author_url", "").strip(),
        date_gmt=wp_date(values.get("wp:comment_date_gmt")),
        date_local=values.get("wp:comment_date", "").strip(),
        content=values.get("wp:comment_content", ""),
        approved=values.get("wp:comment_approved", "1").strip(),
        type=values.get("wp:comment_type", "").strip() or "comment",
        parent=values.get("wp:comment_parent", "0").strip() or "0",
        user_id=values.get("wp:comment_user_id", "0").strip() or "0",
    )


def _item(element: Element) -> WxrItem:
    item = WxrItem(
        post_id=_int(_text(element, "wp:post_id")),
        post_type=_text(element, "wp:post_type").strip() or "post",
        status=_text(element, "wp:status").strip() or "publish",
        title=unescape(_text(element, "title").strip()),
        link=_text(element, "link").strip(),
        creator=_text(element, "dc:creator").strip(),
        content=_text(element, "content:encoded"),
        excerpt=_text(element, "excerpt:encoded"),
        date_local=_text(element, "wp:post_date").strip(),
        date_gmt=wp_date(_text(element, "wp:post_date_gmt")),
        modified_gmt=wp_date(_text(element, "wp:post_modified_gmt")),
        comment_status=_text(element, "wp:comment_status").strip() or "open",
        slug=_text(element, "wp:post_name").strip(),
        parent=_int(_text(element, "wp:post_parent")),
        password=_text(element, "wp:post_password"),
        attachment_url=_text(element, "wp:attachment_url").strip(),
    )
    for child in element:
        name = _name(child.tag)
        if name == "category":
            domain = child.get("domain", "")
            item.terms.append(
                (domain, child.get("nicename", ""), unescape((child.text or "").strip()))
            )
        elif name == "wp:postmeta":
            item.meta[_text(child, "wp:meta_key")] = _text(child, "wp:meta_value")
        elif name == "wp:comment":
            item.comments.append(_comment(child))
    return item


def _site_term(site: WxrSite, element: Element, name: str) -> None:
    term_id = _text(element, "wp:term_id").strip()
    if name == "wp:category":
        slug = _text(element, "wp:category_nicename").strip()
        site.term_ids.setdefault(("category", slug), term_id)
        site.categories.setdefault(
            slug,
            (unescape(_text(element, "wp:cat_name").strip()), _text(element, "wp:category_parent")),
        )
    elif name == "wp:tag":
        site.term_ids.setdefault(("post_tag", _text(element, "wp:tag_slug").strip()), term_id)
        site.tags.setdefault(
            _text(element, "wp:tag_slug").strip(), unescape(_text(element, "wp:tag_name").strip())
        )
    elif name == "wp:term":
        taxonomy = _text(element, "wp:term_taxonomy").strip()
        slug = _text(element, "wp:term_slug").strip()
        site.term_ids.setdefault((taxonomy, slug), term_id)
        if taxonomy == "category":
            parent = _text(element, "wp:term_parent").strip()
            site.categories.setdefault(slug, (unescape(_text(element, "wp:term_name")), parent))
        elif taxonomy == "post_tag":
            site.tags.setdefault(slug, unescape(_text(element, "wp:term_name").strip()))
    elif name == "wp:author":
        login = _text(element, "wp:author_login").strip()
        site.authors[login] = _text(element, "wp:author_display_name").strip() or login


_SITE_FIELDS = {"wp:base_site_url", "wp:wxr_version"}


class WxrReader:
    """Streams the items of one WXR file; `site` fills in as the channel is read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.site = WxrSite()
        self._stream: IO[bytes] | None = None

    def position(self) -> int:
        """How many bytes of the file the parser has read so far."""
        stream = self._stream
        return 0 if stream is None or stream.closed else stream.tell()

    def items(self) -> Iterator[WxrItem]:
        """Every item in file order; raises ImportFileError naming the line of a fault."""
        try:
            with self.path.open("rb") as stream:
                self._stream = stream
                yield from self._items(stream)
        except ParseError as exc:
            line, column = getattr(exc, "position", (0, 0))
            raise ImportFileError(
                f"{self.path.name}: not well-formed XML at line {line}, column {column + 1}"
                " (a broken or truncated file?)"
            ) from exc
        except DefusedXmlException as exc:
            raise ImportFileError(
                f"{self.path.name}: refused: the file declares entities or external"
                f" references ({type(exc).__name__}); WordPress exports never do"
            ) from exc
        except OSError as exc:
            raise ImportFileError(f"{self.path.name}: cannot be read ({exc})") from exc

    def _items(self, stream: IO[bytes]) -> Iterator[WxrItem]:
        # Line numbers come from the parser's position at each element's start.
        parser: Any = iterparse(stream, events=("start", "end"), forbid_dtd=True)
        depth = 0
        channel: Element | None = None
        checked = False
        for event, element in parser:
            if event == "start":
                depth += 1
                if depth == 1 and element.tag != "rss":
                    raise ImportFileError(
                        f"{self.path.name}: not a WordPress export (it starts with"
                        f" <{_name(element.tag)}>, not <rss>)"
                    )
                if depth == 2 and _name(element.tag) == "channel":
                    channel = element
                continue
            depth -= 1
            if depth != 2 or channel is None:
                continue
            name = _name(element.tag)
            if name == "item":
                if not checked:
                    self._check_version()
                    checked = True
                yield _item(element)
                channel.clear()  # the item, and the channel fields read before it
            elif name in _SITE_FIELDS:
                setattr(
                    self.site,
                    "version" if name == "wp:wxr_version" else "base_site_url",
                    (element.text or "").strip(),
                )
            elif name in ("title", "link"):
                setattr(self.site, name, (element.text or "").strip())
            else:
                _site_term(self.site, element, name)
        if not checked:
            self._check_version()

    def _check_version(self) -> None:
        if not self.site.version:
            raise ImportFileError(
                f"{self.path.name}: not a WordPress export: no <wp:wxr_version> before the"
                " first item"
            )


def site_offset(items: list[tuple[str, datetime | None]]) -> timedelta:
    """The old site's UTC offset, from items that have both a local and a GMT date."""
    for local, gmt in items:
        if gmt is None:
            continue
        try:
            return datetime.fromisoformat(local).replace(tzinfo=UTC) - gmt
        except ValueError:
            continue
    return timedelta(0)
