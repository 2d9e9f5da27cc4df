"""Test databases: an SQLite file per test, and PostgreSQL wherever a server is reachable."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

# Shared with the benchmark; re-exported for the fixtures that import them from here.
from bench.postgres import postgres_reachable as postgres_reachable
from bench.postgres import services_required
from bench.postgres import throwaway_postgres_database as throwaway_postgres_database


def skip_or_fail(reason: str) -> None:
    """Skip with a clear reason, or fail where the services are mandatory."""
    if services_required():
        pytest.fail(f"{reason} (BLOG_TEST_REQUIRE_SERVICES=1 makes this mandatory)")
    pytest.skip(reason)


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
