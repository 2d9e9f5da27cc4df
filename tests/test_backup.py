"""`flask blog backup` during writes, then `restore`: every committed comment comes back."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import delete, select

from blog.auth.accounts import login_profile
from blog.auth.providers import Profile
from blog.clock import utcnow
from blog.comments import service
from blog.comments.rules import CommentRules, Submission
from blog.extensions import db
from blog.models import Comment, Post

RULES = CommentRules(hold="none", min_form_seconds=0, flood_seconds=0)


def _write_comments(app: Flask, stop: threading.Event, committed: list[int]) -> None:
    with app.app_context():
        user = login_profile(Profile("google", "writer-1", "Writer", None, False, None), utcnow())
        post_id = db.session.scalar(select(Post.id).where(Post.slug == "making-true-connections"))
        n = 0
        while not stop.is_set() and n < 2000:
            n += 1
            submission = Submission(post_id=post_id, parent_id=None, body=f"comment {n}",
                                    form_started=utcnow())  # fmt: skip
            comment = service.create_comment(user, submission, utcnow(), RULES, "key")
            committed.append(comment.id)
        db.session.remove()


def _ids_in(path: Path) -> set[int]:
    with closing(sqlite3.connect(path)) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM comments")}


def _comment_ids(app: Flask) -> set[int]:
    with app.app_context():
        ids = set(db.session.scalars(select(Comment.id)))
        db.session.remove()
        return ids


def test_backup_taken_during_writes_restores_every_committed_comment(
    essay: Path, app: Flask, tmp_path: Path
) -> None:
    runner = app.test_cli_runner()
    stop = threading.Event()
    committed: list[int] = []
    writer = threading.Thread(target=_write_comments, args=(app, stop, committed))
    writer.start()
    try:
        while len(committed) < 50:
            threading.Event().wait(0.01)
        before_backup = list(committed)
        result = runner.invoke(args=["blog", "backup", str(tmp_path / "blog.backup")])
        assert result.exit_code == 0, result.output
    finally:
        stop.set()
        writer.join(timeout=30)
    assert len(before_backup) >= 50

    with app.app_context():
        db.session.execute(delete(Comment))
        db.session.commit()
        db.session.remove()
    assert _comment_ids(app) == set()

    result = runner.invoke(args=["blog", "restore", "--yes", str(tmp_path / "blog.backup")])
    assert result.exit_code == 0, result.output
    restored = _comment_ids(app)
    assert set(before_backup) <= restored


@pytest.mark.sqlite_only
def test_plain_copy_of_a_wal_database_misses_committed_rows(
    essay: Path, app: Flask, tmp_path: Path
) -> None:
    """Why the backup command exists: the main file alone lacks what is still in the WAL."""
    db_file = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    stop, committed = threading.Event(), list[int]()
    stop.set()  # not needed: write a few synchronously
    with app.app_context():
        user = login_profile(Profile("google", "writer-2", "Writer", None, False, None), utcnow())
        post_id = db.session.scalar(select(Post.id).where(Post.slug == "making-true-connections"))
        for n in range(20):
            submission = Submission(post_id=post_id, parent_id=None, body=f"wal {n}",
                                    form_started=utcnow())  # fmt: skip
            committed.append(service.create_comment(user, submission, utcnow(), RULES, "k").id)
        # The app's connection stays open, so nothing has been checkpointed into the main file.
        shutil.copyfile(db_file, tmp_path / "copy.db")
        app.test_cli_runner().invoke(args=["blog", "backup", str(tmp_path / "online.db")])
    import sqlite3

    copied = {
        r[0] for r in sqlite3.connect(tmp_path / "copy.db").execute("SELECT id FROM comments")
    }
    online = {
        r[0] for r in sqlite3.connect(tmp_path / "online.db").execute("SELECT id FROM comments")
    }
    assert set(committed) <= online
    assert not set(committed) <= copied
