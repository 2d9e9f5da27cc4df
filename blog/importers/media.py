"""Images of the old site into posts/images/: from a copy of wp-content/uploads, or downloaded.

A download is bounded (size, and time as a whole, not only between bytes) and keeps only what
is an image by its content type and by its name; whatever cannot be had keeps its old URL, and
the import reports it.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import requests

from blog.content.images import IMAGE_SUFFIXES

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
DOWNLOAD_TIMEOUT = 10.0
# WordPress's uploads, and the images of a blog like this one (what `export wordpress` lists).
_UPLOADS = re.compile(r"/(?:wp-content/uploads|media/images)/(.+)$")


@dataclass
class MediaCopier:
    """Finds an old image URL's file and puts it under posts/images/ (once per URL)."""

    posts_dir: Path
    old_hosts: set[str]
    uploads: Path | None = None
    download: bool = False
    dry_run: bool = False
    max_bytes: int = MAX_DOWNLOAD_BYTES
    done: dict[str, str | None] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def relative_path(self, url: str) -> str | None:
        """`2019/06/photo.png` for an uploads URL of the old site; None for anything else."""
        parts = urlsplit(url)
        if parts.netloc and parts.netloc.lower() not in self.old_hosts:
            return None
        match = _UPLOADS.search(unquote(parts.path))
        if match is None:
            return None
        rel = PurePosixPath(match.group(1))
        if ".." in rel.parts or rel.suffix.lower() not in IMAGE_SUFFIXES:
            return None
        return str(rel)

    def local(self, url: str) -> str | None:
        """`images/2019/06/photo.png` once the image is in posts/, or None (old URL kept)."""
        if url in self.done:
            return self.done[url]
        rel = self.relative_path(url)
        found = None if rel is None else self._fetch(url, rel)
        self.done[url] = found
        if rel is not None and found is None:
            self.missing.append(url)
        return found

    def _fetch(self, url: str, rel: str) -> str | None:
        target = self.posts_dir / "images" / rel
        name = f"images/{rel}"
        if target.is_file():
            return name
        if self.uploads is not None:
            source = self.uploads / rel
            if source.is_file():
                if not self.dry_run:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, target)
                return name
        if self.download and _download(url, target, self.dry_run, self.max_bytes):
            return name
        return None


def _download(url: str, target: Path, dry_run: bool, max_bytes: int) -> bool:
    """Fetch one image within the bounds; False for anything else (never raises)."""
    if urlsplit(url).scheme not in ("http", "https"):
        return False
    # A wall-clock bound on one transfer, which no rule of the blog reads: not the app's clock.
    deadline = time.monotonic() + DOWNLOAD_TIMEOUT
    try:
        with requests.get(url, stream=True, timeout=DOWNLOAD_TIMEOUT) as response:
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if response.status_code != 200 or not kind.startswith("image/"):
                return False
            declared = int(response.headers.get("Content-Length") or 0)
            if declared > max_bytes:
                return False
            data = bytearray()
            for chunk in response.iter_content(64 * 1024):
                data.extend(chunk)
                if len(data) > max_bytes or time.monotonic() > deadline:
                    return False
    except (requests.RequestException, ValueError):
        return False
    if not dry_run:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(bytes(data))
        partial.replace(target)
    return True
