"""Facebook Login: the OAuth dialog, the access_token exchange and the Graph /me node."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, request

from .consent import authorize_view, check_client
from .errors import AuthorizeRedirectError, GraphError, OAuthError, fail_page, json_response
from .identities import identity
from .protocol import BASIC, POST, authenticate_client, bearer_token, scope_set
from .state import DevIdp, get_idp
from .store import AccessToken, AuthorizeRequest

PROVIDER = "facebook"
EXPIRES_IN = 5183944
VERSION = re.compile(r"v\d{1,2}\.\d{1,2}")
FIELD = re.compile(r"[a-z_]+")
KNOWN_FIELDS = {"id", "name", "first_name", "last_name", "short_name", "email", "picture"}


def _check_version(version: str) -> None:
    if not VERSION.fullmatch(version):
        abort(404)


def _validate(idp: DevIdp, args: Mapping[str, str]) -> AuthorizeRequest:
    client, redirect_uri = check_client(idp, PROVIDER, args)
    if args.get("response_type", "code") != "code":
        raise AuthorizeRedirectError("unsupported_response_type", "response_type must be code.")
    challenge = args.get("code_challenge") or None
    method = args.get("code_challenge_method") or ("plain" if challenge else None)
    if challenge is not None and method not in ("plain", "S256"):
        raise AuthorizeRedirectError("invalid_request", "Unsupported code_challenge_method.")
    return AuthorizeRequest(
        provider=PROVIDER,
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        scope=args.get("scope", "public_profile"),
        state=args.get("state"),
        code_challenge=challenge,
        code_challenge_method=method if challenge else None,
    )


def _access_token() -> Response:
    idp = get_idp()
    idp.maybe_slow()
    if idp.switches.fail:
        return fail_page()
    params = request.values
    try:
        client = authenticate_client(idp, PROVIDER, (POST, BASIC), params)
    except OAuthError as exc:
        code = 101 if "client_id" in exc.description else 1
        raise GraphError(f"Error validating application: {exc.description}", code, 401) from exc
    if not params.get("code"):
        raise GraphError("Missing code parameter.", 100)
    now = idp.now()
    try:
        entry = idp.store.redeem_code(
            provider=PROVIDER,
            client_id=client.client_id,
            code=params["code"],
            redirect_uri=params.get("redirect_uri"),
            code_verifier=params.get("code_verifier"),
            now=now,
        )
    except OAuthError as exc:
        raise GraphError(f"Error validating verification code: {exc.description}", 100) from exc
    token = idp.store.issue_token(entry, "EAAdev", now + timedelta(seconds=EXPIRES_IN))
    body = {"access_token": token.token, "token_type": "bearer", "expires_in": EXPIRES_IN}
    return json_response(body)


def _authorized_token(idp: DevIdp) -> AccessToken:
    raw = request.values.get("access_token") or bearer_token()
    if not raw:
        raise GraphError(
            "An active access token must be used to query information about the current user.",
            2500,
        )
    token = idp.store.lookup_token(raw, PROVIDER, idp.now())
    if token is None:
        raise GraphError("Invalid OAuth access token - Cannot parse access token", 190)
    client = idp.client(PROVIDER)
    secret = client.client_secret if client is not None else ""
    expected = hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()
    proof = request.values.get("appsecret_proof")
    if not proof:
        raise GraphError(
            "API calls from the server require an appsecret_proof argument",
            100,
            error_type="GraphMethodException",
        )
    if not hmac.compare_digest(proof.lower(), expected):
        raise GraphError(
            "Invalid appsecret_proof provided in the API argument",
            100,
            error_type="GraphMethodException",
        )
    return token


def _me() -> Response:
    idp = get_idp()
    idp.maybe_slow()
    token = _authorized_token(idp)
    ident = identity(token.identity_key)
    wanted: list[str] = ["id"]
    for raw in request.values.get("fields", "id,name").split(","):
        match = FIELD.match(raw.strip())
        name = match.group(0) if match else raw.strip()
        if name not in KNOWN_FIELDS:
            raise GraphError(
                f"(#100) Tried accessing nonexisting field ({name}) on node type (User)",
                100,
                error_type="GraphMethodException",
            )
        if name not in wanted:
            wanted.append(name)
    share = (
        token.share_email and "email" in scope_set(token.scope, ", ") and ident.email is not None
    )
    values: dict[str, Any] = {
        "id": ident.subject(PROVIDER),
        "name": ident.name,
        "first_name": ident.given_name,
        "last_name": ident.family_name,
        "short_name": ident.given_name,
        "email": ident.email if share else None,
        "picture": {
            "data": {
                "height": 50,
                "is_silhouette": False,
                "url": idp.avatar_url(ident.key),
                "width": 50,
            }
        },
    }
    return json_response({name: values[name] for name in wanted if values[name] is not None})


def facebook_blueprint() -> Blueprint:
    """Build the blueprint serving Facebook's endpoints under /facebook/<version>."""
    bp = Blueprint("devidp_facebook", __name__, url_prefix="/facebook/<version>")

    @bp.route("/dialog/oauth", methods=["GET", "POST"])
    def dialog(version: str) -> Response:
        _check_version(version)
        return authorize_view(PROVIDER, _validate)

    @bp.route("/oauth/access_token", methods=["GET", "POST"])
    def access_token(version: str) -> Response:
        _check_version(version)
        return _access_token()

    @bp.route("/me", methods=["GET", "POST"])
    def me(version: str) -> Response:
        _check_version(version)
        return _me()

    return bp
