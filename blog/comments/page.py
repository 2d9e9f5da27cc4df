"""What the post page's comment section needs: the thread, the form, who is writing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, render_template, request, session
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.http import generate_etag

from blog.auth.drafts import draft_for
from blog.auth.menu import avatar_src
from blog.auth.providers import enabled_providers, provider_label
from blog.auth.roles import is_moderator
from blog.auth.session import PROVIDER_KEY, has_session_cookie, pop_notice, viewer
from blog.auth.subscription_choices import wants_replies
from blog.cache.memo import kept, link_base
from blog.clock import utcnow
from blog.comments import editing, reactions, service
from blog.comments.form_timing import sign_started
from blog.comments.pager import approved_count, thread_pager
from blog.comments.paging import CommentPage, first_page, page_count
from blog.comments.paragraphs import PARAGRAPH_ARG, chosen_paragraph
from blog.comments.rules import stale_form
from blog.comments.thread_view import shown_thread
from blog.comments.threads import CommentTarget
from blog.extensions import db
from blog.models import Comment, CommentStatus
from blog.models.base import SITE, post_tag
from blog.web.formdata import parse_int

# The query argument of a comment's Reply link (WordPress's name), read by the comment form.
REPLY_ARG = "replytocom"


# The comment this session deleted last, and its status then: what Undo puts back.
UNDO_KEY = "undo_delete"


@dataclass(frozen=True)
class SharedSection:
    """The comment section every reader without a session sees, and its fingerprint."""

    html: bytes
    digest: str


def rules() -> service.CommentRules:
    """The comment limits from configuration."""
    cfg = current_app.config
    return service.CommentRules(
        max_chars=cfg["COMMENT_MAX_CHARS"],
        max_depth=cfg["COMMENT_MAX_DEPTH"],
        edit_minutes=cfg["COMMENT_EDIT_MINUTES"],
        hold=cfg["MODERATION_HOLD"],
        max_links=cfg["MODERATION_MAX_LINKS"],
        moderation_words=tuple(cfg["MODERATION_WORDS"]),
        disallowed_words=tuple(cfg["DISALLOWED_WORDS"]),
        min_form_seconds=cfg["MIN_FORM_SECONDS"],
        flood_seconds=cfg["FLOOD_SECONDS"],
        close_after_days=cfg["COMMENTS_CLOSE_AFTER_DAYS"],
    )


def undo_offer() -> tuple[int, CommentStatus] | None:
    """The comment this session last deleted and the status it had, if any."""
    kept = session.get(UNDO_KEY) if has_session_cookie() else None
    if not isinstance(kept, dict):
        return None
    comment_id, status = kept.get("comment"), kept.get("status")
    try:
        return (comment_id, CommentStatus(status)) if isinstance(comment_id, int) else None
    except ValueError:
        return None


def _undoable(post: CommentTarget, user_id: int, now: datetime) -> int | None:
    """The comment on this post whose deletion this reader may still take back."""
    offer = undo_offer()
    comment = db.session.get(Comment, offer[0]) if offer is not None else None
    if comment is None or comment.post_id != post.id or comment.user_id != user_id:
        return None
    return comment.id if editing.undo_window_open(comment, now) else None


def _replying_to(post: CommentTarget, parent_id: int | None) -> str | None:
    """The name of the writer a reply answers, when that comment is shown on this post."""
    if parent_id is None:
        return None
    found = db.session.execute(
        select(Comment.author_name).where(
            Comment.id == parent_id,
            Comment.post_id == post.id,
            Comment.status == CommentStatus.APPROVED,
        )
    ).first()
    return found[0] if found is not None else None


def comment_context(
    post: CommentTarget,
    error: str | None = None,
    body: str | None = None,
    parent_id: int | None = None,
    started: datetime | None = None,
    page: CommentPage | None = None,
    paragraph_id: str | None = None,
    private: bool = False,
    preview: Markup | None = None,
) -> dict[str, Any]:
    """Template context for the comment section of a post page (page 1 unless `page`).

    A form shown back after a refusal keeps the time it was first shown (`started`); a
    preview is the text as it would be posted, through the same sanitiser.
    """
    page = page or first_page()
    user = viewer()
    limits = rules()
    draft = draft_for(post.id) if body is None and has_session_cookie() else None
    if draft is not None:
        body, parent_id = draft.body, draft.parent_id
    providers = [(name, provider_label(name)) for name in enabled_providers(current_app.config)]
    dev = any(current_app.config["AUTH_PROVIDERS"][name].get("dev") for name, _label in providers)
    provider = session.get(PROVIDER_KEY) if user is not None else None
    now = utcnow()
    if started is None or started > now:
        started = draft.started_at if draft is not None else now
    if stale_form(started, now, limits):
        started = now  # shown again after a long while: timed from now, like a new form
    is_open = service.comments_open(post, now, limits)
    moderator = is_moderator(user)
    shown = shown_thread(
        post,
        user.id if user is not None else None,
        is_open,
        limits.max_depth,
        lambda c: editing.can_edit(c, now, limits),
        page=page,
        moderator=moderator,
    )
    viewer_id = user.id if user is not None else None
    pages = page_count(post.id, viewer_id) if page.paged else 1
    pager = thread_pager(post, page, pages)
    shown_reactions = reactions.for_reader(post.id, user)
    # A Reply link the reader just followed wins over the parent remembered with a draft.
    reply_to = parse_int(request.args.get(REPLY_ARG)) or parent_id
    return {
        "viewer_avatar": avatar_src(user) if user is not None else None,
        "reply_to": reply_to,
        "reply_name": _replying_to(post, reply_to),
        "preview": preview,
        "undo_comment": _undoable(post, user.id, now) if user is not None else None,
        "undo_minutes": editing.UNDO_MINUTES,
        "thread": shown_reactions.fill(shown.html),
        "reactions": shown_reactions,
        "comment_count": shown.count if pages == 1 else approved_count(post.id),
        "pager": pager,
        "viewer": user,
        "viewer_provider": provider_label(provider) if provider else None,
        "providers": providers,
        "dev_providers": dev,
        "form_body": body or "",
        "form_parent": parent_id,
        "comment_error": error,
        "notice": pop_notice(),
        "max_depth": limits.max_depth,
        "comments_open": is_open,
        "form_started": sign_started(started) if user is not None else "",
        "max_chars": limits.max_chars,
        "replies_on": user is not None and wants_replies(user),
        "form_private": private,
        # A marker's link (`?paragraph=ID`), or the form shown back after a refusal.
        "chosen_paragraph": chosen_paragraph(
            post.id, paragraph_id or request.args.get(PARAGRAPH_ARG)
        ),
    }


def render_section(post: CommentTarget, **comment_args: Any) -> str:
    """The comment section of a post page for this request's reader."""
    return render_template(
        "comments/section.html", post=post, **comment_context(post, **comment_args)
    )


def anonymous_section(post: CommentTarget, page: CommentPage | None = None) -> SharedSection:
    """The section for a reader with no session: the same for all of them, so rendered once.

    It shows the thread and the login form, nothing of the reader's: it changes only with
    the post's comments (its tag), the site, the link base and whether comments are open.
    """
    is_open = service.comments_open(post, utcnow(), rules())
    key = ("anonymous-section", post.id, post.path, is_open, link_base(), page)

    def render() -> SharedSection:
        html = render_section(post, page=page).encode()
        return SharedSection(html, generate_etag(html))

    return kept(key, (SITE, post_tag(post.id)), render)
