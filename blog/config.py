"""Settings read from BLOG_* environment variables, with safe development defaults."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run the blog safely."""


ENVIRONMENTS = ("development", "production")
# Every BLOG_* variable the blog reads: any other is a typo that would silently be ignored.
SETTINGS = frozenset(
    {
        "BLOG_ENV", "BLOG_SECRET_KEY", "BLOG_DATABASE_URL", "BLOG_POSTS_DIR",
        "BLOG_SITE_TITLE", "BLOG_SITE_TAGLINE", "BLOG_SITE_URL", "BLOG_SITE_AUTHOR",
        "BLOG_SITE_LANGUAGE", "BLOG_TIMEZONE", "BLOG_POSTS_PER_PAGE", "BLOG_FEED_ITEMS",
        "BLOG_SYNC_ON_START", "BLOG_SYNC_ON_REQUEST", "BLOG_PAGE_MAX_AGE", "BLOG_PAGE_CACHE",
        "BLOG_PAGE_CACHE_BYTES", "BLOG_PAGE_CACHE_SECONDS", "BLOG_MEMO_BYTES",
        "BLOG_PAGE_CACHE_STATE_DIR", "BLOG_SQLITE_BUSY_TIMEOUT_MS", "BLOG_PROXY_HOPS",
        "BLOG_TRUSTED_HOSTS", "BLOG_MAX_REQUEST_BYTES", "BLOG_DERIVED_MEDIA_DIR",
        # Identity providers and comments (auth_settings).
        "BLOG_GOOGLE_CLIENT_ID", "BLOG_GOOGLE_CLIENT_SECRET", "BLOG_GOOGLE_METADATA_URL",
        "BLOG_X_CLIENT_ID", "BLOG_X_CLIENT_SECRET", "BLOG_X_SCOPE", "BLOG_X_AUTHORIZE_URL",
        "BLOG_X_TOKEN_URL", "BLOG_X_USERINFO_URL",
        "BLOG_FACEBOOK_CLIENT_ID", "BLOG_FACEBOOK_CLIENT_SECRET", "BLOG_FACEBOOK_GRAPH_VERSION",
        "BLOG_FACEBOOK_DIALOG_BASE", "BLOG_FACEBOOK_GRAPH_BASE",
        "BLOG_OIDC_ISSUER", "BLOG_OIDC_LABEL", "BLOG_OIDC_CLIENT_ID", "BLOG_OIDC_CLIENT_SECRET",
        "BLOG_OIDC_TOKEN_AUTH_METHOD", "BLOG_OIDC_PKCE", "BLOG_OIDC_NONCE",
        "BLOG_OIDC_AVATAR_HOSTS",
        "BLOG_DEV_IDP", "BLOG_DEV_IDP_URL", "BLOG_AUTH_TIMEOUT_SECONDS", "BLOG_MODERATORS",
        "BLOG_COMMENT_MAX_DEPTH", "BLOG_COMMENT_EDIT_MINUTES", "BLOG_COMMENT_MAX_CHARS",
        "BLOG_COMMENTS_PER_PAGE", "BLOG_COMMENTS_ORDER",
        # Moderation, anti-spam, rate limits and mail (moderation_settings).
        "BLOG_MODERATION_HOLD", "BLOG_MODERATION_MAX_LINKS", "BLOG_MODERATION_WORDS",
        "BLOG_DISALLOWED_WORDS", "BLOG_MIN_FORM_SECONDS", "BLOG_FLOOD_SECONDS",
        "BLOG_COMMENTS_CLOSE_AFTER_DAYS", "BLOG_RATELIMIT_LOGIN", "BLOG_RATELIMIT_COMMENT",
        "BLOG_REDIS_URL", "BLOG_SMTP_HOST", "BLOG_SMTP_PORT", "BLOG_SMTP_TLS", "BLOG_SMTP_USER",
        "BLOG_SMTP_PASSWORD", "BLOG_SMTP_TIMEOUT_SECONDS", "BLOG_MAIL_FROM", "BLOG_AUTHOR_EMAIL",
        "BLOG_MAIL_BACKGROUND", "BLOG_RATELIMIT_REACTION", "BLOG_REPORTS_TO_HOLD",
    }
)  # fmt: skip
# Facebook ends each Graph API version about two years after the next one comes out: move
# to the newest from time to time (its changelog lists every version and its end).
GRAPH_VERSION = "v26.0"
# The test suite's and the benchmark's own variables (which database, whether services must be
# up): they share the project's prefix but are never the app's.
NOT_SETTINGS_PREFIX = "BLOG_TEST_"
# Settings that changed name: one left under its old name would otherwise be ignored.
RENAMED = {"BLOG_FRAGMENT_CACHE_BYTES": "BLOG_MEMO_BYTES"}


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    # A typo must not turn a safety check (PKCE, the nonce) off, nor anything else on.
    raise ConfigError(f"{name} must be on or off (1/0, true/false, yes/no), not {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc


def _at_least_one(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise ConfigError(f"{name} must be 1 or more, not {value}")
    return value


def _refuse_unknown_names(env: Mapping[str, str]) -> None:
    for old, new in RENAMED.items():
        if old in env:
            raise ConfigError(f"{old} is now called {new}")
    unknown = sorted(
        name
        for name in env
        if name.startswith("BLOG_")
        and not name.startswith(NOT_SETTINGS_PREFIX)
        and name not in SETTINGS
    )
    if unknown:
        raise ConfigError(
            f"unknown setting {', '.join(unknown)}: no BLOG_* variable of that name exists "
            "(see the README's configuration table)"
        )


def environment(env: Mapping[str, str]) -> str:
    """BLOG_ENV, which must say development or production (unset: development)."""
    raw = env.get("BLOG_ENV")
    value = "development" if raw is None else raw.strip().lower()
    if value not in ENVIRONMENTS:
        raise ConfigError(f"BLOG_ENV must be development or production, not {raw!r}")
    return value


def load_settings(
    env: Mapping[str, str] | None = None, instance_path: Path | None = None
) -> dict[str, Any]:
    """Build the Flask config mapping from the environment."""
    env = os.environ if env is None else env
    _refuse_unknown_names(env)
    blog_env = environment(env)
    # Production safety hangs on "development" being said (or left as the default), never on
    # one spelling of "production": whatever is not development is run as production.
    development = blog_env == "development"
    production = not development
    instance = instance_path or PROJECT_ROOT / "instance"

    secret = env.get("BLOG_SECRET_KEY", "")
    if production and len(secret) < 16:
        raise ConfigError("BLOG_SECRET_KEY must be set (16+ characters) when BLOG_ENV=production")
    if not secret:
        # Development only: a fixed key keeps sessions across reloads; never used in production.
        secret = "development-only-secret-key"  # noqa: S105

    database_url = env.get("BLOG_DATABASE_URL") or f"sqlite:///{instance / 'blog.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]

    return {
        **auth_settings(env, production),
        **moderation_settings(env, production),
        "BLOG_ENV": blog_env,
        "PRODUCTION": production,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "POSTS_DIR": Path(env.get("BLOG_POSTS_DIR") or PROJECT_ROOT / "posts"),
        "SITE_TITLE": env.get("BLOG_SITE_TITLE", "True Connections"),
        "SITE_TAGLINE": env.get(
            "BLOG_SITE_TAGLINE", "Recruiting, networking and the people in between"
        ),
        "SITE_URL": site_url(env, production),
        # Links in mail never come from a request's Host: without BLOG_SITE_URL (development
        # only), they point at the address `make run` serves.
        "DEV_SITE_URL": f"http://127.0.0.1:{_int(env, 'PORT', 5000)}",
        "SITE_AUTHOR": env.get("BLOG_SITE_AUTHOR", "The Author"),
        "SITE_LANGUAGE": env.get("BLOG_SITE_LANGUAGE", "en"),
        "TIMEZONE": env.get("BLOG_TIMEZONE", "UTC"),
        "POSTS_PER_PAGE": _int(env, "BLOG_POSTS_PER_PAGE", 10),
        "FEED_ITEMS": _int(env, "BLOG_FEED_ITEMS", 20),
        "SYNC_ON_START": _bool(env, "BLOG_SYNC_ON_START", not production),
        "SYNC_ON_REQUEST": _bool(env, "BLOG_SYNC_ON_REQUEST", development),
        "PAGE_MAX_AGE": _int(env, "BLOG_PAGE_MAX_AGE", 60),
        # The full-page cache for anonymous readers (blog/cache/).
        "PAGE_CACHE": _bool(env, "BLOG_PAGE_CACHE", True),
        "PAGE_CACHE_BYTES": _int(env, "BLOG_PAGE_CACHE_BYTES", 32 * 1024 * 1024),
        "PAGE_CACHE_SECONDS": _int(env, "BLOG_PAGE_CACHE_SECONDS", 3600),
        # What pages reuse, kept per process until its tags change (blog/cache/memo.py).
        "MEMO_BYTES": _int(env, "BLOG_MEMO_BYTES", 8 * 1024 * 1024),
        # Default: beside an SQLite file, else instance/page-cache (see blog/cache).
        "PAGE_CACHE_STATE_DIR": Path(env["BLOG_PAGE_CACHE_STATE_DIR"])
        if env.get("BLOG_PAGE_CACHE_STATE_DIR")
        else None,
        # Share cards and scaled images drawn at sync time; default instance/derived.
        "DERIVED_MEDIA_DIR": Path(env["BLOG_DERIVED_MEDIA_DIR"])
        if env.get("BLOG_DERIVED_MEDIA_DIR")
        else None,
        "SQLITE_BUSY_TIMEOUT_MS": _int(env, "BLOG_SQLITE_BUSY_TIMEOUT_MS", 5000),
        "PROXY_HOPS": _int(env, "BLOG_PROXY_HOPS", 0),
        "TRUSTED_HOSTS": [
            h.strip() for h in env.get("BLOG_TRUSTED_HOSTS", "").split(",") if h.strip()
        ]
        or None,
        "MAX_CONTENT_LENGTH": _int(env, "BLOG_MAX_REQUEST_BYTES", 1_000_000),
        "MAX_FORM_MEMORY_SIZE": _int(env, "BLOG_MAX_REQUEST_BYTES", 1_000_000),
        "SESSION_COOKIE_NAME": "blog_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
    }


def site_url(env: Mapping[str, str], production: bool) -> str:
    """BLOG_SITE_URL as `scheme://host[:port]`; required in production."""
    raw = env.get("BLOG_SITE_URL", "")
    value = raw.strip().rstrip("/")
    if not value:
        if production:
            raise ConfigError(
                "BLOG_SITE_URL must be set when BLOG_ENV=production: links in mail, feeds and "
                "cached pages come from it, never from a request's Host"
            )
        return ""
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or parts.path
        or parts.query
        or parts.fragment
        or "?" in value
        or "#" in value
    ):
        raise ConfigError(f"BLOG_SITE_URL must look like https://blog.example.com, not {raw!r}")
    try:
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        raise ConfigError(f"BLOG_SITE_URL has a bad port: {raw!r}") from exc
    return value


def parse_moderators(value: str) -> frozenset[tuple[str, str]]:
    """`google:123, email:me@example.com` -> {("google", "123"), ("email", "me@example.com")}."""
    entries = set()
    for raw in value.split(","):
        kind, _, ident = raw.strip().partition(":")
        if kind and ident:
            kind = kind.strip().lower()
            ident = ident.strip().lower() if kind == "email" else ident.strip()
            entries.add((kind, ident))
    return frozenset(entries)


def auth_settings(env: Mapping[str, str], production: bool) -> dict[str, Any]:
    """Identity providers from BLOG_<PROVIDER>_* variables; unconfigured ones stay off."""
    graph = env.get("BLOG_FACEBOOK_GRAPH_VERSION") or GRAPH_VERSION
    if not re.fullmatch(r"v\d+\.\d+", graph):
        raise ConfigError(f"BLOG_FACEBOOK_GRAPH_VERSION must look like v26.0, not {graph!r}")
    dialog_base = env.get("BLOG_FACEBOOK_DIALOG_BASE", "https://www.facebook.com").rstrip("/")
    graph_base = env.get("BLOG_FACEBOOK_GRAPH_BASE", "https://graph.facebook.com").rstrip("/")
    issuer = env.get("BLOG_OIDC_ISSUER", "").rstrip("/")
    providers: dict[str, dict[str, Any]] = {
        "google": {
            "client_id": env.get("BLOG_GOOGLE_CLIENT_ID", ""),
            "client_secret": env.get("BLOG_GOOGLE_CLIENT_SECRET", ""),
            "metadata_url": env.get(
                "BLOG_GOOGLE_METADATA_URL",
                "https://accounts.google.com/.well-known/openid-configuration",
            ),
        },
        "x": {
            "client_id": env.get("BLOG_X_CLIENT_ID", ""),
            "client_secret": env.get("BLOG_X_CLIENT_SECRET", ""),
            "scope": env.get("BLOG_X_SCOPE", "users.read tweet.read"),
            "authorize_url": env.get("BLOG_X_AUTHORIZE_URL", "https://x.com/i/oauth2/authorize"),
            "token_url": env.get("BLOG_X_TOKEN_URL", "https://api.x.com/2/oauth2/token"),
            "userinfo_url": env.get("BLOG_X_USERINFO_URL", "https://api.x.com/2/users/me"),
        },
        "facebook": {
            "client_id": env.get("BLOG_FACEBOOK_CLIENT_ID", ""),
            "client_secret": env.get("BLOG_FACEBOOK_CLIENT_SECRET", ""),
            "authorize_url": f"{dialog_base}/{graph}/dialog/oauth",
            "token_url": f"{graph_base}/{graph}/oauth/access_token",
            "userinfo_url": f"{graph_base}/{graph}/me",
        },
        "oidc": {
            "label": env.get("BLOG_OIDC_LABEL", "OpenID Connect"),
            "client_id": env.get("BLOG_OIDC_CLIENT_ID", ""),
            "client_secret": env.get("BLOG_OIDC_CLIENT_SECRET", ""),
            "metadata_url": f"{issuer}/.well-known/openid-configuration" if issuer else "",
            "token_auth": env.get("BLOG_OIDC_TOKEN_AUTH_METHOD", ""),
            "avatar_hosts": _words(env.get("BLOG_OIDC_AVATAR_HOSTS", "")),
            # On by default; LinkedIn's web flow refuses PKCE and leaves the nonce out.
            "pkce": _bool(env, "BLOG_OIDC_PKCE", True),
            "nonce": _bool(env, "BLOG_OIDC_NONCE", True),
        },
    }
    any_configured = any(p["client_id"] and p["client_secret"] for p in providers.values())
    dev_idp = env.get("BLOG_DEV_IDP", "auto").strip().lower()
    if production and dev_idp in {"1", "true", "yes", "on"}:
        raise ConfigError("BLOG_DEV_IDP cannot be enabled when BLOG_ENV=production")
    enabled = not production and (
        dev_idp in {"1", "true", "yes", "on"} or (dev_idp == "auto" and not any_configured)
    )
    return {
        "AUTH_PROVIDERS": providers,
        "AUTH_TIMEOUT_SECONDS": float(env.get("BLOG_AUTH_TIMEOUT_SECONDS", "5")),
        "DEV_IDP": enabled,
        "DEV_IDP_URL": env.get("BLOG_DEV_IDP_URL", ""),
        "MODERATORS": parse_moderators(env.get("BLOG_MODERATORS", "")),
        "COMMENT_MAX_DEPTH": _int(env, "BLOG_COMMENT_MAX_DEPTH", 5),
        "COMMENT_EDIT_MINUTES": _int(env, "BLOG_COMMENT_EDIT_MINUTES", 15),
        "COMMENT_MAX_CHARS": _int(env, "BLOG_COMMENT_MAX_CHARS", 5000),
        "COMMENTS_PER_PAGE": _int(env, "BLOG_COMMENTS_PER_PAGE", 50),
        "COMMENTS_ORDER": _comments_order(env),
    }


def _comments_order(env: Mapping[str, str]) -> str:
    order = env.get("BLOG_COMMENTS_ORDER", "oldest").strip().lower()
    if order not in {"oldest", "newest"}:
        raise ConfigError(f"BLOG_COMMENTS_ORDER must be oldest or newest, not {order!r}")
    return order


def _words(value: str) -> tuple[str, ...]:
    return tuple(w.strip().lower() for w in value.replace("\n", ",").split(",") if w.strip())


def moderation_settings(env: Mapping[str, str], production: bool) -> dict[str, Any]:
    """Moderation, anti-spam, rate limits and mail."""
    hold = env.get("BLOG_MODERATION_HOLD", "first").strip().lower()
    if hold not in {"all", "first", "none"}:
        raise ConfigError(f"BLOG_MODERATION_HOLD must be all, first or none, not {hold!r}")
    tls = env.get("BLOG_SMTP_TLS", "starttls" if production else "none").strip().lower()
    if tls not in {"none", "starttls", "ssl"}:
        raise ConfigError(f"BLOG_SMTP_TLS must be none, starttls or ssl, not {tls!r}")
    return {
        "MODERATION_HOLD": hold,
        "MODERATION_MAX_LINKS": _int(env, "BLOG_MODERATION_MAX_LINKS", 2),
        "MODERATION_WORDS": _words(env.get("BLOG_MODERATION_WORDS", "")),
        "DISALLOWED_WORDS": _words(env.get("BLOG_DISALLOWED_WORDS", "")),
        "MIN_FORM_SECONDS": float(env.get("BLOG_MIN_FORM_SECONDS", "3")),
        "FLOOD_SECONDS": _int(env, "BLOG_FLOOD_SECONDS", 15),
        "COMMENTS_CLOSE_AFTER_DAYS": _int(env, "BLOG_COMMENTS_CLOSE_AFTER_DAYS", 0),
        "RATELIMIT_LOGIN": env.get("BLOG_RATELIMIT_LOGIN", "30 per minute"),
        "RATELIMIT_COMMENT": env.get("BLOG_RATELIMIT_COMMENT", "60 per minute"),
        "RATELIMIT_REACTION": env.get("BLOG_RATELIMIT_REACTION", "120 per minute"),
        "REPORTS_TO_HOLD": _at_least_one(env, "BLOG_REPORTS_TO_HOLD", 3),
        "REDIS_URL": env.get("BLOG_REDIS_URL", ""),
        "SMTP_HOST": env.get("BLOG_SMTP_HOST", ""),
        "SMTP_PORT": _int(env, "BLOG_SMTP_PORT", 587 if tls == "starttls" else 25),
        "SMTP_TLS": tls,
        "SMTP_USER": env.get("BLOG_SMTP_USER", ""),
        "SMTP_PASSWORD": env.get("BLOG_SMTP_PASSWORD", ""),
        "SMTP_TIMEOUT_SECONDS": float(env.get("BLOG_SMTP_TIMEOUT_SECONDS", "10")),
        "MAIL_FROM": env.get("BLOG_MAIL_FROM", "blog@localhost"),
        "AUTHOR_EMAIL": env.get("BLOG_AUTHOR_EMAIL", ""),
        "MAIL_BACKGROUND": _bool(env, "BLOG_MAIL_BACKGROUND", False),
    }
