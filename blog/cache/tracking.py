"""SQLAlchemy events: which cached pages a commit makes stale, and which posts a page shows.

Writes are detected here, in one place, so the comment service, moderation, accounts and the
sync need no cache calls: a flush collects the tags of the Post, Comment, Term, alias and
avatar rows it writes, a bulk UPDATE/DELETE/INSERT on those tables collects `site` (every
page) except a plain insert of comments, whose parameters name their posts, and the commit
hands the tags to the app's page cache. A rollback forgets them.

Reads: while a cacheable page renders, every Post loaded is recorded, so the page is tagged
`post:<id>` for each post it shows (its own, a listing's) and expires when one of their comment
forms closes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import g, has_app_context, has_request_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.elements import TextClause

from blog.models import Avatar, Comment, Post, PostAlias, Term

log = logging.getLogger(__name__)
PENDING = "blog.cache.pending"
EXTENSION = "blog.cache"
VERSIONS_EXTENSION = "blog.tag_versions"
LOADED = "page_cache_loaded"
SITE = "site"
COMMENTS = "comments"
# Tables whose bulk statements may change what a page shows.
WATCHED_TABLES = frozenset({"posts", "comments", "terms", "post_terms", "post_aliases", "avatars"})
# Post columns no page shows: a write touching only these invalidates nothing.
UNSHOWN_POST_FIELDS = frozenset({"announced_at"})


def _text_write(tables: frozenset[str]) -> re.Pattern[str]:
    """A raw SQL statement that writes to one of these tables."""
    names = "|".join(sorted(tables))
    return re.compile(
        r"^\s*(update|delete|insert|replace)\b.*?\b(" + names + r")\b", re.IGNORECASE | re.DOTALL
    )


_TEXT_WRITE = _text_write(WATCHED_TABLES)
_installed = False


def post_tag(post_id: int) -> str:
    """The tag of the pages that show a post (its page, its comment feed, listings with it)."""
    return f"post:{post_id}"


def install() -> None:
    """Listen to every session and to Post loads (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _forget)
    event.listen(Session, "do_orm_execute", _on_execute)
    event.listen(Post, "load", _on_load)
    event.listen(Post, "refresh", _on_refresh)
    _installed = True


def _pending(session: Session) -> set[str]:
    found: set[str] | None = session.info.get(PENDING)
    if found is None:
        found = session.info[PENDING] = set()
    return found


def _changed_fields(obj: object) -> set[str]:
    state = inspect(obj)
    return {attr.key for attr in state.attrs if attr.history.has_changes()}


def _write_tags(session: Session, obj: object, dirty: bool) -> set[str]:
    """The tags a new, changed or deleted row makes stale."""
    if isinstance(obj, Comment):
        tags = {COMMENTS}
        post_ids = {obj.post_id}
        if dirty:
            post_ids.update(inspect(obj).attrs.post_id.history.deleted or ())
        tags.update(post_tag(p) for p in post_ids if p is not None)
        return tags
    if isinstance(obj, Post):
        if dirty and _changed_fields(obj) <= UNSHOWN_POST_FIELDS:
            return set()
        return {SITE}
    if isinstance(obj, Term | PostAlias):
        return {SITE}
    if isinstance(obj, Avatar):
        if dirty and not ({"digest", "user_id"} & _changed_fields(obj)):
            return set()
        # The avatar's digest is in the URL of its img on every post its owner commented on.
        rows = session.connection().execute(
            select(Comment.post_id).where(Comment.user_id == obj.user_id).distinct()
        )
        return {post_tag(row[0]) for row in rows}
    return set()


def _before_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    # Deleted rows before they go: an expired attribute can still be loaded now.
    tags = _pending(session)
    for obj in session.deleted:
        tags |= _write_tags(session, obj, dirty=False)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    # New and changed rows after the flush: a new comment's post_id is set by now.
    tags = _pending(session)
    for obj in session.new:
        tags |= _write_tags(session, obj, dirty=False)
    for obj in session.dirty:
        if session.is_modified(obj):
            tags |= _write_tags(session, obj, dirty=True)


def _statement_tags(statement: Any, parameters: Any) -> set[str]:
    """`site` for a bulk write to a watched table (unless it only sets unshown post fields).

    A plain insert of comments names its posts in its parameters: only they are stale.
    """
    if isinstance(statement, TextClause):
        return {SITE} if _TEXT_WRITE.match(statement.text) else set()
    table = getattr(statement, "table", None)
    name = getattr(table, "name", None)
    if name not in WATCHED_TABLES:
        return set()
    if name == "comments" and getattr(statement, "is_insert", False):
        post_ids = _inserted_post_ids(statement, parameters)
        if post_ids:
            return {COMMENTS, *(post_tag(p) for p in post_ids)}
    if name == "posts" and getattr(statement, "is_update", False):
        values = getattr(statement, "_values", None) or {}
        columns = {getattr(c, "key", str(c)) for c in values}
        if columns and columns <= UNSHOWN_POST_FIELDS:
            return set()
    return {SITE}


def _inserted_post_ids(statement: Any, parameters: Any) -> set[int] | None:
    """The posts an `INSERT INTO comments` with parameter rows writes to; None when unsure."""
    in_statement = ("_values", "_multi_values", "select")
    if any(getattr(statement, name, None) for name in in_statement):
        return None  # values or a SELECT in the statement itself
    rows = parameters if isinstance(parameters, list | tuple) else [parameters]
    post_ids: set[int] = set()
    for row in rows:
        post_id = row.get("post_id") if isinstance(row, Mapping) else None
        if not isinstance(post_id, int):
            return None
        post_ids.add(post_id)
    return post_ids or None


def _on_execute(state: ORMExecuteState) -> None:
    statement = state.statement
    if state.is_select:
        return
    if state.is_update or state.is_delete or state.is_insert or isinstance(statement, TextClause):
        tags = _statement_tags(statement, state.parameters)
        if tags:
            _pending(state.session).update(tags)


def _forget(session: Session) -> None:
    session.info.pop(PENDING, None)


def _after_commit(session: Session) -> None:
    tags = session.info.pop(PENDING, None)
    if not tags or not has_app_context():
        return
    from blog.cache import invalidate, read_versions_first  # the package imports us

    try:
        invalidate(tags)
        if has_request_context():
            # The request's next read starts a fresh snapshot, with this write in it: what it
            # renders from now on goes by the versions as they are now.
            read_versions_first()
    except Exception:
        # The commit has happened; a failed invalidation must not turn it into an error page.
        log.exception("page cache: invalidating %s failed", sorted(tags))


def _record(post: Post) -> None:
    if not has_request_context():
        return
    loaded: set[int] | None = g.get(LOADED)
    if loaded is not None:
        # Only the key: reading other attributes inside a load event could emit SQL.
        identity: tuple[Any, ...] | None = inspect(post).identity
        if identity:
            loaded.add(int(identity[0]))


def record_post_shown(post_id: int) -> None:
    """Tag the page being rendered with a post it shows without loading it (from a memo)."""
    if has_request_context():
        loaded: set[int] | None = g.get(LOADED)
        if loaded is not None:
            loaded.add(post_id)


def _on_load(post: Post, _context: Any) -> None:
    _record(post)


def _on_refresh(post: Post, _context: Any, _attrs: Iterable[str] | None) -> None:
    _record(post)


def post_ids_in_session(session: Session) -> set[int]:
    """Ids of the posts still in the session's identity map (loaded before the page, too)."""
    return {
        key[1][0]
        for key in list(session.identity_map.keys())
        if key[0] is Post and key[1] and key[1][0] is not None
    }
