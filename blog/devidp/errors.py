"""Errors in each provider's own wire format, and the small response helpers they use."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from flask import Response, jsonify, render_template_string

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

_ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main><h1>{{ title }}</h1><p>Development identity provider</p>
<p>{{ message }}</p></main></body></html>
"""


def json_response(body: Mapping[str, Any], status: int = 200, **headers: str) -> Response:
    """Return a JSON response that no cache may keep."""
    response = jsonify(body)
    response.status_code = status
    response.headers.update(NO_STORE)
    response.headers.update(headers)
    return response


def error_page(title: str, message: str, status: int) -> Response:
    """Return a small escaped HTML error page."""
    html = render_template_string(_ERROR_PAGE, title=title, message=message)
    response = Response(html, status=status, mimetype="text/html")
    response.headers.update(NO_STORE)
    return response


class OAuthError(Exception):
    """An RFC 6749 error answered as JSON {error, error_description}."""

    def __init__(
        self,
        error: str,
        description: str,
        status: int = 400,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.headers = dict(headers or {})

    def response(self) -> Response:
        """Render the error as the JSON response a real provider sends."""
        body = {"error": self.error, "error_description": self.description}
        return json_response(body, self.status, **self.headers)


class GraphError(Exception):
    """A Facebook Graph API error answered as {"error": {message, type, code, ...}}."""

    def __init__(
        self,
        message: str,
        code: int = 100,
        status: int = 400,
        error_type: str = "OAuthException",
        subcode: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.error_type = error_type
        self.subcode = subcode

    def response(self) -> Response:
        """Render the error in the Graph API's shape."""
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.error_type,
            "code": self.code,
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = secrets.token_urlsafe(8)
        return json_response({"error": error}, self.status)


class XApiError(Exception):
    """An X API v2 problem answered as {title, type, status, detail}."""

    def __init__(self, title: str, detail: str, status: int) -> None:
        super().__init__(detail)
        self.title = title
        self.detail = detail
        self.status = status

    def response(self) -> Response:
        """Render the error in the X API v2 problem shape."""
        body = {"title": self.title, "detail": self.detail, "type": "about:blank"}
        return json_response(body | {"status": self.status}, self.status)


class AuthorizePageError(Exception):
    """An authorization request that must not redirect: shown as an HTML error page."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def response(self) -> Response:
        """Render the error page."""
        return error_page("Authorization error", self.message, self.status)


class AuthorizeRedirectError(Exception):
    """A bad authorization request with a trusted redirect_uri: redirected with an error."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


def fail_page() -> Response:
    """Return the HTML 500 page sent while the fail switch is on."""
    return error_page(
        "500 Internal Server Error",
        "The development identity provider was told to fail (switch: fail).",
        500,
    )
