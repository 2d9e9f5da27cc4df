"""Template helpers: site settings, dates in the site's zone, absolute URLs.

Request plumbing that services and views alike use; it knows nothing of posts or comments
(the reader adds the navigation it shows on every page).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request


def absolute_url(path: str) -> str:
    """An absolute URL for a site path, from BLOG_SITE_URL (required in production)."""
    # Development without it follows the request, so that localhost and 127.0.0.1 both work;
    # the page cache keys such pages by every header that makes up the request's origin.
    base = current_app.config["SITE_URL"] or request.host_url.rstrip("/")
    return base + path


def avatar_url(user_id: int | None, digest: str | None) -> str:
    """A reader's picture: the stored one (versioned by its digest), else the generated one."""
    root = request.script_root
    if user_id and digest:
        return f"{root}/avatars/{user_id}.png?v={digest}"
    return f"{root}/avatars/{user_id or 'anonymous'}.svg"


def local_time(value: datetime) -> datetime:
    """A UTC datetime in the site's time zone."""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))


def format_date(value: datetime) -> str:
    """`May 1, 2019` in the site's zone, as WordPress shows it."""
    local = local_time(value)
    return f"{local:%B} {local.day}, {local.year}"


def format_datetime(value: datetime) -> str:
    """`May 1, 2019 at 9:05 am` in the site's zone."""
    local = local_time(value)
    hour = local.hour % 12 or 12
    return f"{format_date(value)} at {hour}:{local:%M} {'am' if local.hour < 12 else 'pm'}"


def register_template_helpers(app: Flask) -> None:
    """Expose helpers to every template."""
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["isodate"] = lambda v: local_time(v).isoformat(timespec="seconds")
    app.jinja_env.globals["absolute_url"] = absolute_url
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _site() -> dict[str, Any]:
        cfg = current_app.config
        return {
            "site": {
                "title": cfg["SITE_TITLE"],
                "tagline": cfg["SITE_TAGLINE"],
                "language": cfg["SITE_LANGUAGE"],
                "author": cfg["SITE_AUTHOR"],
            },
        }
