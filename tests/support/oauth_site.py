"""A blog and the local identity provider, each on its own real HTTP server on 127.0.0.1."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask

from blog.auth.devmode import dev_provider_settings, idp_config_for
from blog.devidp import create_idp_app
from blog.devidp.state import DevIdp
from tests.support.live import LiveServer

POST_ID = re.compile(r'name="post_id" value="(\d+)"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CONSENT_ACTION = re.compile(r'<form method="post" action="([^"]+)"')
REQUEST_ID = re.compile(r'name="request_id" value="([^"]+)"')


def _placeholder(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


@dataclass
class OAuthSite:
    """The blog (app, url) wired to the identity provider (idp state, idp_url)."""

    app: Flask
    url: str
    idp: DevIdp
    idp_url: str

    def start_login(
        self, http: requests.Session, provider: str, path: str, comment: str = "", **form: str
    ) -> requests.Response:
        """Submit the logged-out comment form with a provider button (as a browser would)."""
        page = http.get(self.url + path)
        post_id = POST_ID.search(page.text)
        data = {"provider": provider, "next": path, "comment": comment, **form}
        if post_id and "post_id" not in form:
            data["post_id"] = post_id.group(1)
        return http.post(self.url + "/auth/start", data=data, headers={"Origin": self.url})

    def consent(
        self,
        http: requests.Session,
        consent_page: requests.Response,
        identity: str = "alice",
        decision: str = "allow",
        **extra: str,
    ) -> requests.Response:
        """Pick an identity on the provider's consent page and press Allow or Deny."""
        action = CONSENT_ACTION.search(consent_page.text)
        request_id = REQUEST_ID.search(consent_page.text)
        assert action and request_id, consent_page.text[:500]
        target = self.idp_url + action.group(1).removeprefix("/devidp")
        if action.group(1).startswith("http"):
            target = action.group(1)
        return http.post(
            target,
            data={"request_id": request_id.group(1), "identity": identity, "decision": decision,
                  **extra},
        )  # fmt: skip

    def login(
        self,
        http: requests.Session,
        provider: str,
        path: str,
        identity: str = "alice",
        comment: str = "",
    ) -> requests.Response:
        """The whole dance; returns the page the reader lands on."""
        return self.consent(http, self.start_login(http, provider, path, comment), identity)

    def csrf(self, page: requests.Response) -> str:
        """The CSRF token in a logged-in page."""
        match = CSRF.search(page.text)
        assert match, "no CSRF token on the page"
        return match.group(1)


def start_oauth_site(make_app: Any, **overrides: Any) -> tuple[OAuthSite, list[LiveServer]]:
    """Start the identity provider, then the blog configured to use it."""
    blog_server = LiveServer(_placeholder)
    blog_url = blog_server.url
    idp_server = LiveServer(_placeholder)
    idp_url = idp_server.url
    idp_app = create_idp_app(idp_config_for(idp_url, [blog_url]))
    idp_server.server.app = idp_app
    providers = dev_provider_settings(idp_url)
    for settings in providers.values():
        settings.pop("dev")
    app = make_app(
        AUTH_PROVIDERS=providers, SITE_URL=blog_url, DEV_IDP=False, AUTH_TIMEOUT_SECONDS=2,
        **overrides,
    )  # fmt: skip
    blog_server.server.app = app
    blog_server.start()
    idp_server.start()
    site = OAuthSite(app=app, url=blog_url, idp=idp_app.extensions["devidp"], idp_url=idp_url)
    return site, [blog_server, idp_server]
