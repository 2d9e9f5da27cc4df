"""Shared column helpers for the models, and the cache tags they declare.

A cache tag names the pages (and kept values) that show some rows: `site` is on every page,
`post:<id>` on each page that shows a post (its page, its comment feed, the listings it is
on), `comments` on the blog-wide comment feed. Each model says which tags a write of its rows
makes stale (`cache_tags`), so blog/cache/tracking.py asks any written row, whatever its class.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Enum, select, union
from sqlalchemy.orm import Session, object_session

from blog.extensions import db

SITE = "site"
COMMENTS = "comments"
# The key in a Table's `info` under which a table without a model declares its tags.
TABLE_TAGS = "cache_tags"


def post_tag(post_id: int) -> str:
    """The tag of the pages that show a post (its page, its comment feed, listings with it)."""
    return f"post:{post_id}"


def enum_column(cls: type[enum.Enum]) -> Enum:
    """A VARCHAR enum column storing the members' values."""
    # Store the value, bounded by a CHECK-free VARCHAR so adding a member needs no migration dance.
    return Enum(cls, values_callable=lambda e: [m.value for m in e], native_enum=False, length=20)


class ShownOnPages:
    """A model whose rows pages show; by default every page (`site`), as posts and terms are."""

    def cache_tags(self, changed: set[str] | None) -> set[str]:
        """The tags a write of this row makes stale; `changed` is None for an insert or delete."""
        return {SITE}

    @classmethod
    def bulk_cache_tags(
        cls, columns: set[str] | None, rows: Sequence[Mapping[str, Any]] | None
    ) -> set[str]:
        """The tags a statement on many rows makes stale: the columns an UPDATE sets, the
        parameter rows of a plain INSERT (None when unknown)."""
        return {SITE}


class NotShownOnPages:
    """A model no page shares between readers shows: writing it makes nothing stale."""

    def cache_tags(self, changed: set[str] | None) -> set[str]:
        """No tags."""
        return set()

    @classmethod
    def bulk_cache_tags(
        cls, columns: set[str] | None, rows: Sequence[Mapping[str, Any]] | None
    ) -> set[str]:
        """No tags."""
        return set()


def commented_post_tags(row: object, user_ids: Iterable[int | None]) -> set[str]:
    """The tags of the posts these users commented on or liked (what shows their name, avatar,
    badge; a like shows the avatar)."""
    wanted = {u for u in user_ids if u is not None}
    session: Session | None = object_session(row)
    if not wanted or session is None:
        return set()
    # By table: people.py, where the callers live, is imported by comments.py.
    comments, likes = db.metadata.tables["comments"], db.metadata.tables["likes"]
    found = session.connection().execute(
        union(
            select(comments.c.post_id).where(comments.c.user_id.in_(wanted)),
            select(likes.c.post_id).where(likes.c.user_id.in_(wanted)),
        )
    )
    return {post_tag(post_id) for (post_id,) in found}
