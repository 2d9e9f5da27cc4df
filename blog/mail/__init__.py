"""Mail: an outbox in the database, a sender with retries, subscriptions and notifications."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from blog.mail import views
from blog.mail.notify import after_sync
from blog.mail.worker import start_background_sender
from blog.publishing.hooks import add_sync_listener

log = logging.getLogger(__name__)
SENDER_KEY = "blog.mail.sender"


def init_mail(app: Flask) -> None:
    """Register the mail pages and the announcements after a sync; in development, the
    background sender when MAIL_BACKGROUND."""
    app.register_blueprint(views.bp)
    add_sync_listener(app, after_sync)
    if not app.config.get("MAIL_BACKGROUND"):
        return
    if app.config.get("PRODUCTION"):
        # Every gunicorn worker would run one; production runs `flask blog send-mail`.
        log.warning("BLOG_MAIL_BACKGROUND is ignored in production: run `flask blog send-mail`")
        return
    if app.testing:
        return  # tests start a sender themselves when they want one
    lock = threading.Lock()

    @app.before_request
    def _start_sender() -> None:
        # Started by the first request, so `flask db upgrade` and other commands run no thread.
        if SENDER_KEY in app.extensions:
            return
        with lock:
            if SENDER_KEY not in app.extensions:
                app.extensions[SENDER_KEY] = start_background_sender(app)
