"""Front matter: split, parse and validate a post file into a PostSource."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

KNOWN_FIELDS = frozenset(
    {
        "title",
        "date",
        "id",
        "slug",
        "author",
        "categories",
        "tags",
        "summary",
        "draft",
        "updated",
        "aliases",
        "comments",
        "image",
        "layout",
    }
)
# URL prefixes the site itself serves; `auth`, `admin` and `account` are kept for the comments.
RESERVED_SLUGS = frozenset(
    {"feed", "page", "category", "tag", "media", "static", "auth", "admin", "account"}
)
MAX_LENGTHS = {
    "title": 300,
    "slug": 200,
    "author": 200,
    "image": 500,
    "categories": 200,
    "tags": 200,
    "aliases": 500,
}
_FENCE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_SLUG_OK = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Problem:
    """Something wrong with a post file: which file, which field, what."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


@dataclass(frozen=True)
class PostSource:
    """A validated post file, before rendering."""

    file: str
    uid: str
    slug: str
    title: str
    published_at: datetime
    local_date: date
    updated_at: datetime | None
    author: str | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    summary: str
    draft: bool
    aliases: tuple[str, ...]
    comments_open: bool
    image: str | None
    is_page: bool
    body: str
    content_hash: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class _StringTimestampLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings, so one parser handles every date form."""


_StringTimestampLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_front_matter(text: str) -> Any:
    """The YAML value of a front matter block; raises yaml.YAMLError as PyYAML does."""
    return yaml.load(text, Loader=_StringTimestampLoader)  # noqa: S506 (safe subclass)


def slugify(text: str) -> str:
    """Lowercase ASCII slug: `Hiring Tips, 2024!` -> `hiring-tips-2024`."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def term_slug(name: str) -> str:
    """Slug of a possibly hierarchical term: `Recruiting/Interviews` -> `recruiting/interviews`."""
    return "/".join(s for s in (slugify(part) for part in name.split("/")) if s)


def parse_datetime(value: str, zone: ZoneInfo) -> tuple[datetime, date]:
    """Parse a date with or without time and zone; return (aware datetime, local date)."""
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = date.fromisoformat(text)
        return datetime.combine(day, time(0, 0), zone), day
    parsed = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed, parsed.astimezone(zone).date()


def split_front_matter(text: str) -> tuple[str, str] | None:
    """Return (yaml, body), or None when the file has no front matter block."""
    match = _FENCE.match(text.lstrip("\ufeff"))
    if not match:
        return None
    return match.group(1), text.lstrip("\ufeff")[match.end() :]


def _normalise_alias(path: str) -> str:
    """WordPress paths end in a slash; a file-like path (`/old.html`) keeps its name."""
    last = path.rsplit("/", 1)[-1]
    return path if path.endswith("/") or "." in last else path + "/"


def _check_slug(slug: str, errors: list[str]) -> bool:
    """Add a problem for a malformed slug or one that a site URL already uses."""
    if not _SLUG_OK.match(slug):
        errors.append(f"slug: {slug!r} must be lowercase letters, digits and single hyphens")
    elif slug in RESERVED_SLUGS or slug.isdigit():
        # /feed/, /tag/... and /2019/ are routes: a post there could never be reached at /slug/.
        errors.append(f"slug: {slug!r} is reserved for the site's own URLs; choose another")
    elif len(slug) > MAX_LENGTHS["slug"]:
        errors.append(f"slug: longer than {MAX_LENGTHS['slug']} characters")
    else:
        return True
    return False


