"""Comments under concurrency: identical requests racing, and many writers at once."""

from __future__ import annotations

import multiprocessing
import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import event, func, select, update

from blog import create_app
from blog.auth.accounts import login_profile
from blog.auth.providers import Profile
from blog.clock import utcnow
from blog.comments.rules import CommentRules, Submission
from blog.comments.service import DUPLICATE_MESSAGE, create_comment
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Comment, Post, User
from tests.support.auth_helpers import form_data, logged_in, serve_site, session_cookie, with_cookie
from tests.support.databases import TableEmptier
from tests.support.oauth_site import OAuthSite

PROCESSES = 8
COMMENTS_EACH = 100
ESSAY_SLUG = "making-true-connections"


# --- eight identical requests at once --------------------------------------------------------


@pytest.fixture
def flood_site(essay: Path, make_app: Callable[..., Flask]) -> Iterator[OAuthSite]:
    """The blog over real HTTP with the flood rule on: duplicates must still win over it."""
    yield from serve_site(make_app, FLOOD_SECONDS=15)


def test_eight_identical_requests_store_one_comment(flood_site: OAuthSite) -> None:
    http, page = logged_in(flood_site)
    cookie = session_cookie(http)
    assert cookie is not None
    data = form_data(page.text, "/comments/")
    data["comment"] = "Posted once, sent eight times."
    browsers = [with_cookie(flood_site, cookie) for _ in range(8)]
    start = threading.Barrier(len(browsers))

    def send(browser: requests.Session) -> requests.Response:
        start.wait(timeout=10)
        return browser.post(
            flood_site.url + "/comments/", data=data, allow_redirects=False, timeout=30
        )

    with ThreadPoolExecutor(len(browsers)) as pool:
        responses = list(pool.map(send, browsers))
    codes = sorted(r.status_code for r in responses)
    assert codes == [303] + [409] * 7, [r.text[:300] for r in responses if r.status_code >= 500]
    for refused in (r for r in responses if r.status_code == 409):
        assert DUPLICATE_MESSAGE in refused.text
        assert "Posted once, sent eight times.</textarea>" in refused.text
    with flood_site.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 1


# --- eight processes, a hundred comments each --------------------------------------------------


def _write_comments(
    url: str, posts_dir: str, worker: int, start: Any, results: Any
) -> None:  # pragma: no cover - runs in a child process
    """One app server's worth of readers: log in, comment, report every error."""
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "POSTS_DIR": Path(posts_dir), "SYNC_ON_START": False,
         "SYNC_ON_REQUEST": False, "MAIL_BACKGROUND": False}
    )  # fmt: skip
    errors: list[str] = []
    rules = CommentRules(hold="first", min_form_seconds=3, flood_seconds=15)
    with app.app_context():
        post_id = db.session.scalar(select(Post.id).where(Post.slug == ESSAY_SLUG))
        db.session.remove()
        start.wait(timeout=120)
        for n in range(COMMENTS_EACH):
            began = time.monotonic()
            try:
                now = utcnow()
                profile = Profile("google", f"w{worker}-r{n}", f"Reader {worker}-{n}", None, False,
                                  None)  # fmt: skip
                user = login_profile(profile, now)
                submission = Submission(
                    post_id=post_id,
                    parent_id=None,
                    body=f"Comment {n} from app server {worker}.",
                    provider="google",
                    form_started=now - timedelta(seconds=30),
                    ip=f"192.0.2.{worker}",
                )
                create_comment(user, submission, now, rules, "concurrency-test-key")
            except Exception as exc:  # every failure is reported, none is allowed
                statement = getattr(exc, "statement", None) or ""
                errors.append(
                    f"{type(exc).__name__}: {str(exc).splitlines()[0]} after "
                    f"{time.monotonic() - began:.2f}s in {statement[:60]!r}"
                )
            finally:
                db.session.remove()
    with app.app_context():
        db.engine.dispose()
    results.put((worker, errors))


