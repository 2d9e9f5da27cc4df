"""Test databases: an SQLite file per test, and PostgreSQL wherever a server is reachable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, text

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


@contextmanager
def sql_statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app's engine sends while the block runs, as it runs."""
    from blog.extensions import db

    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
