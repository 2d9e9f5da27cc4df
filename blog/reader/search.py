"""Full-text search over posts: SQLite FTS5, or PostgreSQL's own text search."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text

from blog.cache.tracking import invalidate_on_commit
from blog.extensions import db
from blog.models import Post, PostStatus
from blog.models.base import SITE
from blog.models.types import UTCDateTime
from blog.web.formdata import MAX_ID

_START, _STOP = "\x02", "\x03"
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 12


@dataclass(frozen=True)
class SearchHit:
    """A post that matched, with its highlighted snippet (safe HTML)."""

    post: Post
    snippet_html: str


def _is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def index_post(post_id: int, title: str, body_text: str) -> None:
    """Add or replace a post in the search index (PostgreSQL indexes by expression)."""
    if not _is_sqlite():
        return
    # The cache reads no SQL text: this writer names the tag search results are kept under.
    invalidate_on_commit(db.session(), {SITE})
    db.session.execute(text("DELETE FROM post_search WHERE rowid = :id"), {"id": post_id})
    db.session.execute(
        text("INSERT INTO post_search (rowid, title, text) VALUES (:id, :title, :text)"),
        {"id": post_id, "title": title, "text": body_text},
    )


def query_words(query: str) -> list[str]:
    """The words of a reader's query, with the search syntax stripped out."""
    return _WORD.findall(query)[:MAX_QUERY_WORDS]


# ts_headline drops anything that looks like a tag, so angle brackets travel disguised.
_LT, _GT = "\x0e", "\x0f"


def _highlight(snippet: str) -> str:
    snippet = snippet.replace(_LT, "<").replace(_GT, ">")
    return html.escape(snippet).replace(_START, "<mark>").replace(_STOP, "</mark>")


def search_posts(query: str, now: datetime, limit: int = 20, offset: int = 0) -> list[SearchHit]:
    """Published posts matching every word of the query, best first."""
    words = query_words(query)
    # No table holds that many rows, and the database cannot take such an OFFSET.
    if not words or offset + limit > MAX_ID:
        return []
    if _is_sqlite():
        match = " ".join('"' + w.replace('"', "") + '"*' for w in words)
        # Ranked first, then snippets for the page's rows only: a snippet re-reads its whole
        # document, and a common word matches most of the blog.
        sql = text(
            "SELECT rowid, snippet(post_search, 1, :start, :stop, '…', 24) AS snip "
            "FROM post_search WHERE post_search MATCH :match AND rowid IN ("
            " SELECT post_search.rowid FROM post_search JOIN posts ON posts.id = post_search.rowid"
            " WHERE post_search MATCH :match AND posts.status = :status"
            " AND posts.published_at <= :now"
            " ORDER BY bm25(post_search, 10.0, 1.0) LIMIT :limit OFFSET :offset) "
            "ORDER BY bm25(post_search, 10.0, 1.0)"
        )
        params: dict[str, object] = {"match": match}
    else:
        sql = text(
            "SELECT posts.id, ts_headline('english', "
            "replace(replace(posts.text, '<', :lt), '>', :gt), q, "
            "'StartSel=' || :start || ', StopSel=' || :stop || "
            "', MaxWords=30, MinWords=12') AS snip "
            "FROM posts, plainto_tsquery('english', :match) AS q "
            "WHERE to_tsvector('english', posts.title || ' ' || posts.text) @@ q "
            "AND posts.status = :status AND posts.published_at <= :now "
            "ORDER BY ts_rank(setweight(to_tsvector('english', posts.title), 'A') || "
            "setweight(to_tsvector('english', posts.text), 'D'), q) DESC "
            "LIMIT :limit OFFSET :offset"
        )
        params = {"match": " ".join(words), "lt": _LT, "gt": _GT}
    sql = sql.bindparams(bindparam("now", type_=UTCDateTime))
    rows = db.session.execute(
        sql,
        {
            "now": now,
            **params,
            "start": _START,
            "stop": _STOP,
            "status": PostStatus.PUBLISHED.value,
            "limit": limit,
            "offset": offset,
        },
    ).all()
    posts = {p.id: p for p in db.session.query(Post).filter(Post.id.in_([r[0] for r in rows]))}
    return [SearchHit(posts[r[0]], _highlight(r[1] or "")) for r in rows if r[0] in posts]
