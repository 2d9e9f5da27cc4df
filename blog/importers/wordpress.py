"""`flask blog import wordpress`: a WXR file into posts/ (Markdown) and comments (database).

Three streamed passes over the file, so memory holds one item at a time plus a small map per
post: the first checks the whole file and learns every address (nothing is written if it is
broken), the second writes the post files, the third (after a sync) the comments.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from blog.content.frontmatter import term_slug
from blog.database import write_transaction
from blog.extensions import db
from blog.importers import links as old_links
from blog.importers.comments import CommentWriter, IncomingComment, post_ids, web_address
from blog.importers.convert import Conversion, Media, comment_markdown, to_markdown
from blog.importers.files import FileWriter, post_text, usable_slug
from blog.importers.media import MediaCopier
from blog.importers.report import ImportReport
from blog.importers.wxr import WxrComment, WxrItem, WxrReader, WxrSite, site_offset
from blog.models import CommentStatus
from blog.publishing.hooks import run_sync

CONTENT_TYPES = ("post", "page")
DRAFT_STATUSES = ("draft", "pending", "auto-draft")
COMMENT_STATUSES = {
    "1": CommentStatus.APPROVED,
    "approve": CommentStatus.APPROVED,
    "0": CommentStatus.PENDING,
    "hold": CommentStatus.PENDING,
    "spam": CommentStatus.SPAM,
    "trash": CommentStatus.TRASH,
    "post-trashed": CommentStatus.TRASH,
}
PINGBACK_TYPES = ("pingback", "trackback")
# Comments are written this many at a time, each batch one transaction.
COMMENT_BATCH = 500
POST_BATCH = 200
# Told how many more bytes of the file were read: each pass reads it once, three in all.
Progress = Callable[[int], None]
PASSES = 3


@dataclass
class ImportOptions:
    """How to import: from where, into where, and the author's choices."""

    path: Path
    posts_dir: Path
    zone: ZoneInfo
    dry_run: bool = False
    uploads: Path | None = None
    download_media: bool = False
    pingbacks: str = "skip"  # skip, or keep (as comments from the linking site)


@dataclass
class _Entry:
    """What the first pass learns of a post or page."""

    uid: str
    kind: str
    status: str
    new_path: str
    published_at: datetime
    old_link: str


