"""Reader pages: home, post, archives, taxonomies, search, standalone pages."""

from __future__ import annotations

import calendar
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue

from blog.cache.http import public_page
from blog.cache.memo import kept, link_base
from blog.clock import utcnow
from blog.comments.paging import PAGE_PATH, page_path
from blog.content.images import safe_media_path
from blog.models import PostLayout, Term, TermKind
from blog.models.base import SITE
from blog.reader import feeds, posts, search
from blog.reader.listing_page import listing_page
from blog.reader.post_page import (
    COMMENT_ARG,
    asked_page,
    comment_link,
    comment_pages,
    post_page,
    post_shell,
)
from blog.reader.previews import preview_or_404
from blog.web.formdata import parse_int

bp = Blueprint("reader", __name__)


@bp.app_context_processor
def navigation() -> dict[str, Any]:
    """The standalone pages and categories every page's navigation lists (read when shown)."""
    return {
        "nav_pages": lambda: posts.pages(utcnow()),
        "nav_categories": lambda: posts.term_counts(TermKind.CATEGORY, utcnow()),
    }


def _per_page() -> int:
    return int(current_app.config["POSTS_PER_PAGE"])


@bp.get("/")
@bp.get("/page/<int:number>/")
@public_page
def home(number: int = 1) -> ResponseReturnValue:
    """The newest posts with excerpts; `?s=` searches instead, `?p=ID` goes to a post."""
    for name in ("p", "page_id", "cat", "tag"):
        # An imported site's own ids and slugs come first: the links out there are to them.
        if name in request.args:
            target = posts.old_link(f"/?{name}={request.args[name]}", utcnow())
            if target == "":
                abort(404)
            if target is not None:
                return redirect(target, 301)
    if "feed" in request.args:
        return redirect(_WORDPRESS_FEEDS.get(request.args["feed"], "/feed/"), 301)
    for name, layout in (("p", None), ("page_id", PostLayout.PAGE)):
        if name in request.args:
            return _by_id(request.args[name], layout)
    if "s" in request.args:
        return search_page(request.args.get("s", ""), number)
    return listing_page(
        posts.live(utcnow()), number, empty_ok=True, heading=None, endpoint="reader.home"
    )


# WordPress's default feed links, `/?feed=rss2` and the like, to ours.
_WORDPRESS_FEEDS = {"atom": "/feed/atom/", "comments-rss2": "/comments/feed/"}


def _by_id(value: str, layout: PostLayout | None) -> ResponseReturnValue:
    """WordPress's default links, `/?p=ID` (a post or page) and `/?page_id=ID`, to the permalink."""
    post_id = parse_int(value)
    path = None if post_id is None else posts.visible_path(post_id, utcnow(), layout)
    if path is None:
        abort(404)
    return redirect(path, 301)


def search_page(query: str, number: int) -> ResponseReturnValue:
    """Ranked full-text results with highlighted snippets, kept until the content changes."""
    query = query.strip()[:200]
    now = utcnow()
    key = ("search", query, number, link_base())
    return kept(key, (SITE,), lambda: _render_search(query, number, now), now)


def _render_search(query: str, number: int, now: datetime) -> str:
    per_page = _per_page()
    hits = search.search_posts(query, now, limit=per_page + 1, offset=(number - 1) * per_page)
    return render_template(
        "search.html",
        query=query,
        hits=hits[:per_page],
        number=number,
        has_next=len(hits) > per_page,
        words=search.query_words(query),
    )


@bp.get("/<int:year>/<int(fixed_digits=2):month>/<int(fixed_digits=2):day>/<slug>/")
@public_page
def post(year: int, month: int, day: int, slug: str) -> ResponseReturnValue:
    """A post at its permalink; a wrong date redirects to the right one."""
    shell = post_shell(slug, utcnow())
    if shell is None:
        return preview_or_404(slug)
    if shell.layout is PostLayout.PAGE or shell.path != request.path:
        return redirect(shell.path, 301)
    if COMMENT_ARG in request.args:
        return redirect(comment_link(shell, request.args[COMMENT_ARG]), 302)
    return post_page(shell, asked_page())


@bp.get(
    "/<int:year>/<int(fixed_digits=2):month>/<int(fixed_digits=2):day>/<slug>"
    "/comment-page-<int:number>/"
)
@public_page
def comment_page(year: int, month: int, day: int, slug: str, number: int) -> ResponseReturnValue:
    """A later page of a post's comments, as WordPress pages them; past the last one, a 404."""
    shell = post_shell(slug, utcnow())
    if shell is None or shell.layout is not PostLayout.POST:
        abort(404)
    page = asked_page(number)
    if number < 2 or not page.paged:
        return redirect(page_path(shell.path, 1, page.order), 301)
    if number > comment_pages(shell):
        abort(404)
    if request.path != shell.path + PAGE_PATH.format(number=number):
        return redirect(page_path(shell.path, number, page.order), 301)
    return post_page(shell, page)


