"""Pages behind mail links: confirm a subscription, unsubscribe with one click."""

from __future__ import annotations

from flask import Blueprint, abort, make_response, render_template
from flask.typing import ResponseReturnValue

from blog.clock import utcnow
from blog.extensions import csrf
from blog.mail import subscriptions, tokens
from blog.models import Subscription

bp = Blueprint("mail", __name__)

INVALID = "This link is not valid. Please use the link exactly as it came in the email."
EXPIRED = (
    "This confirmation link has expired. Tick a \u201cNotify me\u201d box with your next "
    "comment to get a new one."
)
GONE = "This subscription no longer exists."


def _page(template: str, status: int = 200, **context: object) -> ResponseReturnValue:
    # Personal (an address, a secret URL) and state-changing: never cached, never indexed.
    response = make_response(render_template(template, **context), status)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"  # keep the token out of Referer
    return response


def _pending(token: str) -> list[Subscription]:
    try:
        subs = subscriptions.pending_for(token, utcnow())
    except tokens.ExpiredToken:
        abort(400, EXPIRED)
    except tokens.InvalidToken:
        abort(400, INVALID)
    if not subs:
        abort(404, GONE)
    return subs


@bp.get("/mail/confirm/<token>")
def confirm_page(token: str) -> ResponseReturnValue:
    """Show what the link confirms, with a button; a GET changes nothing (scanners prefetch)."""
    subs = _pending(token)
    return _page(
        "mail/confirm.html",
        subscriptions=subs,
        items=[subscriptions.describe(s) for s in subs],
        email=subs[0].email,
        done=all(s.confirmed_at is not None for s in subs),
    )


# The GET page hands out the CSRF token, so this works on any device the mail is opened on.
@bp.post("/mail/confirm/<token>")
def confirm(token: str) -> ResponseReturnValue:
    """Confirm the subscriptions the token stands for."""
    _pending(token)
    subs = subscriptions.confirm(token, utcnow())
    active = [s for s in subs if s.unsubscribed_at is None]
    return _page(
        "mail/done.html",
        heading="Subscription confirmed" if active else "Nothing to confirm",
        message=(
            "Thank you: you will get email about "
            + ", and ".join(subscriptions.describe(s) for s in active)
            + ". Every mail has a link to unsubscribe."
            if active
            else "You unsubscribed from this before confirming it, so nothing was changed."
        ),
    )


def _subscription(token: str) -> Subscription:
    try:
        sub = subscriptions.for_unsubscribe(token)
    except tokens.InvalidToken:
        abort(400, INVALID)
    if sub is None:
        abort(404, GONE)
    return sub


@bp.get("/mail/unsubscribe/<token>")
def unsubscribe_page(token: str) -> ResponseReturnValue:
    """Show a button that unsubscribes; a GET changes nothing (scanners prefetch)."""
    sub = _subscription(token)
    return _page(
        "mail/unsubscribe.html",
        subscription=sub,
        what=subscriptions.describe(sub),
        done=sub.unsubscribed_at is not None,
    )


# RFC 8058 one-click: mail providers POST `List-Unsubscribe=One-Click` here without cookies
# or a CSRF token, and expect 200 (never a redirect). The signed token in the URL is the
# defence; the page's own button posts the same body.
@csrf.exempt
@bp.post("/mail/unsubscribe/<token>")
def unsubscribe(token: str) -> ResponseReturnValue:
    """Unsubscribe; answers 200 with a short page, whoever posts (browser or mail provider)."""
    _subscription(token)
    sub = subscriptions.unsubscribe(token, utcnow())
    if sub is None:
        abort(404, GONE)
    return _page(
        "mail/done.html",
        heading="Unsubscribed",
        message=f"{sub.email} will get no more email about {subscriptions.describe(sub)}.",
    )
