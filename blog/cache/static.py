"""The static folder: each cached anonymous page also written as a file nginx can serve.

`/2019/06/10/slug/` becomes `<dir>/2019/06/10/slug/index.html`; a feed at `/feed/` becomes
`index.rss` (`index.atom` for Atom), and `/sitemap.xml` or `/robots.txt` keep their name, so
nginx picks the Content-Type from the extension. Files are written to a temporary name and
renamed, so nginx never serves half a page.

nginx cannot ask whether a file is still fresh, so a file must be gone the moment its page is
stale. An index (a small SQLite file in the state folder, shared by every worker) maps tags to
the paths written under them and records each path's expiry: the process that commits a write
deletes exactly the files of the tags it bumped, whichever process wrote them, and a sweeper
deletes files whose expiry has passed (a scheduled post going live, comments closing). Writing
a file and deleting files both hold the index's write lock, so a file is never left on disk
without its index rows.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from blog.database import use_wal

log = logging.getLogger(__name__)

# Content types written under `<path>/index.<ext>`; nginx maps the extensions back.
INDEX_EXTENSIONS = {
    "text/html": "html",
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
}
# A path without a trailing slash is written only where its own extension names its type.
NAMED_TYPES = {".xml": "application/xml", ".txt": "text/plain"}
OUR_FILES = tuple(f"index.{ext}" for ext in INDEX_EXTENSIONS.values())
TEMP_PREFIX = ".pc-"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, expires REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS tags (tag TEXT NOT NULL, path TEXT NOT NULL,"
    " PRIMARY KEY (tag, path)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS tags_path ON tags (path)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS files_expires ON files (expires)",
)


def file_for(root: Path, path: str, content_type: str) -> Path | None:
    """Where a page at this URL path is written, or None when it cannot be served as a file."""
    mime = content_type.split(";", 1)[0].strip().lower()
    segments = path.split("/")
    if segments[0] != "" or len(path) > 1000:
        return None
    inner = segments[1:-1]
    name = segments[-1]
    for segment in [*inner, name] if name else inner:
        # No empty, dot or hidden segments (our temporary files start with a dot).
        if not segment or segment.startswith(".") or "\\" in segment:
            return None
        if any(ord(c) < 32 or ord(c) == 127 for c in segment):
            return None
    if not name:
        ext = INDEX_EXTENSIONS.get(mime)
        return root.joinpath(*inner, f"index.{ext}") if ext else None
    if NAMED_TYPES.get(os.path.splitext(name)[1]) != mime:
        return None
    return root.joinpath(*inner, name)


class StaticFolder:
    """Files for nginx under `root`, indexed by tag and expiry in `index_path`."""

    def __init__(self, root: Path, index_path: Path) -> None:
        self.root = root
        self.index_path = index_path
        root.mkdir(parents=True, exist_ok=True)
        index_path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._write() as conn:
            for statement in SCHEMA:
                conn.execute(statement)

    def _conn(self) -> sqlite3.Connection:
        # One connection per thread and per process: a connection must not cross a fork.
        held: tuple[int, sqlite3.Connection] | None = getattr(self._local, "conn", None)
        if held is not None and held[0] == os.getpid():
            return held[1]
        conn = sqlite3.connect(self.index_path, timeout=10, isolation_level=None)
        use_wal(conn, str(self.index_path))
        conn.execute("PRAGMA synchronous = NORMAL")
        self._local.conn = (os.getpid(), conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def ensure_settings(self, fingerprint: str) -> None:
        """Empty the folder when it was written under other settings or code."""
        with self._write() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'settings'").fetchone()
            if row is not None and row[0] == fingerprint:
                return
            self._purge(conn)
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('settings', ?)", (fingerprint,)
            )

    def write(
        self,
        path: str,
        body: bytes,
        content_type: str,
        tags: Iterable[str],
        expires: float,
        mtime: int | None,
    ) -> bool:
        """Write a page's file and index it; False when the page cannot be a file."""
        target = file_for(self.root, path, content_type)
        if target is None:
            return False
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO files (path, expires) VALUES (?, ?)", (path, expires)
            )
            conn.executemany(
                "INSERT OR IGNORE INTO tags (tag, path) VALUES (?, ?)",
                [(tag, path) for tag in tags],
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.parent / f"{TEMP_PREFIX}{secrets.token_hex(6)}.tmp"
            try:
                with open(temp, "wb") as out:
                    out.write(body)
                os.chmod(temp, 0o644)
                if mtime is not None:
                    # nginx sends the file's mtime as Last-Modified: keep the app's.
                    os.utime(temp, (mtime, mtime))
                os.replace(temp, target)
            except OSError:
                temp.unlink(missing_ok=True)
                raise
        return True

    def remove(self, paths: Iterable[str]) -> int:
        """Delete these pages' files and index rows."""
        with self._write() as conn:
            return self._remove(conn, sorted(set(paths)))

    def invalidate(self, tags: Iterable[str], everything: bool = False) -> int:
        """Delete the files of every page indexed under these tags (all of them if everything)."""
        wanted = sorted(set(tags))
        with self._write() as conn:
            if everything:
                rows = conn.execute("SELECT path FROM files").fetchall()
            else:
                marks = ",".join("?" * len(wanted))
                rows = conn.execute(
                    f"SELECT DISTINCT path FROM tags WHERE tag IN ({marks})",  # noqa: S608
                    wanted,
                ).fetchall()
            return self._remove(conn, [r[0] for r in rows])

    def sweep(self, now: float) -> int:
        """Delete the files whose pages have expired."""
        with self._write() as conn:
            rows = conn.execute("SELECT path FROM files WHERE expires <= ?", (now,)).fetchall()
            return self._remove(conn, [r[0] for r in rows])

    def next_expiry(self) -> float | None:
        """When the next file expires."""
        row = self._conn().execute("SELECT min(expires) FROM files").fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def purge(self) -> int:
        """Delete every file this blog wrote, indexed or not."""
        with self._write() as conn:
            return self._purge(conn)

    def _remove(self, conn: sqlite3.Connection, paths: list[str]) -> int:
        removed = 0
        for path in paths:
            for target in self._candidates(path):
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
                    removed += 1
            conn.execute("DELETE FROM tags WHERE path = ?", (path,))
            conn.execute("DELETE FROM files WHERE path = ?", (path,))
        return removed

    def _candidates(self, path: str) -> list[Path]:
        """Every file a page at this path may have been written as."""
        found = []
        for content_type in [*INDEX_EXTENSIONS, *NAMED_TYPES.values()]:
            target = file_for(self.root, path, content_type)
            if target is not None:
                found.append(target)
        return found

    def _purge(self, conn: sqlite3.Connection) -> int:
        indexed = [r[0] for r in conn.execute("SELECT path FROM files").fetchall()]
        removed = self._remove(conn, indexed)
        conn.execute("DELETE FROM tags")
        # Then whatever a crash or an older index left behind.
        for folder, dirs, files in os.walk(self.root, topdown=False):
            for name in files:
                ours = name in OUR_FILES or name.startswith(TEMP_PREFIX)
                top_named = folder == str(self.root) and os.path.splitext(name)[1] in NAMED_TYPES
                if ours or top_named:
                    os.unlink(os.path.join(folder, name))
                    removed += 1
            for name in dirs:
                with contextlib.suppress(OSError):
                    os.rmdir(os.path.join(folder, name))  # only when empty
        return removed
