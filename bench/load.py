"""`make load` / `python -m bench.load`: readers and commenters at once; one worker killed midway.

python -m bench.load                          # 60 s on PostgreSQL, then 60 s on SQLite
python -m bench.load --duration 10            # a quick run
python -m bench.load --databases sqlite       # PostgreSQL is skipped anyway when unreachable

Each database gets its own gunicorn (2 sync workers, the project's gunicorn.conf.py) on
127.0.0.1. Anonymous readers, logged-in readers and commenters run at the same time; in the
middle one worker gets SIGKILL. Afterwards every comment answered 303 …#comment-N must be in
the database and on the essay's page; exit 1 when one is missing.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from bench.corpus import ESSAY_PATH
from bench.load_clients import Plan, WorkerWatch, Writer, run_clients
from bench.load_report import RunResult, check_comments, details, log_findings, table
from bench.measure import Bench, Options
from bench.procs import BenchError, children, fetch, rss_kib
from bench.scenarios import (
    POST_SERVER_ENV,
    Scenario,
    cold_sync,
    generate,
    seed_comments,
)
from blog.config import PROJECT_ROOT

DATABASES = ("postgresql", "sqlite")
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
PROJECT_CONFIG = PROJECT_ROOT / "gunicorn.conf.py"
HOME_PATH = "/"
ARCHIVE_PATH = "/2005/01/"  # a month of synthetic posts: a full listing page
PAGE_TIMEOUT_S = 60.0
# The load server's settings besides production defaults (page cache on). The flood rule (15 s
# per user) and the per-IP limit (all clients are 127.0.0.1) would turn the load into 429s;
# both rules still run on every POST. Holding first comments would hide them from the page.
LOAD_SERVER_ENV = {
    **POST_SERVER_ENV,
    "BLOG_MODERATION_HOLD": "none",
    "BLOG_PAGE_CACHE": "1",
}


@dataclass(frozen=True)
class LoadOptions:
    """How the load test runs."""

    duration_s: int
    databases: tuple[str, ...]
    posts: int
    readers: int
    logged_in: int
    commenters: int
    kill_at: float
    postgres_url: str
    gunicorn_config: Path | None
    keep: bool


def parse_args(argv: list[str] | None = None) -> LoadOptions:
    """Options from the command line."""
    summary = __doc__.split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=summary)
    parser.add_argument("--duration", type=int, default=60, help="seconds per database (60)")
    parser.add_argument(
        "--databases", default=",".join(DATABASES), help="comma-separated: postgresql,sqlite"
    )
    parser.add_argument("--posts", type=int, default=200, help="synthetic posts (200)")
    parser.add_argument("--readers", type=int, default=4, help="anonymous reader threads (4)")
    parser.add_argument("--logged-in", type=int, default=2, help="logged-in reader threads (2)")
    parser.add_argument("--commenters", type=int, default=2, help="commenter threads (2)")
    parser.add_argument(
        "--kill-at", type=float, default=0.5, help="when to SIGKILL a worker, fraction of run"
    )
    parser.add_argument("--postgres-url", default=POSTGRES_ADMIN_URL, help="admin connection")
    parser.add_argument(
        "--gunicorn-config",
        default=str(PROJECT_CONFIG),
        help="gunicorn settings file, or `none` (default: the project's gunicorn.conf.py)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    databases = tuple(d.strip().lower() for d in args.databases.split(",") if d.strip())
    if not databases or any(d not in DATABASES for d in databases):
        parser.error(f"--databases takes {' and/or '.join(DATABASES)}, not {args.databases!r}")
    if args.duration < 2 or args.posts < 60 or not 0.1 <= args.kill_at <= 0.9:
        parser.error("--duration must be 2+, --posts 60+ (an archive month), --kill-at 0.1-0.9")
    if min(args.readers, args.logged_in, args.commenters) < 0:
        parser.error("thread counts cannot be negative")
    config = None if args.gunicorn_config == "none" else Path(args.gunicorn_config).resolve()
    if config is not None and not config.is_file():
        parser.error(f"--gunicorn-config: no such file {config}")
    return LoadOptions(
        duration_s=args.duration,
        databases=databases,
        posts=args.posts,
        readers=args.readers,
        logged_in=args.logged_in,
        commenters=args.commenters,
        kill_at=args.kill_at,
        postgres_url=args.postgres_url,
        gunicorn_config=config,
        keep=args.keep,
    )


class LoadBench(Bench):
    """The benchmark's Bench with another database and the load server's settings."""

    def __init__(
        self, database_url: str, options: LoadOptions, workdir: Path, stack: ExitStack
    ) -> None:
        """A Bench for one corpus size whose tasks and server use `database_url`."""
        bench_options = Options(
            posts=(options.posts,),
            duration_s=options.duration_s,
            warmup_s=0,
            smoke=False,
            gunicorn_config=options.gunicorn_config,
        )
        super().__init__(options.posts, bench_options, workdir, stack)
        self.database_url = database_url

    def env(self, **extra: str) -> dict[str, str]:
        """Bench's production environment, on this database, with LOAD_SERVER_ENV."""
        settings = {
            # Diagnostics only: a worker that crashes writes every thread's stack to the log.
            "PYTHONFAULTHANDLER": "1",
            "BLOG_DATABASE_URL": self.database_url,
            "BLOG_PAGE_CACHE_STATE_DIR": str(self.workdir / "page-cache"),
            **LOAD_SERVER_ENV,
            **extra,
        }
        return super().env(**settings)


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database `blog_load_<random>` (SQLAlchemy URL), dropped afterwards."""
    name = f"blog_load_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = make_url(admin_url).set(drivername="postgresql+psycopg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))
        print(f"  dropped database {name}", flush=True)


def _step(label: str, action: Scenario, bench: LoadBench) -> None:
    """Run one of the benchmark's scenarios, timed on one line."""
    began = time.perf_counter()
    print(f"  {label} ...", end=" ", flush=True)
    action(bench)
    print(f"{time.perf_counter() - began:.1f}s", flush=True)


