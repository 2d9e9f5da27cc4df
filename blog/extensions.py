"""Flask extensions, created unbound and initialised in the app factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations (and SQLite batch mode) deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

login_manager = LoginManager()
csrf = CSRFProtect()


def init_migrations(app: Flask) -> None:
    """Bind Flask-Migrate to the app, once, where migrations run (`flask db`, tests).

    Not in the factory: Flask-Migrate imports Alembic, a tenth of a second that no serving
    worker needs (the schema guard in blog.web.ops reads the version table itself).
    """
    from flask_migrate import Migrate  # see above: Alembic loads only here

    if "migrate" not in app.extensions:
        # The project's migrations/ folder sits beside the package (app.root_path).
        migrations = Path(app.root_path).parent / "migrations"
        Migrate(app, db, directory=str(migrations), render_as_batch=True)
