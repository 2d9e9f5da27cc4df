"""The Bench: one corpus size, its posts, database, servers, and what was measured for it.

`bench.measure_page(...)` serves a page from gunicorn and from the constant floor under wrk;
bench/scenarios.py holds the scenarios that use it.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from bench.procs import (
    BenchError,
    Gunicorn,
    WrkResult,
    clean_env,
    fetch,
    run_wrk,
)
from blog.config import PROJECT_ROOT

TASK_TIMEOUT_S = 900


class TaskRun(NamedTuple):
    """A bench task's JSON answer, when it arrived and when the process had exited (s)."""

    out: dict[str, Any]
    answered_s: float
    wall_s: float


@dataclass(frozen=True)
class Options:
    """How the benchmark runs."""

    posts: tuple[int, ...]
    duration_s: int
    warmup_s: int
    smoke: bool
    gunicorn_config: Path | None = None
    # Page and floor alternate this many times: the machine's speed drifts over seconds, and a
    # ratio taken from runs side by side is steadier than one from two runs far apart.
    rounds: int = 1


class Round(NamedTuple):
    """One wrk run of the page and one of its floor, made one after the other."""

    blog: WrkResult
    floor: WrkResult

    @property
    def ratio(self) -> float:
        """The blog's req/s as a fraction of the floor's."""
        return self.blog.requests_per_s / self.floor.requests_per_s


@dataclass
class PageResult:
    """One page under wrk, next to the same bytes served by the floor app, in rounds."""

    page: str
    path: str
    size_bytes: int
    rounds: list[Round]

    @property
    def median(self) -> Round:
        """The round whose ratio is the median (the upper one of an even number)."""
        return sorted(self.rounds, key=lambda r: r.ratio)[len(self.rounds) // 2]

    @property
    def blog(self) -> WrkResult:
        """The page's figures in the median round."""
        return self.median.blog

    @property
    def floor(self) -> WrkResult:
        """The floor's figures in the median round."""
        return self.median.floor

    @property
    def ratio(self) -> float:
        """The median round's ratio."""
        return self.median.ratio

    @property
    def worst_p99_ms(self) -> float:
        """The page's highest p99 over all rounds: a latency target must hold in each."""
        return max(r.blog.p99_ms for r in self.rounds)

    @property
    def worst_p99_ratio(self) -> float:
        """The highest p99 of the page over its floor's p99 in the same round."""
        return max(r.blog.p99_ms / r.floor.p99_ms for r in self.rounds)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view, ratio included."""
        return {
            "page": self.page,
            "path": self.path,
            "size_bytes": self.size_bytes,
            "blog": self.blog.__dict__,
            "floor": self.floor.__dict__,
            "ratio": self.ratio,
            "worst_p99_ms": self.worst_p99_ms,
            "worst_p99_ratio": self.worst_p99_ratio,
            "rounds": [
                {"blog": r.blog.__dict__, "floor": r.floor.__dict__, "ratio": r.ratio}
                for r in self.rounds
            ],
        }


@dataclass(frozen=True)
class PostResult:
    """Comment POSTs under wrk, in the round with the median ratio to the essay's floor (run
    beside them, in turns); the counts are over every round, and none may be lost."""

    requests_per_s: float
    accepted_per_s: float
    p99_ms: float
    accepted: int
    refused: int
    lost: int
    floor_requests_per_s: float

    @property
    def ratio(self) -> float:
        """Comments stored per second as a fraction of the floor's req/s in the same round."""
        return self.accepted_per_s / self.floor_requests_per_s


