"""`flask blog export wordpress OUT.xml`: the blog as a WXR 1.2 file WordPress's importer reads.

Every post and page (its rendered HTML), its authors, categories with their hierarchy, tags,
every comment with its thread, status, date, name and email (the file is the author's own
data), and the images beside the posts as attachments at their URLs here. Written as it goes:
one post and its comments in memory at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import IO
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from sqlalchemy import select

from blog.content.frontmatter import slugify
from blog.content.images import IMAGE_SUFFIXES
from blog.extensions import db
from blog.models import (
    Comment,
    CommentStatus,
    ImportedComment,
    Post,
    PostLayout,
    PostStatus,
    Term,
    TermKind,
    User,
)

WP = "http://wordpress.org/export/1.2/"
# Links and images to our own paths, made absolute: the file is read on another site.
_SITE_PATH = re.compile(r'\b(src|href)="/(?!/)')
STATUSES = {
    CommentStatus.APPROVED: "1",
    CommentStatus.PENDING: "0",
    CommentStatus.SPAM: "spam",
    CommentStatus.TRASH: "trash",
    # A comment its writer deleted keeps its place for its replies: binned, without its text.
    CommentStatus.DELETED: "trash",
}


def cdata(text: str | None) -> str:
    """Text in a CDATA section (one that holds `]]>` is split in two, as WordPress does)."""
    return "<![CDATA[" + (text or "").replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _wp_date(moment: datetime | None, zone: ZoneInfo | None = None) -> str:
    if moment is None:
        return "0000-00-00 00:00:00"
    return moment.astimezone(zone or ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S")


def _login(name: str) -> str:
    return slugify(name) or "author"


class WxrWriter:
    """Writes the blog to one file, in the order WordPress's own export does."""

    def __init__(self, out: IO[str], site_url: str, title: str, zone: ZoneInfo, now: datetime):
        self.out = out
        self.site_url = site_url.rstrip("/")
        self.title = title
        self.zone = zone
        self.now = now

    def write(self, posts_dir: Path) -> dict[str, int]:
        """The whole file; counts of what it holds."""
        counts = {"posts": 0, "pages": 0, "comments": 0, "attachments": 0}
        self._channel_head()
        last_id = 0
        for post in self._posts():
            last_id = max(last_id, post.id)
            counts["pages" if post.layout is PostLayout.PAGE else "posts"] += 1
            counts["comments"] += self._item(post)
        for number, relative in enumerate(_images(posts_dir), start=last_id + 1):
            self._attachment(number, relative)
            counts["attachments"] += 1
        self.out.write("</channel>\n</rss>\n")
        return counts

    def _channel_head(self) -> None:
        w = self.out.write
        w('<?xml version="1.0" encoding="UTF-8" ?>\n')
        w("<!-- A WordPress eXtended RSS file written by the blog's `flask blog export` -->\n")
        w('<rss version="2.0"\n\txmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"\n')
        w('\txmlns:content="http://purl.org/rss/1.0/modules/content/"\n')
        w('\txmlns:wfw="http://wellformedweb.org/CommentAPI/"\n')
        w('\txmlns:dc="http://purl.org/dc/elements/1.1/"\n')
        w(f'\txmlns:wp="{WP}"\n>\n<channel>\n')
        w(f"\t<title>{escape(self.title)}</title>\n\t<link>{escape(self.site_url)}</link>\n")
        w(f"\t<description></description>\n\t<pubDate>{format_datetime(self.now)}</pubDate>\n")
        w("\t<language>en-US</language>\n")
        w("\t<generator>flask blog export wordpress</generator>\n")
        w("\t<wp:wxr_version>1.2</wp:wxr_version>\n")
        w(f"\t<wp:base_site_url>{escape(self.site_url)}</wp:base_site_url>\n")
        w(f"\t<wp:base_blog_url>{escape(self.site_url)}</wp:base_blog_url>\n")
        authors = db.session.scalars(select(Post.author).distinct().order_by(Post.author))
        for number, author in enumerate(authors, start=1):
            w(
                f"\t<wp:author><wp:author_id>{number}</wp:author_id>"
                f"<wp:author_login>{cdata(_login(author))}</wp:author_login>"
                f"<wp:author_email>{cdata('')}</wp:author_email>"
                f"<wp:author_display_name>{cdata(author)}</wp:author_display_name>"
                f"<wp:author_first_name>{cdata('')}</wp:author_first_name>"
                f"<wp:author_last_name>{cdata('')}</wp:author_last_name>"
                "</wp:author>\n"
            )
        for number, term in enumerate(self._terms(), start=1):
            self._term(term, number)

    def _terms(self) -> Iterator[tuple[TermKind, str, str]]:
        """(kind, slug, name) of every term, and of every parent category no post names
        alone; parents first, as WordPress's importer makes a parent before its child."""
        found = {(t.kind, t.slug): t.name for t in db.session.scalars(select(Term))}
        for (kind, slug), name in list(found.items()):
            slugs, names = slug.split("/"), name.split("/")
            for depth in range(1, min(len(slugs), len(names))):
                key = (kind, "/".join(slugs[:depth]))
                found.setdefault(key, "/".join(names[:depth]))
        ordered = sorted(found.items(), key=lambda i: (i[0][0].value, i[0][1].count("/"), i[0][1]))
        for (kind, slug), name in ordered:
            yield kind, slug, name

    def _term(self, term: tuple[TermKind, str, str], number: int) -> None:
        kind, slug, name = term
        w = self.out.write
        if kind is TermKind.TAG:
            w(
                f"\t<wp:tag><wp:term_id>{number}</wp:term_id>"
                f"<wp:tag_slug>{cdata(slug)}</wp:tag_slug>"
                f"<wp:tag_name>{cdata(name)}</wp:tag_name></wp:tag>\n"
            )
            return
        parent, _, nicename = slug.rpartition("/")
        w(
            f"\t<wp:category><wp:term_id>{number}</wp:term_id>"
            f"<wp:category_nicename>{cdata(nicename)}</wp:category_nicename>"
            f"<wp:category_parent>{cdata(parent.rpartition('/')[2])}</wp:category_parent>"
            f"<wp:cat_name>{cdata(name.rpartition('/')[2])}</wp:cat_name>"
            f"<wp:category_description>{cdata('')}</wp:category_description></wp:category>\n"
        )

    def _posts(self) -> Iterator[Post]:
        query = (
            select(Post)
            .where(Post.status != PostStatus.REMOVED)
            .order_by(Post.published_at, Post.id)
            .execution_options(yield_per=200)
        )
        yield from db.session.scalars(query)

    def _item(self, post: Post) -> int:
        w = self.out.write
        if post.status is PostStatus.DRAFT:
            status = "draft"
        else:
            status = "future" if post.published_at > self.now else "publish"
        kind = "page" if post.layout is PostLayout.PAGE else "post"
        link = self.site_url + post.path
        w("\t<item>\n")
        w(f"\t\t<title>{cdata(post.title)}</title>\n\t\t<link>{escape(link)}</link>\n")
        w(f"\t\t<pubDate>{format_datetime(post.published_at)}</pubDate>\n")
        w(f"\t\t<dc:creator>{cdata(_login(post.author))}</dc:creator>\n")
        w(f'\t\t<guid isPermaLink="false">{escape(link)}</guid>\n\t\t<description></description>\n')
        html = _SITE_PATH.sub(lambda m: f'{m.group(1)}="{self.site_url}/', post.html)
        w(f"\t\t<content:encoded>{cdata(html)}</content:encoded>\n")
        w(f"\t\t<excerpt:encoded>{cdata(post.summary)}</excerpt:encoded>\n")
        w(f"\t\t<wp:post_id>{post.id}</wp:post_id>\n")
        w(f"\t\t<wp:post_date>{cdata(_wp_date(post.published_at, self.zone))}</wp:post_date>\n")
        w(f"\t\t<wp:post_date_gmt>{cdata(_wp_date(post.published_at))}</wp:post_date_gmt>\n")
        modified = post.updated_at or post.published_at
        w(f"\t\t<wp:post_modified>{cdata(_wp_date(modified, self.zone))}</wp:post_modified>\n")
        w(f"\t\t<wp:post_modified_gmt>{cdata(_wp_date(modified))}</wp:post_modified_gmt>\n")
        opened = "open" if post.comments_open else "closed"
        w(f"\t\t<wp:comment_status>{cdata(opened)}</wp:comment_status>\n")
        # No pingbacks here: WordPress's importer reads the field, so it is written, closed.
        w(f"\t\t<wp:ping_status>{cdata('closed')}</wp:ping_status>\n")
        w(f"\t\t<wp:post_name>{cdata(post.slug)}</wp:post_name>\n")
        w(f"\t\t<wp:status>{cdata(status)}</wp:status>\n\t\t<wp:post_parent>0</wp:post_parent>\n")
        w("\t\t<wp:menu_order>0</wp:menu_order>\n")
        w(f"\t\t<wp:post_type>{cdata(kind)}</wp:post_type>\n")
        w(f"\t\t<wp:post_password>{cdata('')}</wp:post_password>\n")
        w("\t\t<wp:is_sticky>0</wp:is_sticky>\n")
        for term in sorted(post.terms, key=lambda t: (t.kind.value, t.slug)):
            domain = "category" if term.kind is TermKind.CATEGORY else "post_tag"
            nicename = term.slug.rpartition("/")[2]
            name = term.name.rpartition("/")[2] if domain == "category" else term.name
            w(f'\t\t<category domain="{domain}" nicename="{escape(nicename)}">')
            w(f"{cdata(name)}</category>\n")
        count = self._comments(post)
        w("\t</item>\n")
        return count

    def _comments(self, post: Post) -> int:
        rows = db.session.execute(
            select(Comment, ImportedComment.author_email, User.email)
            .outerjoin(ImportedComment, ImportedComment.comment_id == Comment.id)
            .outerjoin(User, User.id == Comment.user_id)
            .where(Comment.post_id == post.id)
            .order_by(Comment.created_at, Comment.id)
        ).all()
        for comment, imported_email, user_email in rows:
            self._comment(comment, user_email or imported_email or "")
        return len(rows)

    def _comment(self, comment: Comment, email: str) -> None:
        deleted = comment.status is CommentStatus.DELETED
        fields = (
            ("comment_id", str(comment.id)),
            ("comment_author", cdata(comment.author_name)),
            ("comment_author_email", cdata("" if deleted else email)),
            ("comment_author_url", escape(comment.author_url or "")),
            ("comment_author_IP", cdata("")),
            ("comment_date", cdata(_wp_date(comment.created_at, self.zone))),
            ("comment_date_gmt", cdata(_wp_date(comment.created_at))),
            ("comment_content", cdata(comment.body_html)),
            ("comment_approved", cdata(STATUSES[comment.status])),
            ("comment_type", cdata("comment")),
            ("comment_parent", str(comment.parent_id or 0)),
            ("comment_user_id", "0"),
        )
        inner = "".join(f"<wp:{name}>{value}</wp:{name}>" for name, value in fields)
        self.out.write(f"\t\t<wp:comment>{inner}</wp:comment>\n")

    def _attachment(self, number: int, relative: str) -> None:
        url = f"{self.site_url}/media/{relative}"
        name = Path(relative).stem
        self.out.write(
            "\t<item>\n"
            f"\t\t<title>{cdata(name)}</title>\n\t\t<link>{escape(url)}</link>\n"
            f'\t\t<guid isPermaLink="false">{escape(url)}</guid>\n'
            f"\t\t<wp:post_id>{number}</wp:post_id>\n"
            f"\t\t<wp:post_date_gmt>{cdata(_wp_date(self.now))}</wp:post_date_gmt>\n"
            f"\t\t<wp:post_name>{cdata(slugify(name))}</wp:post_name>\n"
            f"\t\t<wp:status>{cdata('inherit')}</wp:status>\n"
            f"\t\t<wp:post_type>{cdata('attachment')}</wp:post_type>\n"
            f"\t\t<wp:attachment_url>{cdata(url)}</wp:attachment_url>\n"
            "\t</item>\n"
        )


def _images(posts_dir: Path) -> list[str]:
    """The images beside the posts, as `images/...` paths, in a stable order."""
    folder = posts_dir / "images"
    if not folder.is_dir():
        return []
    return sorted(
        p.relative_to(posts_dir).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")
    )


def export_wordpress(
    target: Path, posts_dir: Path, site_url: str, title: str, zone: ZoneInfo, now: datetime
) -> dict[str, int]:
    """Write the WXR file (through a partial file, so a failure leaves no half file)."""
    partial = target.with_name(f".{target.name}.partial")
    with partial.open("w", encoding="utf-8") as out:
        counts = WxrWriter(out, site_url, title, zone, now).write(posts_dir)
    partial.replace(target)
    return counts
