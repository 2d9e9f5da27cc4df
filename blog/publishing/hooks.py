"""When posts/ is synced: when an app that serves starts, and on the next request after an edit
in development. An app built to run a `flask` command leaves it to the command."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import inspect, select
from sqlalchemy.exc import SQLAlchemyError

from blog.clock import utcnow
from blog.extensions import db
from blog.models import Post
from blog.publishing.share_images import prepare_share_images
from blog.publishing.sync import SyncReport, posts_signature, sync_posts

log = logging.getLogger(__name__)
_lock = threading.Lock()
LISTENERS_KEY = "blog.sync_listeners"
# Called after every sync with (first_sync, now): whether the posts table was empty before it.
SyncListener = Callable[[bool, datetime], None]


def add_sync_listener(app: Flask, listener: SyncListener) -> None:
    """Call `listener` after every sync of this app (mail announces new posts this way)."""
    app.extensions.setdefault(LISTENERS_KEY, []).append(listener)


def is_first_sync() -> bool:
    """True while the posts table is empty: the coming sync is the blog's first (or an import)."""
    return db.session.scalar(select(Post.id).limit(1)) is None


def run_sync() -> SyncReport:
    """Sync posts/ into the database with the app's settings, then tell the listeners."""
    cfg = current_app.config
    first_sync = is_first_sync()
    report = sync_posts(cfg["POSTS_DIR"], cfg["TIMEZONE"], utcnow(), cfg["SITE_AUTHOR"])
    prepare_share_images(report)
    for listener in current_app.extensions.get(LISTENERS_KEY, ()):
        listener(first_sync, utcnow())
    return report


def _sync_for_readers() -> None:
    # Only the logs hear of what a serving app's sync skipped; `flask blog sync` prints its own.
    for problem in run_sync().problems:
        log.warning("post skipped: %s", problem)


def schema_ready() -> bool:
    """True when migrations have created the tables."""
    try:
        return inspect(db.engine).has_table("posts")
    except SQLAlchemyError:  # unreachable, locked or not a database at all
        return False


def register_sync_hooks(app: Flask, at_start: bool) -> None:
    """Sync at start-up (if `at_start`) and, in development, whenever posts/ changes."""
    state: dict[str, int | None] = {"signature": None}
    if at_start and app.config["SYNC_ON_START"]:
        with app.app_context():
            if schema_ready():
                if app.config["SYNC_ON_REQUEST"]:
                    state["signature"] = posts_signature(app.config["POSTS_DIR"])
                _sync_for_readers()
            else:
                log.warning("database has no schema yet: run `flask db upgrade`")

    if app.config["SYNC_ON_REQUEST"]:

        @app.before_request
        def _sync_if_changed() -> None:
            signature = posts_signature(current_app.config["POSTS_DIR"])
            if signature == state["signature"]:
                return
            with _lock:
                if signature != state["signature"] and schema_ready():
                    _sync_for_readers()
                    state["signature"] = signature