@dataclass
class SizeResult:
    """Everything measured for one number of posts."""

    posts: int
    words: int = 0
    cold_sync_s: float | None = None
    warm_start_s: float | None = None
    pages: list[PageResult] = field(default_factory=list)
    # Comment POSTs by database ("SQLite", "PostgreSQL"), and the ones not made, with why.
    posts_results: dict[str, PostResult] = field(default_factory=dict)
    posts_not_run: dict[str, str] = field(default_factory=dict)
    worker_rss_mib: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "posts": self.posts,
            "words": self.words,
            "cold_sync_s": self.cold_sync_s,
            "warm_start_s": self.warm_start_s,
            "pages": [p.as_dict() for p in self.pages],
            "comment_posts": {db: r.__dict__ for db, r in self.posts_results.items()},
            "comment_posts_not_run": self.posts_not_run,
            "worker_rss_mib": self.worker_rss_mib,
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
        self._servers: dict[tuple[tuple[str, str], ...], Gunicorn] = {}
        self.seed: dict[str, Any] = {}

    def env(self, **extra: str) -> dict[str, str]:
        """The blog's environment: production, SQLite, synced, no page cache; `extra` overrides."""
        return clean_env(
            {
                "BLOG_ENV": "production",
                "BLOG_SECRET_KEY": self.secret,
                "BLOG_DATABASE_URL": f"sqlite:///{self.db_path}",
                "BLOG_POSTS_DIR": str(self.posts_dir),
                # Production requires it; the pages' absolute links come from it.
                "BLOG_SITE_URL": "http://127.0.0.1",
                "BLOG_SYNC_ON_START": "0",
                "BLOG_SYNC_ON_REQUEST": "0",
                "BLOG_PAGE_CACHE": "0",
                **extra,
            }
        )

    def task(self, name: str, **env: str) -> TaskRun:
        """Run `python -m bench.tasks <name>` afresh; time its answer and its exit."""
        began = time.perf_counter()
        with tempfile.TemporaryFile("w+") as errors:
            proc = subprocess.Popen(
                [sys.executable, "-m", "bench.tasks", name],
                cwd=PROJECT_ROOT,
                env=self.env(**env),
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )
            watchdog = threading.Timer(TASK_TIMEOUT_S, proc.kill)
            watchdog.start()
            try:
                assert proc.stdout is not None
                # The task prints its answer as its last act: the line's arrival is "ready",
                # before the interpreter's own teardown (a third of a second at 10,000 posts).
                lines: list[str] = []
                answered = 0.0
                for line in proc.stdout:
                    lines.append(line)
                    answered = time.perf_counter() - began
                returncode = proc.wait()
            finally:
                watchdog.cancel()
            wall = time.perf_counter() - began
            if returncode != 0 or not lines:
                errors.seek(0)
                raise BenchError(f"bench task {name} failed:\n{errors.read()[-3000:]}")
        return TaskRun(json.loads(lines[-1]), answered, wall)

    def db_state(self) -> tuple[int, str | None]:
        """(posts, latest synced_at): unchanged when a sync changed nothing."""
        with sqlite3.connect(self.db_path) as conn:
            row = conn.execute("SELECT count(*), max(synced_at) FROM posts").fetchone()
        conn.close()
        return int(row[0]), row[1]

    def gunicorn(self, app: str, env: dict[str, str], name: str) -> Gunicorn:
        """A gunicorn (not started) with this run's settings file."""
        return Gunicorn(app, env, self.workdir, name, self.options.gunicorn_config)

    def blog_server(self, **env: str) -> Gunicorn:
        """The blog under gunicorn (2 sync workers) with extra settings, started on first use."""
        key = tuple(sorted(env.items()))
        if key not in self._servers:
            server = self.gunicorn("wsgi:app", self.env(**env), f"blog{len(self._servers)}")
            self.stack.enter_context(server)
            self._servers[key] = server
        return self._servers[key]

    def stop_servers(self) -> None:
        """Stop the blog servers, so that the next measurement starts with empty caches."""
        for server in self._servers.values():
            server.stop()
        self._servers.clear()

    def measure_page(
        self, page: str, path: str, headers: dict[str, str] | None = None, **server_env: str
    ) -> PageResult:
        """wrk a page on the blog, then on a floor app serving its exact bytes; record both."""
        server = self.blog_server(**server_env)
        body, content_type = fetch(server.url + path, headers=headers)
        with self.floor_app(page, path, body, content_type) as floor_app:
            rounds = self.paired_rounds(server.url + path, floor_app.url + path, headers)
        result = PageResult(page, path, len(body), rounds)
        self.result.pages.append(result)
        return result

    @contextmanager
    def floor_app(self, name: str, path: str, body: bytes, content_type: str) -> Iterator[Gunicorn]:
        """The floor: a constant WSGI app serving these bytes, checked before it is used."""
        body_file = self.workdir / f"floor-{name.replace(' ', '-').replace(',', '')}.bin"
        body_file.write_bytes(body)
        floor_env = clean_env(
            {"BENCH_FLOOR_BODY": str(body_file), "BENCH_FLOOR_CONTENT_TYPE": content_type}
        )
        with self.gunicorn("bench.floor:app", floor_env, f"floor-{name}") as floor_app:
            if fetch(floor_app.url + path)[0] != body:
                raise BenchError("the floor app does not serve the page's bytes")
            yield floor_app

    def paired_rounds(
        self, url: str, floor_url: str, headers: dict[str, str] | None = None
    ) -> list[Round]:
        """wrk the page and its floor in turns, each warmed up first; one Round per turn."""
        if self.options.warmup_s:
            run_wrk(url, self.options.warmup_s, headers)
            run_wrk(floor_url, self.options.warmup_s)
        return [
            self.in_turns(number, lambda: self._wrk(url, headers), floor_url)
            for number in range(self.options.rounds)
        ]

    def in_turns(self, number: int, blog: Callable[[], WrkResult], floor_url: str) -> Round:
        """Round `number`: the blog's wrk run and the floor's, one after the other."""
        # Which goes first alternates, so that a steady drift favours neither.
        if number % 2 == 0:
            first = blog()
            return Round(first, self._wrk(floor_url))
        floor = self._wrk(floor_url)
        return Round(blog(), floor)

    def _wrk(
        self, url: str, headers: dict[str, str] | None = None, script: Path | None = None
    ) -> WrkResult:
        measured = run_wrk(url, self.options.duration_s, headers, script)
        if not measured.clean:
            # Keep the figure, but say so: timeouts or error pages make it an unfair number.
            errors = self.result.details.setdefault("wrk_errors", [])
            errors.append({"url": url, **measured.__dict__})
            print(
                f"(wrk errors on {url}: {measured.non_2xx} non-2xx, "
                f"{measured.socket_errors} socket errors)",
                end=" ",
                flush=True,
            )
        return measured
