"""Test databases: an SQLite file per test, and PostgreSQL wherever a server is reachable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, MetaData, Table, create_engine, event, text

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


class TableEmptier:
    """Empties every table of one PostgreSQL database but the migration marker, between tests.

    One engine (one pooled connection) is kept for the whole session, and one transaction of
    DELETEs, children before parents, is far cheaper than TRUNCATE: no table is rewritten and
    no ACCESS EXCLUSIVE lock is taken. Ids are not reset: no test may count on an id's value."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url, pool_size=1, max_overflow=0)
        self._tables: list[Table] | None = None

    def tables(self) -> list[Table]:
        """The tables, children first (read from the database once)."""
        if self._tables is None:
            metadata = MetaData()
            metadata.reflect(bind=self.engine)
            self._tables = [
                table
                for table in reversed(metadata.sorted_tables)
                if table.name != "alembic_version"
            ]
        return self._tables

    def __call__(self) -> None:
        """Delete every row."""
        tables = self.tables()
        with self.engine.begin() as connection:
            for table in tables:
                connection.execute(table.delete())

    def dispose(self) -> None:
        """Close the kept connection."""
        self.engine.dispose()


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
