"""Online backups: SQLite's backup API (safe under WAL and live writers), pg_dump for PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(RuntimeError):
    """A backup or restore that could not be done."""


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _pg_env(url: URL) -> tuple[list[str], dict[str, str]]:
    args = ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def backup(database_url: str, target: Path) -> None:
    """Write a consistent copy of the live database to target."""
    url = make_url(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        dest = sqlite3.connect(target)
        try:
            # Page by page under SQLite's own locking: committed WAL content is included,
            # which a plain file copy of a WAL database would miss.
            source.backup(dest, pages=1024)
        finally:
            dest.close()
            source.close()
        return
    if url.get_backend_name() == "postgresql":
        if shutil.which("pg_dump") is None:
            raise BackupError("pg_dump is not installed")
        args, env = _pg_env(url)
        command = ["pg_dump", *args, "--format=custom", "--file", str(target), url.database or ""]
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        return
    raise BackupError(f"no backup method for {url.get_backend_name()}")


def restore(database_url: str, source: Path) -> None:
    """Replace the database's contents with a backup made by backup()."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        src = sqlite3.connect(source)
        dest = sqlite3.connect(_sqlite_path(url))
        try:
            src.backup(dest)
        finally:
            dest.close()
            src.close()
        return
    if url.get_backend_name() == "postgresql":
        if shutil.which("pg_restore") is None:
            raise BackupError("pg_restore is not installed")
        args, env = _pg_env(url)
        command = [
            "pg_restore", *args, "--clean", "--if-exists", "--no-owner", "--single-transaction",
            "--dbname", url.database or "", str(source),
        ]  # fmt: skip
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
        return
    raise BackupError(f"no restore method for {url.get_backend_name()}")
