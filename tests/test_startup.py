"""A worker's start: libraries that only some requests need are imported by those requests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Alembic (migrations), Authlib and its JOSE and HTTP stacks (logins), feedgen (feeds): together
# about a quarter of a second of imports that a worker serving pages never needs.
LATE = ("alembic", "flask_migrate", "authlib", "joserfc", "requests", "requests_hardened",
        "feedgen")  # fmt: skip
SCRIPT = """
import sys
from blog import create_app
app = create_app({"SYNC_ON_START": True})
client = app.test_client()
for path in sys.argv[1:]:
    assert client.get(path).status_code == 200, path
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def imported_after(database_url: str, posts_dir: Path, *paths: str) -> set[str]:
    """The top-level packages a fresh interpreter holds after serving these paths."""
    env = {**os.environ, "BLOG_DATABASE_URL": database_url, "BLOG_POSTS_DIR": str(posts_dir)}
    env |= {"BLOG_GOOGLE_CLIENT_ID": "id", "BLOG_GOOGLE_CLIENT_SECRET": "secret"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *paths], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


@pytest.mark.sqlite_only  # what a start imports does not depend on the database
def test_serving_pages_imports_none_of_the_late_libraries(
    database_url: str, essay: Path, posts_dir: Path
) -> None:
    found = imported_after(database_url, posts_dir, "/", "/2019/06/10/making-true-connections/")
    assert "sqlalchemy" in found  # the probe sees what the app imported
    assert found & set(LATE) == set()


@pytest.mark.sqlite_only  # what a start imports does not depend on the database
def test_a_feed_request_imports_feedgen(database_url: str, essay: Path, posts_dir: Path) -> None:
    assert "feedgen" in imported_after(database_url, posts_dir, "/feed/")
