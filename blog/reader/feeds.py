"""RSS 2.0 and Atom feeds, the sitemap, robots.txt and the site icon."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from sqlalchemy import Select, select

from blog.cache.http import public_page
from blog.clock import utcnow
from blog.content.authors import AuthorsError, load_authors
from blog.content.comment_markup import xml_text
from blog.extensions import db
from blog.models import Post, PostStatus, Term, TermKind
from blog.reader import posts
from blog.web.templating import absolute_url

if TYPE_CHECKING:
    from feedgen.feed import FeedGenerator

bp = Blueprint("feeds", __name__)


def _feed(self_url: str, term: Term | None = None) -> FeedGenerator:
    cfg = current_app.config
    now = utcnow()
    listed = posts.live(now) if term is None else posts.with_term(term, now)
    page = "/" if term is None else url_for(f"reader.{term.kind.value}", slug=term.slug)
    # As WordPress titles a term's feed: the term's page title.
    title = cfg["SITE_TITLE"] if term is None else f"{term.name} \u2013 {cfg['SITE_TITLE']}"
    return _listing_feed(self_url, listed, title, page)


def _listing_feed(self_url: str, listed: Select[Post], title: str, page: str) -> FeedGenerator:
    # Imported by the first feed request: feedgen (and lxml) are no part of a worker's start.
    from feedgen.feed import FeedGenerator

    cfg = current_app.config
    now = utcnow()
    recent = db.session.scalars(
        listed.order_by(Post.published_at.desc(), Post.id.desc()).limit(cfg["FEED_ITEMS"])
    ).all()
    fg = FeedGenerator()
    # RSS's own <author> must be an email address: the byline's name goes in <dc:creator>.
    fg.load_extension("dc", atom=False, rss=True)
    fg.id(absolute_url(page))
    fg.title(title)
    fg.subtitle(cfg["SITE_TAGLINE"] or cfg["SITE_TITLE"])
    # The configured author's display name (authors.yml), as in each post's byline.
    fg.author({"name": xml_text(site_author_name())})
    # feedgen uses the last link as RSS's channel <link>, which must be the page, not the feed.
    fg.link(href=self_url, rel="self")
    fg.link(href=absolute_url(page), rel="alternate")
    fg.language(cfg["SITE_LANGUAGE"])
    fg.updated(max((p.updated_at or p.published_at for p in recent), default=now))
    for post in reversed(recent):  # feedgen prepends entries
        entry = fg.add_entry()
        url = absolute_url(post.path)
        entry.id(url)
        entry.guid(url, permalink=True)
        # A post's Markdown may hold characters an HTML page shows but XML cannot carry.
        entry.title(xml_text(post.title))
        entry.link(href=url)
        entry.author({"name": xml_text(post.author)})
        entry.dc.dc_creator(xml_text(post.author))
        entry.published(post.published_at)
        entry.updated(post.updated_at or post.published_at)
        # Atom allows only text/html/xhtml here; feedgen's "CDATA" would be written as the type.
        entry.summary(xml_text(post.excerpt_html), type="html")
        entry.content(xml_text(post.html), type="html")
        for term in post.terms:
            entry.category(term=xml_text(term.name))
    return fg


def site_author_name() -> str:
    """BLOG_SITE_AUTHOR's display name: its authors.yml entry's, else as configured."""
    name = str(current_app.config["SITE_AUTHOR"])
    try:
        return load_authors(current_app.config["POSTS_DIR"]).find(name).name
    except AuthorsError:
        return name


def listing_rss(listed: Select[Post], title: str, page: str) -> Response:
    """RSS 2.0 of any listing's newest posts (an author's); 404 when it has none."""
    fg = _listing_feed(absolute_url(request.path), listed, title, page)
    if not fg.entry():
        abort(404)
    return Response(fg.rss_str(pretty=True), mimetype="application/rss+xml")


@bp.get("/feed/")
@public_page
def rss() -> Response:
    """RSS 2.0 with full content."""
    fg = _feed(absolute_url(url_for("feeds.rss")))
    return Response(fg.rss_str(pretty=True), mimetype="application/rss+xml")


def term_rss(term: Term) -> Response:
    """RSS 2.0 of a category's or a tag's newest posts (a category's children's too)."""
    fg = _feed(absolute_url(request.path), term)
    if not fg.entry():  # as its page: a 200 would reveal a scheduled post's tags
        abort(404)
    return Response(fg.rss_str(pretty=True), mimetype="application/rss+xml")


@bp.get("/feed/atom/")
@public_page
def atom() -> Response:
    """Atom 1.0 with full content."""
    fg = _feed(absolute_url(url_for("feeds.atom")))
    return Response(fg.atom_str(pretty=True), mimetype="application/atom+xml")


@bp.get("/sitemap.xml")
@public_page
def sitemap() -> Response:
    """Every public URL: posts, pages, categories and tags."""
    now = utcnow()
    visible = db.session.scalars(
        select(Post)
        .where(Post.status == PostStatus.PUBLISHED, Post.published_at <= now)
        .order_by(Post.published_at.desc())
    ).all()
    term_paths: set[str] = set()
    for kind in TermKind:
        for term, _count in posts.term_counts(kind, now):
            parts = term.slug.split("/")
            # A parent category's page lists its children's posts, so it is a page too.
            depths = range(1, len(parts) + 1) if kind is TermKind.CATEGORY else [len(parts)]
            term_paths.update(f"/{kind.value}/{'/'.join(parts[:d])}/" for d in depths)
    xml = render_template("sitemap.xml", posts=visible, term_paths=sorted(term_paths), now=now)
    return Response(xml, mimetype="application/xml")


@bp.get("/robots.txt")
@public_page
def robots() -> Response:
    """Crawlers welcome, except for the private parts; points to the sitemap."""
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /auth/",
        "Disallow: /account/",
        "Disallow: /*?s=",
        f"Sitemap: {absolute_url('/sitemap.xml')}",
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


@bp.get("/favicon.ico")
def favicon() -> Response:
    """The site icon where browsers and feed readers look for it unasked (else a 404 each)."""
    return current_app.send_static_file("img/favicon.ico")