def _plan(bench: LoadBench, options: LoadOptions, port: int, began: float, label: str) -> Plan:
    """The clients' plan from the seeded writers and the options."""
    seed = bench.seed
    return Plan(
        port=port,
        deadline=began + options.duration_s,
        anonymous_paths=(HOME_PATH, ESSAY_PATH, ARCHIVE_PATH),
        essay_path=ESSAY_PATH,
        cookie_name=seed["cookie_name"],
        post_id=int(seed["post_id"]),
        form_started=seed["form_started"],
        label=label,
        readers=options.readers,
        logged_in=options.logged_in,
        commenters=options.commenters,
        writers=tuple(Writer(w["cookie"], w["csrf_token"]) for w in seed["writers"]),
    )


def load_server(bench: LoadBench, result: RunResult, options: LoadOptions, label: str) -> None:
    """Start gunicorn, run the clients with a worker kill, then check every accepted comment."""
    server = bench.blog_server()
    assert server.process is not None
    master = server.process.pid
    cookie = {"Cookie": f"{bench.seed['cookie_name']}={bench.seed['writers'][-1]['cookie']}"}
    for path in (HOME_PATH, ESSAY_PATH, ARCHIVE_PATH):
        fetch(server.url + path, timeout=PAGE_TIMEOUT_S)
    fetch(server.url + ESSAY_PATH, timeout=PAGE_TIMEOUT_S, headers=cookie)
    print(
        f"  {options.duration_s}s of load on {server.url}: {options.readers} anonymous, "
        f"{options.logged_in} logged-in, {options.commenters} commenter threads; "
        f"workers {children(master)} ...",
        end=" ",
        flush=True,
    )
    began = time.monotonic()
    plan = _plan(bench, options, server.port, began, label)
    kill_at = began + options.duration_s * options.kill_at
    watch = WorkerWatch(master, kill_at, plan.deadline + 2.0, started=began)
    watching = watch.start()
    result.outcomes = run_clients(plan)
    result.seconds = time.monotonic() - began
    result.began, result.watch = began, watch
    watching.join(timeout=5.0)
    print(f"{len(result.outcomes):,} requests", flush=True)
    result.rss_kib = {pid: rss_kib(pid) for pid in children(master)}
    result.master_rss_kib = rss_kib(master)
    print("  checking the accepted comments ...", end=" ", flush=True)
    page = fetch(server.url + ESSAY_PATH, timeout=PAGE_TIMEOUT_S)[0].decode()
    logged_in = fetch(server.url + ESSAY_PATH, timeout=PAGE_TIMEOUT_S, headers=cookie)[0].decode()
    stored = bench.task("count-comments").out
    result.check = check_comments(result.outcomes, label, stored["comments"], page, logged_in)
    print(f"{len(result.check.accepted):,} accepted", flush=True)
    bench.stop_servers()
    result.kill_log, result.other_log, result.crashes = log_findings(server.log_path, watch.victim)


