"""The provider side of a login: Authlib's client for each provider and what can go wrong.

The login views import this module when a login starts or returns, not at start-up: Authlib
brings its JOSE and HTTP stacks, a measurable part of a worker's start, and most requests never
log anyone in.
"""

from __future__ import annotations

from typing import Any

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.oidc.core import CodeIDToken
from flask import Flask
from joserfc.errors import JoseError

from blog.auth.providers import PROVIDERS, accepted_issuers, checks_nonce, register_providers

OAUTH_KEY = "blog.oauth"
PROVIDER_ERRORS = (OAuthError, JoseError, requests.RequestException, ValueError, KeyError)


def provider_client(app: Flask, name: str) -> Any:
    """The app's Authlib client for an enabled provider (the registry is built on first use)."""
    registry = app.extensions.get(OAUTH_KEY)
    if registry is None:
        # One registry per app: provider endpoints are per-app configuration (tests run several).
        registry = OAuth()
        registry.init_app(app)
        register_providers(registry, app.config)
        registry = app.extensions.setdefault(OAUTH_KEY, registry)
    return registry.create_client(name)


class NonceOptionalIDToken(CodeIDToken):
    """The ID token of a provider that leaves the nonce out (LinkedIn): one that carries a nonce
    must still carry this login's."""

    def validate_nonce(self) -> None:
        """Check the nonce only when the token has one."""
        if "nonce" in self:
            super().validate_nonce()


def id_token_checks(client: Any, name: str, settings: dict[str, Any]) -> dict[str, Any]:
    """How Authlib is to check this provider's ID token: its issuer's spellings, and the nonce
    unless the provider's settings turn that off."""
    if not PROVIDERS[name].oidc:
        return {}
    issuer = client.load_server_metadata().get("issuer")
    if not issuer:
        raise ValueError(f"{name}'s discovery document names no issuer")
    checks: dict[str, Any] = {"claims_options": {"iss": {"values": accepted_issuers(name, issuer)}}}
    if not checks_nonce(name, settings):
        checks["claims_cls"] = NonceOptionalIDToken
    return checks


def failure_message(label: str, exc: Exception) -> str:
    """What to tell the reader about a login that failed with this error."""
    if isinstance(exc, OAuthError) and exc.error == "access_denied":
        return f"You did not allow {label} to log you in."
    if isinstance(exc, MismatchingStateError):
        return f"That {label} login could not be verified (it was stale or not started here)."
    if isinstance(exc, requests.Timeout):
        return f"{label} did not answer in time."
    return f"{label} could not log you in."
