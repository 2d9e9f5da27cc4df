"""The checks a new comment goes through, as pure functions over its text and settings."""

from __future__ import annotations

import hashlib
import hmac
import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from blog.content.render import plain_text
from blog.models import CommentStatus

_URL = re.compile(r"https?://", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class CommentRules:
    """Every configurable limit on comments."""

    max_chars: int = 5000
    max_depth: int = 5
    edit_minutes: int = 15
    hold: str = "first"  # all / first / none
    max_links: int = 2
    moderation_words: tuple[str, ...] = ()
    disallowed_words: tuple[str, ...] = ()
    min_form_seconds: float = 3.0
    # A signed start time can be replayed: past this age it proves nothing, and the form is
    # shown again, timed afresh. Far past the CSRF token's hour, whose refusal re-times a form.
    max_form_age: timedelta = timedelta(days=1)
    flood_seconds: int = 15
    close_after_days: int = 0


@dataclass(frozen=True)
class Submission:
    """A comment as the reader sent it, with what the anti-spam rules need to know."""

    post_id: int | None
    parent_id: int | None
    body: str
    provider: str | None = None
    honeypot: str = ""
    form_started: datetime | None = None
    ip: str | None = None
    # True when the caller knows the writer moderates; otherwise the service asks when it matters.
    is_moderator: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    # The anchor of the post's paragraph the comment is about (a top-level comment only).
    paragraph_id: str | None = None


def body_hash(text: str) -> str:
    """Key for duplicate detection: the text with whitespace and case folded."""
    normal = " ".join(text.split()).casefold()
    return hashlib.sha256(normal.encode()).hexdigest()


def ip_hash(ip: str | None, key: str) -> str | None:
    """A keyed hash of the address: lets moderators match repeat posters, never stores the IP."""
    if not ip:
        return None
    return hmac.new(key.encode(), ip.encode(), hashlib.sha256).hexdigest()[:32]


def _matches(words: tuple[str, ...], *haystacks: str | None) -> str | None:
    folded = [h.casefold() for h in haystacks if h]
    return next((w for w in words if w.strip() and any(w.casefold() in h for h in folded)), None)


def _comment_texts(text: str, body_html: str) -> tuple[str, str, str]:
    """Where words are looked for: the text as written (so link targets count), and the text
    as shown without tags, both joined (`vi<strong>agra</strong>`) and spaced between blocks."""
    return text, html.unescape(_TAG.sub("", body_html)), plain_text(body_html)


def spam_reason(
    submission: Submission, body_html: str, name: str, email: str | None, rules: CommentRules
) -> str | None:
    """Why a submission is spam (honeypot, disallowed word), or None."""
    if submission.honeypot.strip():
        return "honeypot field filled"
    word = _matches(
        rules.disallowed_words, *_comment_texts(submission.body, body_html), name, email
    )
    if word:
        return f"disallowed word {word!r}"
    return None


def stale_form(started: datetime | None, now: datetime, rules: CommentRules) -> bool:
    """Whether a form's start time is too old to say anything about how the comment was written."""
    return started is not None and now - started > rules.max_form_age


def flood_wait(last: datetime | None, now: datetime, rules: CommentRules) -> int:
    """Whole seconds until a writer may send again after their last one at `last`; 0 for now."""
    if last is None:
        return 0
    # Another worker may store one dated after this request's clock read: no time passed.
    wait = rules.flood_seconds - max(0.0, (now - last).total_seconds())
    return math.ceil(wait) if wait > 0 else 0


def timing_reason(
    started: datetime | None, now: datetime, rules: CommentRules,
    logged_in_since: Callable[[datetime], bool],
) -> str | None:  # fmt: skip
    """Why a submission's timing shows no sign of a person (no start time, sent too fast), or None.

    Writing counts from when the form was first shown, or from the login start for a comment
    carried across a login; a login completed since then is a person's doing, however fast
    the provider answered. A weak sign: it holds a comment for a moderator, never spams it.
    """
    if started is None:
        return "form start time missing"
    if now - started < timedelta(seconds=rules.min_form_seconds) and not logged_in_since(started):
        return "form submitted too fast"
    return None


def hold_reason(
    text: str, body_html: str, name: str, email: str | None, approved_before: bool,
    rules: CommentRules,
) -> str | None:  # fmt: skip
    """Why a comment waits for a moderator (first comment, links, words), or None."""
    if rules.hold == "all":
        return "every comment is moderated"
    if rules.hold == "first" and not approved_before:
        return "first comment"
    if len(_URL.findall(text)) > rules.max_links:
        return f"more than {rules.max_links} links"
    word = _matches(rules.moderation_words, *_comment_texts(text, body_html), name, email)
    if word:
        return f"moderation word {word!r}"
    return None


def initial_status(spam: str | None, hold: str | None, is_moderator: bool) -> CommentStatus:
    """Spam first; moderators' comments are approved at once; held ones wait."""
    if is_moderator:
        return CommentStatus.APPROVED
    if spam:
        return CommentStatus.SPAM
    return CommentStatus.PENDING if hold else CommentStatus.APPROVED
