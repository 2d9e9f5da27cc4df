"""The consent page shared by every provider, and the redirects that end an authorization."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta

from flask import Response, render_template_string, request, session

from .config import PROVIDER_NAMES, IdpClient
from .errors import NO_STORE, AuthorizePageError, AuthorizeRedirectError, error_page
from .identities import IDENTITIES, find_identity
from .protocol import redirect_with
from .state import DevIdp, get_idp
from .store import AuthorizeRequest

Validator = Callable[[DevIdp, Mapping[str, str]], AuthorizeRequest]
SESSION_KEY = "devidp_pending"
MAX_PENDING_PER_SESSION = 20

CONSENT_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in with {{ provider_name }} - Development identity provider</title>
<style>
body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;
color:#111;background:#fff;line-height:1.5}
fieldset{border:1px solid #555;padding:.5rem 1rem}
.choice{margin:.4rem 0}
button{font-size:1rem;padding:.4rem 1.4rem;margin-right:.6rem}
</style>
</head>
<body>
<main>
<h1>Sign in with {{ provider_name }}</h1>
<p>Development identity provider</p>
<p>The application <strong>{{ client_id }}</strong> asks for: <code>{{ scope }}</code></p>
<form method="post" action="{{ action }}">
<input type="hidden" name="request_id" value="{{ request_id }}">
<fieldset>
<legend>Choose a test identity</legend>
{% for ident in identities %}
<div class="choice">
<input type="radio" name="identity" id="identity-{{ ident.key }}" value="{{ ident.key }}"
{%- if loop.first %} checked{% endif %}>
<label for="identity-{{ ident.key }}">{{ ident.label }}</label>
</div>
{% endfor %}
</fieldset>
{% if ask_email %}
<p><input type="checkbox" name="share_email" id="share_email" value="yes" checked>
<label for="share_email">Share my email address</label></p>
{% endif %}
<p><button name="decision" value="allow">Allow</button>
<button name="decision" value="deny">Deny</button></p>
</form>
</main>
</body>
</html>
"""


def check_client(idp: DevIdp, provider: str, args: Mapping[str, str]) -> tuple[IdpClient, str]:
    """Check client_id and redirect_uri; a failure is shown as a page, never redirected."""
    client = idp.client(provider)
    client_id = args.get("client_id", "")
    if client is None or not client_id or client_id != client.client_id:
        raise AuthorizePageError(f"Unknown client_id {client_id!r}.")
    redirect_uri = args.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:
        raise AuthorizePageError(
            f"The redirect_uri {redirect_uri!r} is not registered for this client."
        )
    return client, redirect_uri


def deny_params(provider: str) -> dict[str, str]:
    """Return the error parameters the real provider sends when the user denies."""
    if provider == "facebook":
        return {
            "error": "access_denied",
            "error_code": "200",
            "error_description": "Permissions error",
            "error_reason": "user_denied",
        }
    return {"error": "access_denied", "error_description": "The user denied the request."}


def deny_redirect(areq: AuthorizeRequest) -> Response:
    """Redirect back to the client with access_denied."""
    return redirect_with(areq.redirect_uri, {**deny_params(areq.provider), "state": areq.state})


def allow_redirect(idp: DevIdp, areq: AuthorizeRequest, key: str, share_email: bool) -> Response:
    """Issue a code for the identity and redirect back to the client with it."""
    expires = idp.now() + timedelta(seconds=idp.config.code_ttl_seconds)
    code = idp.store.issue_code(areq, key, share_email, expires)
    return redirect_with(areq.redirect_uri, {"code": code, "state": areq.state})


def authorize_view(provider: str, validate: Validator) -> Response:
    """Handle GET (validate, then consent page) and POST (the user's decision)."""
    idp = get_idp()
    if request.method == "POST":
        return _decide(idp, provider)
    try:
        areq = validate(idp, request.args)
    except AuthorizeRedirectError as exc:
        params = {"error": exc.error, "error_description": exc.description}
        return redirect_with(
            request.args["redirect_uri"], params | {"state": request.args.get("state")}
        )
    if idp.switches.deny:
        return deny_redirect(areq)
    auto = idp.switches.auto_identity
    if auto is not None:
        return allow_redirect(idp, areq, auto, share_email=True)
    request_id = idp.store.add_pending(areq, idp.now())
    pending = [*session.get(SESSION_KEY, []), request_id][-MAX_PENDING_PER_SESSION:]
    session[SESSION_KEY] = pending
    html = render_template_string(
        CONSENT_PAGE,
        provider_name=PROVIDER_NAMES[provider],
        client_id=areq.client_id,
        scope=areq.scope,
        action=request.script_root + request.path,
        request_id=request_id,
        identities=IDENTITIES,
        ask_email=provider == "facebook",
    )
    response = Response(html, mimetype="text/html")
    response.headers.update(NO_STORE)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'"
    )
    return response


def _decide(idp: DevIdp, provider: str) -> Response:
    request_id = request.form.get("request_id", "")
    pending: list[str] = session.get(SESSION_KEY, [])
    if request_id not in pending:
        return error_page("Authorization error", "This consent form is unknown or expired.", 400)
    session[SESSION_KEY] = [p for p in pending if p != request_id]
    areq = idp.store.pop_pending(request_id, idp.now())
    if areq is None or areq.provider != provider:
        return error_page("Authorization error", "This consent form is unknown or expired.", 400)
    decision = request.form.get("decision")
    if decision == "deny":
        return deny_redirect(areq)
    ident = find_identity(request.form.get("identity"))
    if decision != "allow" or ident is None:
        return error_page("Authorization error", "Choose an identity, then Allow or Deny.", 400)
    share_email = provider != "facebook" or "share_email" in request.form
    return allow_redirect(idp, areq, ident.key, share_email)
