"""Request parsing shared by the providers: client authentication, bearer tokens, redirects."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Collection, Mapping
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from flask import Response, request

from .config import IdpClient
from .errors import OAuthError
from .state import DevIdp

BASIC = "client_secret_basic"
POST = "client_secret_post"


def redirect_with(uri: str, params: Mapping[str, str | None]) -> Response:
    """Return a 302 to uri with params added to its query (None values left out)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    location = urlunsplit(parts._replace(query=urlencode(query)))
    response = Response(status=302)
    response.headers["Location"] = location
    response.headers["Cache-Control"] = "no-store"
    return response


def basic_credentials() -> tuple[str, str] | None:
    """Decode an HTTP Basic Authorization header per RFC 6749 section 2.3.1."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "Malformed Basic credentials.", 401) from exc
    user, sep, password = decoded.partition(":")
    if not sep:
        raise OAuthError("invalid_client", "Malformed Basic credentials.", 401)
    return unquote_plus(user), unquote_plus(password)


def authenticate_client(
    idp: DevIdp,
    provider: str,
    allowed: Collection[str],
    params: Mapping[str, str] | None = None,
) -> IdpClient:
    """Authenticate the calling client with the methods allowed; raise OAuthError if not."""
    params = request.form if params is None else params
    basic = basic_credentials()
    body_secret = params.get("client_secret")
    challenge = {"WWW-Authenticate": 'Basic realm="devidp"'} if basic else {}
    if basic and body_secret is not None:
        raise OAuthError("invalid_request", "Use only one client authentication method.")
    if basic:
        method, (client_id, secret) = BASIC, basic
        if params.get("client_id") not in (None, client_id):
            raise OAuthError("invalid_client", "client_id differs from Basic.", 401, challenge)
    elif body_secret is not None:
        method, client_id, secret = POST, params.get("client_id", ""), body_secret
    else:
        raise OAuthError("invalid_client", "Client authentication is required.", 401)
    if method not in allowed:
        raise OAuthError(
            "invalid_client", f"Client authentication method {method} is not allowed.", 401
        )
    client = idp.client(provider)
    if client is None or not hmac.compare_digest(client.client_id, client_id):
        raise OAuthError("invalid_client", "Unknown client_id.", 401, challenge)
    if not hmac.compare_digest(client.client_secret.encode(), secret.encode()):
        raise OAuthError("invalid_client", "Wrong client secret.", 401, challenge)
    return client


def bearer_token() -> str | None:
    """Return the token of an Authorization: Bearer header, if any."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def scope_set(scope: str, separators: str = " ") -> set[str]:
    """Split a scope string on any of the separators."""
    for sep in separators[1:]:
        scope = scope.replace(sep, separators[0])
    return {s for s in scope.split(separators[0]) if s}
