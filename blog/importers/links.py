"""The old site's addresses and where they go now: for links inside posts, and for redirects."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select

from blog.extensions import db
from blog.models import OldLink


def old_path(url: str) -> str:
    """The path of an old URL, decoded, with WordPress's trailing slash."""
    path = unquote(urlsplit(url).path) or "/"
    last = path.rsplit("/", 1)[-1]
    return path if path.endswith("/") or "." in last else path + "/"


@dataclass
class LinkMap:
    """Old URLs of posts, pages and terms, and the new paths they moved to."""

    old_hosts: set[str]
    paths: dict[str, str] = field(default_factory=dict)  # old path -> new path
    by_id: dict[str, str] = field(default_factory=dict)  # WordPress post id -> new path

    def add_post(self, post_id: int, old_url: str, new_path: str) -> None:
        """Remember a post's or page's old permalink and its id."""
        self.by_id[str(post_id)] = new_path
        if old_url and not urlsplit(old_url).query:
            self.paths[old_path(old_url)] = new_path

    def rewrite(self, href: str) -> str:
        """A link within a post: an old permalink or `?p=ID` becomes the new path."""
        parts = urlsplit(href)
        if parts.scheme not in ("", "http", "https"):
            return href
        if parts.netloc and parts.netloc.lower() not in self.old_hosts:
            return href
        if not parts.netloc and not parts.path.startswith("/"):
            return href  # relative to the page: nothing we can place
        query = parse_qs(parts.query)
        for key in ("p", "page_id"):
            if key in query and query[key][0] in self.by_id:
                return self.by_id[query[key][0]] + (f"#{parts.fragment}" if parts.fragment else "")
        found = self.paths.get(old_path(href))
        if found is None:
            return href
        return found + (f"#{parts.fragment}" if parts.fragment else "")


@dataclass(frozen=True)
class Redirect:
    """One old address: to a post (by uid, so it follows the post) or to a fixed path."""

    path: str
    post_uid: str | None = None
    target: str | None = None


def save_redirects(redirects: list[Redirect]) -> tuple[int, int]:
    """Insert or update the old links, in the caller's write transaction: (added, changed)."""
    wanted = {r.path: r for r in redirects}
    existing = {
        row.path: row
        for row in db.session.scalars(select(OldLink).where(OldLink.path.in_(list(wanted))))
    }
    added = changed = 0
    for path, redirect in wanted.items():
        row = existing.get(path)
        if row is None:
            db.session.add(OldLink(path=path, post_uid=redirect.post_uid, target=redirect.target))
            added += 1
        elif (row.post_uid, row.target) != (redirect.post_uid, redirect.target):
            row.post_uid, row.target = redirect.post_uid, redirect.target
            changed += 1
    return added, changed


def count_new(redirects: list[Redirect]) -> int:
    """How many of these old links are not stored yet (for a dry run)."""
    paths = [r.path for r in redirects]
    stored = set(db.session.scalars(select(OldLink.path).where(OldLink.path.in_(paths))))
    return len(set(paths) - stored)
