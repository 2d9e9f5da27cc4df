"""The OAuth dance: start (keeps the draft), callback (logs in), logout."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user

from blog.auth import accounts
from blog.auth.drafts import DRAFT_KEY, claim_draft, save_draft
from blog.auth.providers import PROVIDERS, Profile, enabled_providers, provider_label
from blog.auth.session import (
    NEXT_KEY,
    PROVIDER_KEY,
    has_session_cookie,
    pop_notice,
    safe_next,
    set_notice,
    viewer,
)
from blog.clock import utcnow
from blog.extensions import csrf, db
from blog.models import Post
from blog.web.formdata import parse_int
from blog.web.templating import absolute_url

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__, url_prefix="/auth")
LINK_KEY = "link_user"
# Where on the page a finished login lands: the comment box for a login from a post, nothing
# for one from a login page (the admin area), which has no box.
ANCHOR_KEY = "next_anchor"
ANCHORS = frozenset({"", "#respond"})
# Authlib keeps each started login (state, nonce, PKCE verifier) in the session under this prefix.
STATE_PREFIX = "_state_"
# Logins started but never finished (closed tab, denied, failed) that are kept: each one costs
# about 250 bytes of cookie, and a cookie over 4 KB is silently dropped by the browser.
MAX_PENDING_LOGINS = 3


def _client(name: str) -> Any:
    # Imported here and below, by the first login: Authlib is no part of a worker's start.
    from blog.auth.dance import provider_client

    if name not in enabled_providers(current_app.config):
        abort(404)
    return provider_client(current_app, name)


def same_origin() -> bool:
    """The request comes from one of our own pages (Origin or Sec-Fetch-Site)."""
    if request.headers.get("Sec-Fetch-Site") == "same-origin":
        return True
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return False
    ours = urlsplit(absolute_url("/"))
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc) or (
        theirs.netloc == request.host and theirs.scheme == request.scheme
    )


def _forget_pending_logins(keep: int) -> None:
    """Drop the oldest unfinished logins' state so that the session cookie stays small."""
    pending = [k for k in session if k.startswith(STATE_PREFIX)]

    def started(key: str) -> float:
        value = session.get(key)
        exp = value.get("exp") if isinstance(value, dict) else None
        return float(exp) if isinstance(exp, int | float) else 0.0

    pending.sort(key=started)
    for key in pending[: max(len(pending) - keep, 0)]:
        session.pop(key, None)


def begin_login(name: str, next_path: str, anchor: str = "#respond") -> ResponseReturnValue:
    """Redirect to the provider; on a provider that cannot even be reached, go back with a note."""
    from blog.auth.dance import PROVIDER_ERRORS  # Authlib loads with the first login

    client = _client(name)
    session[NEXT_KEY] = next_path
    session[ANCHOR_KEY] = anchor
    _forget_pending_logins(keep=MAX_PENDING_LOGINS - 1)
    try:
        return client.authorize_redirect(absolute_url(url_for("auth.callback", provider=name)))
    except PROVIDER_ERRORS as exc:
        log.warning("cannot start login with %s: %s", name, exc)
        kept = " Your comment is kept." if anchor else ""
        set_notice(f"{provider_label(name)} cannot be reached right now.{kept}")
        return redirect(next_path + anchor, 303)


@bp.post("/start")
@csrf.exempt  # the logged-out page is cacheable and token-free; Origin is checked instead
def start() -> ResponseReturnValue:
    """Keep the reader's draft on the server, then start the OAuth dance."""
    if not same_origin():
        abort(403, "Log in from the blog's own pages.")
    name = request.form.get("provider", "")
    if name not in enabled_providers(current_app.config):
        abort(400, "Unknown login method.")
    next_path = safe_next(request.form.get("next"))
    # Logging in from a post page never links: an abandoned link attempt must not carry over.
    session.pop(LINK_KEY, None)
    post_id = parse_int(request.form.get("post_id"))
    body = request.form.get("comment", "")
    if post_id is None:
        return begin_login(name, next_path, anchor="")
    if db.session.get(Post, post_id) is not None:
        # Kept even without a session cookie: the login gives the reader their session.
        save_draft(
            post_id, parse_int(request.form.get("parent_id")), body, utcnow(), starts_session=True
        )
    return begin_login(name, next_path)


