"""Development: when no real provider is configured, mount the local identity provider."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from blog.config import GRAPH_VERSION
from blog.devidp import IdpClient, IdpConfig, create_idp_app, identity

DEV_PREFIX = "/devidp"
# The LinkedIn look-alike's client, for trying the README's LinkedIn settings (BLOG_OIDC_*)
# against /devidp/linkedin.
DEV_LINKEDIN_CLIENT = ("dev-linkedin", "dev-linkedin-secret")


def dev_provider_settings(idp_url: str) -> dict[str, dict[str, Any]]:
    """Provider settings that point every row of the table at the local identity provider."""
    # Its pictures come from its own address, on loopback: the one exception to the rule that
    # a picture is never fetched from a loopback address (blog.auth.avatars).
    avatars = {"avatar_hosts": (urlsplit(idp_url).netloc,), "avatar_local": True}
    settings: dict[str, dict[str, Any]] = {
        "google": {
            "client_id": "dev-google",
            "client_secret": "dev-google-secret",
            "metadata_url": f"{idp_url}/google/.well-known/openid-configuration",
            "dev": True,
        },
        "x": {
            "client_id": "dev-x",
            "client_secret": "dev-x-secret",
            "scope": "users.read tweet.read",
            "authorize_url": f"{idp_url}/x/i/oauth2/authorize",
            "token_url": f"{idp_url}/x/2/oauth2/token",
            "userinfo_url": f"{idp_url}/x/2/users/me",
            "dev": True,
        },
        "facebook": {
            "client_id": "dev-facebook",
            "client_secret": "dev-facebook-secret",
            "authorize_url": f"{idp_url}/facebook/{GRAPH_VERSION}/dialog/oauth",
            "token_url": f"{idp_url}/facebook/{GRAPH_VERSION}/oauth/access_token",
            "userinfo_url": f"{idp_url}/facebook/{GRAPH_VERSION}/me",
            "dev": True,
        },
    }
    return {name: {**row, **avatars} for name, row in settings.items()}


def idp_config_for(idp_url: str, site_urls: list[str], **extra: Any) -> IdpConfig:
    """The identity provider's client registrations matching dev_provider_settings, and the
    LinkedIn look-alike's for the generic OIDC row (DEV_LINKEDIN_CLIENT)."""
    settings = dev_provider_settings(idp_url)
    clients = {
        name: IdpClient(
            s["client_id"],
            s["client_secret"],
            [f"{site}/auth/callback/{name}" for site in site_urls],
        )
        for name, s in settings.items()
    }
    clients["linkedin"] = IdpClient(
        *DEV_LINKEDIN_CLIENT, [f"{site}/auth/callback/oidc" for site in site_urls]
    )
    return IdpConfig(base_url=idp_url, clients=clients, **extra)


class IdpOnFirstRequest:
    """The identity provider's WSGI app, built when it is first asked for.

    Most development and test apps never log anyone in; building the provider (its own Flask
    app and routes) for each of them would cost every test that merely serves a page.
    """

    def __init__(self, config: IdpConfig) -> None:
        self.config = config
        self._app: Flask | None = None
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Serve the request from the provider, building it first if needed."""
        with self._lock:
            if self._app is None:
                self._app = create_idp_app(self.config)
        return self._app(environ, start_response)


def enable_dev_idp(app: Flask) -> None:
    """Mount the identity provider under /devidp and point the providers at it."""
    if app.config.get("PRODUCTION"):
        raise RuntimeError("the development identity provider cannot run in production")
    local = str(app.config["DEV_SITE_URL"])
    sites = [local, local.replace("//127.0.0.1:", "//localhost:")]
    if app.config.get("SITE_URL"):
        sites.insert(0, app.config["SITE_URL"])
    idp_url = app.config.get("DEV_IDP_URL") or f"{sites[-2]}{DEV_PREFIX}"
    author = identity("author")
    app.config["MODERATORS"] = frozenset(app.config.get("MODERATORS", frozenset())) | {
        (name, author.subject(name)) for name in ("google", "x", "facebook")
    }
    app.config["AUTH_PROVIDERS"] = {
        **app.config["AUTH_PROVIDERS"],
        **dev_provider_settings(idp_url),
    }
    idp = IdpOnFirstRequest(idp_config_for(idp_url, sites))
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {DEV_PREFIX: idp})  # type: ignore[method-assign]
