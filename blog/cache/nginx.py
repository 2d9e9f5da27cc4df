"""Render deploy/nginx.conf with this app's settings (one source for the sample and the test)."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from blog.config import PROJECT_ROOT
from blog.web.security import PERMISSIONS_POLICY, content_security_policy

TEMPLATE = PROJECT_ROOT / "deploy" / "nginx.conf"
_PLACEHOLDER = re.compile(r"@@([A-Z_]+)@@")
_UNSAFE = re.compile(r'[\s"\';{}$\\]')


def security_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers the app puts on every page (blog.web.security), for nginx to add to files."""
    return [
        ("Content-Security-Policy", content_security_policy(app)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", PERMISSIONS_POLICY),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ]


def _word(name: str, value: str) -> str:
    """A value that nginx reads as one plain token."""
    if not value or _UNSAFE.search(value):
        raise ValueError(f"{name} cannot go into nginx.conf as is: {value!r}")
    return value


def _quoted(name: str, value: str) -> str:
    """A value that can sit between double quotes in nginx.conf."""
    if any(c in value for c in '"\\$\n'):
        raise ValueError(f"{name} cannot go into nginx.conf as is: {value!r}")
    return value


def render_nginx_conf(
    app: Flask,
    listen: str,
    upstream: str,
    server_name: str = "_",
    template: Path = TEMPLATE,
) -> str:
    """deploy/nginx.conf with the ports, folders, cookie name and headers filled in."""
    static_cache_dir = app.config.get("STATIC_CACHE_DIR")
    if not static_cache_dir:
        raise ValueError("set BLOG_STATIC_CACHE_DIR: nginx serves pages from that folder")
    headers = "\n".join(
        f'        add_header {name} "{_quoted(name, value)}" always;'
        for name, value in security_headers(app)
    )
    values = {
        "LISTEN": _word("listen", listen),
        "UPSTREAM": _word("upstream", upstream),
        "SERVER_NAME": _word("server name", server_name),
        "SESSION_COOKIE": _word("cookie name", str(app.config["SESSION_COOKIE_NAME"])),
        "STATIC_CACHE_DIR": _word("static cache dir", str(Path(static_cache_dir).resolve())),
        "STATIC_DIR": _word("static dir", str(Path(app.static_folder or "static").resolve())),
        "PAGE_MAX_AGE": str(int(app.config["PAGE_MAX_AGE"])),
        "SECURITY_HEADERS": headers,
    }
    text = template.read_text(encoding="utf-8")
    missing = sorted(set(_PLACEHOLDER.findall(text)) - set(values))
    if missing:
        raise ValueError(f"nginx template has unknown placeholders: {missing}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
