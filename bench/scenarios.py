"""Scenarios: each takes the Bench for one corpus size and records what it measured.

Add a scenario by writing `def my_scenario(bench: Bench) -> None` and listing it in SCENARIOS;
`bench.measure_page(...)` (bench/measure.py) serves a page from gunicorn and from the constant
floor under wrk.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bench.corpus import ESSAY_PATH, write_corpus
from bench.measure import Bench, PageResult, PostResult, Round
from bench.nginx import PLAIN_NAME, plain_server
from bench.nginx_local import MARK_HEADER, LocalNginx, NginxError, marked_values, site_conf
from bench.postgres import postgres_reachable, services_required, throwaway_postgres_database
from bench.procs import (
    HOST,
    BenchError,
    children,
    fetch,
    free_port,
    rss_kib,
)
from blog.config import PROJECT_ROOT


def generate(bench: Bench) -> None:
    """Write the synthetic posts, the essay and the About page."""
    began = time.perf_counter()
    bench.result.words = write_corpus(bench.posts_dir, bench.result.posts)
    bench.result.details["generate_s"] = time.perf_counter() - began


def cold_sync(bench: Bench) -> None:
    """A fresh database migrated to head, then one full sync (timed in-process)."""
    out, wall = _cold_sync(bench)
    bench.result.cold_sync_s = out["sync_s"]
    bench.result.details["cold_sync"] = {**out, "wall_s": wall}


def _cold_sync(bench: Bench, **env: str) -> tuple[dict[str, Any], float]:
    out, _answered, wall = bench.task("cold-sync", **env)
    expected = bench.result.posts + 2
    if out["problems"] or out["added"] != expected:
        raise BenchError(f"cold sync added {out['added']} of {expected}: {out['problems'][:5]}")
    return out, wall


def warm_start(bench: Bench) -> None:
    """A fresh interpreter imports the blog and creates the app, re-hashing every unchanged post.

    Timed from the spawn to the task's answer: the blog is ready then. The interpreter's
    teardown after it (freeing every module) is reported beside it, not counted.
    """
    before = bench.db_state()
    out, ready, wall = bench.task("warm-start", BLOG_SYNC_ON_START="1")
    if bench.db_state() != before:
        raise BenchError("the warm start changed the database: the sync was not a no-op")
    bench.result.warm_start_s = ready
    startup = ready - out["import_s"] - out["create_app_s"]
    bench.result.details["warm_start"] = {
        **out,
        "ready_s": ready,
        "interpreter_s": startup,
        "exit_s": wall - ready,
    }


def home_page(bench: Bench) -> None:
    """The home page: ten newest excerpts, navigation and category counts."""
    bench.measure_page("home", "/")


def post_page(bench: Bench) -> None:
    """The essay at its permalink."""
    bench.measure_page("post", ESSAY_PATH)


def post_page_cached(bench: Bench) -> None:
    """The essay again with the full-page cache on (for comparison; the target is without)."""
    bench.measure_page("post, page cache on", ESSAY_PATH, BLOG_PAGE_CACHE="1")


def seed_comments(bench: Bench) -> None:
    """100 approved comments under the essay and logged-in writers; restart with empty caches."""
    out = bench.task("seed-comments").out
    bench.result.details["seed"] = {k: v for k, v in out.items() if k != "writers"}
    bench.seed = out
    bench.stop_servers()


def comments_page(bench: Bench) -> None:
    """The essay with its 100 comments, for an anonymous reader, no page cache."""
    bench.measure_page("post + 100 comments", ESSAY_PATH)


LONG_THREAD_PAGE = "post + 5,000 comments, first page"


def long_thread_page(bench: Bench) -> None:
    """A post with 5,000 comments, first page of its thread, anonymous, no page cache."""
    out = bench.task("seed-long-thread").out
    bench.result.details["long_thread"] = out
    bench.stop_servers()
    bench.measure_page(LONG_THREAD_PAGE, out["path"])


def comments_page_cached(bench: Bench) -> None:
    """The same page from the full-page cache (in process)."""
    bench.measure_page("post + 100 comments, page cache on", ESSAY_PATH, BLOG_PAGE_CACHE="1")


NGINX_PAGE = "post + 100 comments, nginx proxy_cache"


def comments_page_nginx(bench: Bench) -> None:
    """The same page from nginx's proxy_cache (the shipped config) / nginx's plain file."""
    port, plain_port = free_port(), free_port()
    public = f"http://{HOST}:{port}"
    settings = {"BLOG_PAGE_CACHE": "1", "BLOG_SITE_URL": public, "BLOG_PROXY_HOPS": "1"}
    server = bench.blog_server(**settings)
    app_addr = server.url.removeprefix("http://")
    # The shipped validity (1 s): once a second one request renews the copy from the app.
    conf = site_conf(
        {
            "listen": f"{HOST}:{port}",
            "upstream": app_addr,
            "cache_path": str(bench.workdir / "nginx-cache"),
            "static": f"{PROJECT_ROOT / 'static'}/",
        }
    )
    plain_root = bench.workdir / "nginx-plain"
    conf += plain_server(f"{HOST}:{plain_port}", plain_root)
    try:
        with LocalNginx(bench.workdir / "nginx", conf, [port, plain_port]) as nginx:
            body, _type = fetch(public + ESSAY_PATH, headers={MARK_HEADER: "first"})
            again, _type = fetch(public + ESSAY_PATH, headers={MARK_HEADER: "second"})
            came_from = nginx.upstream("first"), nginx.upstream("second")
            if again != body or came_from != (app_addr, "-"):
                raise BenchError(f"nginx did not answer from its cache: upstreams {came_from}")
            (plain_root / PLAIN_NAME).write_bytes(body)
            plain_url = f"http://{HOST}:{plain_port}/{PLAIN_NAME}"
            if fetch(plain_url)[0] != body:
                raise BenchError("nginx's plain file does not hold the page's bytes")
            rounds = bench.paired_rounds(public + ESSAY_PATH, plain_url)
    except NginxError as exc:
        raise BenchError(str(exc)) from exc
    bench.result.pages.append(PageResult(NGINX_PAGE, ESSAY_PATH, len(body), rounds))
    bench.result.details["nginx"] = {
        "floor": f"nginx serving the same bytes as /{PLAIN_NAME}",
        "checked": "first GET from the app, second from nginx's cache (nginx's access log)",
        "validity": marked_values(conf)["validity"],
    }


def comments_page_logged_in(bench: Bench) -> None:
    """The same page for a logged-in reader: comment form, CSRF token, never from the cache."""
    writer = bench.seed["writers"][0]
    cookie = {"Cookie": f"{bench.seed['cookie_name']}={writer['cookie']}"}
    bench.measure_page(
        "post + 100 comments, logged in", ESSAY_PATH, headers=cookie, BLOG_PAGE_CACHE="1"
    )


# The per-user flood limit (15 s) and the per-IP limit would turn a load test into 429s; both
# rules still run on every POST, with thresholds that let the load through.
POST_SERVER_ENV = {"BLOG_FLOOD_SECONDS": "0", "BLOG_RATELIMIT_COMMENT": "1000000 per minute"}


def comment_posts(bench: Bench) -> None:
    """Logged-in writers POST comments with CSRF to the SQLite blog; none may be lost."""
    post_comments(bench, "SQLite", bench.seed)


def post_comments(bench: Bench, database: str, seed: dict[str, Any], **env: str) -> PostResult:
    """wrk POSTs comments as the seeded writers, in turns with the essay's floor; every 303
    must name a stored comment.

    `env` points the server and the count at another database than the Bench's SQLite file.
    """
    server = bench.blog_server(BLOG_PAGE_CACHE="1", **POST_SERVER_ENV, **env)
    name = database.lower()
    essay, content_type = fetch(server.url + ESSAY_PATH)
    duration_s = bench.options.duration_s
    rounds: list[tuple[Round, list[str], list[str]]] = []
    with bench.floor_app(f"posts-{name}", ESSAY_PATH, essay, content_type) as floor_app:
        for number in range(bench.options.rounds):
            script = _posts_script(bench, seed, name, number)
            turn = bench.in_turns(
                number,
                functools.partial(bench._wrk, server.url + "/comments/", script=script),
                floor_app.url + ESSAY_PATH,
            )
            lines = [line.split(" ", 1) for line in _results(script).read_text().splitlines()]
            accepted = [value for kind, value in lines if kind == "accepted"]
            refused = [value for kind, value in lines if kind == "refused"]
            rounds.append((turn, accepted, refused))
    every_accepted = [i for _turn, accepted, _refused in rounds for i in accepted]
    every_refused = [s for _turn, _accepted, refused in rounds for s in refused]
    stored = bench.task("count-comments", **env).out
    lost = [i for i in every_accepted if not stored["comments"].get(i, "").startswith("Benchmark")]
    results = [
        PostResult(
            requests_per_s=turn.blog.requests_per_s,
            accepted_per_s=len(accepted) / duration_s,
            p99_ms=turn.blog.p99_ms,
            accepted=len(every_accepted),
            refused=len(every_refused),
            lost=len(lost),
            floor_requests_per_s=turn.floor.requests_per_s,
        )
        for turn, accepted, _refused in rounds
    ]
    result = sorted(results, key=lambda r: r.ratio)[len(results) // 2]
    bench.result.posts_results[database] = result
    bench.result.details.setdefault("comment_posts", {})[database] = {
        **result.__dict__,
        "ratio": result.ratio,
        "rounds": [{**r.__dict__, "ratio": r.ratio} for r in results],
        "refused_statuses": sorted(set(every_refused)),
        "server_settings": POST_SERVER_ENV,
    }
    if lost:
        raise BenchError(
            f"{database}: {len(lost)} comments answered 303 but are not stored: {lost[:10]}"
        )
    return result


def _posts_script(bench: Bench, seed: dict[str, Any], name: str, number: int) -> Path:
    """The wrk script of one round of comment POSTs (bench/comment_posts.lua, with the seed)."""
    writers = ",\n".join(
        f'  {{cookie = "{w["cookie"]}", token = "{w["csrf_token"]}"}}' for w in seed["writers"]
    )
    script = bench.workdir / f"comment-posts-{name}-{number}.lua"
    script.write_text(
        f"WRITERS = {{\n{writers}\n}}\n"
        f'POST_ID = "{seed["post_id"]}"\nFORM_STARTED = "{seed["form_started"]}"\n'
        f'COOKIE_NAME = "{seed["cookie_name"]}"\nPATH = "/comments/"\nROUND = "{number}"\n'
        f'RESULT_FILE = "{_results(script)}"\n'
        + (Path(__file__).parent / "comment_posts.lua").read_text(),
        encoding="utf-8",
    )
    return script


def _results(script: Path) -> Path:
    return script.with_suffix(".txt")


def comment_posts_postgres(bench: Bench) -> None:
    """The same comment POSTs on a throwaway PostgreSQL database, once, at the smallest size."""
    smallest = min(bench.options.posts)
    if bench.result.posts != smallest:
        # One PostgreSQL figure per run keeps the run short; the target is not per corpus size.
        print(f"(only at {smallest:,} posts)", end=" ", flush=True)
        return
    reason = postgres_reachable()
    if reason is not None:
        if services_required():
            raise BenchError(f"{reason} (BLOG_TEST_REQUIRE_SERVICES=1 makes it mandatory)")
        bench.result.posts_not_run["PostgreSQL"] = reason
        print(f"skipped: {reason.splitlines()[0]}", end=" ", flush=True)
        return
    try:
        # On the Bench's stack: dropped when this size ends, whatever happened, after the
        # server entered later has stopped.
        url = bench.stack.enter_context(throwaway_postgres_database("blog_bench"))
    except SQLAlchemyError as exc:
        raise BenchError(f"could not create a PostgreSQL database: {exc}") from exc
    env = {
        "BLOG_DATABASE_URL": url,
        # Else the page cache keeps its state under the project's instance/ folder.
        "BLOG_PAGE_CACHE_STATE_DIR": str(bench.workdir / "postgres-page-cache"),
    }
    out, wall = _cold_sync(bench, **env)
    seed = bench.task("seed-comments", **env).out
    bench.result.details["postgres"] = {
        "database": make_url(url).database,
        "cold_sync": {**out, "wall_s": wall},
        "seed": {k: v for k, v in seed.items() if k != "writers"},
    }
    post_comments(bench, "PostgreSQL", seed, **env)


def bulk_comments(bench: Bench) -> None:
    """Ten comments per post (100,000 at 10,000 posts); restart with empty caches."""
    out, _answered, wall = bench.task("seed-bulk-comments")
    bench.result.details["bulk_comments"] = {**out, "wall_s": wall}
    bench.stop_servers()


def big_listings(bench: Bench) -> None:
    """Home, a month's archive and a search with all those comments, no page cache."""
    bench.measure_page("home, with bulk comments", "/")
    bench.measure_page("archive, with bulk comments", "/2005/01/")
    bench.measure_page("search, with bulk comments", "/?s=trust+candidate")


def worker_memory(bench: Bench) -> None:
    """The resident memory of every blog worker still serving, after all of the above."""
    sizes = {}
    for server in bench._servers.values():
        if server.process is not None:
            for pid in children(server.process.pid):
                kib = rss_kib(pid)
                if kib is not None:
                    sizes[f"{server.log_path.stem}/{pid}"] = kib / 1024
    bench.result.details["worker_rss_mib"] = sizes
    bench.result.worker_rss_mib = max(sizes.values(), default=None)


Scenario = Callable[[Bench], None]
# What every other scenario stands on: run even when --only names a few.
SETUP: frozenset[str] = frozenset({"generate", "cold_sync", "seed_comments"})
SCENARIOS: list[Scenario] = [
    generate,
    cold_sync,
    warm_start,
    home_page,
    post_page,
    post_page_cached,
    seed_comments,
    comments_page,
    long_thread_page,
    comments_page_cached,
    comments_page_nginx,
    comments_page_logged_in,
    comment_posts,
    worker_memory,
    bulk_comments,
    big_listings,
    # Last: its own database and server, so nothing it does can change the figures above.
    comment_posts_postgres,
]
