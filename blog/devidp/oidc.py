"""OpenID Connect providers: Google and LinkedIn share this implementation."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, request

from .consent import Validator, authorize_view, check_client
from .errors import AuthorizeRedirectError, OAuthError, fail_page, json_response
from .identities import Identity, identity
from .protocol import BASIC, POST, authenticate_client, bearer_token, scope_set
from .state import DevIdp, get_idp
from .store import AccessToken, AuthorizeRequest

CLAIMS = [
    "aud", "email", "email_verified", "exp", "family_name", "given_name",
    "iat", "iss", "name", "nonce", "picture", "sub",
]  # fmt: skip


@dataclass(frozen=True)
class OidcProvider:
    """Paths and quirks of one OpenID Connect provider."""

    name: str
    authorize_path: str
    exchange_path: str
    userinfo_path: str
    jwks_path: str
    auth_methods: tuple[str, ...]
    advertise_auth_methods: bool
    expires_in: int
    access_prefix: str
    # LinkedIn's web flow: a code_verifier at the token endpoint gets 401 invalid_client, and
    # its ID tokens carry no nonce (whatever the request sent).
    pkce: bool = True
    nonce: bool = True


GOOGLE = OidcProvider(
    name="google",
    authorize_path="/o/oauth2/v2/auth",
    exchange_path="/token",
    userinfo_path="/v1/userinfo",
    jwks_path="/oauth2/v3/certs",
    auth_methods=(POST, BASIC),
    advertise_auth_methods=True,
    expires_in=3599,
    access_prefix="ya29.dev-",
)
LINKEDIN = OidcProvider(
    name="linkedin",
    authorize_path="/oauth/v2/authorization",
    exchange_path="/oauth/v2/accessToken",
    userinfo_path="/v2/userinfo",
    jwks_path="/oauth/openid/jwks",
    auth_methods=(POST,),
    advertise_auth_methods=False,
    expires_in=5183999,
    access_prefix="AQdev-",
    pkce=False,
    nonce=False,
)


def profile_claims(idp: DevIdp, provider: str, ident: Identity, scope: str) -> dict[str, Any]:
    """Return the sub, profile and email claims that the granted scope allows."""
    scopes = scope_set(scope)
    claims: dict[str, Any] = {"sub": ident.subject(provider)}
    if "profile" in scopes:
        claims["name"] = ident.name
        claims["given_name"] = ident.given_name
        claims["family_name"] = ident.family_name
        claims["picture"] = idp.avatar_url(ident.key)
        claims["locale"] = "en"
    if "email" in scopes and ident.email is not None:
        claims["email"] = ident.email
        claims["email_verified"] = ident.email_verified
    return claims


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


def _validate(spec: OidcProvider) -> Validator:
    provider = spec.name

    def validate(idp: DevIdp, args: Mapping[str, str]) -> AuthorizeRequest:
        client, redirect_uri = check_client(idp, provider, args)
        if args.get("response_type") != "code":
            raise AuthorizeRedirectError("unsupported_response_type", "response_type must be code.")
        scope = args.get("scope", "")
        if "openid" not in scope_set(scope):
            raise AuthorizeRedirectError("invalid_scope", "scope must contain openid.")
        # Without PKCE (LinkedIn) a challenge is ignored like any unknown parameter.
        challenge = (args.get("code_challenge") or None) if spec.pkce else None
        method = (args.get("code_challenge_method") or None) if spec.pkce else None
        if challenge is None and method is not None:
            raise AuthorizeRedirectError("invalid_request", "code_challenge is missing.")
        if challenge is not None:
            method = method or "plain"
            if method not in ("plain", "S256"):
                raise AuthorizeRedirectError(
                    "invalid_request", "Unsupported code_challenge_method."
                )
        return AuthorizeRequest(
            provider=provider,
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scope=scope,
            state=args.get("state"),
            nonce=args.get("nonce") if spec.nonce else None,
            code_challenge=challenge,
            code_challenge_method=method,
        )

    return validate


def _token(spec: OidcProvider) -> Response:
    idp = get_idp()
    idp.maybe_slow()
    if idp.switches.fail:
        return fail_page()
    client = authenticate_client(idp, spec.name, spec.auth_methods)
    form = request.form
    if not spec.pkce and "code_verifier" in form:
        raise OAuthError("invalid_client", "Client authentication failed.", 401)
    if form.get("grant_type") != "authorization_code":
        raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code.")
    if not form.get("code"):
        raise OAuthError("invalid_request", "Missing code.")
    now = idp.now()
    entry = idp.store.redeem_code(
        provider=spec.name,
        client_id=client.client_id,
        code=form["code"],
        redirect_uri=form.get("redirect_uri"),
        code_verifier=form.get("code_verifier"),
        now=now,
    )
    token = idp.store.issue_token(
        entry, spec.access_prefix, now + timedelta(seconds=spec.expires_in)
    )
    ident = identity(entry.identity_key)
    issuer = idp.url(f"/{spec.name}")
    claims: dict[str, Any] = {
        "iss": issuer.split("://", 1)[1] if idp.switches.bare_issuer else issuer,
        "azp": client.client_id,
        "aud": "someone-else" if idp.switches.bad_id_token else client.client_id,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
        "at_hash": _at_hash(token.token),
    }
    if idp.switches.forged_nonce is not None:
        claims["nonce"] = idp.switches.forged_nonce
    elif entry.request.nonce is not None:
        claims["nonce"] = entry.request.nonce
    claims.update(profile_claims(idp, spec.name, ident, entry.request.scope))
    body = {
        "access_token": token.token,
        "token_type": "Bearer",
        "expires_in": spec.expires_in,
        "scope": entry.request.scope,
        "id_token": idp.sign_id_token(spec.name, claims),
    }
    return json_response(body)


def _userinfo(spec: OidcProvider) -> Response:
    idp = get_idp()
    idp.maybe_slow()
    raw = bearer_token()
    token: AccessToken | None = None
    if raw is not None:
        token = idp.store.lookup_token(raw, spec.name, idp.now())
    if token is None:
        raise OAuthError(
            "invalid_token",
            "Invalid Credentials",
            401,
            {"WWW-Authenticate": 'Bearer realm="devidp", error="invalid_token"'},
        )
    ident = identity(token.identity_key)
    return json_response(profile_claims(idp, spec.name, ident, token.scope))


def oidc_blueprint(spec: OidcProvider) -> Blueprint:
    """Build the blueprint serving one OIDC provider under /<name>."""
    bp = Blueprint(f"devidp_{spec.name}", __name__, url_prefix=f"/{spec.name}")
    validate = _validate(spec)

    @bp.get("/.well-known/openid-configuration")
    def discovery() -> Response:
        idp = get_idp()
        base = idp.url(f"/{spec.name}")
        doc: dict[str, Any] = {
            "issuer": base,
            "authorization_endpoint": base + spec.authorize_path,
            "token_endpoint": base + spec.exchange_path,
            "userinfo_endpoint": base + spec.userinfo_path,
            "jwks_uri": base + spec.jwks_path,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "claims_supported": CLAIMS,
            "code_challenge_methods_supported": ["plain", "S256"],
            "grant_types_supported": ["authorization_code"],
        }
        if spec.advertise_auth_methods:
            doc["token_endpoint_auth_methods_supported"] = list(spec.auth_methods)
        return json_response(doc)

    @bp.route(spec.authorize_path, methods=["GET", "POST"])
    def authorize() -> Response:
        return authorize_view(spec.name, validate)

    @bp.post(spec.exchange_path)
    def token() -> Response:
        return _token(spec)

    @bp.route(spec.userinfo_path, methods=["GET", "POST"])
    def userinfo() -> Response:
        return _userinfo(spec)

    @bp.get(spec.jwks_path)
    def jwks() -> Response:
        return json_response(get_idp().jwks(spec.name))

    return bp
