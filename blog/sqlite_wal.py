"""Switching an SQLite file to WAL while other processes may be opening it too.

Workers booting together all find a new file (a fresh static-folder index, a database just
restored) in rollback-journal mode. The switch needs SQLite's exclusive lock, and SQLite
refuses the second process at once, without waiting out its busy timeout ("database is
locked"): that worker failed to boot, and gunicorn shut the server down. Behind an flock on a
file beside the database the first process switches, and the others find WAL already.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3


def use_wal(conn: sqlite3.Connection, path: str | None) -> None:
    """Put the database at `path`, open on `conn`, in WAL mode, one process at a time."""
    if not path or path == ":memory:" or path.startswith("file:"):
        conn.execute("PRAGMA journal_mode = WAL")  # nothing on disk to share (or a URI)
        return
    fd = os.open(f"{path}.wal-switch.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        os.close(fd)  # closing releases the lock