def _prepare(url: str, posts_dir: Path) -> None:
    from blog.publishing.hooks import run_sync

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "POSTS_DIR": posts_dir, "SYNC_ON_START": False,
         "SYNC_ON_REQUEST": False}
    )  # fmt: skip
    with app.app_context():
        run_sync()
        db.session.remove()
        db.engine.dispose()


def _run_writers(url: str, posts_dir: Path) -> dict[int, list[str]]:
    # Each writer is a fresh process that builds its own app and connections, as an app server
    # does; a fork server that imported the app once starts them without importing it again.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    start = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(target=_write_comments, args=(url, str(posts_dir), n, start, results))
        for n in range(PROCESSES)
    ]
    for process in workers:
        process.start()
    reports: dict[int, list[str]] = {}
    deadline = time.monotonic() + 120
    try:
        while len(reports) < PROCESSES and time.monotonic() < deadline:
            try:
                worker, errors = results.get(timeout=1)
            except queue.Empty:
                if not any(p.is_alive() for p in workers):
                    break
                continue
            reports[worker] = errors
    finally:
        for process in workers:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
    assert len(reports) == PROCESSES, f"only {sorted(reports)} of {PROCESSES} processes reported"
    return reports


def _check_every_comment_stored(url: str, posts_dir: Path) -> None:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "POSTS_DIR": posts_dir, "SYNC_ON_START": False,
         "SYNC_ON_REQUEST": False}
    )  # fmt: skip
    with app.app_context():
        bodies = set(db.session.scalars(select(Comment.body)))
        users = db.session.scalar(select(func.count()).select_from(User))
        db.session.remove()
        db.engine.dispose()
    expected = {
        f"Comment {n} from app server {w}." for w in range(PROCESSES) for n in range(COMMENTS_EACH)
    }
    assert bodies == expected
    assert users == PROCESSES * COMMENTS_EACH


@pytest.fixture
def concurrency_database(
    request: pytest.FixtureRequest, migrated_sqlite: Path, tmp_path: Path
) -> Iterator[str]:
    """The URL of an empty migrated database for the chosen backend: a copy of
    the SQLite template, or this worker's PostgreSQL database, emptied afterwards."""
    if request.param == "sqlite":
        path = tmp_path / "concurrency.db"
        shutil.copyfile(migrated_sqlite, path)
        yield f"sqlite:///{path}"
        return
    emptier: TableEmptier = request.getfixturevalue("empty_postgres")
    try:
        yield request.getfixturevalue("migrated_postgres")
    finally:
        emptier()


@pytest.mark.slow
@pytest.mark.parametrize("concurrency_database", ["sqlite", "postgresql"], indirect=True)
def test_eight_processes_store_every_comment(
    concurrency_database: str, essay: Path, posts_dir: Path
) -> None:
    url = concurrency_database
    _prepare(url, posts_dir)
    reports = _run_writers(url, posts_dir)
    errors = [f"process {w}: {e}" for w, found in sorted(reports.items()) for e in found]
    locked = [e for e in errors if "database is locked" in e]
    assert not locked, f"{len(locked)} 'database is locked' errors, e.g. {locked[:3]}"
    assert not errors, f"{len(errors)} errors, e.g. {errors[:5]}"
    _check_every_comment_stored(url, posts_dir)


def test_a_write_after_reads_commits_once_except_on_sqlite(
    essay: Path, make_app: Callable[..., Flask], database_backend: str
) -> None:
    """SQLite must end a deferred read before BEGIN IMMEDIATE; elsewhere the write joins it."""
    app = make_app()
    with app.app_context():
        engine = db.engine
        commits: list[object] = []

        def count(conn: object) -> None:
            commits.append(conn)

        event.listen(engine, "commit", count)
        try:
            assert db.session.scalar(select(User.id).limit(1)) is None
            with write_transaction():
                db.session.execute(update(User).values(display_name="nobody"))
        finally:
            event.remove(engine, "commit", count)
    assert len(commits) == (2 if database_backend == "sqlite" else 1)
