"""New posts are inserted in bulk and changed ones through the ORM: both end up stored alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import select

from blog.content import batch
from blog.extensions import db, init_migrations
from blog.models import Post, PostAlias
from blog.reader.search import search_posts
from tests.conftest import NOW, sync


def stored(app: Flask) -> dict[str, tuple[object, ...]]:
    """What each post's row, terms and aliases hold, by file name."""
    with app.app_context():
        return {
            p.source_path: (
                p.uid,
                p.slug,
                p.title,
                p.author,
                p.status,
                p.excerpt_html,
                p.word_count,
                sorted((t.kind.value, t.slug) for t in p.terms),
                sorted(a.path for a in p.aliases),
            )
            for p in db.session.scalars(select(Post))
        }


def test_new_posts_get_ids_in_file_order_with_their_terms_and_aliases(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    for n in range(5):
        write_post(
            f"post-{n}",
            title=f"Post {n}",
            body=f"Words about recruiter{n}.",
            categories=["Recruiting/Interviews"],
            tags=["Trust", f"tag-{n}"],
            aliases=[f"/old/{n}/"],
        )
    app = make_app()
    with app.app_context():
        posts = db.session.scalars(select(Post).order_by(Post.id)).all()
        assert [p.source_path for p in posts] == [f"post-{n}.md" for n in range(5)]
        assert [sorted(t.slug for t in p.terms) for p in posts][2] == [
            "recruiting/interviews",
            "tag-2",
            "trust",
        ]
        assert {a.path: a.post.uid for a in db.session.scalars(select(PostAlias))} == {
            f"/old/{n}/": f"post-{n}" for n in range(5)
        }
        # Every new post is in the search index, under its own id.
        assert [h.post.uid for h in search_posts("recruiter3", NOW)] == ["post-3"]


def test_a_tag_named_twice_is_linked_once(
    write_post: Callable[..., Path], make_app: Callable[..., Flask]
) -> None:
    # `Trust` and `trust` are one tag: linking it twice used to fail the whole sync.
    write_post("doubled", tags=["Trust", "trust"], categories=["Tools", "tools"])
    app = make_app()
    assert stored(app)["doubled.md"][7] == [("category", "tools"), ("tag", "trust")]
    write_post("doubled", tags=["trust", "TRUST", "Calls"], categories=["Tools"])
    assert sync(app).updated == ["doubled.md"]
    assert stored(app)["doubled.md"][7] == [
        ("category", "tools"),
        ("tag", "calls"),
        ("tag", "trust"),
    ]


def test_a_post_added_later_is_stored_as_it_would_be_on_a_first_sync(
    write_post: Callable[..., Path], make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    write_post("kept", title="Kept", tags=["Calls"], body="One.\n\n<!--more-->\n\nTwo.")
    app = make_app()
    write_post("late", title="Late", categories=["Culture/Remote"], aliases=["/late/"])
    write_post("kept", title="Kept again", tags=["Calls", "Email"])
    report = sync(app)
    assert (report.added, report.updated) == (["late.md"], ["kept.md"])
    # The same files synced into an empty database in one go: every post new, in bulk.
    first = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'first.db'}")
    init_migrations(first)
    with first.app_context():
        upgrade()
    sync(first)
    assert stored(first) == stored(app)


def test_a_sync_rendered_by_the_pool_stores_what_one_process_stores(
    write_post: Callable[..., Path],
    make_app: Callable[..., Flask],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n in range(6):
        write_post(f"post-{n}", body=f"Body {n} with a note.[^1]\n\n[^1]: Note {n}.")
    # A slug taken twice: the second file is reported, and its rendering thrown away.
    write_post("post-9", slug="post-2")
    alone = make_app()
    monkeypatch.setattr(batch, "PARALLEL_FROM", 2)
    pooled = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'pooled.db'}")
    init_migrations(pooled)
    with pooled.app_context():
        upgrade()
    report = sync(pooled)
    assert [str(p) for p in report.problems] == [
        "post-9.md: slug: 'post-2' is already used by post-2.md"
    ]
    assert stored(pooled) == stored(alone)
    assert len(stored(alone)) == 6