def login_page(next_path: str, status: int = 401) -> ResponseReturnValue:
    """A page of login buttons that come back to `next_path` (a local path) once logged in."""
    providers = [(name, provider_label(name)) for name in enabled_providers(current_app.config)]
    dev = any(current_app.config["AUTH_PROVIDERS"][name].get("dev") for name, _ in providers)
    html = render_template(
        "account/login.html",
        providers=providers,
        dev_providers=dev,
        next_path=safe_next(next_path),
        notice=pop_notice(),
    )
    return make_response(html, status)


@bp.get("/callback/<provider>")
def callback(provider: str) -> ResponseReturnValue:
    """Finish the dance: check state, nonce and PKCE, log in, return to the draft."""
    from blog.auth.dance import (  # as in begin_login
        PROVIDER_ERRORS,
        failure_message,
        id_token_checks,
    )

    if provider not in PROVIDERS:
        abort(404)
    client = _client(provider)
    in_progress = has_session_cookie() and NEXT_KEY in session
    next_path = safe_next(session.get(NEXT_KEY)) if in_progress else "/"
    anchor = session.get(ANCHOR_KEY, "#respond") if in_progress else ""
    anchor = anchor if anchor in ANCHORS else "#respond"
    label = provider_label(provider)
    settings = current_app.config["AUTH_PROVIDERS"][provider]
    try:
        token = client.authorize_access_token(**id_token_checks(client, provider, settings))
        profile = PROVIDERS[provider].fetch_profile(client, token, settings)
    except PROVIDER_ERRORS as exc:
        log.info("login with %s failed: %r", provider, exc)
        message = failure_message(label, exc)
        if not in_progress:
            # Nobody started this login here (forged, replayed, or an old tab): say so on a
            # page of its own, without creating a session for it.
            html = render_template("account/login_failed.html", message=message)
            return _no_referrer(make_response(html, 400))
        # Authlib leaves the state behind when the provider answers with an error.
        session.pop(f"{STATE_PREFIX}{provider}_{request.args.get('state', '')}", None)
        if session.pop(LINK_KEY, None) is not None:
            set_notice(message + " Your account is unchanged.")
            return _no_referrer(redirect(next_path, 303))
        set_notice(message + (_KEPT if anchor else ""))
        return _no_referrer(redirect(next_path + anchor, 303))
    return _no_referrer(_log_in(profile, next_path, anchor))


_KEPT = " Your comment is kept: you can try again or choose another way to log in."


def _log_in(profile: Profile, next_path: str, anchor: str = "#respond") -> ResponseReturnValue:
    now = utcnow()
    link_user = session.get(LINK_KEY)
    current = viewer()
    # Link only for the logged-in user who asked to from the account page.
    linking = link_user is not None and current is not None and current.id == link_user
    try:
        if linking and current is not None:
            user = accounts.link_profile(current.id, profile, now)
        else:
            user = accounts.login_profile(profile, now)
    except accounts.IdentityTaken as exc:
        session.pop(LINK_KEY, None)
        set_notice(str(exc))
        return redirect(url_for("account.home"), 303)
    kept = {k: session[k] for k in (DRAFT_KEY,) if k in session}
    # A fresh session at every login: nothing from before the login carries privileges.
    session.clear()
    session.update(kept)
    login_user(user)
    session[PROVIDER_KEY] = profile.provider
    claim_draft(user.id)
    # By the first login, as Authlib is: the HTTP stack is no part of a worker's start.
    from blog.auth.avatars import fetch_avatar

    fetch_avatar(user.id, profile, now)
    if linking:
        return redirect(url_for("account.home"), 303)
    return redirect(next_path + anchor, 303)


def _no_referrer(response: ResponseReturnValue) -> ResponseReturnValue:
    response.headers["Referrer-Policy"] = "no-referrer"  # type: ignore[union-attr]
    return response


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """End this session and every copy of it."""
    user = viewer()
    next_path = safe_next(request.form.get("next"))
    if user is not None:
        accounts.end_sessions(user.id)
    logout_user()
    session.clear()
    return redirect(next_path, 303)
