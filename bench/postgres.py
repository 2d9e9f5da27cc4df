"""The PostgreSQL server the tests and the benchmark share: where it is, whether it answers."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def services_required() -> bool:
    """CI sets BLOG_TEST_REQUIRE_SERVICES=1: a missing server then fails instead of skipping."""
    return os.environ.get("BLOG_TEST_REQUIRE_SERVICES") == "1"


def postgres_admin_url() -> str:
    """Where the PostgreSQL server is: BLOG_TEST_DATABASE_URL or the local default."""
    url = os.environ.get("BLOG_TEST_DATABASE_URL", DEFAULT_POSTGRES)
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if "+" not in url else url


def postgres_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = create_engine(postgres_admin_url(), connect_args={"connect_timeout": 2})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any driver or network failure means "not here"
        return (
            f"PostgreSQL unreachable at {make_url(postgres_admin_url()).render_as_string()}: {exc}"
        )
    return None


@contextmanager
def throwaway_postgres_database(prefix: str = "blog_test") -> Iterator[str]:
    """Create an empty database `<prefix>_<pid>_<random>`; drop it afterwards, whatever happens."""
    admin = make_url(postgres_admin_url())
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            # FORCE: a server or task that is still connected must not keep the database alive.
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
