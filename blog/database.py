"""Database plumbing: SQLite pragmas, the WAL switch and write transactions."""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from blog.extensions import db

_BEGIN_OPTION = "blog_begin"


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Make SQLite safe under several workers: WAL, busy timeout, explicit BEGINs."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when a transaction begins.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        use_wal(dbapi_conn, engine.url.database)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def write_transaction() -> Iterator[None]:
    """Run a block as one write transaction (BEGIN IMMEDIATE on SQLite), commit or roll back.

    Its commits keep what the session has loaded: the rows it wrote hold what was written (no
    column has a server default), and reloading every object the request already read, once
    before and once after, doubled the cost of posting a comment. A rollback still expires all.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        if session.get_bind().dialect.name == "sqlite":
            if session.in_transaction():
                # A deferred read transaction cannot be upgraded safely; end it first.
                session.commit()
            session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})
        # Elsewhere the write joins the reads' transaction: a COMMIT and a BEGIN fewer.
        try:
            yield
            session.commit()
        except BaseException:
            session.rollback()
            raise
    finally:
        session.expire_on_commit = True


def use_wal(conn: sqlite3.Connection, path: str | None) -> None:
    """Put the database at `path`, open on `conn`, in WAL mode, one process at a time.

    Workers booting together all find a new file in rollback-journal mode; SQLite refuses the
    second switch at once ("database is locked") instead of waiting out its busy timeout, so
    the switch happens behind an flock on a file beside the database.
    """
    if not path or path == ":memory:" or path.startswith("file:"):
        conn.execute("PRAGMA journal_mode = WAL")  # nothing on disk to share (or a URI)
        return
    fd = os.open(f"{path}.wal-switch.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        os.close(fd)  # closing releases the lock
