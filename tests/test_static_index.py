"""The static folder's index when several workers boot at once, as gunicorn starts them."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from blog.page_cache.static import StaticFolder

RACES = 30  # without the switch lock about one race in four failed


def boot_together(base: Path, workers: int = 2) -> list[int]:
    """Fork `workers` processes that open a new index at the same moment; their exit codes."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker: wait for the start, open the folder, report by exit code
            code = 1
            try:
                os.write(ready_w, b".")
                os.read(go_r, 1)
                StaticFolder(base / "pages", base / "state" / "index.sqlite")
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


def test_workers_booting_together_all_open_a_new_index(tmp_path: Path) -> None:
    for race in range(RACES):
        base = tmp_path / f"race-{race}"
        assert boot_together(base) == [0, 0], f"a worker failed to open a new index (race {race})"
        with sqlite3.connect(base / "state" / "index.sqlite") as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        conn.close()
