"""Drawn share cards and scaled copies of featured images, from the derived-media folder."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_file
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from blog.clock import utcnow
from blog.content.cards import RESPONSIVE_WIDTHS, SITE_CARD_SLUG, card_name
from blog.extensions import db
from blog.models import Post, PostStatus
from blog.publishing.share_images import ensure_card, ensure_sized, site_card_title

bp = Blueprint("media", __name__)
# Their names change with their content, so a copy may be kept for long.
MAX_AGE = 30 * 86400
IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'"


@bp.get("/cards/<name>")
def card(name: str) -> ResponseReturnValue:
    """A live post's share card, `<slug>-<digest>.png`, or the site's (`_site-...`); drawn now
    if its sync did not."""
    slug, _, rest = name.rpartition("-")
    if not slug or not rest.endswith(".png"):
        abort(404)
    if slug == SITE_CARD_SLUG:
        title = site_card_title()
        if card_name(slug, current_app.config["SITE_TITLE"], title) != name:
            abort(404)
        return _image(send_file(ensure_card(slug, title), max_age=MAX_AGE))
    row = db.session.execute(
        select(Post.slug, Post.title).where(
            Post.status == PostStatus.PUBLISHED,
            Post.published_at <= utcnow(),
            Post.slug == slug,
        )
    ).first()
    if row is None or card_name(row.slug, current_app.config["SITE_TITLE"], row.title) != name:
        abort(404)
    return _image(send_file(ensure_card(row.slug, row.title), max_age=MAX_AGE))


@bp.get("/sized/<int:width>/<path:filename>")
def sized(width: int, filename: str) -> ResponseReturnValue:
    """An image beside the posts scaled down to one of the responsive widths."""
    if width not in RESPONSIVE_WIDTHS:
        abort(404)
    path = ensure_sized(filename, width)
    if path is None:
        abort(404)
    return _image(send_file(path, max_age=MAX_AGE))


def _image(response: ResponseReturnValue) -> ResponseReturnValue:
    response.headers["Content-Security-Policy"] = IMAGE_CSP  # type: ignore[union-attr]
    return response
