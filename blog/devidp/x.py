"""X (Twitter) OAuth 2.0 with mandatory PKCE, and the v2 /users/me endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, request

from .consent import authorize_view, check_client
from .errors import AuthorizeRedirectError, OAuthError, XApiError, fail_page, json_response
from .identities import identity
from .protocol import BASIC, authenticate_client, bearer_token, scope_set
from .state import DevIdp, get_idp
from .store import AuthorizeRequest

PROVIDER = "x"
EXPIRES_IN = 7200
USER_SCOPES = {"users.read", "tweet.read"}


def _validate(idp: DevIdp, args: Mapping[str, str]) -> AuthorizeRequest:
    client, redirect_uri = check_client(idp, PROVIDER, args)
    if args.get("response_type") != "code":
        raise AuthorizeRedirectError("unsupported_response_type", "response_type must be code.")
    for name in ("scope", "state", "code_challenge"):
        if not args.get(name):
            raise AuthorizeRedirectError("invalid_request", f"Missing {name}.")
    if args.get("code_challenge_method") != "S256":
        raise AuthorizeRedirectError("invalid_request", "code_challenge_method must be S256.")
    return AuthorizeRequest(
        provider=PROVIDER,
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        scope=args["scope"],
        state=args["state"],
        code_challenge=args["code_challenge"],
        code_challenge_method="S256",
    )


def _token() -> Response:
    idp = get_idp()
    idp.maybe_slow()
    if idp.switches.fail:
        return fail_page()
    form = request.form
    if "client_secret" in form:
        raise OAuthError(
            "unauthorized_client", "Send the client secret with HTTP Basic, not in the body.", 401
        )
    client = authenticate_client(idp, PROVIDER, (BASIC,))
    if form.get("grant_type") != "authorization_code":
        raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code.")
    if not form.get("code"):
        raise OAuthError("invalid_request", "Missing code.")
    now = idp.now()
    entry = idp.store.redeem_code(
        provider=PROVIDER,
        client_id=client.client_id,
        code=form["code"],
        redirect_uri=form.get("redirect_uri"),
        code_verifier=form.get("code_verifier"),
        now=now,
    )
    token = idp.store.issue_token(entry, "", now + timedelta(seconds=EXPIRES_IN))
    body = {
        "token_type": "bearer",
        "expires_in": EXPIRES_IN,
        "access_token": token.token,
        "scope": token.scope,
    }
    return json_response(body)


def _users_me() -> Response:
    idp = get_idp()
    idp.maybe_slow()
    raw = bearer_token()
    token = idp.store.lookup_token(raw, PROVIDER, idp.now()) if raw else None
    if token is None:
        raise XApiError("Unauthorized", "Unauthorized", 401)
    scopes = scope_set(token.scope)
    if not scopes >= USER_SCOPES:
        raise XApiError("Forbidden", "The token lacks the users.read and tweet.read scopes.", 403)
    ident = identity(token.identity_key)
    fields = scope_set(request.args.get("user.fields", ""), ",")
    data: dict[str, Any] = {
        "id": ident.subject(PROVIDER),
        "name": ident.name,
        "username": ident.username,
    }
    if "profile_image_url" in fields:
        data["profile_image_url"] = idp.avatar_url(ident.key)
    if "users.email" in scopes and ident.has_verified_email:
        data["confirmed_email"] = ident.email
    return json_response({"data": data})


def x_blueprint() -> Blueprint:
    """Build the blueprint serving X's OAuth 2.0 endpoints under /x."""
    bp = Blueprint("devidp_x", __name__, url_prefix="/x")

    @bp.route("/i/oauth2/authorize", methods=["GET", "POST"])
    def authorize() -> Response:
        return authorize_view(PROVIDER, _validate)

    @bp.post("/2/oauth2/token")
    def token() -> Response:
        return _token()

    @bp.get("/2/users/me")
    def users_me() -> Response:
        return _users_me()

    return bp
