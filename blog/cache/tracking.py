"""SQLAlchemy events: which cached pages a commit makes stale, and which posts a page shows.

Writes are detected here, in one place, so the comment service, moderation, accounts and the
sync need no cache calls: a flush asks each row it writes for its tags (`cache_tags`, declared
beside each model in blog/models), a bulk UPDATE/DELETE/INSERT asks the model of its table
(`bulk_cache_tags`), and the commit hands the tags to the app's page cache. A rollback forgets
them. SQL text is never parsed: a raw statement's writer names its tags (invalidate_on_commit).

Reads: while a cacheable page renders, every post it shows is recorded (the reader records the
Post rows it loads, and the posts of what it found kept), so the page is tagged `post:<id>` for
each (its own, a listing's) and expires when one of their comment forms closes.

The cache imports no domain module: the app hands it its hooks (ContentHooks, and the function
a commit calls), kept in the app's extensions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import Table, event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.expression import TableClause

from blog.extensions import Base, db
from blog.models.base import SITE, TABLE_TAGS

log = logging.getLogger(__name__)
PENDING = "blog.cache.pending"
LOADED = "page_cache_loaded"
SHOWN_TAGS = "page_cache_tags"
HOOKS = "blog.cache.hooks"
ON_COMMIT = "blog.cache.on_commit"
BulkTags = Callable[[set[str] | None, Sequence[Mapping[str, Any]] | None], set[str]]
_installed = False


@dataclass(frozen=True)
class ContentHooks:
    """What the cache asks the app about its posts: the cache imports no domain module."""

    # The first moment after `now` at which pages showing these posts change by themselves
    # (a scheduled post goes live, comment forms close); None when none is due.
    changes_at: Callable[[datetime, Collection[int]], datetime | None]
    # The posts in a session's identity map: a page shows those it loaded before it began
    # recording, too.
    posts_in_session: Callable[[Session], set[int]]


def install() -> None:
    """Listen to every session (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _forget)
    event.listen(Session, "do_orm_execute", _on_execute)
    _installed = True


def invalidate_on_commit(session: Session, tags: Iterable[str]) -> None:
    """Make these tags stale when the session commits: for writes the ORM does not see."""
    _pending(session).update(tags)


def _pending(session: Session) -> set[str]:
    found: set[str] | None = session.info.get(PENDING)
    if found is None:
        found = session.info[PENDING] = set()
    return found


def _changed_fields(obj: object) -> set[str]:
    state = inspect(obj)
    return {attr.key for attr in state.attrs if attr.history.has_changes()}


def _write_tags(obj: object, changed: set[str] | None) -> set[str]:
    """The tags a new or deleted row (`changed` None) or a changed row makes stale."""
    declared: Callable[[set[str] | None], set[str]] | None = getattr(obj, "cache_tags", None)
    # A model that declares nothing might be on any page (tests/test_cache_tags.py says so).
    return {SITE} if declared is None else declared(changed)


def _before_flush(session: Session, _context: UOWTransaction, _instances: Any) -> None:
    # Deleted rows before they go: an expired attribute can still be loaded now.
    tags = _pending(session)
    for obj in session.deleted:
        tags |= _write_tags(obj, None)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    # New and changed rows after the flush: a new comment's post_id is set by now, and the
    # attributes' history still holds what changed.
    tags = _pending(session)
    for obj in session.new:
        tags |= _write_tags(obj, None)
    for obj in session.dirty:
        if session.is_modified(obj):
            tags |= _write_tags(obj, _changed_fields(obj))


@lru_cache(maxsize=1)
def _bulk_declarations() -> dict[TableClause, BulkTags]:
    """Each table's answer for a statement on many rows: its model's, or its own `info`."""
    found: dict[TableClause, BulkTags] = {}
    for mapper in Base.registry.mappers:
        declared = getattr(mapper.class_, "bulk_cache_tags", None)
        if declared is None:
            declared = _everything
        for table in mapper.tables:
            found[table] = declared
    for table in db.metadata.tables.values():
        if table not in found and TABLE_TAGS in table.info:
            found[table] = _always(frozenset(table.info[TABLE_TAGS]))
    return found


def _always(tags: frozenset[str]) -> BulkTags:
    return lambda _columns, _rows: set(tags)


_everything = _always(frozenset({SITE}))


def _statement_tags(statement: Any, parameters: Any) -> set[str]:
    """The tags of a bulk write, as the model of its table declares them."""
    table = getattr(statement, "table", None)
    declared = _bulk_declarations().get(table) if isinstance(table, Table) else None
    if declared is None:
        return set()
    columns = None
    if getattr(statement, "is_update", False):
        values = getattr(statement, "_values", None) or {}
        columns = {getattr(c, "key", str(c)) for c in values} or None
    rows = _inserted_rows(statement, parameters) if getattr(statement, "is_insert", False) else None
    return declared(columns, rows)


def _inserted_rows(statement: Any, parameters: Any) -> list[Mapping[str, Any]] | None:
    """The parameter rows of an INSERT that takes its values from them alone; None otherwise."""
    in_statement = ("_values", "_multi_values", "select")
    if any(getattr(statement, name, None) for name in in_statement):
        return None  # values or a SELECT in the statement itself
    rows = parameters if isinstance(parameters, list | tuple) else [parameters]
    if not rows or not all(isinstance(row, Mapping) for row in rows):
        return None
    return list(rows)


def _on_execute(state: ORMExecuteState) -> None:
    if state.is_update or state.is_delete or state.is_insert:
        tags = _statement_tags(state.statement, state.parameters)
        if tags:
            _pending(state.session).update(tags)


def _forget(session: Session) -> None:
    session.info.pop(PENDING, None)


def _after_commit(session: Session) -> None:
    tags = session.info.pop(PENDING, None)
    if not tags or not has_app_context():
        return
    committed: Callable[[set[str]], None] | None = current_app.extensions.get(ON_COMMIT)
    if committed is None:
        return
    try:
        committed(tags)
    except Exception:
        # The commit has happened; a failed invalidation must not turn it into an error page.
        log.exception("page cache: invalidating %s failed", sorted(tags))


def record_post_shown(post_id: int) -> None:
    """Tag the page being rendered with a post it shows (loaded, or found kept)."""
    if has_request_context():
        loaded: set[int] | None = g.get(LOADED)
        if loaded is not None:
            loaded.add(post_id)


def record_shown(tag: str) -> None:
    """Tag the page being rendered with what it shows besides posts (the comment feed)."""
    if has_request_context():
        shown: set[str] | None = g.get(SHOWN_TAGS)
        if shown is not None:
            shown.add(tag)
