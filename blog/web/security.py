"""Security headers on every response (errors included), production hardening."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes, urlsplit

from flask import Flask, abort, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from blog.auth.providers import enabled_providers

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)
UNTRUSTED_HOST_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>400 Bad Request</title>'
    "</head><body><h1>Bad Request</h1><p>This host name is not served here.</p></body></html>"
)


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def provider_origins(app: Flask) -> list[str]:
    """Origins the login form may post to or be redirected through (the enabled providers')."""
    origins = set()
    for settings in enabled_providers(app.config).values():
        for key in ("authorize_url", "metadata_url"):
            origin = _origin(settings.get(key) or "")
            if origin:
                origins.add(origin)
    return sorted(origins)


def content_security_policy(app: Flask) -> str:
    """One policy for every page, cached or not: no inline script anywhere."""
    form_action = " ".join(["'self'", *provider_origins(app)])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            f"form-action {form_action}",
        ]
    )


def init_security(app: Flask) -> None:
    """Install the headers, the proxy fix and the trusted hosts."""
    policy = content_security_policy(app)
    hops = int(app.config.get("PROXY_HOPS", 0))
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )

    @app.errorhandler(SecurityError)
    def _untrusted_host(error: SecurityError) -> ResponseReturnValue:
        # Not the usual error page: it builds absolute links from the very Host refused here.
        return Response(UNTRUSTED_HOST_PAGE, 400, mimetype="text/html")

    defaults = [
        ("Content-Security-Policy", policy),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", PERMISSIONS_POLICY),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ]
    production = bool(app.config.get("PRODUCTION"))

    @app.before_request
    def _refuse_nul() -> None:
        # No URL here holds a NUL, and PostgreSQL refuses one in any text it is asked to compare.
        if "\x00" in request.path or b"\x00" in unquote_to_bytes(request.query_string):
            abort(400, "A web address cannot contain a NUL character.")

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        # One pass over the headers a view set (a callback may set its own Referrer-Policy)
        # instead of one case-insensitive scan per default.
        present = {name.lower() for name, _value in headers}
        headers.extend([(k, v) for k, v in defaults if k.lower() not in present])
        if production and request.is_secure and "strict-transport-security" not in present:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        return response
