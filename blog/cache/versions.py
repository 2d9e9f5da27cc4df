"""Tag versions that every process serving the blog sees: a folder of files, or Redis.

A cached page records the version of each tag it depends on; a write bumps the versions of
the tags it touches, and a page whose recorded versions differ from the current ones is stale.
Besides the per-tag versions there are two sequence numbers. `seq` moves first in every bump:
a page rendered while it moved may have read the database before a commit, so it is not
stored. `done` moves last: while it stays put no tag can have moved, so a page this process
already checked needs one stat per hit, not one per tag.

Without Redis the versions live in a folder under the instance path, one file per tag, and a
bump appends one byte to the file: O_APPEND writes are atomic between processes, so the size
only ever grows and two bumps can never produce the same version (a file's mtime could: the
kernel stamps it with a clock that ticks every few milliseconds). Reading a version is one
os.stat, so checking a cached page costs no query and no network round trip, and every
gunicorn worker on the machine sees another's write at once. The inode number is part of
the version, so a folder deleted by hand cannot bring an old version back. Several machines
need BLOG_REDIS_URL: then the versions are Redis counters (INCR).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis import Redis  # imported by the one caller that makes a client


SEQ = "_seq"
DONE = "_done"
_SAFE_TAG = re.compile(r"^[a-z0-9:_-]+$")


class Versions(Protocol):
    """Where tag versions live."""

    def seq(self) -> int:
        """The write sequence number: it changes whenever any tag is bumped."""
        ...

    def done(self) -> int:
        """The completion number: it changes after the tags of a bump have changed."""
        ...

    def current(self, tags: Sequence[str]) -> tuple[int, ...]:
        """The current version of each tag, in order (0 for a tag never bumped)."""
        ...

    def bump(self, tags: Iterable[str]) -> None:
        """Give these tags new versions: `seq` first, then the tags, then `done`."""
        ...


def check_tag(tag: str) -> str:
    """A tag as used in file names and keys: lowercase letters, digits, `:`, `_`, `-`."""
    if not _SAFE_TAG.match(tag):
        raise ValueError(f"bad cache tag {tag!r}")
    return tag


class FileVersions:
    """Versions as the sizes of append-only files in one folder (one machine, many workers)."""

    def __init__(self, folder: Path) -> None:
        # Created by the first bump: a blog that never writes leaves nothing behind.
        self.folder = folder
        self._seq_path = str(folder / SEQ)
        self._done_path = str(folder / DONE)

    def _path(self, tag: str) -> str:
        return os.path.join(self.folder, check_tag(tag).replace(":", "."))

    @staticmethod
    def _version(path: str) -> int:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return 0
        return (st.st_ino << 40) | st.st_size

    def seq(self) -> int:
        """The write sequence number."""
        return self._version(self._seq_path)

    def done(self) -> int:
        """The completion number."""
        return self._version(self._done_path)

    def current(self, tags: Sequence[str]) -> tuple[int, ...]:
        """The current versions of these tags."""
        return tuple(self._version(self._path(tag)) for tag in tags)

    def bump(self, tags: Iterable[str]) -> None:
        """Append a byte to the sequence file, to each tag's file, then to the completion file."""
        paths = [self._path(tag) for tag in sorted(set(tags))]
        for path in [self._seq_path, *paths, self._done_path]:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except FileNotFoundError:
                self.folder.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, b".")
            finally:
                os.close(fd)


class RedisVersions:
    """Versions as Redis counters, shared by every app server."""

    def __init__(self, client: Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._seq_key = f"{prefix}v:{SEQ}"
        self._done_key = f"{prefix}v:{DONE}"

    def _key(self, tag: str) -> str:
        return f"{self.prefix}v:{check_tag(tag)}"

    def seq(self) -> int:
        """The write sequence number."""
        return int(self.client.get(self._seq_key) or 0)

    def done(self) -> int:
        """The completion number."""
        return int(self.client.get(self._done_key) or 0)

    def current(self, tags: Sequence[str]) -> tuple[int, ...]:
        """The current versions of these tags, in one round trip."""
        if not tags:
            return ()
        values = self.client.mget([self._key(tag) for tag in tags])
        return tuple(int(v or 0) for v in values)

    def bump(self, tags: Iterable[str]) -> None:
        """INCR the sequence numbers and each tag in one transaction."""
        pipe = self.client.pipeline(transaction=True)
        pipe.incr(self._seq_key)
        for tag in sorted(set(tags)):
            pipe.incr(self._key(tag))
        pipe.incr(self._done_key)
        pipe.execute()
