"""Shared fixtures: a migrated database per test, an app with a movable clock, sample posts."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import text

from blog import create_app
from blog.clock import FrozenClock
from blog.config import PROJECT_ROOT
from blog.extensions import db, init_migrations
from tests.support.databases import (
    TableEmptier,
    postgres_reachable,
    skip_or_fail,
    sqlite_url,
    throwaway_postgres_database,
)
from tests.support.live import LiveServer
from tests.support.oauth_site import OAuthSite, start_oauth_site
from tests.support.ports import worker_suffix
from tests.support.smtp_server import AUTHOR, SMTPServer
from tests.support.templates import share_compiled_templates

SHARED = PROJECT_ROOT.parent / "shared"
SECURITY_DATA = SHARED / "testdata" / "security"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def security_corpus(name: str) -> list[str]:
    """Lines of a bad-input corpus from shared/testdata/security (skips when absent)."""
    path = SECURITY_DATA / name
    if not path.is_file():
        pytest.skip(f"bad-input corpus {name} not found: shared/testdata/security is absent")
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head once per session; tests get copies."""
    from flask_migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "template.db"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SYNC_ON_START": False,
            "SYNC_ON_REQUEST": False,
            "POSTS_DIR": tmp_path_factory.mktemp("noposts"),
        }
    )
    init_migrations(app)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture
def posts_dir(tmp_path: Path) -> Path:
    """An empty posts/ folder for this test."""
    folder = tmp_path / "posts"
    (folder / "images").mkdir(parents=True)
    return folder


@pytest.fixture
def write_post(posts_dir: Path) -> Callable[..., Path]:
    """Write a post file: write_post("name", title=..., date=..., body=..., **front matter)."""

    def write(
        name: str, body: str = "Hello, readers.", raw: str | None = None, **meta: object
    ) -> Path:
        path = posts_dir / f"{name}.md"
        if raw is not None:
            path.write_text(raw, encoding="utf-8")
            return path
        meta.setdefault("title", name.replace("-", " ").title())
        meta.setdefault("date", "2024-01-15 09:00")
        lines = ["---"]
        for key, value in meta.items():
            if isinstance(value, list | tuple):
                lines.append(f"{key}:")
                lines.extend(f"  - {item}" for item in value)
            else:
                lines.append(f"{key}: {value}")
        lines.append("---")
        path.write_text(
            "\n".join(lines) + "\n\n" + textwrap.dedent(body).strip() + "\n", encoding="utf-8"
        )
        return path

    return write


@pytest.fixture
def clock() -> FrozenClock:
    """The app's clock, frozen at NOW until a test moves it."""
    return FrozenClock(NOW)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses the database runs on SQLite and on PostgreSQL."""
    if "database_backend" in metafunc.fixturenames:
        backends = ["sqlite", "postgresql"]
        if metafunc.definition.get_closest_marker("sqlite_only") is not None:
            backends = ["sqlite"]
        elif metafunc.definition.get_closest_marker("postgresql_only") is not None:
            backends = ["postgresql"]
        metafunc.parametrize("database_backend", backends, indirect=True)


@pytest.fixture
def database_backend(request: pytest.FixtureRequest) -> str:
    """Which database this test runs on."""
    return str(request.param)


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str]:
    """A PostgreSQL database migrated to head once per session (so once per xdist worker, each
    worker its own database); tests empty it after use (empty_postgres)."""
    from flask_migrate import upgrade

    reason = postgres_reachable()
    if reason:
        skip_or_fail(reason)
    with throwaway_postgres_database(f"blog_test_{worker_suffix()}") as url:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SYNC_ON_START": False,
                "SYNC_ON_REQUEST": False,
                "POSTS_DIR": Path(__file__).parent,
            }
        )
        init_migrations(app)
        with app.app_context():
            upgrade()
            # A throwaway database need not outlive a crash: commits skip waiting for the disk.
            name = db.engine.url.database
            db.session.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
            db.session.commit()
            db.engine.dispose()
        yield url


@pytest.fixture(scope="session")
def empty_postgres(migrated_postgres: str) -> Iterator[TableEmptier]:
    """Empties this worker's PostgreSQL database after each test, on one kept connection."""
    emptier = TableEmptier(migrated_postgres)
    yield emptier
    emptier.dispose()


