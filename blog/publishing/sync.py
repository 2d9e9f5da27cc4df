"""posts/ -> database: sync post files by content hash, re-rendering only what changed."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text

from blog.content import PostSource, Problem, RenderedPost, parse_post_file, render_post
from blog.content.authors import AUTHORS_FILE, Authors, AuthorsError, authors_bytes, parse_authors
from blog.content.batch import RenderQueue
from blog.content.frontmatter import parse_post_bytes, slugify, term_slug
from blog.content.images import image_resolver
from blog.database import write_transaction
from blog.extensions import db
from blog.models import Post, PostAlias, PostLayout, PostStatus, Term, TermKind, post_terms
from blog.reader.search import index_post

# Bump when rendering changes, so every post is re-rendered at the next sync.
RENDER_VERSION = "1"


@dataclass
class SyncReport:
    """What a sync did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when any post was added, updated or removed."""
        return bool(self.added or self.updated or self.removed)


@dataclass(frozen=True)
class _Row:
    id: int
    uid: str
    slug: str
    source_path: str
    content_hash: str
    status: PostStatus


def post_files(posts_dir: Path) -> list[Path]:
    """The post files, in a stable order."""
    try:
        # One directory read: the entries know their type, so no file is stat'ed (glob and
        # is_file stat every one, which adds up on a large blog). Hidden files are skipped, as
        # by glob.
        with os.scandir(posts_dir) as entries:
            names = sorted(
                e.name
                for e in entries
                if e.name.endswith(".md") and not e.name.startswith(".") and e.is_file()
            )
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [posts_dir / name for name in names]


def posts_signature(posts_dir: Path) -> int:
    """A cheap fingerprint of posts/ (names, sizes, mtimes) to notice edits in development."""
    try:
        entries = sorted(
            (e.name, e.stat().st_mtime_ns, e.stat().st_size)
            for e in os.scandir(posts_dir)
            if e.name.endswith(".md") or e.name == AUTHORS_FILE
        )
    except FileNotFoundError:
        return 0
    return hash(tuple(entries))


def content_hash(raw: bytes, zone: str, authors_raw: bytes = b"") -> str:
    """Hash of a file's bytes plus what else shapes its rendering (authors.yml names its author)."""
    digest = hashlib.sha256(f"{RENDER_VERSION}\0{zone}\0".encode())
    if authors_raw:
        digest.update(hashlib.sha256(authors_raw).digest())
    digest.update(raw)
    return digest.hexdigest()


def configured_authors(posts_dir: Path) -> tuple[bytes, Authors, list[Problem]]:
    """authors.yml's bytes and authors; a broken file is a problem and names no one."""
    raw = authors_bytes(posts_dir)
    try:
        return raw, parse_authors(raw), []
    except AuthorsError as exc:
        message = str(exc).removeprefix(f"{AUTHORS_FILE}: ")
        return raw, Authors({}), [Problem(AUTHORS_FILE, "authors", message)]


def check_posts(posts_dir: Path, zone: ZoneInfo) -> tuple[list[PostSource], list[Problem]]:
    """Parse and render every file without touching the database; return sources and problems."""
    sources: list[PostSource] = []
    problems: list[Problem] = []
    resolver = image_resolver(posts_dir)
    problems.extend(configured_authors(posts_dir)[2])
    for path in post_files(posts_dir):
        source, found = parse_post_file(path, zone)
        problems.extend(found)
        if source is not None:
            for warning in render_post(source.body, source.summary, resolver).warnings:
                field_name, _, message = warning.partition(" ")
                problems.append(Problem(source.file, field_name, message))
            sources.append(source)
    problems.extend(_duplicates(sources, {}))
    return sources, problems


def _duplicates(sources: list[PostSource], owners: dict[str, str]) -> list[Problem]:
    """Problems for sources whose slug or id is already taken; `owners` maps taken keys to files."""
    problems: list[Problem] = []
    claimed = dict(owners)
    for source in sources:
        slug_owner = claimed.get(f"slug:{source.slug}")
        id_owner = claimed.get(f"id:{source.uid}")
        if slug_owner is not None and slug_owner != source.file:
            problems.append(
                Problem(source.file, "slug", f"{source.slug!r} is already used by {slug_owner}")
            )
        # An id that defaults to the clashing slug is the same clash: report it once.
        same_clash = source.uid == source.slug and id_owner == slug_owner
        if id_owner is not None and id_owner != source.file and not same_clash:
            problems.append(
                Problem(source.file, "id", f"{source.uid!r} is already used by {id_owner}")
            )
        if not any(p.file == source.file for p in problems):
            claimed[f"slug:{source.slug}"] = source.file
            claimed[f"id:{source.uid}"] = source.file
    return problems


