"""Moderators preview drafts and scheduled posts at their future URLs; nobody else sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue

from blog.auth.roles import is_moderator
from blog.auth.session import viewer
from blog.clock import utcnow
from blog.extensions import db
from blog.models import Post, PostStatus
from blog.reader import posts

NOINDEX = "noindex"
NO_STORE = "private, no-store"


@dataclass(frozen=True)
class Unpublished:
    """A post readers cannot see yet, and why: a draft, or scheduled for later."""

    post: Post
    state: str  # "draft" or "scheduled"


def state_of(post: Post) -> str:
    """`draft` or `scheduled`."""
    return "draft" if post.status is PostStatus.DRAFT else "scheduled"


def unpublished_posts(now: datetime) -> list[Unpublished]:
    """Drafts and scheduled posts, soonest first."""
    found = db.session.scalars(
        posts.unpublished(now).order_by(Post.published_at.asc(), Post.id.asc())
    ).all()
    return [Unpublished(post, state_of(post)) for post in found]


def preview_or_404(slug: str) -> ResponseReturnValue:
    """A moderator's preview of a draft or scheduled post at its URL; a 404 for anyone else."""
    user = viewer()
    if not is_moderator(user):
        abort(404)
    post = posts.find_post_for_preview(slug, utcnow())
    if post is None:
        abort(404)
    if post.path != request.path:
        response = make_response(redirect(post.path, 302))
    else:
        html = render_template(
            "admin/preview.html",
            post=post,
            state=state_of(post),
            older=None,
            newer=None,
            # The comment section of a post nobody can comment on yet: closed, empty.
            thread=[],
            comment_count=0,
            comments_open=False,
            viewer=user,
            notice=None,
        )
        response = make_response(html)
    response.headers["Cache-Control"] = NO_STORE
    response.headers["X-Robots-Tag"] = NOINDEX
    return response
