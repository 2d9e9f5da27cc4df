"""The comment tree as the post page shows it: each comment's display values worked out once.

The template only prints these: a page with a hundred comments would otherwise run the same
lookups, URL building and date formatting through Jinja a hundred times over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import render_template, url_for
from markupsafe import Markup

from blog.auth.roles import moderator_user_ids
from blog.cache.memo import kept, link_base
from blog.comments.paging import CommentPage
from blog.comments.paragraphs import current_anchors
from blog.comments.threads import (
    CommentTarget,
    ShownComment,
    ThreadNode,
    count_visible,
    has_comments,
    thread,
)
from blog.models import CommentStatus
from blog.models.base import SITE, post_tag
from blog.web.templating import avatar_url, format_datetime, local_time


@dataclass(frozen=True, slots=True)
class ModerationButton:
    """One of a moderator's in-place actions on a held comment: a POST to the admin area."""

    label: str
    action: str
    url: str
    back: str  # where the moderator lands: the comment once approved, else the thread


# The actions WordPress offers on a held comment in the thread, in its order.
IN_PLACE_ACTIONS = (("Approve", "approve"), ("Spam", "spam"), ("Trash", "trash"))


@dataclass(slots=True)
class CommentView:
    """One comment of the tree, ready to print."""

    id: int
    depth: int
    deleted: bool
    pending: bool
    edit_held: bool
    author_name: str
    author_url: str | None
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
    quote: str | None = None  # the paragraph it is about, as it read
    quote_url: str | None = None  # that paragraph's anchor while the post still has it
    # A held comment shown to a moderator: the actions it can take on it, in place.
    moderation: tuple[ModerationButton, ...] = ()


@dataclass(frozen=True)
class ThreadContext:
    """What every comment's view depends on besides the comment itself."""

    viewer_id: int | None
    author_ids: frozenset[int]
    comments_open: bool
    max_depth: int
    can_edit: Callable[[ShownComment], bool]
    anchors: frozenset[str] = frozenset()  # the post's paragraphs as it reads now
    moderator: bool = False
    post_path: str = ""


def build_thread(nodes: list[ThreadNode], ctx: ThreadContext) -> list[CommentView]:
    """The views of a tree of comments, replies nested as in the tree."""
    views = []
    for node in nodes:
        c = node.comment
        if c.status is CommentStatus.DELETED:
            views.append(_placeholder(c, build_thread(node.replies, ctx)))
            continue
        own = ctx.viewer_id is not None and c.user_id == ctx.viewer_id
        pending = c.status is CommentStatus.PENDING
        views.append(
            CommentView(
                id=c.id,
                depth=c.depth,
                deleted=False,
                pending=pending,
                edit_held=own and c.edit_held,
                author_name=c.author_name,
                author_url=c.author_url if c.user_id is None else None,
                is_author=c.user_id in ctx.author_ids,
                avatar_src=avatar_url(c.user_id, c.avatar_digest),
                time_iso=local_time(c.created_at).isoformat(timespec="seconds"),
                time_text=format_datetime(c.created_at),
                edited=c.edited_at is not None,
                body_html=Markup(c.body_html),  # noqa: S704 - sanitised with nh3 when saved
                # A held comment is answered once it is shown (a moderator replies from the queue).
                can_reply=ctx.comments_open and not pending and c.depth + 1 < ctx.max_depth,
                own=own,
                edit_url=url_for("comments.edit_form", comment_id=c.id)
                if own and ctx.can_edit(c)
                else None,
                delete_url=url_for("comments.delete", comment_id=c.id) if own else None,
                replies=build_thread(node.replies, ctx),
                quote=c.paragraph_quote,
                quote_url=f"#{c.paragraph_id}" if c.paragraph_id in ctx.anchors else None,
                moderation=_moderation(c.id, ctx.post_path) if pending and ctx.moderator else (),
            )
        )
    return views


def _moderation(comment_id: int, post_path: str) -> tuple[ModerationButton, ...]:
    return tuple(
        ModerationButton(
            label,
            action,
            url_for("admin.act", comment_id=comment_id, action=action),
            f"{post_path}#comment-{comment_id}" if action == "approve" else f"{post_path}#comments",
        )
        for label, action in IN_PLACE_ACTIONS
    )


def _placeholder(c: ShownComment, replies: list[CommentView]) -> CommentView:
    """A deleted comment kept for its replies: its place in the thread, nothing of its writer."""
    return CommentView(
        id=c.id,
        depth=c.depth,
        deleted=True,
        pending=False,
        edit_held=False,
        author_name="",
        author_url=None,
        is_author=False,
        avatar_src="",
        time_iso="",
        time_text="",
        edited=False,
        body_html=Markup(""),
        can_reply=False,
        own=False,
        edit_url=None,
        delete_url=None,
        replies=replies,
    )


def _rows(nodes: list[ThreadNode]) -> tuple[ShownComment, ...]:
    found: list[ShownComment] = []
    for node in nodes:
        found.append(node.comment)
        found.extend(_rows(node.replies))
    return tuple(found)


@dataclass(frozen=True)
class ShownThread:
    """A post's comment list as rendered, and how many comments it shows."""

    html: Markup
    count: int


def shown_thread(
    post: CommentTarget,
    viewer_id: int | None,
    comments_open: bool,
    max_depth: int,
    can_edit: Callable[[ShownComment], bool],
    page: CommentPage | None = None,
    moderator: bool = False,
) -> ShownThread:
    """The post's rendered comments; kept and shared unless the viewer wrote some of them.

    It is kept under the post's tag and `site`: every write that changes a comment, its
    author's avatar or who has the Author badge moves one of them (each model's cache_tags),
    in every process. The viewer's own comments carry their edit and delete forms, and a
    moderator's thread holds every held comment with its actions, so those are rendered afresh.
    """

    def render() -> ShownThread:
        nodes = thread(post, viewer_id, page, moderator)
        ctx = ThreadContext(
            viewer_id=viewer_id,
            author_ids=frozenset(moderator_user_ids(_user_ids(nodes))),
            comments_open=comments_open,
            max_depth=max_depth,
            can_edit=can_edit,
            anchors=current_anchors(post.id)
            if any(row.paragraph_id for row in _rows(nodes))
            else frozenset(),
            moderator=moderator,
            post_path=post.path,
        )
        return ShownThread(_render(nodes, ctx) if nodes else Markup(""), count_visible(nodes))

    if viewer_id is not None and (moderator or _wrote_here(post.id, viewer_id)):
        return render()
    key = ("thread", post.id, link_base(), comments_open, max_depth, page)
    return kept(key, (SITE, post_tag(post.id)), render)


def _wrote_here(post_id: int, viewer_id: int) -> bool:
    # Only a comment on this post changes the answer, and that moves the post's tag.
    key = ("wrote-here", post_id, viewer_id)
    return kept(key, (post_tag(post_id),), lambda: has_comments(post_id, viewer_id))


def _user_ids(nodes: list[ThreadNode]) -> set[int]:
    return {row.user_id for row in _rows(nodes) if row.user_id is not None}


def _render(nodes: list[ThreadNode], ctx: ThreadContext) -> Markup:
    html = render_template("comments/thread.html", thread=build_thread(nodes, ctx))
    return Markup(html)  # noqa: S704 - a template's output, escaped by Jinja
