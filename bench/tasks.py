"""Work the benchmark times in a fresh interpreter: `python -m bench.tasks cold-sync|warm-start`.

Settings come from BLOG_* variables; each task prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

STARTED = time.perf_counter()


def cold_sync() -> dict[str, Any]:
    """Migrate an empty database to head, then time one full sync of posts/."""
    from flask_migrate import upgrade

    from blog import create_app
    from blog.extensions import db
    from blog.publishing_hooks import run_sync

    app = create_app({"SYNC_ON_START": False, "SYNC_ON_REQUEST": False})
    with app.app_context():
        began = time.perf_counter()
        upgrade()
        migrated = time.perf_counter()
        report = run_sync()
        synced = time.perf_counter()
        db.engine.dispose()
    return {
        "migrate_s": migrated - began,
        "sync_s": synced - migrated,
        "added": len(report.added),
        "updated": len(report.updated),
        "problems": [str(p) for p in report.problems],
    }


def warm_start() -> dict[str, Any]:
    """Import the blog and create the app with SYNC_ON_START on (it re-hashes every file)."""
    imported = time.perf_counter()
    from blog import create_app

    created = time.perf_counter()
    create_app({"SYNC_ON_START": True, "SYNC_ON_REQUEST": False})
    done = time.perf_counter()
    return {
        "interpreter_to_task_s": imported - STARTED,
        "import_s": created - imported,
        "create_app_s": done - created,
    }


TASKS = {"cold-sync": cold_sync, "warm-start": warm_start}


def main(argv: list[str]) -> int:
    """Run the task named in argv and print its JSON result."""
    if len(argv) != 1 or argv[0] not in TASKS:
        print(f"usage: python -m bench.tasks {{{'|'.join(TASKS)}}}", file=sys.stderr)
        return 2
    print(json.dumps(TASKS[argv[0]]()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
