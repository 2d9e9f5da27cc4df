"""`flask blog import disqus`: a Disqus export's threads matched to the posts a WordPress import
brought (by old permalink and by `?p=ID`), with threading, deleted and spam comments."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import Comment, CommentStatus, ImportedComment, Post

FIXTURES = Path(__file__).parent / "fixtures"
DISQUS = FIXTURES / "disqus" / "comments.xml"


def invoke(runner: FlaskCliRunner, kind: str, path: Path, *more: str) -> str:
    """Run an import; it must succeed; its output."""
    result = runner.invoke(args=["blog", "import", kind, str(path), *more])
    assert result.exit_code == 0, result.output
    return result.output


def disqus_rows(app: Flask) -> dict[str, tuple[Comment, str | None]]:
    """The Disqus comments by their Disqus id, with the email kept for each."""
    with app.app_context():
        found = {
            source_id: (comment, email)
            for source_id, email, comment in db.session.execute(
                select(ImportedComment.source_id, ImportedComment.author_email, Comment)
                .join(Comment, Comment.id == ImportedComment.comment_id)
                .where(ImportedComment.source == "disqus:oldnotes")
            ).all()
        }
        db.session.expunge_all()
    return found


def test_threads_find_their_posts_by_old_urls(app: Flask, runner: FlaskCliRunner) -> None:
    invoke(runner, "wordpress", FIXTURES / "wordpress" / "blog.wxr")

    output = invoke(runner, "disqus", DISQUS)

    assert "4 comments added" in output and "1 comments on threads without a post" in output
    assert "thread 7003: no post here for https://old.example.org/2018/01/" in output
    rows = disqus_rows(app)
    with app.app_context():
        posts = dict(db.session.execute(select(Post.uid, Post.id)).all())
    alice, alice_email = rows["9001"]
    removed, removed_email = rows["9002"]
    reply, _ = rows["9003"]
    spam, _ = rows["9004"]
    assert alice.post_id == posts["wp-6"] and spam.post_id == posts["wp-5"]
    assert alice.status is CommentStatus.APPROVED and alice_email == "alice@example.com"
    assert alice.body == "Found this through a friend. **Great** advice.\n\nSecond paragraph."
    assert alice.created_at.isoformat() == "2019-06-14T09:00:00+00:00"
    # Deleted there: its place in the thread, nothing of its writer.
    assert removed.status is CommentStatus.DELETED
    assert (removed.author_name, removed.body, removed_email) == ("", "", None)
    assert reply.parent_id == removed.id and reply.depth == 1
    assert spam.status is CommentStatus.SPAM

    page = app.test_client().get("/2019/06/10/making-true-connections/").get_data(as_text=True)
    assert "Alice D." in page and "This comment was deleted." in page
    assert "Replying to the removed one." in page
    assert "This was removed." not in page and "Visit my shop" not in page


def test_rerun_changes_nothing_and_dry_run_writes_nothing(
    app: Flask, runner: FlaskCliRunner
) -> None:
    invoke(runner, "wordpress", FIXTURES / "wordpress" / "blog.wxr")
    dry = invoke(runner, "disqus", DISQUS, "--dry-run")
    assert "Dry run, nothing changed; it would be: 4 comments added" in dry
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportedComment)) == 6

    invoke(runner, "disqus", DISQUS)
    again = invoke(runner, "disqus", DISQUS)

    assert "4 comments unchanged" in again and "added" not in again
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ImportedComment)) == 10


def test_a_broken_or_foreign_file_changes_nothing(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    truncated = tmp_path / "cut.xml"
    truncated.write_bytes(DISQUS.read_bytes()[:2000])
    foreign = FIXTURES / "wordpress" / "blog.wxr"
    for path, message in ((truncated, "not well-formed XML at line"), (foreign, "not a Disqus")):
        result = runner.invoke(args=["blog", "import", "disqus", str(path)])
        assert result.exit_code == 1 and message in result.output, result.output
        assert "Nothing was changed." in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Comment)) == 0
