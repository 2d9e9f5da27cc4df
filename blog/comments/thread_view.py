"""The comment tree as the post page shows it: each comment's display values worked out once.

The template only prints these: a page with a hundred comments would otherwise run the same
lookups, URL building and date formatting through Jinja a hundred times over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import render_template, request, url_for
from markupsafe import Markup

from blog.comments.service import ShownComment, ThreadNode
from blog.fragments import cached
from blog.models import CommentStatus
from blog.templating import format_datetime, local_time


@dataclass(slots=True)
class CommentView:
    """One comment of the tree, ready to print."""

    id: int
    depth: int
    deleted: bool
    pending: bool
    author_name: str
    is_author: bool
    avatar_src: str
    time_iso: str
    time_text: str
    edited: bool
    body_html: Markup
    can_reply: bool
    own: bool
    edit_url: str | None
    delete_url: str | None
    replies: list[CommentView] = field(default_factory=list)


@dataclass(frozen=True)
class ThreadContext:
    """What every comment's view depends on besides the comment itself."""

    viewer_id: int | None
    author_ids: frozenset[int]
    comments_open: bool
    max_depth: int
    can_edit: Callable[[ShownComment], bool]


def _avatar_src(comment: ShownComment, root: str) -> str:
    if comment.user_id and comment.avatar_digest:
        return f"{root}/avatars/{comment.user_id}.png?v={comment.avatar_digest}"
    return f"{root}/avatars/{comment.user_id or 'anonymous'}.svg"


def build_thread(nodes: list[ThreadNode], ctx: ThreadContext) -> list[CommentView]:
    """The views of a tree of comments, replies nested as in the tree."""
    root = request.script_root
    views = []
    for node in nodes:
        c = node.comment
        own = ctx.viewer_id is not None and c.user_id == ctx.viewer_id
        views.append(
            CommentView(
                id=c.id,
                depth=c.depth,
                deleted=c.status is CommentStatus.DELETED,
                pending=c.status is CommentStatus.PENDING,
                author_name=c.author_name,
                is_author=c.user_id in ctx.author_ids,
                avatar_src=_avatar_src(c, root),
                time_iso=local_time(c.created_at).isoformat(timespec="seconds"),
                time_text=format_datetime(c.created_at),
                edited=c.edited_at is not None,
                body_html=Markup(c.body_html),  # noqa: S704 - sanitised with nh3 when saved
                can_reply=ctx.comments_open and c.depth + 1 < ctx.max_depth,
                own=own,
                edit_url=url_for("comments.edit_form", comment_id=c.id)
                if own and ctx.can_edit(c)
                else None,
                delete_url=url_for("comments.delete", comment_id=c.id) if own else None,
                replies=build_thread(node.replies, ctx),
            )
        )
    return views


def _rows(nodes: list[ThreadNode]) -> tuple[ShownComment, ...]:
    found: list[ShownComment] = []
    for node in nodes:
        found.append(node.comment)
        found.extend(_rows(node.replies))
    return tuple(found)


def thread_html(post_id: int, nodes: list[ThreadNode], ctx: ThreadContext) -> Markup:
    """The rendered comment list; without the viewer's own comments, kept and shared.

    Every value a comment's markup depends on is in the key (its row, the Author badges,
    whether replies are open), so a kept rendering is never stale; the viewer's own comments
    carry their edit and delete forms and are rendered afresh.
    """
    if not nodes:
        return Markup("")
    rows = _rows(nodes)
    if ctx.viewer_id is not None and any(row.user_id == ctx.viewer_id for row in rows):
        return _render(nodes, ctx)
    authors = tuple(sorted(ctx.author_ids))
    key = ("thread", post_id, request.script_root, ctx.comments_open, ctx.max_depth, authors, rows)
    return cached(key, lambda: _render(nodes, ctx), len)


def _render(nodes: list[ThreadNode], ctx: ThreadContext) -> Markup:
    html = render_template("comments/thread.html", thread=build_thread(nodes, ctx))
    return Markup(html)  # noqa: S704 - a template's output, escaped by Jinja