@pytest.fixture
def database_url(
    database_backend: str, migrated_sqlite: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A fresh migrated database for this test."""
    if database_backend == "sqlite":
        path = tmp_path / "blog.db"
        shutil.copyfile(migrated_sqlite, path)
        yield sqlite_url(path)
        return
    emptier: TableEmptier = request.getfixturevalue("empty_postgres")
    yield request.getfixturevalue("migrated_postgres")
    emptier()


@pytest.fixture
def make_app(
    database_url: str, posts_dir: Path, clock: FrozenClock
) -> Iterator[Callable[..., Flask]]:
    """Build apps on this test's database, posts and clock (sync on start by default)."""
    apps: list[Flask] = []

    def make(**overrides: object) -> Flask:
        config: dict[str, object] = {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "POSTS_DIR": posts_dir,
            "CLOCK": clock,
            "SYNC_ON_START": True,
            "SYNC_ON_REQUEST": False,
            "SITE_URL": "http://blog.test",
            "TIMEZONE": "UTC",
            # Rules that depend on timing are off unless a test is about them.
            "MODERATION_HOLD": "none",
            "MIN_FORM_SECONDS": 0,
            "FLOOD_SECONDS": 0,
            "RATELIMIT_ENABLED": False,
            "DEV_IDP": False,
            # Shared by every xdist worker if taken from a developer's BLOG_* variables: a test
            # that wants Redis or nginx's folder passes its own (with a key prefix of its own).
            "REDIS_URL": "",
            "STATIC_CACHE_DIR": None,
        }
        config.update(overrides)
        app = create_app(config)
        share_compiled_templates(app.jinja_env)
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The app, synced with whatever posts the test wrote before asking for it."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner for `flask blog ...`."""
    return app.test_cli_runner()


@pytest.fixture
def essay(posts_dir: Path) -> Path:
    """The real first post and About page from the project's posts/."""
    for name in ("making-true-connections.md", "about.md"):
        shutil.copyfile(PROJECT_ROOT / "posts" / name, posts_dir / name)
    return posts_dir / "making-true-connections.md"


def sync(app: Flask):  # type: ignore[no-untyped-def]
    """Run a sync in the app's context and return the report."""
    from blog.publishing.hooks import run_sync

    with app.app_context():
        return run_sync()


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The app served over real HTTP on 127.0.0.1."""
    server = LiveServer(app).start()
    app.config["SITE_URL"] = server.url
    yield server
    server.stop()


@pytest.fixture
def oauth_site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    """The blog with the essay, and the local identity provider, both over real HTTP."""
    site, servers = start_oauth_site(make_app)
    yield site
    for server in servers:
        server.stop()


@pytest.fixture
def fresh_url(database_backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database of its own: a new SQLite file or PostgreSQL database."""
    if database_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    reason = postgres_reachable()
    if reason:
        skip_or_fail(reason)
    with throwaway_postgres_database() as url:
        yield url


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    """A real SMTP server on 127.0.0.1 for this test; it records what it receives."""
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(essay: Path, make_app: Callable[..., Flask], smtp: SMTPServer) -> Flask:
    """The blog with the essay, sending mail to the test's SMTP server; the author is AUTHOR."""
    return make_app(**smtp.config(), AUTHOR_EMAIL=AUTHOR)


@pytest.fixture
def env_app(
    monkeypatch: pytest.MonkeyPatch, database_url: str, posts_dir: Path
) -> Iterator[Callable[..., Flask]]:
    """Build apps as wsgi.py does, from BLOG_* variables only."""
    apps: list[Flask] = []

    def make(**env: str) -> Flask:
        base = {
            "BLOG_DATABASE_URL": database_url,
            "BLOG_POSTS_DIR": str(posts_dir),
            "BLOG_PAGE_CACHE_STATE_DIR": str(posts_dir.parent / "page-cache"),
        }
        for name, value in (base | env).items():
            monkeypatch.setenv(name, value)
        apps.append(create_app())
        return apps[-1]

    yield make
    for app in apps:
        with app.app_context():
            db.engine.dispose()