class _Terms:
    """Get-or-create categories and tags, cached for one sync."""

    def __init__(self) -> None:
        self.cache: dict[tuple[TermKind, str], Term] = {
            (t.kind, t.slug): t for t in db.session.scalars(select(Term))
        }

    def get(self, kind: TermKind, name: str) -> Term | None:
        """The term for a name, created if new."""
        # Only categories nest; a tag's URL is one path segment (`/tag/<slug>/`).
        slug = term_slug(name) if kind is TermKind.CATEGORY else slugify(name)
        if not slug:
            return None
        term = self.cache.get((kind, slug))
        if term is None:
            term = Term(kind=kind, name=name, slug=slug)
            db.session.add(term)
            self.cache[(kind, slug)] = term
        return term

    def ensure_ancestors(self, category: str) -> None:
        """Create `Recruiting` for `Recruiting/Interviews`, so the parent's page exists."""
        parts = category.split("/")
        for depth in range(1, len(parts)):
            self.get(TermKind.CATEGORY, "/".join(p.strip() for p in parts[:depth]))


def sync_posts(posts_dir: Path, zone_name: str, now: datetime, default_author: str) -> SyncReport:
    """Bring the database in line with posts/; bad files are skipped and reported."""
    zone = ZoneInfo(zone_name)
    report = SyncReport()
    rows = [
        _Row(*r)
        for r in db.session.execute(
            select(Post.id, Post.uid, Post.slug, Post.source_path, Post.content_hash, Post.status)
        )
    ]
    by_path = {r.source_path: r for r in rows if r.status is not PostStatus.REMOVED}
    seen_uids: set[str] = set()
    owners: dict[str, str] = {}
    candidates: list[PostSource] = []
    authors_raw, authors, author_problems = configured_authors(posts_dir)
    report.problems.extend(author_problems)
    # Rendered before the write transaction: on SQLite it locks out every other writer. Each
    # post is queued as soon as it is parsed, so other cores render while this one parses.
    with RenderQueue(posts_dir) as queue:
        for path in post_files(posts_dir):
            raw = path.read_bytes()
            digest = content_hash(raw, zone_name, authors_raw)
            row = by_path.get(path.name)
            if row is not None and row.content_hash == digest:
                report.unchanged += 1
                seen_uids.add(row.uid)
                owners.update({f"slug:{row.slug}": path.name, f"id:{row.uid}": path.name})
                continue
            source, problems = parse_post_bytes(path.name, raw, zone)
            if source is None:
                report.problems.extend(problems)
                if row is not None:
                    # Keep serving the last good version while the author fixes the file.
                    seen_uids.add(row.uid)
                    owners.update({f"slug:{row.slug}": path.name, f"id:{row.uid}": path.name})
                continue
            author = authors.find(source.author or default_author).name
            candidates.append(_with_hash(source, digest, author))
            queue.add(source.body, source.summary)
        # Duplicates are known only once every file is read; their renderings are dropped.
        rendered_all = queue.results()

    dup_problems = _duplicates(candidates, owners)
    bad_files = {p.file for p in dup_problems}
    report.problems.extend(dup_problems)
    kept = [
        (c, r) for c, r in zip(candidates, rendered_all, strict=True) if c.file not in bad_files
    ]
    candidates = [c for c, _ in kept]
    rendered = [r for _, r in kept]
    for row in rows:
        if row.source_path in bad_files and row.status is not PostStatus.REMOVED:
            seen_uids.add(row.uid)

    with write_transaction():
        _apply(candidates, rendered, rows, seen_uids, report, now, default_author)
        if report.changed and db.session.get_bind().dialect.name == "sqlite":
            # Fresh planner statistics: without them SQLite picks ix_posts_status and sorts
            # every post for each listing and previous/next query.
            db.session.execute(text("ANALYZE"))
    return report


def _with_hash(source: PostSource, digest: str, author: str) -> PostSource:
    return PostSource(**{**source.__dict__, "content_hash": digest, "author": author})


def _apply(
    candidates: list[PostSource],
    rendered_posts: list[RenderedPost],
    rows: list[_Row],
    seen_uids: set[str],
    report: SyncReport,
    now: datetime,
    default_author: str,
) -> None:
    terms = _Terms()
    uid_to_id = {r.uid: r.id for r in rows}
    _vacate_slugs(candidates, rows)
    updated: list[Post] = []
    fresh: list[tuple[PostSource, RenderedPost, list[Term]]] = []
    for source, rendered in zip(candidates, rendered_posts, strict=True):
        seen_uids.add(source.uid)
        post_id = uid_to_id.get(source.uid)
        post = db.session.get(Post, post_id) if post_id is not None else None
        its_terms = _post_terms(terms, source)
        if post is None:
            report.added.append(source.file)
            fresh.append((source, rendered, its_terms))
            continue
        report.updated.append(source.file)
        old_path = _public_path(post) if post.status is not PostStatus.DRAFT else None
        for key, value in _columns(source, rendered, now, default_author).items():
            setattr(post, key, value)
        post.terms = its_terms
        _set_aliases(post, source.aliases, old_path)
        updated.append(post)
    # Updated posts and new terms first: the new posts' rows refer to the terms' ids.
    db.session.flush()
    indexed = [(p.id, p.title, p.text) for p in updated]
    indexed += _insert_posts(fresh, now, default_author)
    for post_id, title, body_text in indexed:
        index_post(post_id, title, body_text)
    for row in rows:
        if row.uid not in seen_uids and row.status is not PostStatus.REMOVED:
            post = db.session.get(Post, row.id)
            if post is not None:
                post.status = PostStatus.REMOVED
                post.synced_at = now
                report.removed.append(row.source_path)


