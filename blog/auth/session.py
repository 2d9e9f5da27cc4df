"""Who is reading: with no session cookie it is nobody, and the session stays untouched."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, has_request_context, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask.wrappers import Request
from flask_login import current_user
from itsdangerous import URLSafeTimedSerializer

from blog.models import User

PROVIDER_KEY = "provider"
NEXT_KEY = "next"
NOTICE_KEY = "notice"


class BlogSession(SecureCookieSession):
    """Flask's session, knowing whether the request brought it in a cookie we signed."""

    carried = False


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the signing serializer built once per set of keys.

    Flask builds it for every request, even one that carries no cookie at all.
    """

    session_class = BlogSession
    _built: tuple[object, URLSafeTimedSerializer | None] | None = None

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The request's session, marked when it came in a valid cookie of ours."""
        opened = super().open_session(app, request)
        if isinstance(opened, BlogSession):
            # Flask never sends an empty session: a cookie we signed always holds something.
            opened.carried = bool(opened)
        return opened

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """The serializer for the app's current secret key and its fallbacks."""
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        built = self._built
        if built is None or built[0] != keys:
            built = self._built = (keys, super().get_signing_serializer(app))
        return built[1]


def has_session_cookie() -> bool:
    """True when the request carries a session cookie we signed (so reading it is allowed)."""
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return False
    # An attribute of the session, not a key: asking marks nothing as read.
    return getattr(session, "carried", False) is True


def request_memo(key: str) -> dict[Any, Any]:
    """This request's answers under `key` (a fresh dict outside a request: nothing is kept)."""
    if not has_request_context():
        return {}
    # In the request's environ, not on `g`: an app context held around requests shares `g`.
    memo: dict[Any, Any] = request.environ.setdefault(key, {})
    return memo


def viewer() -> User | None:
    """The logged-in user, without touching the session of an anonymous reader."""
    if not has_session_cookie():
        return None
    user = current_user._get_current_object()
    return user if isinstance(user, User) else None


def pop_notice() -> str | None:
    """A one-time message for this reader (a failed login, an expired form)."""
    if not has_session_cookie():
        return None
    notice = session.pop(NOTICE_KEY, None)
    return notice if isinstance(notice, str) else None


def set_notice(message: str) -> None:
    """Leave a one-time message for the next page this reader sees."""
    session[NOTICE_KEY] = message


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to return to: anything that could leave the site becomes the default."""
    if not target or not isinstance(target, str):
        return default
    target = target.strip()
    if (
        not target.startswith("/")
        or target.startswith("//")
        or target.startswith("/\\")
        or any(c in target for c in "\\\r\n\t\x00")
        or any(ord(c) < 32 or ord(c) == 127 for c in target)
    ):
        return default
    return target
