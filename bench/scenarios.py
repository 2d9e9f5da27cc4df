"""Scenarios: each takes the Bench for one corpus size and records what it measured.

Add a scenario by writing `def my_scenario(bench: Bench) -> None` and listing it in SCENARIOS;
`bench.measure_page(...)` serves a page from gunicorn and from the constant floor under wrk.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.corpus import ESSAY_PATH, write_corpus
from bench.procs import BenchError, Gunicorn, WrkResult, clean_env, fetch, run_wrk
from blog.config import PROJECT_ROOT

TASK_TIMEOUT_S = 900


@dataclass(frozen=True)
class Options:
    """How the benchmark runs."""

    posts: tuple[int, ...]
    duration_s: int
    warmup_s: int
    smoke: bool


@dataclass
class PageResult:
    """One page under wrk, next to the same bytes served by the floor app."""

    page: str
    path: str
    size_bytes: int
    blog: WrkResult
    floor: WrkResult

    @property
    def ratio(self) -> float:
        """The blog's req/s as a fraction of the floor's."""
        return self.blog.requests_per_s / self.floor.requests_per_s

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view, ratio included."""
        return {
            "page": self.page,
            "path": self.path,
            "size_bytes": self.size_bytes,
            "blog": self.blog.__dict__,
            "floor": self.floor.__dict__,
            "ratio": self.ratio,
        }


@dataclass
class SizeResult:
    """Everything measured for one number of posts."""

    posts: int
    words: int = 0
    cold_sync_s: float | None = None
    warm_start_s: float | None = None
    pages: list[PageResult] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "posts": self.posts,
            "words": self.words,
            "cold_sync_s": self.cold_sync_s,
            "warm_start_s": self.warm_start_s,
            "pages": [p.as_dict() for p in self.pages],
            "details": self.details,
        }


class Bench:
    """One corpus size: its temporary posts/, database, settings and servers."""

    def __init__(self, posts: int, options: Options, workdir: Path, stack: ExitStack) -> None:
        self.options = options
        self.workdir = workdir
        self.stack = stack
        self.posts_dir = workdir / "posts"
        self.db_path = workdir / "blog.db"
        self.result = SizeResult(posts=posts)
        self.secret = secrets.token_hex(16)
        self._server: Gunicorn | None = None

    def env(self, **extra: str) -> dict[str, str]:
        """The blog's environment for this corpus (production settings, no sync on start)."""
        return clean_env(
            {
                "BLOG_ENV": "production",
                "BLOG_SECRET_KEY": self.secret,
                "BLOG_DATABASE_URL": f"sqlite:///{self.db_path}",
                "BLOG_POSTS_DIR": str(self.posts_dir),
                "BLOG_SYNC_ON_START": "0",
                "BLOG_SYNC_ON_REQUEST": "0",
                **extra,
            }
        )

    def task(self, name: str, **env: str) -> tuple[dict[str, Any], float]:
        """Run `python -m bench.tasks <name>` in a fresh interpreter; return (its JSON, wall s)."""
        began = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "bench.tasks", name],
            cwd=PROJECT_ROOT,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=TASK_TIMEOUT_S,
            check=False,
        )
        wall = time.perf_counter() - began
        if done.returncode != 0:
            raise BenchError(f"bench task {name} failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1]), wall

    def db_state(self) -> tuple[int, str | None]:
        """(posts, latest synced_at): unchanged when a sync changed nothing."""
        with sqlite3.connect(self.db_path) as conn:
            row = conn.execute("SELECT count(*), max(synced_at) FROM posts").fetchone()
        conn.close()
        return int(row[0]), row[1]

    def blog_server(self) -> Gunicorn:
        """The blog under gunicorn (2 sync workers), started on first use."""
        if self._server is None:
            server = Gunicorn("wsgi:app", self.env(), self.workdir, "blog")
            self.stack.enter_context(server)
            self._server = server
        return self._server

    def measure_page(self, page: str, path: str) -> PageResult:
        """wrk a page on the blog, then on a floor app serving its exact bytes; record both."""
        server = self.blog_server()
        body, content_type = fetch(server.url + path)
        body_file = self.workdir / f"floor-{page}.bin"
        body_file.write_bytes(body)
        blog = self._wrk(server.url + path)
        floor_env = clean_env(
            {"BENCH_FLOOR_BODY": str(body_file), "BENCH_FLOOR_CONTENT_TYPE": content_type}
        )
        with Gunicorn("bench.floor:app", floor_env, self.workdir, f"floor-{page}") as floor_app:
            if fetch(floor_app.url + path)[0] != body:
                raise BenchError("the floor app does not serve the page's bytes")
            floor = self._wrk(floor_app.url + path)
        result = PageResult(page, path, len(body), blog, floor)
        self.result.pages.append(result)
        return result

    def _wrk(self, url: str) -> WrkResult:
        if self.options.warmup_s:
            run_wrk(url, self.options.warmup_s)
        measured = run_wrk(url, self.options.duration_s)
        if not measured.clean:
            raise BenchError(f"wrk saw errors on {url}: {measured}")
        return measured


def generate(bench: Bench) -> None:
    """Write the synthetic posts, the essay and the About page."""
    began = time.perf_counter()
    bench.result.words = write_corpus(bench.posts_dir, bench.result.posts)
    bench.result.details["generate_s"] = time.perf_counter() - began


def cold_sync(bench: Bench) -> None:
    """A fresh database migrated to head, then one full sync (timed in-process)."""
    out, wall = bench.task("cold-sync")
    expected = bench.result.posts + 2
    if out["problems"] or out["added"] != expected:
        raise BenchError(f"cold sync added {out['added']} of {expected}: {out['problems'][:5]}")
    bench.result.cold_sync_s = out["sync_s"]
    bench.result.details["cold_sync"] = {**out, "wall_s": wall}


def warm_start(bench: Bench) -> None:
    """A fresh interpreter imports the blog and creates the app, re-hashing every unchanged post."""
    before = bench.db_state()
    out, wall = bench.task("warm-start", BLOG_SYNC_ON_START="1")
    if bench.db_state() != before:
        raise BenchError("the warm start changed the database: the sync was not a no-op")
    bench.result.warm_start_s = wall
    bench.result.details["warm_start"] = {**out, "wall_s": wall}


def home_page(bench: Bench) -> None:
    """The home page: ten newest excerpts, navigation and category counts."""
    bench.measure_page("home", "/")


def post_page(bench: Bench) -> None:
    """The essay at its permalink."""
    bench.measure_page("post", ESSAY_PATH)


Scenario = Callable[[Bench], None]
SCENARIOS: list[Scenario] = [generate, cold_sync, warm_start, home_page, post_page]
