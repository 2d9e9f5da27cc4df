"""The blog: create_app() builds a configured Flask application.

The areas are imported inside the factory's functions, not at the top: Python runs this file
before any submodule, and the content layer's render processes (spawned, several per sync), the
benchmark and the tools import `blog.content` or `blog.config` alone, without loading every
area of the app (about four times the import time).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from blog.clock import Clock
from blog.config import PROJECT_ROOT, load_settings

log = logging.getLogger(__name__)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Application factory: config, extensions, blueprints, error handlers, CLI."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
    )
    app.config.update(load_settings(instance_path=Path(app.instance_path)))
    app.config.from_pyfile("blog.cfg", silent=True)
    if overrides:
        app.config.update(overrides)
    app.extensions["blog.clock"] = app.config.pop("CLOCK", None) or Clock()
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    # The factory loads the areas, not `import blog`: see the module docstring.
    from blog.cache import init_page_cache, serve_cached_pages
    from blog.cli import building_for_a_command
    from blog.publishing.hooks import register_sync_hooks
    from blog.reader.shown import content_hooks
    from blog.web.formdata import DatabaseIntConverter

    app.url_map.converters["int"] = DatabaseIntConverter
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_operations(app)
    register_commands(app)
    # Before the start-up sync, so that its writes invalidate; the reader answers about posts.
    init_page_cache(app, content_hooks())
    # An app built for `flask db ...` or `flask blog sync` leaves posts/ to the command.
    register_sync_hooks(app, at_start=not building_for_a_command())
    serve_cached_pages(app)  # after the sync hook: in development an edit syncs before a hit
    return app


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions to this app."""
    # The factory loads the areas, not `import blog`: see the module docstring.
    from blog.database import configure_engine
    from blog.extensions import csrf, db

    db.init_app(app)
    csrf.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def register_blueprints(app: Flask) -> None:
    """Attach every area's blueprint."""
    # The factory loads the areas, not `import blog`: see the module docstring.
    from blog.auth import init_auth
    from blog.comments import reaction_views
    from blog.comments import views as comment_views
    from blog.importers.claims import init_claims
    from blog.mail import init_mail
    from blog.moderation import notes_views, report_views
    from blog.reader import authors, comment_feeds, feeds, media, views
    from blog.web.templating import register_template_helpers

    register_template_helpers(app)
    init_claims(app)
    init_auth(app)
    app.register_blueprint(comment_views.bp)
    app.register_blueprint(reaction_views.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(authors.bp)
    app.register_blueprint(media.bp)
    init_mail(app)
    # report_views adds the reports page and featuring to the admin blueprint.
    app.register_blueprint(report_views.bp)
    app.register_blueprint(notes_views.bp)
    app.register_blueprint(comment_feeds.bp)
    # Last: the rate limits wrap the login and comment views registered above.
    from blog.web.ratelimit import init_rate_limits

    init_rate_limits(app)


def register_errorhandlers(app: Flask) -> None:
    """Error pages that roll back the session and never leak a traceback."""
    # The factory loads the areas, not `import blog`: see the module docstring.
    from blog.web.errors import register

    register(app)


def register_operations(app: Flask) -> None:
    """Security headers, health check, schema guard, request logs."""
    # The factory loads the areas, not `import blog`: see the module docstring.
    from blog.web.ops import init_ops
    from blog.web.security import init_security

    init_security(app)
    init_ops(app)


def register_commands(app: Flask) -> None:
    """Add `flask blog ...`."""
    # The factory loads the areas, not `import blog`: see the module docstring.
    from blog.cli import blog_cli, db_cli

    app.cli.add_command(blog_cli)
    app.cli.add_command(db_cli)
