"""Alembic environment: runs migrations on the app's engine (Flask-Migrate)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db

# Full-text search structures are created by hand in migrations; autogenerate must not drop them.
SEARCH_OBJECTS = ("post_search",)


def include_object(obj, name, type_, reflected, compare_to):
    """Leave the search index tables and indexes out of autogenerate."""
    return not (name and name.startswith(SEARCH_OBJECTS))


def render_item(type_, obj, autogen_context):
    """Render the project's UTCDateTime as the plain column type it stores."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def process_revision_directives(context, revision, directives):
    """Write no empty migration when the models did not change."""
    if getattr(config.cmd_opts, "autogenerate", False):
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")


def run_migrations_online():
    """Run migrations against the app's database."""
    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    with target_db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            include_object=include_object,
            render_item=render_item,
            # SQLite runs DDL inside real transactions here (the app issues its own BEGIN).
            transactional_ddl=True,
            **conf_args,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported: run `flask db upgrade`.")
run_migrations_online()
