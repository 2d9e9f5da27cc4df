"""Post files written by an import: front matter the parser accepts, written only when needed.

An import finds its earlier file by the source's id, rewrites it when the export changed, and
leaves it alone when someone edited it here since (the text no longer matches what it wrote).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select

from blog.content.frontmatter import RESERVED_SLUGS, parse_post_text, slugify
from blog.extensions import db
from blog.models import ImportedFile


def text_hash(text: str) -> str:
    """The hash an import records of the text it wrote."""
    return hashlib.sha256(text.encode()).hexdigest()


def post_text(fields: dict[str, Any], body: str, remark: str | None = None) -> str:
    """A post file: YAML front matter (in the given order), then the Markdown body."""
    front = yaml.safe_dump(
        fields, allow_unicode=True, sort_keys=False, default_flow_style=False, width=1000
    )
    head = f"# {remark}\n" if remark else ""
    return f"---\n{head}{front}---\n\n{body.strip()}\n"


def usable_slug(wanted: str, fallback: str) -> str:
    """A slug our URLs accept: WordPress's when it is one, else made from it, else the fallback."""
    slug = slugify(wanted) or fallback
    if slug in RESERVED_SLUGS or slug.isdigit():
        slug = f"{slug}-{fallback}"
    return slug[:200].strip("-")


@dataclass(frozen=True)
class Outcome:
    """What writing one file did: added, updated, unchanged, or kept (edited here)."""

    file: str
    status: str
    problems: tuple[str, ...] = ()


def _uid(text: str) -> str:
    """The `id` a post text written by post_text carries."""
    for line in text.splitlines():
        if line.startswith("id: "):
            return line[4:]
    return ""


class FileWriter:
    """Writes the posts of one source into posts/, remembering what it wrote."""

    def __init__(self, posts_dir: Path, source: str, zone: ZoneInfo, dry_run: bool) -> None:
        self.posts_dir = posts_dir
        self.source = source
        self.zone = zone
        self.dry_run = dry_run
        self.records = {
            r.source_id: r
            for r in db.session.scalars(select(ImportedFile).where(ImportedFile.source == source))
        }
        self.taken = {p.name for p in posts_dir.glob("*.md")} if posts_dir.is_dir() else set()

    def write(self, source_id: str, wanted_name: str, text: str) -> Outcome:
        """Write one post's file (or say what would happen); the session records it.

        A dry run checks the text as the sync would; a real run leaves that to the sync.
        """
        problems: tuple[str, ...] = ()
        if self.dry_run:
            problems = tuple(str(p) for p in parse_post_text(wanted_name, text, self.zone)[1])
        record = self.records.get(source_id)
        uid = f"\nid: {_uid(text)}\n"
        wanted = self.posts_dir / wanted_name
        if record is None and wanted.is_file() and uid in wanted.read_text(encoding="utf-8"):
            # Written by an import whose record was lost (it stopped before committing).
            name = wanted_name
            ours = True
        else:
            name = record.file if record is not None else self._free_name(wanted_name, source_id)
            ours = record is not None
        path = self.posts_dir / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            status = "unchanged"
        elif current is not None and (
            not ours or (record is not None and text_hash(current) != record.written_hash)
        ):
            return Outcome(name, "kept", problems)
        else:
            status = "updated" if current is not None else "added"
            if not self.dry_run:
                self._save(path, text)
        if not self.dry_run:
            self._record(record, source_id, name, text)
        return Outcome(name, status, problems)

    def _free_name(self, wanted: str, source_id: str) -> str:
        name = wanted
        if name in self.taken:
            name = f"{Path(wanted).stem}-{source_id}.md"
        self.taken.add(name)
        return name

    def _save(self, path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.importing")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)

    def _record(self, record: ImportedFile | None, source_id: str, name: str, text: str) -> None:
        digest = text_hash(text)
        if record is None:
            record = ImportedFile(
                source=self.source, source_id=source_id, file=name, written_hash=digest
            )
            db.session.add(record)
            self.records[source_id] = record
        elif record.written_hash != digest or record.file != name:
            record.written_hash, record.file = digest, name
