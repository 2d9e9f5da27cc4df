"""Authors, configured in `authors.yml` beside the posts: display name, short bio and avatar.

```yaml
jane:                      # the slug: /author/jane/, and what a post's `author:` may name
  name: Jane Doe           # shown in bylines, feeds and JSON-LD
  bio: Recruiter since 2009.
  avatar: images/jane.jpg  # beside the posts, or an absolute /path
```

A post's `author` names an author by slug or by display name; one not listed is shown as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from blog.content.frontmatter import slugify

AUTHORS_FILE = "authors.yml"
AUTHOR_FIELDS = frozenset({"name", "bio", "avatar"})
MAX_LENGTHS = {"name": 200, "bio": 600, "avatar": 500}


class AuthorsError(ValueError):
    """authors.yml cannot be read: the message says which entry and field."""


@dataclass(frozen=True)
class Author:
    """One author as shown: slug, display name, bio and avatar path (or empty)."""

    slug: str
    name: str
    bio: str = ""
    avatar: str = ""


@dataclass(frozen=True)
class Authors:
    """Every configured author, found by slug or by display name."""

    by_slug: dict[str, Author]

    def find(self, key: str) -> Author:
        """The author a post's `author` value names; an unlisted one as written."""
        author = self.by_slug.get(key) or self.by_slug.get(slugify(key))
        if author is not None and (key == author.slug or key == author.name):
            return author
        for candidate in self.by_slug.values():
            if candidate.name == key:
                return candidate
        return Author(slug=slugify(key) or "author", name=key)


def parse_authors(raw: bytes) -> Authors:
    """Authors from the bytes of authors.yml; AuthorsError names what is wrong."""
    try:
        data = yaml.safe_load(raw.decode("utf-8")) or {}
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AuthorsError(f"{AUTHORS_FILE}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise AuthorsError(f"{AUTHORS_FILE}: expected a mapping of slug to author")
    found: dict[str, Author] = {}
    for key, entry in data.items():
        slug = slugify(str(key))
        if not slug or slug != str(key):
            raise AuthorsError(f"{AUTHORS_FILE}: {key!r} is not a slug (lowercase, digits, -)")
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise AuthorsError(f"{AUTHORS_FILE}: {slug}: needs at least a `name`")
        unknown = set(entry) - AUTHOR_FIELDS
        if unknown:
            raise AuthorsError(f"{AUTHORS_FILE}: {slug}: unknown field {sorted(unknown)[0]!r}")
        values: dict[str, str] = {}
        for field_name in AUTHOR_FIELDS:
            value = entry.get(field_name, "")
            if not isinstance(value, str):
                raise AuthorsError(f"{AUTHORS_FILE}: {slug}: {field_name} must be text")
            if len(value) > MAX_LENGTHS[field_name]:
                raise AuthorsError(f"{AUTHORS_FILE}: {slug}: {field_name} is too long")
            values[field_name] = value.strip()
        if not values["name"]:
            raise AuthorsError(f"{AUTHORS_FILE}: {slug}: `name` is empty")
        found[slug] = Author(slug=slug, **values)
    return Authors(found)


def authors_bytes(posts_dir: Path) -> bytes:
    """The raw authors.yml, or nothing when there is none (a post's hash includes it)."""
    try:
        return (posts_dir / AUTHORS_FILE).read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return b""


@lru_cache(maxsize=8)
def _parsed(raw: bytes) -> Authors:
    return parse_authors(raw)


def load_authors(posts_dir: Path) -> Authors:
    """The configured authors; none when authors.yml is missing (AuthorsError when broken)."""
    return _parsed(authors_bytes(posts_dir))
