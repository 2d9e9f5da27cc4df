"""Social login: the provider table, the OAuth dance, sessions that end when the user logs out."""

from __future__ import annotations

from flask import Flask

from blog.auth import account_views, facebook, views
from blog.auth.menu import init_account_menu
from blog.auth.session import SignedCookieSessions
from blog.auth.viewer_row import load_viewer
from blog.extensions import login_manager
from blog.models import User
from blog.web.formdata import parse_int


def init_auth(app: Flask) -> None:
    """Set up Flask-Login, sessions and the auth blueprints (provider clients come later)."""
    # No eager current_user in templates: anonymous pages must not touch the session.
    app.session_interface = SignedCookieSessions()
    login_manager.init_app(app, add_context_processor=False)
    login_manager.session_protection = None  # sessions are ended by generation instead
    if app.config.get("DEV_IDP"):
        # The local identity provider is loaded only where it is enabled.
        from blog.auth.devmode import enable_dev_idp

        enable_dev_idp(app)
    # The providers' Authlib clients are made by the first login (blog.auth.dance).
    app.register_blueprint(views.bp)
    app.register_blueprint(account_views.bp)
    app.register_blueprint(facebook.bp)
    init_account_menu(app)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """A user from the session's `id:generation`; stale generations are logged out."""
    raw_id, _, raw_generation = session_id.partition(":")
    user_id, generation = parse_int(raw_id), parse_int(raw_generation)
    if user_id is None or generation is None:
        return None
    user = load_viewer(user_id)
    if user is None or user.deleted_at is not None or user.session_generation != generation:
        return None
    return user
