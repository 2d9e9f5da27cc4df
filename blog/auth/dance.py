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
from flask import Flask
from joserfc.errors import JoseError

from blog.auth.providers import register_providers

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


def failure_message(label: str, exc: Exception) -> str:
    """What to tell the reader about a login that failed with this error."""
    if isinstance(exc, OAuthError) and exc.error == "access_denied":
        return f"You did not allow {label} to log you in."
    if isinstance(exc, MismatchingStateError):
        return f"That {label} login could not be verified (it was stale or not started here)."
    if isinstance(exc, requests.Timeout):
        return f"{label} did not answer in time."
    return f"{label} could not log you in."
