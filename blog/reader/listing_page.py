"""Listing pages (home, archives, terms) kept until the content or their comment counts change.

Which posts a listing page shows changes only with the content (the `site` tag, and scheduled
posts going live); what else it shows of them that can change is their comment counts, which
move their `post:<id>` tags. So the page's post ids are kept under `site`, and the rendered page
under `site` and those posts' tags: a kept view makes no query.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, current_app, render_template
from sqlalchemy import Select

from blog.cache.memo import kept, link_base
from blog.cache.tracking import record_post_shown
from blog.clock import utcnow
from blog.comments.threads import comment_counts
from blog.models import Post
from blog.models.base import SITE, post_tag
from blog.reader import posts


@dataclass(frozen=True)
class ShownPage:
    """Which posts one page of a listing shows, newest first, and how many the listing has."""

    post_ids: tuple[int, ...]
    total: int


def listing_page(query: Select[Post], number: int, empty_ok: bool = False, **context: Any) -> str:
    """One page of a listing; 404 past its end, or when it is empty and may not be."""
    now = utcnow()
    # One listing, whatever its page number: the endpoint and its arguments name it.
    name = (context.get("endpoint"), repr(context.get("endpoint_args")))
    per_page = int(current_app.config["POSTS_PER_PAGE"])
    shown = kept(
        ("listing-posts", *name, number),
        (SITE,),
        lambda: _shown(query, number, per_page, name, now),
        now,
    )
    # An archive or term with nothing live (yet) is not found, as on WordPress: a 200 would
    # reveal a scheduled post's tags and invite crawlers to index empty pages.
    if shown is None or (shown.total == 0 and not empty_ok):
        abort(404)
    for post_id in shown.post_ids:
        record_post_shown(post_id)
    key = ("listing", *name, number, link_base())
    # What else the page shows that can change is the posts' comment counts: their tags.
    tags = (SITE, *(post_tag(post_id) for post_id in shown.post_ids))
    return kept(key, tags, lambda: _render(query, number, per_page, name, now, context), now)


def _shown(
    query: Select[Post], number: int, per_page: int, name: Hashable, now: datetime
) -> ShownPage | None:
    page = posts.paginate(query, number, per_page, ("total", name), now)
    if page is None:
        return None
    return ShownPage(tuple(p.id for p in page.posts), page.total)


def _render(
    query: Select[Post],
    number: int,
    per_page: int,
    name: Hashable,
    now: datetime,
    context: dict[str, Any],
) -> str:
    page = posts.paginate(query, number, per_page, ("total", name), now)
    if page is None:  # the content moved on since the ids were kept: render it as it is
        abort(404)
    counts = comment_counts([p.id for p in page.posts])
    return render_template("listing.html", page=page, comment_counts=counts, **context)
