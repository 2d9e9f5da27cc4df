"""Start-up configuration: what the BLOG_* variables may say, and what is refused before serving."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask

from blog.clock import FrozenClock
from blog.config import PROJECT_ROOT, SETTINGS, ConfigError, load_settings

SITE = "https://blog.example.com"
PRODUCTION = {
    "BLOG_ENV": "production",
    "BLOG_SECRET_KEY": "a-production-secret-of-32-chars!",
    "BLOG_SITE_URL": SITE,
}


class Recording(dict[str, str]):
    """An environment that notes every name the configuration asks for."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.asked: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        """Note the name, then answer as a dict would."""
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return super().__contains__(key)


@pytest.mark.parametrize("value", ["prod", "staging", "Production!", "developmnet", "test", ""])
def test_an_unknown_blog_env_is_refused_naming_the_accepted_values(value: str) -> None:
    with pytest.raises(ConfigError, match="BLOG_ENV must be development or production"):
        load_settings({**PRODUCTION, "BLOG_ENV": value})


@pytest.mark.sqlite_only
def test_a_misspelt_production_never_starts(env_app: Callable[..., Flask]) -> None:
    # What "prod" used to run with: the public development key, and the dev provider's author.
    for value in ("prod", "staging"):
        with pytest.raises(ConfigError, match="BLOG_ENV"):
            env_app(**PRODUCTION | {"BLOG_ENV": value})
    app = env_app(**PRODUCTION)
    assert app.config["SECRET_KEY"] == PRODUCTION["BLOG_SECRET_KEY"]
    assert app.config["SESSION_COOKIE_SECURE"] and not app.config["DEV_IDP"]


def test_development_only_comforts_need_development_said_or_left_unset() -> None:
    development = load_settings({"BLOG_ENV": "development"})
    assert development["SECRET_KEY"] == "development-only-secret-key"
    assert load_settings({})["BLOG_ENV"] == "development"  # the documented default
    production = load_settings(PRODUCTION)
    assert production["SESSION_COOKIE_SECURE"] and production["REMEMBER_COOKIE_SECURE"]
    assert production["DEV_IDP"] is False and production["PRODUCTION"] is True


@pytest.mark.parametrize(
    "name", ["BLOG_SECRET_KEYS", "BLOG_SITEURL", "BLOG_MODERATOR", "BLOG_DEV_IDP_ON", "BLOG_"]
)
def test_an_unknown_blog_variable_is_refused_by_name(name: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(name)):
        load_settings({name: "1"})


def test_the_test_suites_own_variables_are_not_the_apps() -> None:
    settings = load_settings(
        {"BLOG_TEST_REQUIRE_SERVICES": "1", "BLOG_TEST_DATABASE_URL": "postgresql://x/y"}
    )
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_the_known_names_are_exactly_those_the_configuration_reads() -> None:
    for base in ({}, PRODUCTION):
        env = Recording(dict(base))
        load_settings(env)
        read = {name for name in env.asked if name.startswith("BLOG_")}
        assert read - {"BLOG_FRAGMENT_CACHE_BYTES"} == set(SETTINGS)


def test_every_setting_the_readme_documents_is_known_and_every_known_one_documented() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"\| `(BLOG_[A-Z0-9_]+)`", readme))
    assert documented - set(SETTINGS) == set()
    mentioned = set(re.findall(r"BLOG_[A-Z0-9_]+", readme))
    assert set(SETTINGS) - mentioned == set()


def test_production_requires_a_site_url_and_every_site_url_must_be_an_origin() -> None:
    without = {k: v for k, v in PRODUCTION.items() if k != "BLOG_SITE_URL"}
    with pytest.raises(ConfigError, match="BLOG_SITE_URL must be set"):
        load_settings(without)
    assert load_settings(without | {"BLOG_ENV": "development"})["SITE_URL"] == ""
    for bad in ("blog.example.com", "javascript:alert(1)", "https://user@blog.example.com",
                "https://blog.example.com/blog", "https://blog.example.com/?x=1",
                "https://blog.example.com:port", "ftp://blog.example.com", "https://"):  # fmt: skip
        for env in ("development", "production"):
            with pytest.raises(ConfigError, match="BLOG_SITE_URL"):
                load_settings(PRODUCTION | {"BLOG_ENV": env, "BLOG_SITE_URL": bad})
    assert (
        load_settings(PRODUCTION | {"BLOG_SITE_URL": "https://b.example:8443/"})["SITE_URL"]
        == "https://b.example:8443"
    )


def test_mail_links_in_development_use_the_local_address_of_make_run() -> None:
    assert load_settings({})["DEV_SITE_URL"] == "http://127.0.0.1:5000"
    assert load_settings({"PORT": "8080"})["DEV_SITE_URL"] == "http://127.0.0.1:8080"


# When Facebook ends each Graph API version (its changelog, as of late 2026; the newest has none).
GRAPH_ENDS = {
    "v20.0": date(2026, 9, 24),
    "v21.0": date(2027, 1, 21),
    "v22.0": date(2027, 5, 20),
    "v23.0": date(2027, 10, 8),
    "v24.0": date(2028, 2, 18),
    "v25.0": date(2028, 7, 29),
}


def test_the_default_graph_api_version_lives_for_more_than_a_year(clock: FrozenClock) -> None:
    facebook = load_settings({})["AUTH_PROVIDERS"]["facebook"]
    version = facebook["authorize_url"].split("/")[-3]
    assert facebook["userinfo_url"] == f"https://graph.facebook.com/{version}/me"
    ends = GRAPH_ENDS.get(version, date.max)
    assert ends > clock.now().date() + timedelta(days=365), (version, ends)


def test_the_graph_api_version_is_a_setting_and_must_look_like_one() -> None:
    moved = load_settings({"BLOG_FACEBOOK_GRAPH_VERSION": "v27.0"})["AUTH_PROVIDERS"]
    assert moved["facebook"]["token_url"] == "https://graph.facebook.com/v27.0/oauth/access_token"
    for bad in ("27.0", "v27", "v27.0/../../x", "latest"):
        with pytest.raises(ConfigError, match="BLOG_FACEBOOK_GRAPH_VERSION"):
            load_settings({"BLOG_FACEBOOK_GRAPH_VERSION": bad})


def test_an_on_off_setting_that_is_neither_is_refused() -> None:
    assert load_settings({"BLOG_OIDC_PKCE": "Off"})["AUTH_PROVIDERS"]["oidc"]["pkce"] is False
    assert load_settings({})["AUTH_PROVIDERS"]["oidc"]["nonce"] is True
    for name in ("BLOG_OIDC_PKCE", "BLOG_OIDC_NONCE", "BLOG_PAGE_CACHE"):
        with pytest.raises(ConfigError, match=name):
            load_settings({name: "of"})
