"""Likes, report links and featured comments on the post page, cheap for every reader.

What every reader sees alike (counts, latest likers, featured comments) is kept per post
under its tag, so a like, a report that holds a comment or a pin moves it in every process.
What is the reader's own (which of these they like) is one query per page, and is filled in
per request: the shared thread carries a marker per comment (`<!--reactions:N-->`), never a
reader's state, so the thread and the anonymous section stay one copy for everyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import render_template, url_for
from markupsafe import Markup
from sqlalchemy import func, select

from blog.auth.roles import is_moderator
from blog.cache.memo import kept, link_base
from blog.comments.likes import viewer_likes
from blog.extensions import db
from blog.models import Avatar, Comment, CommentStatus, FeaturedComment, Like, User
from blog.models.base import SITE, post_tag
from blog.models.reactions import POST_ITSELF
from blog.web.templating import avatar_url, format_datetime, local_time

MARKER = re.compile(r"<!--reactions:([0-9]+)-->")
LIKERS_SHOWN = 10
# Stand-ins in the widgets' HTML, rendered once and filled per comment.
ID_SLOT = "__REACTION_ID__"
COUNT_SLOT = "__REACTION_COUNT__"
WIDGET_PARTS = ("anonymous", "like", "liked", "report", "feature", "unfeature")
PART_BREAK = "<!--part-->"
# In a thread only where the reader's own comments carry their forms.
CSRF_FIELD = 'name="csrf_token"'


def like_text(count: int) -> str:
    """A like count as shown beside the button: nothing for none."""
    if count == 0:
        return ""
    return "1 like" if count == 1 else f"{count:,} likes"


@dataclass(frozen=True)
class FeaturedView:
    """A featured comment as the box above the thread shows it."""

    id: int
    author_name: str
    avatar_src: str
    time_iso: str
    time_text: str
    body_html: Markup


@dataclass(frozen=True)
class PostReactions:
    """What every reader of a post sees alike: kept until the post's tag moves."""

    post_likes: int
    likers: tuple[str, ...]  # the latest likers' avatar URLs, newest first
    comment_likes: dict[int, int]
    shown: dict[int, int | None]  # the approved comments (the only ones with reactions): writers
    featured: tuple[FeaturedView, ...]

    @property
    def featured_ids(self) -> frozenset[int]:
        """The ids of the featured comments."""
        return frozenset(f.id for f in self.featured)


def post_reactions(post_id: int) -> PostReactions:
    """The post's shared reactions, kept under its tag."""
    key = ("reactions", post_id, link_base())
    return kept(key, (SITE, post_tag(post_id)), lambda: _load(post_id))


def _load(post_id: int) -> PostReactions:
    counts = dict(
        db.session.execute(
            select(Like.comment_key, func.count())
            .where(Like.post_id == post_id)
            .group_by(Like.comment_key)
        ).all()
    )
    likers = db.session.execute(
        select(Like.user_id, Avatar.digest)
        .outerjoin(Avatar, Avatar.user_id == Like.user_id)
        .where(Like.post_id == post_id, Like.comment_key == POST_ITSELF)
        .order_by(Like.created_at.desc(), Like.id.desc())
        .limit(LIKERS_SHOWN)
    )
    shown = db.session.execute(
        select(Comment.id, Comment.user_id).where(
            Comment.post_id == post_id, Comment.status == CommentStatus.APPROVED
        )
    ).all()
    return PostReactions(
        post_likes=counts.pop(POST_ITSELF, 0),
        likers=tuple(avatar_url(user_id, digest) for user_id, digest in likers),
        comment_likes=counts,
        shown=dict(shown),
        featured=_featured(post_id),
    )


def _featured(post_id: int) -> tuple[FeaturedView, ...]:
    rows = db.session.execute(
        select(Comment, Avatar.digest)
        .join(FeaturedComment, FeaturedComment.comment_id == Comment.id)
        .outerjoin(Avatar, Avatar.user_id == Comment.user_id)
        .where(FeaturedComment.post_id == post_id, Comment.status == CommentStatus.APPROVED)
        .order_by(FeaturedComment.featured_at, FeaturedComment.comment_id)
    )
    return tuple(
        FeaturedView(
            id=c.id,
            author_name=c.author_name,
            avatar_src=avatar_url(c.user_id, digest),
            time_iso=local_time(c.created_at).isoformat(timespec="seconds"),
            time_text=format_datetime(c.created_at),
            body_html=Markup(c.body_html),  # noqa: S704 - sanitised with nh3 when saved
        )
        for c, digest in rows
    )