class WordPressImport:
    """One import of one WXR file."""

    def __init__(self, options: ImportOptions, progress: Progress | None = None) -> None:
        self.options = options
        self.progress = progress or (lambda _n: None)
        self.report = ImportReport(dry_run=options.dry_run)
        self.site = WxrSite()
        self.entries: dict[int, _Entry] = {}
        self.attachments: dict[int, Media] = {}
        self.offset = timedelta(0)
        self.items_total = 0

    @property
    def source(self) -> str:
        """`wordpress:<old host>`: WordPress ids are unique only within one site."""
        host = urlsplit(self.site.base_site_url or self.site.link).netloc.lower()
        return f"wordpress:{host or 'unknown'}"[:100]

    def _items(self) -> Iterator[WxrItem]:
        reader = WxrReader(self.options.path)
        read = 0
        for item in reader.items():
            now_read = reader.position()
            self.progress(now_read - read)
            read = now_read
            yield item
        self.progress(self.options.path.stat().st_size - read)
        self.site = reader.site

    def run(self) -> ImportReport:
        """Check, write the files, sync, write comments and old links; return the report."""
        self._scan()
        hosts = self._hosts()
        self.links = old_links.LinkMap(hosts)
        for post_id, entry in self.entries.items():
            self.links.add_post(post_id, entry.old_link, entry.new_path)
        self.media = MediaCopier(
            self.options.posts_dir,
            hosts,
            self.options.uploads,
            self.options.download_media,
            self.options.dry_run,
        )
        self._write_posts()
        if not self.options.dry_run:
            sync = run_sync()
            for problem in sync.problems:
                self.report.note(problem.file, f"not published: {problem.field}: {problem.message}")
        self._write_comments()
        self._write_redirects()
        for url in self.media.missing:
            self.report.note("media", f"not found, old URL kept: {url}")
        return self.report

    def _hosts(self) -> set[str]:
        hosts = {urlsplit(u).netloc.lower() for u in (self.site.base_site_url, self.site.link)}
        hosts.discard("")
        return hosts | {"www." + h for h in hosts if not h.startswith("www.")}

    def _scan(self) -> None:
        """Read the whole file once: it must be sound before anything changes."""
        dated: list[tuple[str, datetime | None]] = []
        items: list[tuple[int, str, str, str, str, datetime | None, str]] = []
        for item in self._items():
            self.items_total += 1
            if item.post_type == "attachment":
                self.attachments[item.post_id] = Media(
                    item.attachment_url or item.link,
                    item.meta.get("_wp_attachment_image_alt", "").strip(),
                    unescape(item.excerpt.strip()),
                )
            elif item.post_type in CONTENT_TYPES and item.status != "trash":
                if item.date_gmt is not None and len(dated) < 50:
                    dated.append((item.date_local, item.date_gmt))
                items.append(
                    (
                        item.post_id,
                        item.post_type,
                        item.status,
                        item.slug or item.title,
                        item.date_local,
                        item.date_gmt,
                        item.link,
                    )
                )
        self.offset = site_offset(dated)
        used: set[str] = set()
        for post_id, kind, status, wanted, local, gmt, link in items:
            slug = usable_slug(unquote(wanted), f"{kind}-{post_id}")
            if slug in used:
                slug = f"{slug}-{post_id}"
            used.add(slug)
            when = gmt or self._from_local(local)
            day = when.astimezone(self.options.zone)
            path = f"/{slug}/" if kind == "page" else f"/{day:%Y/%m/%d}/{slug}/"
            self.entries[post_id] = _Entry(f"wp-{post_id}", kind, status, path, when, link)

    def _from_local(self, local: str) -> datetime:
        """A date WordPress gave only in the old site's zone (drafts): the offset learnt."""
        try:
            return datetime.fromisoformat(local).replace(tzinfo=UTC) - self.offset
        except ValueError:
            return datetime(1970, 1, 1, tzinfo=UTC)

    def _write_posts(self) -> None:
        writer = FileWriter(
            self.options.posts_dir, self.source, self.options.zone, self.options.dry_run
        )
        # Committed every few hundred posts: a long import never holds the write lock long.
        items = self._items()
        while True:
            with write_transaction():
                written = 0
                for item in items:
                    written += self._write_post(writer, item)
                    if written >= POST_BATCH:
                        break
                else:
                    return

    def _write_post(self, writer: FileWriter, item: WxrItem) -> int:
        entry = self.entries.get(item.post_id)
        if entry is None:
            if item.post_type not in ("attachment", *CONTENT_TYPES):
                self.report.count(f"{item.post_type} items skipped")
            elif item.status == "trash":
                self.report.count("binned posts skipped")
            return 0
        label = f"{entry.kind} {item.post_id} {item.title!r}"
        fields, body, remark = self._post(item, entry, label)
        name = Path(entry.new_path.strip("/").replace("/", "-") + ".md").name
        outcome = writer.write(str(item.post_id), name, post_text(fields, body, remark))
        self.report.count(f"{entry.kind}s {outcome.status}")
        if outcome.status == "kept":
            self.report.note(label, f"{outcome.file} was edited here: kept as it is")
        for problem in outcome.problems:
            self.report.note(label, problem)
        return 1

    def _post(self, item: WxrItem, entry: _Entry, label: str) -> tuple[dict[str, Any], str, str]:
        conversion = Conversion(self.links.rewrite, self._image, self.attachments)
        body = to_markdown(item.content, conversion)
        for message in conversion.notes:
            self.report.note(label, message)
        fields: dict[str, Any] = {
            "title": item.title or f"Untitled {item.post_id}",
            "date": entry.published_at.isoformat(),
            "slug": entry.new_path.strip("/").rsplit("/", 1)[-1],
            "id": entry.uid,
            "author": self.site.authors.get(item.creator, item.creator) or None,
        }
        if item.modified_gmt and item.modified_gmt - entry.published_at > timedelta(minutes=1):
            fields["updated"] = item.modified_gmt.isoformat()
        categories = [self._category(slug, name) for d, slug, name in item.terms if d == "category"]
        tags = [name for d, _slug, name in item.terms if d == "post_tag" and name]
        if categories:
            fields["categories"] = categories
        if tags:
            fields["tags"] = tags
        summary = " ".join(re.sub(r"<[^>]+>", " ", unescape(item.excerpt)).split())
        if summary:
            fields["summary"] = summary
        image = self._featured(item)
        if image:
            fields["image"] = image
        old = old_links.old_path(entry.old_link) if entry.old_link else None
        if old and not urlsplit(entry.old_link).query and old != entry.new_path:
            fields["aliases"] = [old]
        if item.comment_status == "closed":
            fields["comments"] = "closed"
        if entry.kind == "page":
            fields["layout"] = "page"
        remark = ""
        if item.status in DRAFT_STATUSES:
            fields["draft"] = True
        elif item.status == "private" or item.password:
            fields["draft"] = True
            why = "private" if item.status == "private" else "password-protected"
            remark = f"{why} on WordPress: kept as a draft, so that only its author sees it"
            self.report.note(label, f"{why}: imported as a draft")
        return {k: v for k, v in fields.items() if v is not None}, body, remark

    def _category(self, slug: str, name: str) -> str:
        """`Parent/Child` from WordPress's hierarchy (a `/` in a name would split it)."""
        names = [name.replace("/", "-")]
        seen = {slug}
        parent = self.site.categories.get(slug, ("", ""))[1]
        while parent and parent not in seen:
            seen.add(parent)
            parent_name, parent = self.site.categories.get(parent, (parent, ""))
            names.insert(0, parent_name.replace("/", "-"))
        return "/".join(names)

    def _image(self, url: str) -> str:
        return self.media.local(url) or url

    def _featured(self, item: WxrItem) -> str | None:
        thumbnail = item.meta.get("_thumbnail_id", "").strip()
        media = self.attachments.get(int(thumbnail)) if thumbnail.isdigit() else None
        return None if media is None else self.media.local(media.url)

    def _write_comments(self) -> None:
        writer = CommentWriter(self.source, self.options.dry_run)
        batch: list[tuple[str, list[IncomingComment]]] = []
        size = 0
        for item in self._items():
            entry = self.entries.get(item.post_id)
            if entry is None or not item.comments:
                continue
            incoming = [c for c in (self._comment(item, c) for c in item.comments) if c]
            if incoming:
                batch.append((entry.uid, incoming))
                size += len(incoming)
            if size >= COMMENT_BATCH:
                self._flush(writer, batch)
                batch, size = [], 0
        self._flush(writer, batch)

    def _flush(self, writer: CommentWriter, batch: list[tuple[str, list[IncomingComment]]]) -> None:
        if not batch:
            return
        with write_transaction():
            ids = post_ids(uid for uid, _ in batch)
            for uid, comments in batch:
                post_id = ids.get(uid)
                if post_id is None and self.options.dry_run:
                    self.report.count("comments added", len(comments))  # with their new post
                    continue
                if post_id is None:
                    if not self.options.dry_run:
                        self.report.note(uid, f"not in the database: {len(comments)} comments left")
                    self.report.count("comments on posts not synced", len(comments))
                    continue
                for outcome, number in writer.write(post_id, comments).items():
                    self.report.count(f"comments {outcome}", number)
            if self.options.dry_run:
                db.session.rollback()

    def _comment(self, item: WxrItem, comment: WxrComment) -> IncomingComment | None:
        if comment.type in PINGBACK_TYPES and self.options.pingbacks == "skip":
            self.report.count(f"{comment.type}s skipped")
            return None
        if comment.type not in ("comment", *PINGBACK_TYPES):
            self.report.count(f"{comment.type} comments skipped")
            return None
        status = COMMENT_STATUSES.get(comment.approved)
        if status is None:
            self.report.note(f"comment {comment.id}", f"unknown status {comment.approved!r}: held")
            status = CommentStatus.PENDING
        conversion = Conversion(self.links.rewrite, lambda url: url)
        body = comment_markdown(comment.content, conversion)
        if not body.strip():
            self.report.note(f"comment {comment.id}", "empty once converted: left out")
            return None
        return IncomingComment(
            source_id=comment.id,
            parent_source_id=comment.parent if comment.parent != "0" else None,
            author_name=comment.author,
            author_email=comment.email or None,
            author_url=self._website(comment.url),
            body=body,
            status=status,
            created_at=comment.date_gmt or self._from_local(comment.date_local),
        )

    def _website(self, url: str) -> str | None:
        """A commenter's website; none for one on the old site itself (the author's own)."""
        found = web_address(url)
        if found is None or urlsplit(found).netloc.lower() in self.links.old_hosts:
            return None
        return found

    def _write_redirects(self) -> None:
        redirects = []
        for post_id, entry in self.entries.items():
            redirects.append(old_links.Redirect(f"/?p={post_id}", post_uid=entry.uid))
            if entry.kind == "page":
                redirects.append(old_links.Redirect(f"/?page_id={post_id}", post_uid=entry.uid))
        for slug in self.site.categories:
            name = self._category(slug, self.site.categories[slug][0])
            if not term_slug(name).replace("/", ""):
                self.report.note(f"category {name!r}", "no letters a URL here can spell: no link")
                continue
            new = f"/category/{term_slug(name)}/"
            term_id = self.site.term_ids.get(("category", slug))
            if term_id:
                redirects.append(old_links.Redirect(f"/?cat={term_id}", target=new))
            old = f"/category/{self._category_path(slug)}/"
            if old != new:
                redirects.append(old_links.Redirect(old, target=new))
        for slug, name in self.site.tags.items():
            if not term_slug(name):
                self.report.note(f"tag {name!r}", "no letters a URL here can spell: no link")
                continue
            new = f"/tag/{term_slug(name)}/"
            redirects.append(old_links.Redirect(f"/?tag={slug}", target=new))
            if f"/tag/{unquote(slug)}/" != new:
                redirects.append(old_links.Redirect(f"/tag/{unquote(slug)}/", target=new))
        if self.options.dry_run:
            self.report.count("old links added", old_links.count_new(redirects))
            return
        with write_transaction():
            added, changed = old_links.save_redirects(redirects)
        self.report.count("old links added", added)
        self.report.count("old links updated", changed)

    def _category_path(self, slug: str) -> str:
        """WordPress's own category path: the slugs of its ancestors, then its own."""
        slugs = [unquote(slug)]
        parent = self.site.categories.get(slug, ("", ""))[1]
        while parent and unquote(parent) not in slugs:
            slugs.insert(0, unquote(parent))
            parent = self.site.categories.get(parent, ("", ""))[1]
        return "/".join(slugs)


def import_wordpress(options: ImportOptions, progress: Progress | None = None) -> ImportReport:
    """Import a WXR file (see WordPressImport); raises ImportFileError before any change."""
    return WordPressImport(options, progress).run()
