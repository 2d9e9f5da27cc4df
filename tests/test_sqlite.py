"""SQLite under several workers: WAL, a busy timeout, BEGIN IMMEDIATE for writes only."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text

from blog.database import write_transaction
from blog.extensions import db
from blog.models import Post
from tests.conftest import sync

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def make_app(make_app: Callable[..., Flask]) -> Callable[..., Flask]:
    """The shared factory, without the development identity provider."""

    def make(**overrides: object) -> Flask:
        overrides.setdefault("DEV_IDP", False)
        return make_app(**overrides)

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask], write_post: Callable[..., Path]) -> Flask:
    """An app with one post."""
    write_post("first", title="First")
    return make_app()


def db_path(app: Flask) -> str:
    """The SQLite file behind the app."""
    return str(app.config["SQLALCHEMY_DATABASE_URI"]).removeprefix("sqlite:///")


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app's connections send to SQLite from now on."""
    seen: list[str] = []
    with app.app_context():
        db.engine.dispose()  # new connections only, so each one gets the trace

        def trace(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.set_trace_callback(seen.append)

        event.listen(db.engine, "connect", trace)
    yield seen
    with app.app_context():
        event.remove(db.engine, "connect", trace)


def begins(seen: list[str]) -> list[str]:
    """The BEGIN statements among the traced ones."""
    return [s.strip().upper() for s in seen if s.strip().upper().startswith("BEGIN")]


def other_connection(app: Flask, timeout_ms: int = 50) -> sqlite3.Connection:
    """A plain second connection, as another worker process would have."""
    conn = sqlite3.connect(db_path(app), isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {timeout_ms}")
    return conn


def test_connections_use_wal_and_the_configured_busy_timeout(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLITE_BUSY_TIMEOUT_MS=1234)
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 1234
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    conn = sqlite3.connect(db_path(app))
    try:  # WAL is a property of the file: every other process sees it too
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


def test_write_transaction_begins_immediate_and_reads_stay_deferred(
    app: Flask, statements: list[str]
) -> None:
    with app.app_context():
        db.session.scalars(select(Post)).all()
        db.session.commit()
        assert begins(statements) == ["BEGIN DEFERRED"]
        statements.clear()
        with write_transaction():
            db.session.execute(text("UPDATE posts SET title = 'Renamed'"))
        assert begins(statements) == ["BEGIN IMMEDIATE"]
        assert "COMMIT" in [s.strip().upper() for s in statements]
        assert db.session.scalar(select(Post.title)) == "Renamed"


def test_write_transaction_ends_an_open_read_first(app: Flask, statements: list[str]) -> None:
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 1
        assert db.session().in_transaction()
        with write_transaction():
            db.session.execute(text("UPDATE posts SET title = 'After a read'"))
        assert begins(statements) == ["BEGIN DEFERRED", "BEGIN IMMEDIATE"]


def test_pages_only_read_and_sync_writes_immediately(
    app: Flask, statements: list[str], write_post: Callable[..., Path]
) -> None:
    client = app.test_client()
    for url in ("/", "/2024/01/15/first/", "/feed/", "/?s=hello", "/sitemap.xml"):
        assert client.get(url).status_code == 200
    assert begins(statements)  # the pages did query
    assert "BEGIN IMMEDIATE" not in begins(statements)
    statements.clear()
    write_post("second")
    assert sync(app).added == ["second.md"]
    assert "BEGIN IMMEDIATE" in begins(statements)


def test_an_open_write_locks_out_other_writers_quickly_but_not_readers(app: Flask) -> None:
    other = other_connection(app, timeout_ms=50)
    try:
        with app.app_context(), write_transaction():
            db.session.execute(text("UPDATE posts SET title = 'Pending'"))
            started = time.monotonic()
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
            assert time.monotonic() - started < 2
            # WAL: readers see the last committed state and are never blocked.
            assert other.execute("SELECT title FROM posts").fetchone() == ("First",)
            # So is a page served meanwhile by another thread of this worker.
            pages: list[str] = []
            reader = threading.Thread(
                target=lambda: pages.append(
                    app.test_client().get("/2024/01/15/first/").get_data(as_text=True)
                )
            )
            reader.start()
            reader.join(5)
            assert len(pages) == 1
            assert '<h1 class="entry-title p-name">First</h1>' in pages[0]
        other.execute("BEGIN IMMEDIATE")  # released at commit
        other.execute("ROLLBACK")
        assert other.execute("SELECT title FROM posts").fetchone() == ("Pending",)
    finally:
        other.close()


def test_a_failed_write_rolls_back_and_releases_the_lock(app: Flask) -> None:
    other = other_connection(app)
    try:
        with app.app_context():
            with pytest.raises(RuntimeError), write_transaction():
                db.session.execute(text("UPDATE posts SET title = 'Lost'"))
                raise RuntimeError("boom")
            assert db.session.scalar(select(Post.title)) == "First"
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_a_writer_waits_for_another_within_the_busy_timeout(app: Flask) -> None:
    other = other_connection(app)
    holding = threading.Event()

    def hold_the_lock() -> None:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE posts SET title = 'From the other worker'")
        holding.set()
        time.sleep(0.3)
        other.execute("COMMIT")

    worker = threading.Thread(target=hold_the_lock)
    worker.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        with app.app_context(), write_transaction():
            # Waited for the other writer instead of failing with "database is locked".
            title = db.session.scalar(select(Post.title))
            db.session.execute(text("UPDATE posts SET title = 'Second writer'"))
        assert time.monotonic() - started >= 0.2
        assert title == "From the other worker"
    finally:
        worker.join()
        other.close()
