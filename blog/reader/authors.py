"""Authors' pages and feeds, and what templates show of authors, images and share cards."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, current_app, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import Select

from blog.cache.http import public_page
from blog.clock import utcnow
from blog.content.authors import Author, AuthorsError, load_authors
from blog.content.cards import SITE_CARD_SLUG, card_name, srcset_widths
from blog.content.frontmatter import slugify
from blog.content.images import MEDIA_URL, image_size
from blog.extensions import db
from blog.models import Post
from blog.publishing.share_images import site_card_title
from blog.reader import feeds, posts
from blog.reader.listing_page import listing_page
from blog.web.templating import absolute_url

bp = Blueprint("authors", __name__)
# Open Graph wants a territory; a bare language gets its most common one.
DEFAULT_TERRITORIES = {"en": "US", "fr": "FR", "de": "DE", "es": "ES", "pt": "BR", "ja": "JP"}
FEATURED_SIZES = "(min-width: 60rem) 56rem, 100vw"


def author_named(name: str) -> Author:
    """The configured author a post's byline names (display name, bio, avatar, slug)."""
    try:
        authors = load_authors(current_app.config["POSTS_DIR"])
    except AuthorsError:  # reported by the sync and `flask blog check`; shown as written
        return Author(slug=slugify(name) or "author", name=name)
    return authors.find(name)


def og_locale(language: str) -> str:
    """`en` -> `en_US`, `en-GB` -> `en_GB`: the form og:locale takes."""
    lang, _, territory = language.replace("_", "-").partition("-")
    lang = lang.lower() or "en"
    return f"{lang}_{(territory or DEFAULT_TERRITORIES.get(lang, lang)).upper()}"


def media_url(path: str) -> str:
    """The site path of a front-matter image: relative to posts/, or absolute."""
    return path if path.startswith("/") else MEDIA_URL + path


def share_image(post: Post) -> str:
    """The absolute URL of a post's share image: its own `image`, else its drawn card."""
    if post.image:
        return absolute_url(media_url(post.image))
    name = card_name(post.slug, current_app.config["SITE_TITLE"], post.title)
    return absolute_url(url_for("media.card", name=name))


def site_share_image() -> str:
    """The absolute URL of the site's own card (site title and tagline), for pages not a post."""
    name = card_name(SITE_CARD_SLUG, current_app.config["SITE_TITLE"], site_card_title())
    return absolute_url(url_for("media.card", name=name))


def featured_image(post: Post) -> dict[str, Any] | None:
    """src, srcset, sizes, width and height of a post's featured image; None without one."""
    if not post.image:
        return None
    src = media_url(post.image)
    if post.image.startswith("/"):
        return {"src": src, "srcset": "", "sizes": "", "width": None, "height": None}
    size = image_size(current_app.config["POSTS_DIR"], post.image) or (0, 0)
    widths = srcset_widths(size[0])
    srcset = ", ".join(
        [f"{url_for('media.sized', width=w, filename=post.image)} {w}w" for w in widths]
        + ([f"{src} {size[0]}w"] if widths else [])
    )
    return {
        "src": src,
        "srcset": srcset,
        "sizes": FEATURED_SIZES if srcset else "",
        "width": size[0] or None,
        "height": size[1] or None,
    }


@bp.app_context_processor
def presentation_helpers() -> dict[str, Any]:
    """Helpers the theme's templates call (only when rendering: pages are cached)."""
    return {
        "author_named": author_named,
        "og_locale": og_locale,
        "share_image": share_image,
        "site_share_image": site_share_image,
        "featured_image": featured_image,
    }


def _author_for_slug(slug: str, now: datetime) -> Author | None:
    """The author whose page `/author/<slug>/` is: configured, or named by a live post."""
    try:
        configured = load_authors(current_app.config["POSTS_DIR"]).by_slug.get(slug)
    except AuthorsError:
        configured = None
    if configured is not None:
        return configured
    names = db.session.scalars(
        posts.live(now).with_only_columns(Post.author).distinct().order_by(None)
    )
    for name in names:
        if slugify(name) == slug:
            return Author(slug=slug, name=name)
    return None


def _by(author: Author, now: datetime) -> Select[Post]:
    return posts.live(now).where(Post.author == author.name)


@bp.get("/author/<slug>/")
@bp.get("/author/<slug>/page/<int:number>/")
@public_page
def author(slug: str, number: int = 1) -> ResponseReturnValue:
    """An author's bio and posts, newest first."""
    now = utcnow()
    found = _author_for_slug(slug, now)
    if found is None:
        abort(404)
    return listing_page(
        _by(found, now),
        number,
        heading=found.name,
        author=found,
        endpoint="authors.author",
        endpoint_args={"slug": slug},
        feed=posts.Link(f"Posts by {found.name} Feed", url_for("authors.feed", slug=slug)),
    )


@bp.get("/author/<slug>/feed/")
@public_page
def feed(slug: str) -> Response:
    """RSS 2.0 of an author's newest posts."""
    now = utcnow()
    found = _author_for_slug(slug, now)
    if found is None:
        abort(404)
    return feeds.listing_rss(
        _by(found, now),
        f"{found.name} \u2013 {current_app.config['SITE_TITLE']}",
        url_for("authors.author", slug=slug),
    )
