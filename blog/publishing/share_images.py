"""Share cards and featured-image sizes, drawn at sync time into the derived-media folder.

A card is drawn for every post whose file changed, and each size of its featured image; the
routes that serve them draw one that is missing (another server's sync, or more changes than a
sync draws), so a page never links to an image that cannot be served.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from blog.content.cards import (
    SITE_CARD_SLUG,
    card_name,
    draw_card,
    resize_image,
    srcset_widths,
)
from blog.content.images import image_size, safe_media_path
from blog.extensions import db
from blog.models import Post, PostStatus
from blog.publishing.sync import SyncReport

log = logging.getLogger(__name__)
# An author's edit draws its card at once; a bulk sync (a first one, an import) would spend
# minutes drawing, so it leaves every card to the route that serves it, drawn on first request.
MAX_DRAWN_PER_SYNC = 20


def derived_dir() -> Path:
    """Where drawn cards and scaled images are kept (DERIVED_MEDIA_DIR, else instance/derived)."""
    configured = current_app.config.get("DERIVED_MEDIA_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "derived"


def site_card_title() -> str:
    """What the site's own card says under the site's title: its tagline."""
    return str(current_app.config["SITE_TAGLINE"] or current_app.config["SITE_TITLE"])


def card_file(slug: str, title: str) -> Path:
    """The card's path for a post with this slug and title."""
    return derived_dir() / "cards" / card_name(slug, current_app.config["SITE_TITLE"], title)


def ensure_card(slug: str, title: str) -> Path:
    """The post's card, drawn now if it is not there yet."""
    path = card_file(slug, title)
    if not path.is_file():
        draw_card(current_app.config["SITE_TITLE"], title, path)
    return path


def sized_file(relative: str, width: int) -> Path:
    """Where the `width` px copy of a posts/ image is kept."""
    return derived_dir() / "sized" / str(width) / relative


def ensure_sized(relative: str, width: int) -> Path | None:
    """The `width` px copy of a posts/ image, scaled now if missing; None when it cannot be."""
    source = safe_media_path(current_app.config["POSTS_DIR"], relative)
    if source is None:
        return None
    out = sized_file(relative, width)
    if out.is_file() and out.stat().st_mtime_ns >= source.stat().st_mtime_ns:
        return out
    return resize_image(source, width, out)


def prepare_share_images(report: SyncReport) -> int:
    """Draw the cards and image sizes of the posts a sync added or updated; return how many."""
    changed = report.added + report.updated
    if not changed or len(changed) > MAX_DRAWN_PER_SYNC:
        return 0
    rows = db.session.execute(
        select(Post.slug, Post.title, Post.image).where(
            Post.source_path.in_(changed),
            Post.status == PostStatus.PUBLISHED,
        )
    ).all()
    drawn = 0
    for slug, title, image in [(SITE_CARD_SLUG, site_card_title(), None), *rows]:
        try:
            ensure_card(slug, title)
            drawn += 1
            if image and not image.startswith("/"):
                size = image_size(current_app.config["POSTS_DIR"], image)
                for width in srcset_widths(size[0] if size else 0):
                    ensure_sized(image, width)
        except OSError as exc:  # a read-only or full disk: the routes draw them on demand
            log.warning("share image for %s not drawn: %s", slug, exc)
    return drawn
