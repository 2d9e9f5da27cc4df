"""Comment feeds (RSS 2.0): every approved comment on the blog, and each post's own.

A comment is in a feed exactly when readers see it under its post: it is approved, its post
is live, and no comment above it in the thread is held back (an approved reply to a pending
parent stays hidden until the parent is approved).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from flask import Blueprint, Response, abort, current_app, redirect, request
from flask.typing import ResponseReturnValue
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from blog.cache.http import public_page
from blog.cache.tracking import record_shown
from blog.clock import utcnow
from blog.content.comment_markup import xml_text
from blog.extensions import db
from blog.models import Comment, CommentStatus, Post, PostLayout
from blog.models.base import COMMENTS
from blog.reader import posts
from blog.web.templating import absolute_url

bp = Blueprint("comment_feeds", __name__)
FEED_SIZE = 50
# Statuses of an ancestor under which an approved reply is shown: a deleted comment stays
# as a placeholder where it has visible replies.
SHOWN_ABOVE = frozenset({CommentStatus.APPROVED, CommentStatus.DELETED})


def approved_comments(now: datetime, post: Post | None = None) -> Select[Comment]:
    """Approved comments on live posts (or on one post), newest first."""
    live_ids = posts.live(now).with_only_columns(Post.id)
    query = (
        select(Comment)
        .where(Comment.status == CommentStatus.APPROVED, Comment.post_id.in_(live_ids))
        .options(selectinload(Comment.post))
    )
    if post is not None:
        query = query.where(Comment.post_id == post.id)
    return query.order_by(Comment.created_at.desc(), Comment.id.desc())


def _ancestors(comments: Iterable[Comment]) -> dict[int, tuple[CommentStatus, int | None]]:
    """Status and parent of every comment above these, a level per query."""
    known: dict[int, tuple[CommentStatus, int | None]] = {}
    wanted = {c.parent_id for c in comments if c.parent_id is not None}
    while wanted:
        rows = db.session.execute(
            select(Comment.id, Comment.status, Comment.parent_id).where(Comment.id.in_(wanted))
        ).all()
        known.update({row.id: (row.status, row.parent_id) for row in rows})
        wanted = {parent for _status, parent in known.values() if parent is not None} - set(known)
    return known


def _shown(comment: Comment, above: dict[int, tuple[CommentStatus, int | None]]) -> bool:
    parent = comment.parent_id
    while parent is not None:
        status, parent_of_parent = above.get(parent, (None, None))
        if status not in SHOWN_ABOVE:
            return False
        parent = parent_of_parent
    return True


def visible_comments(now: datetime, limit: int, post: Post | None = None) -> list[Comment]:
    """The newest comments readers can see, at most `limit`."""
    found: list[Comment] = []
    offset = 0
    while len(found) < limit:
        batch = db.session.scalars(approved_comments(now, post).limit(limit).offset(offset)).all()
        above = _ancestors(batch)
        found.extend(c for c in batch if _shown(c, above))
        if len(batch) < limit:
            break
        offset += limit
    return found[:limit]


def _feed(title: str, site_link: str, self_url: str, comments: Sequence[Comment]) -> Response:
    from feedgen.feed import FeedGenerator  # by the first feed request, as in blog.reader.feeds

    cfg = current_app.config
    fg = FeedGenerator()
    fg.load_extension("dc")
    fg.id(self_url)
    fg.title(title)
    fg.description(f"Comments on {cfg['SITE_TITLE']}")
    # feedgen uses the last link as RSS's channel <link>, which must be a page, not the feed.
    fg.link(href=self_url, rel="self")
    fg.link(href=site_link, rel="alternate")
    fg.language(cfg["SITE_LANGUAGE"])
    # A fixed build date (not "now") keeps the ETag stable while nothing changes.
    fg.updated(max((c.edited_at or c.created_at for c in comments), default=utcnow()))
    for comment in reversed(comments):  # feedgen prepends entries
        url = absolute_url(f"{comment.post.path}#comment-{comment.id}")
        # Rows written before text was cleaned as it came in may hold what XML cannot carry.
        author = xml_text(comment.author_name)
        entry = fg.add_entry()
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(xml_text(f"Comment on {comment.post.title} by {author}"))
        entry.link(href=url)
        # Commenters' email addresses never appear: the name goes in dc:creator.
        entry.dc.dc_creator(author)
        entry.published(comment.created_at)
        entry.updated(comment.edited_at or comment.created_at)
        entry.description(xml_text(comment.body_html))
    return Response(fg.rss_str(pretty=True), mimetype="application/rss+xml")


@bp.get("/comments/feed/")
@public_page
def all_comments() -> ResponseReturnValue:
    """The newest approved comments on the whole blog."""
    record_shown(COMMENTS)  # any post's comments, whichever posts it loads
    title = f"Comments for {current_app.config['SITE_TITLE']}"
    comments = visible_comments(utcnow(), FEED_SIZE)
    return _feed(title, absolute_url("/"), absolute_url(request.path), comments)


@bp.get("/<int:year>/<int(fixed_digits=2):month>/<int(fixed_digits=2):day>/<slug>/feed/")
@public_page
def post_comments(year: int, month: int, day: int, slug: str) -> ResponseReturnValue:
    """The approved comments on one post; a wrong date redirects to the right feed."""
    now = utcnow()
    post = posts.find_post(slug, now)
    if post is None or post.layout is not PostLayout.POST:
        abort(404)
    if request.path != post.path + "feed/":
        return redirect(post.path + "feed/", 301)
    title = xml_text(f"Comments on: {post.title}")
    comments = visible_comments(now, FEED_SIZE, post)
    return _feed(title, absolute_url(post.path), absolute_url(request.path), comments)
