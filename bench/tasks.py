"""Work the benchmark does in a fresh interpreter: `python -m bench.tasks <task>`.

Settings come from BLOG_* variables; each task prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


def cold_sync() -> dict[str, Any]:
    """Migrate an empty database to head, then time one full sync of posts/."""
    from flask_migrate import upgrade

    from blog import create_app
    from blog.extensions import db, init_migrations
    from blog.publishing.hooks import run_sync

    app = create_app({"SYNC_ON_START": False, "SYNC_ON_REQUEST": False})
    init_migrations(app)
    with app.app_context():
        began = time.perf_counter()
        upgrade()
        migrated = time.perf_counter()
        report = run_sync()
        synced = time.perf_counter()
        db.engine.dispose()
    return {
        "migrate_s": migrated - began,
        "sync_s": synced - migrated,
        "added": len(report.added),
        "updated": len(report.updated),
        "problems": [str(p) for p in report.problems],
    }


def warm_start() -> dict[str, Any]:
    """Import the blog and create the app with SYNC_ON_START on (it re-hashes every file)."""
    imported = time.perf_counter()
    from blog import create_app

    created = time.perf_counter()
    create_app({"SYNC_ON_START": True, "SYNC_ON_REQUEST": False})
    done = time.perf_counter()
    return {
        "import_s": created - imported,
        "create_app_s": done - created,
    }


COMMENTS_ON_ESSAY = 100
WRITERS = 64
ESSAY_SLUG = "making-true-connections"


def seed_comments() -> dict[str, Any]:
    """100 approved comments (some of them replies) under the essay, and logged-in writers.

    Each writer is a real user row with a signed session cookie and the CSRF token that the
    post page would have handed out, so wrk can post comments as a logged-in reader would.
    """
    from datetime import timedelta

    from flask import g, session
    from flask_wtf.csrf import generate_csrf

    from blog import create_app
    from blog.auth.accounts import login_profile
    from blog.auth.providers import Profile
    from blog.clock import utcnow
    from blog.comments.form_timing import sign_started
    from blog.comments.rules import body_hash
    from blog.content.comment_markup import render_comment
    from blog.database import write_transaction
    from blog.extensions import db
    from blog.models import Comment, CommentStatus, Post

    app = create_app({"SYNC_ON_START": False, "SYNC_ON_REQUEST": False})
    writers = []
    liked_by: list[int] = []
    with app.app_context():
        now = utcnow()
        essay = db.session.query(Post).filter_by(slug=ESSAY_SLUG).one()
        readers = [
            login_profile(Profile("google", f"reader-{n}", f"Reader {n}", None, False, None), now)
            for n in range(40)
        ]
        with write_transaction():
            parents: list[Comment] = []
            for n in range(COMMENTS_ON_ESSAY):
                parent = parents[n // 3] if n % 3 == 2 and parents else None
                text = (
                    f"Comment {n}: a **real** conversation about [trust](https://example.com/{n})"
                    " and the people in between.\n\nA second paragraph, with `code`."
                )
                comment = Comment(
                    post_id=essay.id,
                    parent_id=parent.id if parent else None,
                    parent_key=parent.id if parent else 0,
                    body_hash=body_hash(text),
                    user_id=readers[n % len(readers)].id,
                    provider="google",
                    author_name=readers[n % len(readers)].display_name,
                    body=text,
                    body_html=render_comment(text),
                    status=CommentStatus.APPROVED,
                    depth=parent.depth + 1 if parent else 0,
                    created_at=now - timedelta(minutes=COMMENTS_ON_ESSAY - n),
                )
                db.session.add(comment)
                db.session.flush()
                parents.append(comment)
        # A reader who opened the form an hour ago: older than the too-fast-form rule.
        started = sign_started(now - timedelta(hours=1))
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        for n in range(WRITERS):
            user = login_profile(Profile("x", f"writer-{n}", f"Writer {n}", None, False, None), now)
            with app.test_request_context("/"):
                g.pop("csrf_token", None)  # Flask-WTF caches the token on the app context
                session.update({"_user_id": user.get_id(), "_fresh": True, "provider": "x"})
                token = generate_csrf()
                writers.append({"cookie": serializer.dumps(dict(session)), "csrf_token": token})
            liked_by.append(user.id)
        likes = _seed_likes(essay.id, [r.id for r in readers] + liked_by, parents, now)
        essay_id = essay.id
        db.engine.dispose()
    return {
        "post_id": essay_id,
        "comments": COMMENTS_ON_ESSAY,
        "likes": likes,
        "form_started": started,
        "cookie_name": app.config["SESSION_COOKIE_NAME"],
        "writers": writers,
    }


def _seed_likes(post_id: int, user_ids: list[int], comments: list[Any], now: Any) -> int:
    """Likes on the essay and on its comments, as a lively post has: each reader likes the
    essay and about one comment in four, the logged-in writers among them (their own state)."""
    # Imported here like every task's: the module loads before the app's settings are set.
    from blog.database import write_transaction
    from blog.extensions import db
    from blog.models import Like

    rows = []
    for n, user_id in enumerate(user_ids):
        liked = [None] + [c.id for i, c in enumerate(comments) if (i + n) % 4 == 0]
        rows += [
            {
                "post_id": post_id,
                "comment_id": comment_id,
                "comment_key": comment_id or 0,
                "user_id": user_id,
                "created_at": now,
            }
            for comment_id in liked
        ]
    with write_transaction():
        db.session.execute(Like.__table__.insert(), rows)
    return len(rows)


COMMENTS_PER_POST = int(os.environ.get("BENCH_COMMENTS_PER_POST", "10"))


def seed_bulk_comments() -> dict[str, Any]:
    """Ten approved comments per post (100,000 on 10,000 posts), in bulk, for the listings."""
    from datetime import timedelta

    from sqlalchemy import insert, select

    from blog import create_app
    from blog.auth.accounts import login_profile
    from blog.auth.providers import Profile
    from blog.clock import utcnow
    from blog.comments.rules import body_hash
    from blog.content.comment_markup import render_comment
    from blog.database import write_transaction
    from blog.extensions import db
    from blog.models import Comment, CommentStatus, Post, PostLayout

    app = create_app({"SYNC_ON_START": False, "SYNC_ON_REQUEST": False})
    with app.app_context():
        now = utcnow()
        readers = [
            login_profile(
                Profile("google", f"bulk-{n}", f"Bulk reader {n}", None, False, None), now
            )
            for n in range(50)
        ]
        post_ids = db.session.scalars(select(Post.id).where(Post.layout == PostLayout.POST)).all()
        html = render_comment("Bulk comment NUMBER: a *short* note on the post.")
        rows = []
        for n in range(len(post_ids) * COMMENTS_PER_POST):
            text = f"Bulk comment {n}: a *short* note on the post."
            reader = readers[n % len(readers)]
            rows.append(
                {
                    "post_id": post_ids[n % len(post_ids)],
                    "parent_id": None,
                    "parent_key": 0,
                    "body_hash": body_hash(text),
                    "user_id": reader.id,
                    "provider": "google",
                    "author_name": reader.display_name,
                    "body": text,
                    "body_html": html.replace("NUMBER", str(n)),
                    "status": CommentStatus.APPROVED,
                    "depth": 0,
                    "created_at": now - timedelta(seconds=n),
                }
            )
        for start in range(0, len(rows), 5000):
            with write_transaction():
                db.session.execute(insert(Comment), rows[start : start + 5000])
        db.engine.dispose()
    return {"comments": len(rows)}


LONG_THREAD = 5000


def seed_long_thread() -> dict[str, Any]:
    """5,000 approved comments (a third of them replies) on the oldest synthetic post."""
    from datetime import timedelta

    from sqlalchemy import insert, select

    # Imported here, as every task does: the bench's own process never loads the blog.
    from blog import create_app
    from blog.clock import utcnow
    from blog.comments.rules import body_hash
    from blog.content.comment_markup import render_comment
    from blog.database import write_transaction
    from blog.extensions import db
    from blog.models import Comment, CommentStatus, Post, PostLayout

    app = create_app({"SYNC_ON_START": False, "SYNC_ON_REQUEST": False})
    with app.app_context():
        now = utcnow()
        post = db.session.scalars(
            select(Post)
            .where(Post.layout == PostLayout.POST, Post.slug != ESSAY_SLUG)
            .order_by(Post.published_at, Post.id)
            .limit(1)
        ).one()
        html = render_comment(
            "Long thread comment NUMBER: a **real** conversation about [trust]"
            "(https://example.com/NUMBER) and the people in between."
        )
        roots = [n for n in range(LONG_THREAD) if n % 3 != 2]

        def row(n: int, parent: int | None, depth: int) -> dict[str, Any]:
            text = f"Long thread comment {n}"
            return {
                "post_id": post.id,
                "parent_id": parent,
                "parent_key": parent or 0,
                "body_hash": body_hash(text),
                "author_name": f"Reader {n % 40}",
                "body": text,
                "body_html": html.replace("NUMBER", str(n)),
                "status": CommentStatus.APPROVED,
                "depth": depth,
                "created_at": now - timedelta(minutes=LONG_THREAD - n),
            }

        with write_transaction():
            db.session.execute(insert(Comment), [row(n, None, 0) for n in roots])
        root_ids = db.session.scalars(
            select(Comment.id)
            .where(Comment.post_id == post.id, Comment.parent_id.is_(None))
            .order_by(Comment.created_at)
        ).all()
        replies = [
            row(n, root_ids[i], 1)
            for i, n in enumerate(n for n in range(LONG_THREAD) if n % 3 == 2)
        ]
        with write_transaction():
            db.session.execute(insert(Comment), replies)
        path = post.path
        db.engine.dispose()
    return {"path": path, "comments": len(roots) + len(replies)}


def count_comments() -> dict[str, Any]:
    """Comment ids and bodies in the database, to check that no accepted comment was lost."""
    from sqlalchemy import select

    from blog import create_app
    from blog.extensions import db
    from blog.models import Comment

    app = create_app({"SYNC_ON_START": False, "SYNC_ON_REQUEST": False})
    with app.app_context():
        rows = db.session.execute(select(Comment.id, Comment.body)).all()
        db.engine.dispose()
    return {"comments": {str(i): body for i, body in rows}}


TASKS = {
    "cold-sync": cold_sync,
    "warm-start": warm_start,
    "seed-comments": seed_comments,
    "seed-long-thread": seed_long_thread,
    "count-comments": count_comments,
    "seed-bulk-comments": seed_bulk_comments,
}


def main(argv: list[str]) -> int:
    """Run the task named in argv and print its JSON result."""
    if len(argv) != 1 or argv[0] not in TASKS:
        print(f"usage: python -m bench.tasks {{{'|'.join(TASKS)}}}", file=sys.stderr)
        return 2
    # Flushed at once: the bench times the answer's arrival (see bench.measure.Bench.task).
    print(json.dumps(TASKS[argv[0]]()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
