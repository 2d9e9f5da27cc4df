"""Reading published posts: every reader page is a query here (site-wide ones kept)."""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import lazyload, load_only

from blog.cache.memo import kept
from blog.extensions import db
from blog.models import (
    OldLink,
    Post,
    PostAlias,
    PostLayout,
    PostStatus,
    Term,
    TermKind,
    post_terms,
)
from blog.models.base import SITE


@dataclass(frozen=True)
class Link:
    """A post or page shown as a link only (navigation, previous/next)."""

    title: str
    path: str


@dataclass(frozen=True)
class TermRef:
    """A category or tag as listed with its count."""

    kind: TermKind
    name: str
    slug: str


# Posts shown only as a link (title and path), or only checked: no eager terms or aliases.
_LINK_ONLY = (lazyload(Post.terms), lazyload(Post.aliases))
# What posting a comment reads of its post (the rendered body and text stay unread). Built
# once: working out the cache key of a statement with these options costs more than the query.
_COMMENT_TARGET = (
    select(Post)
    .options(
        *_LINK_ONLY,
        load_only(
            Post.slug,
            Post.title,
            Post.status,
            Post.layout,
            Post.published_at,
            Post.local_date,
            Post.comments_open,
        ),
    )
    .where(Post.id == bindparam("post_id"))
)


@dataclass(frozen=True)
class Page:
    """One page of a listing."""

    posts: list[Post]
    number: int
    pages: int
    total: int

    @property
    def has_next(self) -> bool:
        """True when an older page exists."""
        return self.number < self.pages

    @property
    def has_prev(self) -> bool:
        """True when a newer page exists."""
        return self.number > 1


def live(now: datetime) -> Select[Post]:
    """Dated posts that readers can see now (not drafts, not removed, not scheduled)."""
    return select(Post).where(
        Post.status == PostStatus.PUBLISHED,
        Post.layout == PostLayout.POST,
        Post.published_at <= now,
    )


def paginate(
    query: Select[Post],
    number: int,
    per_page: int,
    count_key: Hashable | None = None,
    now: datetime | None = None,
) -> Page | None:
    """A page of a query, newest first; None when the page number is past the end.

    With a `count_key` (and `now`), the total is kept until the content changes.
    """

    def count() -> int:
        return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0

    total = count() if count_key is None or now is None else kept(count_key, (SITE,), count, now)
    pages = max(1, math.ceil(total / per_page))
    if number < 1 or number > pages:
        return None
    posts = db.session.scalars(
        query.order_by(Post.published_at.desc(), Post.id.desc())
        .limit(per_page)
        .offset((number - 1) * per_page)
    ).all()
    return Page(list(posts), number, pages, total)


def find_post(slug: str, now: datetime) -> Post | None:
    """A post or page readers can see, by slug."""
    return db.session.scalar(
        select(Post).where(
            Post.slug == slug, Post.status == PostStatus.PUBLISHED, Post.published_at <= now
        )
    )


def visible_path(post_id: int, now: datetime, layout: PostLayout | None = None) -> str | None:
    """The path of the post or page readers can see with this id (of `layout`, if given)."""
    query = (
        select(Post)
        .options(*_LINK_ONLY, load_only(Post.slug, Post.layout, Post.local_date))
        .where(Post.id == post_id, Post.status == PostStatus.PUBLISHED, Post.published_at <= now)
    )
    if layout is not None:
        query = query.where(Post.layout == layout)
    post = db.session.scalar(query)
    return None if post is None else post.path


def _find_article(post_id: int, now: datetime) -> Post | None:
    """A post (not a page) readers can see, by id."""
    post = db.session.execute(_COMMENT_TARGET, {"post_id": post_id}).scalar_one_or_none()
    if (
        post is None
        or post.status is not PostStatus.PUBLISHED
        or post.published_at > now
        or post.layout is not PostLayout.POST
    ):
        return None
    return post


@dataclass(frozen=True)
class Article:
    """What a new comment needs of its post, kept between requests until the content changes."""

    id: int
    slug: str
    path: str
    title: str
    published_at: datetime
    comments_open: bool


def live_article(post_id: int | None, now: datetime) -> Article | None:
    """The post a comment form may name (a live post, not a page), kept until the content
    changes: posting a comment reads no post row."""
    if post_id is None:
        return None

    def build() -> Article | None:
        post = _find_article(post_id, now)
        if post is None:
            return None
        return Article(
            post.id, post.slug, post.path, post.title, post.published_at, post.comments_open
        )

    return kept(("live-article", post_id), (SITE,), build, now)


def unpublished(now: datetime) -> Select[Post]:
    """Posts and pages readers cannot see yet: drafts and scheduled ones (not removed ones)."""
    return select(Post).where(
        or_(
            Post.status == PostStatus.DRAFT,
            and_(Post.status == PostStatus.PUBLISHED, Post.published_at > now),
        )
    )


def find_post_for_preview(slug: str, now: datetime) -> Post | None:
    """A draft or scheduled post or page by slug, for a moderator's preview."""
    return db.session.scalar(unpublished(now).where(Post.slug == slug))


def find_alias(path: str, now: datetime) -> Post | None:
    """The visible post an old URL points to."""
    post = db.session.scalar(
        select(Post).join(PostAlias).where(PostAlias.path.in_({path, path.rstrip("/") + "/"}))
    )
    if post is None or post.status is not PostStatus.PUBLISHED or post.published_at > now:
        return None
    return post


