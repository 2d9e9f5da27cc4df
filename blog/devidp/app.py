"""The application factory of the development identity provider."""

from __future__ import annotations

from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider

from .config import IdpConfig
from .control import control_blueprint
from .errors import AuthorizePageError, GraphError, OAuthError, XApiError
from .facebook import facebook_blueprint
from .oidc import GOOGLE, LINKEDIN, oidc_blueprint
from .state import DevIdp
from .x import x_blueprint

SESSION_COOKIE_NAME = "devidp_session"


def _oauth_error(exc: OAuthError) -> Response:
    return exc.response()


def _graph_error(exc: GraphError) -> Response:
    return exc.response()


def _x_error(exc: XApiError) -> Response:
    return exc.response()


def _page_error(exc: AuthorizePageError) -> Response:
    return exc.response()


def create_idp_app(config: IdpConfig) -> Flask:
    """Build the identity provider app; its state is app.extensions["devidp"] (a DevIdp)."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_NAME=SESSION_COOKIE_NAME,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.base_url.startswith("https://"),
    )
    if isinstance(app.json, DefaultJSONProvider):
        app.json.ensure_ascii = False
        app.json.sort_keys = False
    app.extensions["devidp"] = DevIdp(config)
    app.register_blueprint(oidc_blueprint(GOOGLE))
    app.register_blueprint(oidc_blueprint(LINKEDIN))
    app.register_blueprint(x_blueprint())
    app.register_blueprint(facebook_blueprint())
    app.register_blueprint(control_blueprint())
    app.register_error_handler(OAuthError, _oauth_error)
    app.register_error_handler(GraphError, _graph_error)
    app.register_error_handler(XApiError, _x_error)
    app.register_error_handler(AuthorizePageError, _page_error)
    return app