@bp.get("/<slug>/")
@public_page
def by_slug(slug: str) -> ResponseReturnValue:
    """A standalone page, or a redirect from `/slug/` to the post's permalink."""
    shell = post_shell(slug, utcnow())
    if shell is None:
        return preview_or_404(slug)
    if shell.layout is PostLayout.POST:
        return redirect(shell.path, 301)
    return post_page(shell)


@bp.get("/<int(fixed_digits=4):year>/")
@bp.get("/<int(fixed_digits=4):year>/page/<int:number>/")
@bp.get("/<int(fixed_digits=4):year>/<int(fixed_digits=2):month>/")
@bp.get("/<int(fixed_digits=4):year>/<int(fixed_digits=2):month>/page/<int:number>/")
@bp.get("/<int(fixed_digits=4):year>/<int(fixed_digits=2):month>/<int(fixed_digits=2):day>/")
@bp.get(
    "/<int(fixed_digits=4):year>/<int(fixed_digits=2):month>/<int(fixed_digits=2):day>"
    "/page/<int:number>/"
)
@public_page
def archive(
    year: int, month: int | None = None, day: int | None = None, number: int = 1
) -> ResponseReturnValue:
    """Posts from a year, a month or a day."""
    try:
        date(year, month or 1, day or 1)
    except ValueError:  # year 0, month 13, February 30th...
        abort(404)
    if month is None:
        heading = str(year)
    elif day is None:
        heading = f"{calendar.month_name[month]} {year}"
    else:
        heading = f"{calendar.month_name[month]} {day}, {year}"
    return listing_page(
        posts.in_archive(year, month, day, utcnow(), ZoneInfo(current_app.config["TIMEZONE"])),
        number,
        heading=f"Archives: {heading}",
        endpoint="reader.archive",
        endpoint_args={"year": year, "month": month, "day": day},
    )


@bp.get("/category/<path:slug>/")
@bp.get("/category/<path:slug>/page/<int:number>/")
@public_page
def category(slug: str, number: int = 1) -> ResponseReturnValue:
    """Posts in a category and its subcategories."""
    return _term_listing(TermKind.CATEGORY, slug, number, "Category")


@bp.get("/tag/<slug>/")
@bp.get("/tag/<slug>/page/<int:number>/")
@public_page
def tag(slug: str, number: int = 1) -> ResponseReturnValue:
    """Posts with a tag."""
    return _term_listing(TermKind.TAG, slug, number, "Tag")


@bp.get("/category/<path:slug>/feed/")
@public_page
def category_feed(slug: str) -> ResponseReturnValue:
    """RSS 2.0 of a category's posts, its subcategories' too."""
    return _term_feed(TermKind.CATEGORY, slug)


@bp.get("/tag/<slug>/feed/")
@public_page
def tag_feed(slug: str) -> ResponseReturnValue:
    """RSS 2.0 of a tag's posts."""
    return _term_feed(TermKind.TAG, slug)


def _term_listing(kind: TermKind, slug: str, number: int, label: str) -> ResponseReturnValue:
    moved = _lowercase(slug)
    if moved is not None:
        return moved
    term = _term(kind, slug)
    return listing_page(
        posts.with_term(term, utcnow()),
        number,
        heading=f"{label}: {term.name}",
        endpoint=request.endpoint,
        endpoint_args={"slug": slug},
        feed=posts.Link(
            f"{term.name} {label} Feed", url_for(f"reader.{kind.value}_feed", slug=slug)
        ),
    )


def _term_feed(kind: TermKind, slug: str) -> ResponseReturnValue:
    moved = _lowercase(slug)
    if moved is not None:
        return moved
    return feeds.term_rss(_term(kind, slug))


def _lowercase(slug: str) -> ResponseReturnValue | None:
    """A 301 to the same URL with the term's slug in lowercase, as WordPress answers; or None."""
    if slug == slug.lower():
        return None
    args = {**(request.view_args or {}), "slug": slug.lower()}
    return redirect(url_for(request.endpoint or "reader.home", **args), 301)


def _term(kind: TermKind, slug: str) -> Term:
    term = posts.find_term(kind, slug)
    if term is None:
        abort(404)
    return term


@bp.get("/media/<path:filename>")
def media(filename: str) -> ResponseReturnValue:
    """Images that live beside the posts."""
    path = safe_media_path(current_app.config["POSTS_DIR"], filename)
    if path is None:
        abort(404)
    response = send_file(path, max_age=86400)
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