def old_link(path: str, now: datetime) -> str | None:
    """Where an imported site's old address (`/?p=12`, `/topics/news/`) goes now: None when it
    is no old address, "" when it is one of a post readers cannot see (a draft, a private one)."""
    candidates = {path, path.rstrip("/") + "/"} if "?" not in path else {path}
    row = db.session.execute(
        select(OldLink.post_uid, OldLink.target).where(OldLink.path.in_(candidates)).limit(1)
    ).first()
    if row is None:
        return None
    uid, target = row
    if uid is None:
        return target
    post = db.session.scalar(
        select(Post)
        .options(*_LINK_ONLY, load_only(Post.slug, Post.layout, Post.local_date))
        .where(Post.uid == uid, Post.status == PostStatus.PUBLISHED, Post.published_at <= now)
    )
    return "" if post is None else post.path


def in_archive(
    year: int, month: int | None, day: int | None, now: datetime, zone: ZoneInfo
) -> Select[Post]:
    """Live posts from a year, a month of it or a day, by the site's local date."""
    fields = [f"{year:04d}", *(f"{n:02d}" for n in (month, day) if n is not None)]
    # A year or a month is a prefix of the date ("2024-03-"); a day is the whole of it.
    prefix = "-".join(fields) + ("-" if day is None else "")
    query = live(now).where(Post.local_date.startswith(prefix, autoescape=True))
    # The local date decides; a published_at range around it (a day wider on each side, for
    # any zone) lets the database read that period alone instead of every post since then.
    first, after = _period(year, month, day)
    since = None if first is None else _utc_midnight(first, zone, -1)
    until = None if after is None else _utc_midnight(after, zone, 1)
    if since is not None:
        query = query.where(Post.published_at >= since)
    if until is not None:
        query = query.where(Post.published_at < until)
    return query


def _period(year: int, month: int | None, day: int | None) -> tuple[date | None, date | None]:
    """The first local day of a year, month or day, and the first day after it (None: open)."""
    try:
        first = date(year, month or 1, day or 1)
    except ValueError:  # year 0, or no such month or day: no post has that local date
        return None, None
    try:
        if day is not None:
            after = first + timedelta(days=1)
        elif month is None or month == 12:
            after = date(year + 1, 1, 1)
        else:
            after = date(year, month + 1, 1)
    except (ValueError, OverflowError):  # past 9999: that side stays open
        return first, None
    return first, after


def _utc_midnight(day: date, zone: ZoneInfo, widen_days: int) -> datetime | None:
    midnight = datetime.combine(day, time(), tzinfo=zone)
    try:
        return (midnight + timedelta(days=widen_days)).astimezone(UTC)
    except OverflowError:  # the first or the last days there are: that side stays open
        return None


def find_term(kind: TermKind, slug: str) -> Term | None:
    """A category or tag by slug."""
    return db.session.scalar(select(Term).where(Term.kind == kind, Term.slug == slug))


def with_term(term: Term, now: datetime) -> Select[Post]:
    """Live posts with a term; a category also collects its subcategories."""
    match = Term.id == term.id
    if term.kind is TermKind.CATEGORY:
        match = or_(match, and_(Term.kind == term.kind, Term.slug.startswith(term.slug + "/")))
    ids = select(post_terms.c.post_id).join(Term, Term.id == post_terms.c.term_id).where(match)
    return live(now).where(Post.id.in_(ids))


def neighbours(post: Post, now: datetime) -> tuple[Link | None, Link | None]:
    """The previous (older) and next (newer) live posts, as links."""
    return kept(("neighbours", post.id), (SITE,), lambda: _neighbours(post, now), now)


def _neighbours(post: Post, now: datetime) -> tuple[Link | None, Link | None]:
    older = db.session.scalar(
        live(now)
        .where(
            or_(
                Post.published_at < post.published_at,
                and_(Post.published_at == post.published_at, Post.id < post.id),
            )
        )
        .order_by(Post.published_at.desc(), Post.id.desc())
        .limit(1)
        .options(*_LINK_ONLY)
    )
    newer = db.session.scalar(
        live(now)
        .where(
            or_(
                Post.published_at > post.published_at,
                and_(Post.published_at == post.published_at, Post.id > post.id),
            )
        )
        .order_by(Post.published_at.asc(), Post.id.asc())
        .limit(1)
        .options(*_LINK_ONLY)
    )
    return _link(older), _link(newer)


def _link(post: Post | None) -> Link | None:
    return None if post is None else Link(post.title, post.path)


def pages(now: datetime) -> list[Link]:
    """Standalone pages (About...) for the navigation."""

    def build() -> list[Link]:
        found = db.session.scalars(
            select(Post)
            .where(
                Post.status == PostStatus.PUBLISHED,
                Post.layout == PostLayout.PAGE,
                Post.published_at <= now,
            )
            .order_by(Post.title)
            .options(*_LINK_ONLY)
        )
        return [Link(p.title, p.path) for p in found]

    return kept("pages", (SITE,), build, now)


def term_counts(kind: TermKind, now: datetime) -> list[tuple[TermRef, int]]:
    """Terms of a kind with their number of live posts, for sidebars and the sitemap."""

    def build() -> list[tuple[TermRef, int]]:
        live_ids = live(now).with_only_columns(Post.id)
        rows = db.session.execute(
            select(Term.kind, Term.name, Term.slug, func.count(post_terms.c.post_id))
            .join(post_terms, post_terms.c.term_id == Term.id)
            .where(Term.kind == kind, post_terms.c.post_id.in_(live_ids))
            .group_by(Term.id, Term.kind, Term.name, Term.slug)
            .order_by(Term.slug)
        ).all()
        return [(TermRef(k, name, slug), count) for k, name, slug, count in rows]

    return kept(("term_counts", kind), (SITE,), build, now)
