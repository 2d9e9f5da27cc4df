"""The header's account menu: who is logged in, their way out, and the moderators' queue.

Pages are rendered once and shared (post shells, listings in the memo, whole pages in the page
cache), so the header carries a constant slot instead of anything personal. For a logged-in
reader the slot is filled on the way out, after the page is built; every other reader keeps
the slot, an HTML comment, so an anonymous page stays the same bytes for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, render_template, session
from sqlalchemy import bindparam, func, select
from werkzeug.wrappers import Response

from blog.auth.providers import provider_label
from blog.auth.roles import is_moderator
from blog.auth.session import PROVIDER_KEY, has_session_cookie, request_memo, viewer
from blog.cache.memo import kept
from blog.extensions import db
from blog.models import Avatar, Comment, CommentStatus, User
from blog.models.base import COMMENTS, SITE
from blog.web.templating import avatar_url

ACCOUNT_MENU_SLOT = "<!--blog:account-menu-->"
_SLOT_BYTES = ACCOUNT_MENU_SLOT.encode()


@dataclass(frozen=True)
class AccountMenu:
    """What the header shows a logged-in reader."""

    name: str
    avatar_src: str
    provider: str | None
    moderator: bool
    pending: int


_AVATAR_DIGEST = select(Avatar.digest).where(Avatar.user_id == bindparam("user_id"))
# The comment box and the header both show the reader's picture.
_AVATAR_KEY = "blog.viewer_avatar"


def avatar_src(user: User) -> str:
    """The URL of a logged-in reader's picture, looked up once per request."""
    memo: dict[int, str] = request_memo(_AVATAR_KEY)
    if user.id not in memo:
        digest = db.session.scalar(_AVATAR_DIGEST, {"user_id": user.id})
        memo[user.id] = avatar_url(user.id, digest)
    return memo[user.id]


def remember_avatar(user_id: int, digest: str | None) -> None:
    """Keep the reader's picture, its digest found elsewhere (with their row), for this request."""
    request_memo(_AVATAR_KEY)[user_id] = avatar_url(user_id, digest)


def pending_count() -> int:
    """Comments waiting for a moderator: one counted query, kept until a comment changes."""

    def count() -> int:
        query = select(func.count()).where(Comment.status == CommentStatus.PENDING)
        return db.session.scalar(query) or 0

    # A comment written row by row moves `comments` (Comment.cache_tags); a bulk statement
    # that cannot name its rows moves `site`.
    return kept(("pending-count",), (SITE, COMMENTS), count)


def account_menu(user: User) -> AccountMenu:
    """The menu of this logged-in reader."""
    provider = session.get(PROVIDER_KEY)
    moderator = is_moderator(user)
    return AccountMenu(
        name=user.display_name,
        avatar_src=avatar_src(user),
        provider=provider_label(provider) if isinstance(provider, str) else None,
        moderator=moderator,
        pending=pending_count() if moderator else 0,
    )


def fill_account_menu(response: Response) -> Response:
    """Put the logged-in reader's menu into the header slot of an HTML page."""
    if (
        response.direct_passthrough
        or response.is_streamed
        or response.mimetype != "text/html"
        or not has_session_cookie()
    ):
        return response
    user = viewer()
    if user is None:
        return response
    body = response.get_data()
    if _SLOT_BYTES not in body:
        return response
    html = render_template("partials/account_menu.html", menu=account_menu(user))
    response.set_data(body.replace(_SLOT_BYTES, html.encode(), 1))
    # Personal now, whatever the view said: no shared copy, no validator of the shared bytes.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers.pop("ETag", None)
    response.headers.pop("Last-Modified", None)
    response.vary.add("Cookie")
    return response


def init_account_menu(app: Flask) -> None:
    """Fill the header's slot on every page a logged-in reader gets."""
    app.after_request(fill_account_menu)
