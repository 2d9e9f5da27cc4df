"""`flask blog import disqus`: a Disqus XML export's comments onto the posts their threads are.

A thread is matched to a post by its URL: the post's permalink, an alias in its front matter,
or an old link an import stored (`/?p=12`, an old permalink). The file lists categories, then
threads, then posts (comments) in tree order; it is read in one streamed pass after a check.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from sqlalchemy import select

from blog.clock import utcnow
from blog.database import write_transaction
from blog.extensions import db
from blog.importers.comments import CommentWriter, IncomingComment
from blog.importers.convert import Conversion, comment_markdown
from blog.importers.links import old_path
from blog.importers.report import ImportReport
from blog.importers.wxr import ImportFileError
from blog.models import CommentStatus, OldLink, Post, PostAlias
from blog.reader import posts as reader_posts

NS = "{http://disqus.com}"
DSQ_ID = "{http://disqus.com/disqus-internals}id"
BATCH = 500


def _text(element: Element, name: str) -> str:
    found = element.find(NS + name)
    return (found.text or "").strip() if found is not None else ""


def _flag(element: Element, name: str) -> bool:
    return _text(element, name).lower() == "true"


def _date(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return datetime(1970, 1, 1, tzinfo=UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _elements(path: Path) -> Iterator[Element]:
    """The file's top-level elements, each cleared once used; ImportFileError if unsound."""
    try:
        with path.open("rb") as stream:
            depth = 0
            root: Element | None = None
            for event, element in iterparse(stream, events=("start", "end"), forbid_dtd=True):
                if event == "start":
                    depth += 1
                    if depth == 1:
                        if element.tag != NS + "disqus":
                            raise ImportFileError(
                                f"{path.name}: not a Disqus export (it starts with"
                                f" <{element.tag.rpartition('}')[2]}>, not <disqus>)"
                            )
                        root = element
                    continue
                depth -= 1
                if depth == 1 and root is not None:
                    yield element
                    root.clear()
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise ImportFileError(
            f"{path.name}: not well-formed XML at line {line}, column {column + 1}"
            " (a broken or truncated file?)"
        ) from exc
    except DefusedXmlException as exc:
        raise ImportFileError(
            f"{path.name}: refused: the file declares entities or external references"
        ) from exc
    except OSError as exc:
        raise ImportFileError(f"{path.name}: cannot be read ({exc})") from exc


def find_post(url: str) -> int | None:
    """The id of the post a thread's URL means: by permalink, alias or stored old link."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.query:
        found = db.session.scalar(
            select(OldLink.post_uid).where(OldLink.path == f"/?{parts.query}")
        )
        return _by_uid(found)
    path = old_path(url)
    slug = path.strip("/").rsplit("/", 1)[-1]
    for post in db.session.scalars(select(Post).where(Post.slug == slug)):
        if post.path == path:
            return post.id
    alias = db.session.scalar(select(PostAlias.post_id).where(PostAlias.path == path))
    if alias is not None:
        return alias
    moved = reader_posts.old_link(path, utcnow())
    if moved:
        return find_post(moved)
    return _by_uid(db.session.scalar(select(OldLink.post_uid).where(OldLink.path == path)))


def _by_uid(uid: str | None) -> int | None:
    if uid is None:
        return None
    return db.session.scalar(select(Post.id).where(Post.uid == uid))


class DisqusImport:
    """One import of one Disqus export."""

    def __init__(self, path: Path, dry_run: bool) -> None:
        self.path = path
        self.report = ImportReport(dry_run=dry_run)
        self.forum = ""
        self.threads: dict[str, int | None] = {}

    def run(self) -> ImportReport:
        """Check the whole file, then write its comments; return the report."""
        for _element in _elements(self.path):
            pass
        writer: CommentWriter | None = None
        batch: list[tuple[int, IncomingComment]] = []
        for element in _elements(self.path):
            name = element.tag.removeprefix(NS)
            if name == "category" and not self.forum:
                self.forum = _text(element, "forum")
            elif name == "thread":
                self._thread(element)
            elif name == "post":
                self.forum = self.forum or _text(element, "forum")
                found = self._post(element)
                if found is not None:
                    batch.append(found)
                if len(batch) >= BATCH:
                    writer = writer or CommentWriter(self.source, self.report.dry_run)
                    self._flush(writer, batch)
                    batch = []
        self._flush(writer or CommentWriter(self.source, self.report.dry_run), batch)
        return self.report

    @property
    def source(self) -> str:
        """`disqus:<forum>`: Disqus ids are unique within one forum."""
        return f"disqus:{self.forum or 'unknown'}"[:100]

    def _thread(self, element: Element) -> None:
        thread_id = element.get(DSQ_ID, "")
        link = _text(element, "link")
        post_id = find_post(link)
        self.threads[thread_id] = post_id
        if post_id is None:
            self.report.note(f"thread {thread_id}", f"no post here for {link or 'no link'}")

    def _post(self, element: Element) -> tuple[int, IncomingComment] | None:
        thread = element.find(NS + "thread")
        post_id = self.threads.get(thread.get(DSQ_ID, "") if thread is not None else "")
        if post_id is None:
            self.report.count("comments on threads without a post")
            return None
        parent = element.find(NS + "parent")
        author = element.find(NS + "author")
        status = CommentStatus.APPROVED
        if _flag(element, "isSpam"):
            status = CommentStatus.SPAM
        elif _flag(element, "isDeleted"):
            status = CommentStatus.DELETED
        conversion = Conversion(lambda url: url, lambda url: url)
        body = comment_markdown(_text(element, "message"), conversion)
        if not body and status is not CommentStatus.DELETED:
            self.report.note(f"comment {element.get(DSQ_ID)}", "empty: left out")
            return None
        return post_id, IncomingComment(
            source_id=element.get(DSQ_ID, "") or _text(element, "id"),
            parent_source_id=(parent.get(DSQ_ID) or None) if parent is not None else None,
            author_name=_text(author, "name") if author is not None else "",
            author_email=(_text(author, "email") or None) if author is not None else None,
            author_url=None,
            body=body,
            status=status,
            created_at=_date(_text(element, "createdAt")),
        )

    def _flush(self, writer: CommentWriter, batch: list[tuple[int, IncomingComment]]) -> None:
        by_post: dict[int, list[IncomingComment]] = {}
        for post_id, comment in batch:
            by_post.setdefault(post_id, []).append(comment)
        with write_transaction():
            for post_id, comments in by_post.items():
                for outcome, number in writer.write(post_id, comments).items():
                    self.report.count(f"comments {outcome}", number)
            if self.report.dry_run:
                db.session.rollback()


def import_disqus(path: Path, dry_run: bool = False) -> ImportReport:
    """Import a Disqus export's comments; raises ImportFileError before any change."""
    return DisqusImport(path, dry_run).run()
