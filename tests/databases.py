"""Test databases: an SQLite file per test, and PostgreSQL wherever a server is reachable."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def services_required() -> bool:
    """CI sets BLOG_TEST_REQUIRE_SERVICES=1: a missing server then fails instead of skipping."""
    return os.environ.get("BLOG_TEST_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip with a clear reason, or fail where the services are mandatory."""
    if services_required():
        pytest.fail(f"{reason} (BLOG_TEST_REQUIRE_SERVICES=1 makes this mandatory)")
    pytest.skip(reason)


def postgres_admin_url() -> str:
    """Where the test PostgreSQL server is: BLOG_TEST_DATABASE_URL or the local default."""
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
            f"PostgreSQL at {make_url(postgres_admin_url()).render_as_string()} unreachable: {exc}"
        )
    return None


@contextmanager
def throwaway_postgres_database() -> Iterator[str]:
    """Create an empty database for this test session and drop it afterwards."""
    admin = make_url(postgres_admin_url())
    name = f"blog_test_{os.getpid()}_{secrets.token_hex(3)}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def truncate_all(url: str) -> None:
    """Empty every table but the migration marker, so the next test starts clean."""
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{t}"' for t in tables)
        if names:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def sqlite_url(path: Path) -> str:
    """SQLAlchemy URL of an SQLite file."""
    return f"sqlite:///{path}"
