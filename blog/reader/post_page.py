"""The post page: a shell kept until the content changes, around a comment section per request.

Everything on a post page but its comment section (header, article, share links, neighbours,
sidebar) changes only when a sync changes the content (the `site` tag) or a scheduled post goes
live. So the shell is kept in the memo under `site` per post and link base, and each request
renders only the comment section, which differs per viewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, make_response, render_template, request
from markupsafe import Markup
from werkzeug.http import generate_etag

from blog.auth.session import has_session_cookie, viewer
from blog.cache.memo import kept, link_base
from blog.cache.tracking import record_post_shown
from blog.comments.page import REPLY_ARG, anonymous_section, render_section
from blog.comments.paging import (
    ORDER_ARG,
    CommentPage,
    asked_order,
    comment_path,
    page_count,
    per_page,
    post_of,
)
from blog.comments.paragraphs import PARAGRAPH_ARG, MarkedArticle, marked_article
from blog.content.paragraphs import anchor_paragraphs
from blog.models import Post, PostLayout
from blog.models.base import SITE
from blog.reader import posts
from blog.web.formdata import parse_int

# Where the comment section goes. A post's own HTML could hold the same comment, but nothing
# after the slot comes from a post unescaped, so the last occurrence is the slot.
COMMENTS_SLOT = "<!--blog:comment-section-->"
# Where the post's own HTML goes: its paragraphs carry markers whose counts change with the
# comments, so it is kept apart from the shell, under the post's tag as well.
ARTICLE_SLOT = "<!--blog:article-body-->"
# The query argument of a link to one comment (a notification's): answered with its page.
COMMENT_ARG = "comment"


@dataclass(frozen=True)
class PostShell:
    """A rendered post page without its comment section, and what the section needs."""

    id: int
    slug: str
    path: str
    layout: PostLayout
    published_at: datetime
    comments_open: bool
    before: bytes
    after: bytes
    digest: str
    head: bytes = b""  # before the article's body, when it is kept apart (posts)
    article: str = ""  # the post's HTML with its paragraphs anchored

    @property
    def size(self) -> int:
        """Bytes this shell costs in memory, roughly."""
        return len(self.head) + len(self.article) + len(self.before) + len(self.after)


def post_shell(slug: str, now: datetime) -> PostShell | None:
    """The live post or page at `slug`, rendered but for its comments; None when there is none."""
    shell = kept(("post-shell", slug, link_base()), (SITE,), lambda: _render(slug, now), now)
    if shell is not None:
        record_post_shown(shell.id)
    return shell


def _render(slug: str, now: datetime) -> PostShell | None:
    post: Post | None = posts.find_post(slug, now)
    if post is None:
        return None
    is_post = post.layout is PostLayout.POST
    older, newer = posts.neighbours(post, now) if is_post else (None, None)
    html = render_template(
        "post.html",
        post=post,
        older=older,
        newer=newer,
        comment_section=Markup(COMMENTS_SLOT),  # noqa: S704 - a constant
        article_body=Markup(ARTICLE_SLOT) if is_post else None,  # noqa: S704 - a constant
    )
    before, _slot, after = html.rpartition(COMMENTS_SLOT)
    head, article = b"", ""
    if is_post:
        # Nothing between the slots comes from the post unescaped: the last one is the slot.
        start, _slot, before = before.rpartition(ARTICLE_SLOT)
        head, article = start.encode(), anchor_paragraphs(post.html)[0]
    return PostShell(
        id=post.id,
        slug=post.slug,
        path=post.path,
        layout=post.layout,
        published_at=post.published_at,
        comments_open=post.comments_open,
        before=before.encode(),
        after=after.encode(),
        digest=generate_etag((html + article).encode()),
        head=head,
        article=article,
    )


def asked_page(number: int = 1) -> CommentPage:
    """The page of the thread this request asks for: its number and the order in its link."""
    return CommentPage(number, asked_order(request.args.get(ORDER_ARG)), per_page())


def reader_id() -> int | None:
    """The logged-in reader's id; None, with the session untouched, for everyone else."""
    user = viewer() if has_session_cookie() else None
    return user.id if user is not None else None


def comment_pages(shell: PostShell) -> int:
    """How many pages the post's thread has for this request's reader."""
    return page_count(shell.id, reader_id())


def comment_link(shell: PostShell, value: str) -> str:
    """Where `?comment=N` goes: the page of the thread that shows comment N now, else the post."""
    comment_id = parse_int(value)
    if comment_id is None or post_of(comment_id) != shell.id:
        return shell.path
    return comment_path(shell.path, comment_id, reader_id(), asked_page().order)


def render_post_page(shell: PostShell, **comment_args: Any) -> bytes:
    """The whole page: the shell with this request's comment section in its slot."""
    if shell.layout is not PostLayout.POST:
        return shell.before + shell.after
    section = render_section(shell, **comment_args).encode()
    return shell.head + _article(shell).html + shell.before + section + shell.after


def _article(shell: PostShell) -> MarkedArticle:
    return marked_article(shell.id, shell.article, link_base())


def post_page(shell: PostShell, page: CommentPage | None = None) -> Response:
    """The page for this request's reader; an anonymous one gets the shared comment section.

    Its ETag comes from the digests of the parts, so a large page is not hashed per request.
    A Reply link (`?replytocom=N`) gets its own section, with the form set to answer N.
    """
    if shell.layout is not PostLayout.POST:
        body, etag = shell.before + shell.after, shell.digest
    elif has_session_cookie() or REPLY_ARG in request.args or PARAGRAPH_ARG in request.args:
        # A Reply link's form names its parent, a marker's its paragraph: not the section
        # every other reader shares.
        body, etag = render_post_page(shell, page=page), None
    else:
        section = anonymous_section(shell, page)
        article = _article(shell)
        body = shell.head + article.html + shell.before + section.html + shell.after
        etag = generate_etag(f"{shell.digest}.{article.digest}.{section.digest}".encode())
    response = make_response(body)
    if etag is not None:
        response.set_etag(etag)
    return response


def post_page_response(shell: PostShell, status: int, **comment_args: Any) -> Response:
    """The page with a comment shown back (an error, a kept draft): personal, never stored."""
    response = make_response(render_post_page(shell, **comment_args), status)
    response.headers["Cache-Control"] = "private, no-store"
    return response