@dataclass(frozen=True)
class WidgetParts:
    """A comment's reaction controls, rendered once with stand-ins for its id and count."""

    anonymous: str
    like: str
    liked: str
    report: str
    feature: str
    unfeature: str


def widget_parts() -> WidgetParts:
    """The controls' HTML for this link base, kept until the site changes."""
    return kept(("reaction-widgets", link_base()), (SITE,), _render_parts)


def _slot_url(endpoint: str) -> str:
    # An id of 1 stands in for every comment's: the rule's last number (the mount may have some).
    head, _slot, tail = url_for(endpoint, comment_id=1).rpartition("/1/")
    return f"{head}/{ID_SLOT}/{tail}"


def _render_parts() -> WidgetParts:
    html = render_template(
        "comments/comment_reactions.html",
        id_slot=ID_SLOT,
        count_slot=COUNT_SLOT,
        like_url=_slot_url("reactions.like_comment"),
        report_url=_slot_url("reactions.report"),
        feature_url=_slot_url("admin.feature"),
        unfeature_url=_slot_url("admin.unfeature"),
    )
    parts = [part.strip() for part in html.split(PART_BREAK)]
    return WidgetParts(**dict(zip(WIDGET_PARTS, parts, strict=True)))


@dataclass(frozen=True)
class ShownReactions:
    """The reactions on one post page for this request's reader."""

    post_id: int
    shared: PostReactions
    parts: WidgetParts
    viewer_id: int | None = None
    moderator: bool = False
    mine: frozenset[int] = field(default_factory=frozenset)

    @property
    def signed_in(self) -> bool:
        """Whether a logged-in reader is looking (the controls are theirs to press)."""
        return self.viewer_id is not None

    @property
    def post_liked(self) -> bool:
        """Whether this reader likes the post."""
        return POST_ITSELF in self.mine

    @property
    def post_like_text(self) -> str:
        """The post's like count as shown."""
        return like_text(self.shared.post_likes)

    def fill(self, thread: Markup) -> Markup:
        """The thread with each shown comment's controls in its marker's place.

        The shared thread (no form of the reader's own, so no token of theirs) is filled once
        per set of likes and kept: readers who like the same things share the result. It is
        kept for that very thread object (the memo's), which the value holds so that its id
        stays its own: another page or state of the thread is another thread.
        """
        if not thread:
            return thread
        if self.signed_in and CSRF_FIELD in thread:
            return self._filled(thread)  # their own comments' forms: this page is theirs alone
        key = (
            "reactions-filled",
            self.post_id,
            link_base(),
            id(thread),
            self.signed_in,
            self.mine,
            self.moderator,
        )
        source, filled = kept(
            key, (SITE, post_tag(self.post_id)), lambda: (thread, self._filled(thread))
        )
        return filled if source is thread else self._filled(thread)

    def _filled(self, thread: Markup) -> Markup:
        return Markup(MARKER.sub(self._controls, str(thread)))  # noqa: S704 - our own parts

    def _controls(self, match: re.Match[str]) -> str:
        comment_id = int(match.group(1))
        if comment_id not in self.shared.shown:
            return ""
        parts = self.parts
        if not self.signed_in:
            html = parts.anonymous
        else:
            html = parts.liked if comment_id in self.mine else parts.like
            if self.shared.shown[comment_id] != self.viewer_id:
                html += parts.report
            if self.moderator:
                featured = comment_id in self.shared.featured_ids
                html += parts.unfeature if featured else parts.feature
        count = like_text(self.shared.comment_likes.get(comment_id, 0))
        return html.replace(ID_SLOT, str(comment_id)).replace(COUNT_SLOT, count)


def for_reader(post_id: int, user: User | None) -> ShownReactions:
    """The post's reactions for this reader: shared counts, and their own likes (one query)."""
    shared, parts = post_reactions(post_id), widget_parts()
    if user is None:
        return ShownReactions(post_id, shared, parts)
    # Kept per reader under the post's tag: each like or undo of theirs moves it.
    mine = kept(
        ("liked", post_id, user.id), (post_tag(post_id),), lambda: viewer_likes(post_id, user.id)
    )
    return ShownReactions(post_id, shared, parts, user.id, is_moderator(user), mine)
