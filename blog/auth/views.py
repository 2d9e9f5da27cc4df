"""The OAuth dance: start (keeps the draft), callback (logs in), logout."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_user, logout_user
from joserfc.errors import JoseError

from blog.auth import accounts
from blog.auth.providers import PROVIDERS, Profile, enabled_providers
from blog.auth.session import NEXT_KEY, PROVIDER_KEY, safe_next, set_notice, viewer
from blog.clock import utcnow
from blog.comments.drafts import DRAFT_KEY, save_draft
from blog.extensions import csrf
from blog.templating import absolute_url

log = logging.getLogger(__name__)
bp = Blueprint("auth", __name__, url_prefix="/auth")
LINK_KEY = "link_user"
STARTED_KEY = "form_started"
PROVIDER_ERRORS = (OAuthError, JoseError, requests.RequestException, ValueError, KeyError)


def provider_label(name: str) -> str:
    """A provider's display name (the generic OIDC row's label is configurable)."""
    settings = current_app.config["AUTH_PROVIDERS"].get(name, {})
    return str(settings.get("label") or PROVIDERS[name].label)


def _client(name: str):  # type: ignore[no-untyped-def]
    if name not in enabled_providers(current_app.config):
        abort(404)
    return current_app.extensions["blog.oauth"].create_client(name)


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


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def begin_login(name: str, next_path: str) -> ResponseReturnValue:
    """Redirect to the provider; on a provider that cannot even be reached, go back with a note."""
    client = _client(name)
    session[NEXT_KEY] = next_path
    try:
        return client.authorize_redirect(absolute_url(url_for("auth.callback", provider=name)))
    except PROVIDER_ERRORS as exc:
        log.warning("cannot start login with %s: %s", name, exc)
        set_notice(f"{provider_label(name)} cannot be reached right now. Your comment is kept.")
        return redirect(next_path + "#respond", 303)


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
    post_id = _int_or_none(request.form.get("post_id"))
    body = request.form.get("comment", "")
    if post_id is not None:
        now = utcnow()
        started = session.get(STARTED_KEY) or now.timestamp()
        save_draft(post_id, _int_or_none(request.form.get("parent_id")), body, now)
        session[STARTED_KEY] = started
    return begin_login(name, next_path)


@bp.get("/callback/<provider>")
def callback(provider: str) -> ResponseReturnValue:
    """Finish the dance: check state, nonce and PKCE, log in, return to the draft."""
    if provider not in PROVIDERS:
        abort(404)
    client = _client(provider)
    next_path = safe_next(session.get(NEXT_KEY))
    label = provider_label(provider)
    settings = current_app.config["AUTH_PROVIDERS"][provider]
    try:
        token = client.authorize_access_token()
        profile = PROVIDERS[provider].fetch_profile(client, token, settings)
    except PROVIDER_ERRORS as exc:
        set_notice(_failure_message(label, exc))
        log.info("login with %s failed: %r", provider, exc)
        return _no_referrer(redirect(next_path + "#respond", 303))
    return _no_referrer(_log_in(profile, next_path))


def _failure_message(label: str, exc: Exception) -> str:
    kept = " Your comment is kept: you can try again or choose another way to log in."
    if isinstance(exc, OAuthError) and exc.error == "access_denied":
        return f"You did not allow {label} to log you in.{kept}"
    if isinstance(exc, MismatchingStateError):
        return f"That {label} login could not be verified (it was stale or not started here).{kept}"
    if isinstance(exc, requests.Timeout):
        return f"{label} did not answer in time.{kept}"
    return f"{label} could not log you in.{kept}"


def _log_in(profile: Profile, next_path: str) -> ResponseReturnValue:
    now = utcnow()
    link_user = session.get(LINK_KEY)
    current = viewer()
    try:
        if link_user is not None and current is not None and current.id == link_user:
            user = accounts.link_profile(current.id, profile, now)
        else:
            user = accounts.login_profile(profile, now)
    except accounts.IdentityTaken as exc:
        session.pop(LINK_KEY, None)
        set_notice(str(exc))
        return redirect(url_for("account.home"), 303)
    kept = {k: session[k] for k in (DRAFT_KEY, STARTED_KEY) if k in session}
    # A fresh session at every login: nothing from before the login carries privileges.
    session.clear()
    session.update(kept)
    login_user(user)
    session[PROVIDER_KEY] = profile.provider
    accounts.fetch_avatar(
        user.id, profile.avatar_url, now, current_app.config["AUTH_TIMEOUT_SECONDS"]
    )
    if link_user is not None:
        return redirect(url_for("account.home"), 303)
    return redirect(next_path + "#respond", 303)


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
