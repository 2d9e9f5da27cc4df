"""SQLite files that several workers open at once, as gunicorn starts them, switch to WAL."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

from blog.database import configure_engine

RACES = 30  # without the switch lock about one race in twenty failed


def boot_together(open_files: Callable[[], object], workers: int = 2) -> list[int]:
    """Fork `workers` processes that call `open_files` at the same moment; their exit codes."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker: wait for the start, open the files, report by exit code
            code = 1
            try:
                os.write(ready_w, b".")
                os.read(go_r, 1)
                open_files()
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    for _ in range(workers):
        os.read(ready_r, 1)
    os.write(go_w, b"." * workers)  # every worker starts now
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
    for fd in (ready_r, ready_w, go_r, go_w):
        os.close(fd)
    return codes


def journal_mode(path: Path) -> str:
    """The journal mode the file is in."""
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        conn.close()


def test_workers_booting_together_all_connect_to_a_new_database(tmp_path: Path) -> None:
    def connect(path: Path) -> None:
        engine = create_engine(f"sqlite:///{path}")
        configure_engine(engine, busy_timeout_ms=5000)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()

    for race in range(RACES):
        path = tmp_path / f"race-{race}.db"
        codes = boot_together(lambda: connect(path))  # noqa: B023
        assert codes == [0, 0], f"a worker failed to connect to a new database (race {race})"
        assert journal_mode(path) == "wal"