def _post_terms(terms: _Terms, source: PostSource) -> list[Term]:
    """A post's categories then tags, each once, creating new ones and parent categories."""
    found = [terms.get(TermKind.CATEGORY, n) for n in source.categories]
    found += [terms.get(TermKind.TAG, n) for n in source.tags]
    for name in source.categories:
        terms.ensure_ancestors(name)
    # `Trust` and `trust` are one tag: listing it twice would insert its row twice.
    return list({id(t): t for t in found if t is not None}.values())


def _insert_posts(
    fresh: list[tuple[PostSource, RenderedPost, list[Term]]], now: datetime, default_author: str
) -> list[tuple[int, str, str]]:
    """Insert new posts in bulk, in order; return (id, title, text) of each for the index."""
    if not fresh:
        return []
    # One multi-row INSERT per thousand posts instead of the unit of work's bookkeeping for
    # each object: most of the write phase of a first sync, which inserts every post.
    ids = db.session.scalars(
        insert(Post).returning(Post.id, sort_by_parameter_order=True),
        [_columns(source, rendered, now, default_author) for source, rendered, _ in fresh],
    ).all()
    links = [
        {"post_id": post_id, "term_id": term.id}
        for post_id, (_, _, its_terms) in zip(ids, fresh, strict=True)
        for term in its_terms
    ]
    if links:
        db.session.execute(insert(post_terms), links)
    for post_id, (source, _, _) in zip(ids, fresh, strict=True):
        if source.aliases:
            post = db.session.get(Post, post_id)
            if post is not None:
                _set_aliases(post, source.aliases, None)
    return [(i, s.title, r.text) for i, (s, r, _) in zip(ids, fresh, strict=True)]


def _columns(
    source: PostSource, rendered: RenderedPost, now: datetime, default_author: str
) -> dict[str, Any]:
    """A post's column values from its file and its rendering."""
    return {
        "uid": source.uid,
        "slug": source.slug,
        "source_path": source.file,
        "content_hash": source.content_hash,
        "status": PostStatus.DRAFT if source.draft else PostStatus.PUBLISHED,
        "layout": PostLayout.PAGE if source.is_page else PostLayout.POST,
        "title": source.title,
        "author": source.author or default_author,
        "summary": source.summary,
        "published_at": source.published_at,
        "local_date": source.local_date.isoformat(),
        "updated_at": source.updated_at,
        "synced_at": now,
        "comments_open": source.comments_open,
        "image": source.image,
        "html": rendered.html,
        "excerpt_html": rendered.excerpt_html,
        "toc_html": rendered.toc_html,
        "text": rendered.text,
        "word_count": rendered.word_count,
        "reading_minutes": rendered.reading_minutes,
    }


def _vacate_slugs(candidates: list[PostSource], rows: list[_Row]) -> None:
    """Park the slugs that candidates take from other rows (removed, moving or going away)."""
    wanted = {c.slug: c.uid for c in candidates}
    for row in rows:
        taker = wanted.get(row.slug)
        if taker is not None and taker != row.uid:
            post = db.session.get(Post, row.id)
            if post is not None:
                # `~` never appears in a real slug; a row that comes back gets its own again.
                post.slug = f"~{row.id}"
    db.session.flush()


def _public_path(post: Post) -> str | None:
    """The URL a post had before this sync, if it had a real one."""
    return None if post.slug.startswith("~") else post.path


def _set_aliases(post: Post, aliases: tuple[str, ...], old_path: str | None) -> None:
    """Point declared aliases and a moved post's old URL here; never drop a published path."""
    # Links to an old URL live on in other sites and feeds, so aliases only accumulate; a
    # real post or page at the same path always wins, since aliases are consulted on 404 only.
    wanted = {a.path for a in post.aliases} | set(aliases)
    if old_path:
        wanted.add(old_path)
    wanted.discard(post.path)
    post.aliases = [a for a in post.aliases if a.path in wanted]
    have = {a.path for a in post.aliases}
    for path in sorted(wanted - have):
        existing = db.session.scalar(select(PostAlias).where(PostAlias.path == path))
        if existing is not None:
            existing.post = post
        else:
            post.aliases.append(PostAlias(path=path))