def run_database(name: str, options: LoadOptions, root: Path) -> RunResult:
    """One database: a fresh one, migrated and synced, seeded with writers, then the load."""
    result = RunResult(name)
    workdir = root / name
    workdir.mkdir()
    print(f"[{name}]", flush=True)
    with ExitStack() as stack:
        if name == "postgresql":
            try:
                url = stack.enter_context(postgres_database(options.postgres_url))
            except psycopg.OperationalError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                result.skipped = f"PostgreSQL at {options.postgres_url} is unreachable: {first}"
                print(f"  skipped: {result.skipped}", flush=True)
                return result
            print(f"  created database {make_url(url).database}", flush=True)
        else:
            url = f"sqlite:///{workdir / 'blog.db'}"
        bench = LoadBench(url, options, workdir, stack)
        try:
            _step(f"write {options.posts} posts + the essay", generate, bench)
            _step("migrate to head and sync (bench task cold-sync)", cold_sync, bench)
            _step("seed comments and writers (bench task seed-comments)", seed_comments, bench)
            load_server(bench, result, options, f"{name}-{secrets.token_hex(3)}")
        except (BenchError, OSError) as exc:
            print(f"failed: {exc}", flush=True)
            result.error = str(exc)
    return result


def _terminate(signum: int, _frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C: servers stopped, databases dropped."""
    raise SystemExit(128 + signum)


def failures(results: list[RunResult]) -> list[str]:
    """Why the run should exit non-zero (empty when it passed)."""
    found = []
    for result in results:
        if result.skipped:
            continue
        if result.error:
            found.append(f"{result.database}: {result.error.splitlines()[0]}")
        if result.check is not None and result.check.lost:
            found.append(f"{result.database}: accepted comments are missing")
        watch = result.watch
        if watch is not None and (watch.killed_at is None or watch.replacement is None):
            found.append(f"{result.database}: the worker kill/restart did not happen")
    if all(r.skipped for r in results):
        found.append("no database was load-tested")
    return found


def warnings(results: list[RunResult]) -> list[str]:
    """What looked wrong without losing a comment: crashed workers, unexpected errors."""
    found = []
    for result in results:
        deaths = [
            f"{n}x {line}"
            for line, n in result.other_log.items()
            if "was sent SIG" in line or "WORKER TIMEOUT" in line
        ]
        if deaths:
            found.append(f"{result.database}: a worker we did not kill died: {'; '.join(deaths)}")
        for row in result.stats():
            if row.label.startswith(" "):
                continue
            other = sum(row.other_conn_errors.values())
            http = sum(row.http_errors.values())
            if other or http:
                found.append(
                    f"{result.database}: {row.label}: {http} HTTP errors, "
                    f"{other} connection errors not at the kill"
                )
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the load test on each database; print the table; non-zero when a comment is missing."""
    options = parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    settings = ", ".join(f"{k}={v}" for k, v in LOAD_SERVER_ENV.items())
    print(
        f"load server settings: BLOG_ENV=production, {settings}\n"
        "  (BLOG_FLOOD_SECONDS=0 and a high BLOG_RATELIMIT_COMMENT: every client is 127.0.0.1 "
        "and 64 writers could not post more than one comment per 15 s each; both rules still "
        "run on every POST. BLOG_MODERATION_HOLD=none: held first comments would not be shown.)",
        flush=True,
    )
    root = Path(tempfile.mkdtemp(prefix="blog-load-"))
    try:
        results = [run_database(name, options, root) for name in options.databases]
    finally:
        if options.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(table(results))
    print()
    for result in results:
        print(details(result))
    for warning in warnings(results):
        print(f"WARNING: {warning}")
    problems = failures(results)
    for problem in problems:
        print(f"FAIL: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