def _str_list(name: str, value: Any, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        problems.append(f"{name}: must be a list of names")
        return ()
    return tuple(str(v).strip() for v in value if str(v).strip())


def parse_post_file(path: Path, zone: ZoneInfo) -> tuple[PostSource | None, list[Problem]]:
    """Read and validate one post file; a file with any problem yields no PostSource."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(path.name, "file", f"cannot be read as UTF-8 ({exc})")]
    return parse_post_bytes(path.name, raw, zone)


def parse_post_bytes(
    name: str, raw: bytes, zone: ZoneInfo
) -> tuple[PostSource | None, list[Problem]]:
    """Validate a post file's bytes, already read; see parse_post_file."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(name, "file", f"cannot be read as UTF-8 ({exc})")]
    return parse_post_text(name, text, zone)


def parse_post_text(
    name: str, text: str, zone: ZoneInfo
) -> tuple[PostSource | None, list[Problem]]:
    """Validate a post's text; see parse_post_file."""
    split = split_front_matter(text)
    if split is None:
        return None, [Problem(name, "front matter", "missing: the file must start with ---")]
    try:
        meta = load_front_matter(split[0])
    except yaml.YAMLError as exc:
        return None, [Problem(name, "front matter", _yaml_error(exc))]
    if not isinstance(meta, dict):
        return None, [Problem(name, "front matter", "must be a mapping of field: value")]
    return _validate(name, meta, split[1], zone)


def _yaml_error(exc: yaml.YAMLError) -> str:
    """One line: where in the file (counting the opening ---) and what the parser expected."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 2}, column {mark.column + 1}" if mark else ""
    what = getattr(exc, "problem", None) or str(exc)
    return f"broken YAML{where}: {' '.join(str(what).split())}"


def _validate(
    name: str, meta: dict[Any, Any], body: str, zone: ZoneInfo
) -> tuple[PostSource | None, list[Problem]]:
    errors: list[str] = []
    for key in meta:
        if key not in KNOWN_FIELDS:
            errors.append(f"{key}: unknown field (known: {', '.join(sorted(KNOWN_FIELDS))})")

    title = meta.get("title")
    if not isinstance(title, str | int) or not str(title).strip():
        errors.append("title: required and must be text")

    published_at: datetime | None = None
    local_day: date | None = None
    raw_date = meta.get("date")
    if raw_date is None or str(raw_date).strip() == "":
        errors.append("date: required")
    else:
        try:
            published_at, local_day = parse_datetime(str(raw_date), zone)
        except ValueError:
            errors.append(f"date: cannot parse {raw_date!r} (use YYYY-MM-DD or YYYY-MM-DD HH:MM)")

    updated_at: datetime | None = None
    if meta.get("updated") not in (None, ""):
        try:
            updated_at = parse_datetime(str(meta["updated"]), zone)[0]
        except ValueError:
            errors.append(f"updated: cannot parse {meta['updated']!r}")

    stem = Path(name).stem
    stem = re.sub(r"^\d{4}-\d{2}-\d{2}-", "", stem)
    slug = str(meta.get("slug") or slugify(stem))
    slug_ok = _check_slug(slug, errors)

    uid = str(meta.get("id") or slug).strip()
    # An id taken from a bad slug is the same mistake: report it once, under slug.
    if (slug_ok or meta.get("id")) and not re.fullmatch(r"[A-Za-z0-9._-]{1,100}", uid):
        errors.append(f"id: {uid!r} must be 1-100 letters, digits, dots, hyphens or underscores")

    layout = meta.get("layout", "post")
    if layout not in ("post", "page"):
        errors.append(f"layout: {layout!r} must be post or page")

    comments = meta.get("comments", "open")
    if comments is True:
        comments = "open"
    if comments is False:
        comments = "closed"
    if comments not in ("open", "closed"):
        errors.append(f"comments: {comments!r} must be open or closed")

    draft = meta.get("draft", False)
    if not isinstance(draft, bool):
        errors.append("draft: must be true or false")

    for key in ("author", "summary", "image"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            errors.append(f"{key}: must be text")
    # The database columns are bounded; PostgreSQL refuses longer values, failing the sync.
    for key in ("title", "author", "image"):
        limit = MAX_LENGTHS[key]
        if isinstance(meta.get(key), str | int) and len(str(meta[key]).strip()) > limit:
            errors.append(f"{key}: longer than {limit} characters")

    categories = _str_list("categories", meta.get("categories"), errors)
    tags = _str_list("tags", meta.get("tags"), errors)
    aliases = _str_list("aliases", meta.get("aliases"), errors)
    for key, names in (("categories", categories), ("tags", tags), ("aliases", aliases)):
        limit = MAX_LENGTHS[key]
        errors.extend(
            f"{key}: {n[:40]!r}... is longer than {limit}" for n in names if len(n) > limit
        )
    for alias in aliases:
        if not alias.startswith("/") or "//" in alias or ".." in alias:
            errors.append(f"aliases: {alias!r} must be a site path starting with /")

    if errors or published_at is None or local_day is None:
        return None, [Problem(name, *e.split(": ", 1)) for e in errors]
    return (
        PostSource(
            file=name,
            uid=uid,
            slug=slug,
            title=str(title).strip(),
            published_at=published_at,
            local_date=local_day,
            updated_at=updated_at,
            author=meta.get("author"),
            categories=categories,
            tags=tags,
            summary=(meta.get("summary") or "").strip(),
            draft=bool(draft),
            aliases=tuple(_normalise_alias(a) for a in aliases),
            comments_open=comments == "open",
            image=meta.get("image"),
            is_page=layout == "page",
            body=body,
        ),
        [],
    )
