"""Each provider's quirks, proved by a real dance over HTTP with the local identity provider:
LinkedIn's OpenID Connect without PKCE or a nonce (the README's recipe), Google's two issuers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from blog.auth.devmode import DEV_LINKEDIN_CLIENT
from blog.config import load_settings
from blog.devidp import identity
from blog.extensions import db
from blog.models import Identity
from tests.support.auth_helpers import ESSAY, serve_site_with_rows
from tests.support.oauth_site import OAuthSite

LOGGED_IN = "You are commenting using your LinkedIn account."
FAILED = "LinkedIn could not log you in."


def linkedin_recipe(**changes: str) -> Callable[[str], dict[str, dict[str, Any]]]:
    """The README's LinkedIn settings, with the issuer at the local identity provider."""

    def rows(idp_url: str) -> dict[str, dict[str, Any]]:
        client_id, client_secret = DEV_LINKEDIN_CLIENT
        env = {
            "BLOG_OIDC_ISSUER": f"{idp_url}/linkedin",
            "BLOG_OIDC_CLIENT_ID": client_id,
            "BLOG_OIDC_CLIENT_SECRET": client_secret,
            "BLOG_OIDC_LABEL": "LinkedIn",
            "BLOG_OIDC_TOKEN_AUTH_METHOD": "client_secret_post",
            "BLOG_OIDC_PKCE": "off",
            "BLOG_OIDC_NONCE": "off",
            **changes,
        }
        return {"oidc": load_settings(env)["AUTH_PROVIDERS"]["oidc"]}

    return rows


@pytest.fixture
def site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    """The blog with Google, X, Facebook and the README's LinkedIn recipe (the generic row),
    each against its look-alike at the local identity provider."""
    yield from serve_site_with_rows(make_app, linkedin_recipe())


def log_in(site: OAuthSite, provider: str, who: str = "alice") -> requests.Response:
    http = requests.Session()
    page = site.login(http, provider, ESSAY, identity=who)
    assert page.status_code == 200, page.text[:500]
    return page


def test_linkedin_logs_in_with_the_readmes_recipe(site: OAuthSite) -> None:
    start = site.start_login(requests.Session(), "oidc", ESSAY)
    assert "code_challenge" not in start.url  # no PKCE sent at all
    page = log_in(site, "oidc")
    assert LOGGED_IN in page.text
    with site.app.app_context():
        (row,) = db.session.scalars(select(Identity)).all()
        assert (row.provider, row.subject) == ("oidc", identity("alice").subject("linkedin"))


@pytest.fixture(params=["BLOG_OIDC_PKCE", "BLOG_OIDC_NONCE"])
def half_recipe_site(
    request: pytest.FixtureRequest, essay: Path, make_app: Callable[..., Flask]
) -> Iterator[OAuthSite]:
    """The LinkedIn recipe with one of its two settings left on (the default)."""
    yield from serve_site_with_rows(make_app, linkedin_recipe(**{request.param: "on"}))


def test_linkedin_refuses_each_half_of_the_default_openid_connect_dance(
    half_recipe_site: OAuthSite,
) -> None:
    # PKCE on: LinkedIn answers invalid_client; the nonce checked: its ID token has none.
    page = log_in(half_recipe_site, "oidc")
    assert FAILED in page.text and LOGGED_IN not in page.text
    with half_recipe_site.app.app_context():
        assert db.session.scalars(select(Identity)).all() == []


def test_an_id_token_whose_nonce_is_wrong_is_refused_even_with_the_check_off(
    site: OAuthSite,
) -> None:
    site.idp.switches.forged_nonce = "someone-elses-nonce"
    page = log_in(site, "oidc")
    assert FAILED in page.text and LOGGED_IN not in page.text


def test_google_is_accepted_with_either_spelling_of_its_issuer(site: OAuthSite) -> None:
    for bare in (False, True):
        site.idp.switches.bare_issuer = bare
        page = log_in(site, "google")
        assert "You are commenting using your Google account." in page.text, bare


def test_only_google_may_leave_the_scheme_out_of_its_issuer(site: OAuthSite) -> None:
    site.idp.switches.bare_issuer = True
    page = log_in(site, "oidc")
    assert FAILED in page.text and LOGGED_IN not in page.text
