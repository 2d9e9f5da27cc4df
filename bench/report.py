"""The benchmark's verdict: a markdown table, the issue's targets with PASS/MISS, and JSON."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.measure import Options, SizeResult
from bench.procs import WORKERS, WRK_CONNECTIONS, WRK_THREADS, WrkResult
from bench.yardstick import Yardsticks

TARGET_POSTS = 10_000


@dataclass(frozen=True)
class Target:
    """A goal from the issue: what is measured, at which corpus size, and the bar."""

    name: str
    goal: str
    measure: Callable[[SizeResult], float | None]
    passes: Callable[[float], bool]
    fmt: str
    only_posts: int | None = None
    smallest_only: bool = False  # measured once per run, at its smallest corpus size
    # Why the measurement was deliberately not made at this size (a server was absent), or None.
    not_run: Callable[[SizeResult], str | None] = lambda _size: None


def _ratio(page: str) -> Callable[[SizeResult], float | None]:
    return lambda size: next((p.ratio for p in size.pages if p.page == page), None)


def _p99_ratio(page: str) -> Callable[[SizeResult], float | None]:
    return lambda size: next((p.worst_p99_ratio for p in size.pages if p.page == page), None)


def _page_ratio(page: str, other: str) -> Callable[[SizeResult], float | None]:
    """A page's req/s over another's, both measured in the same run."""

    def measure(size: SizeResult) -> float | None:
        found = {p.page: p.blog.requests_per_s for p in size.pages if p.page in (page, other)}
        if page not in found or not found.get(other):
            return None
        return found[page] / found[other]

    return measure


# Comment POSTs are compared with the floor of the page they are posted under, run in turns
# with them (bench/scenarios.py).
def _posts_ratio(database: str) -> Callable[[SizeResult], float | None]:
    def measure(size: SizeResult) -> float | None:
        result = size.posts_results.get(database)
        if result is None or result.lost:
            return None
        return result.ratio

    return measure


# Every target is a ratio to a floor measured in the same run: the machine's speed moves.
TARGETS = (
    Target(
        "100 comments, page cache / floor",
        "≥ 75%",
        _ratio("post + 100 comments, page cache on"),
        lambda v: v >= 0.75,
        "{:.1%}",
    ),
    Target(
        "100 comments, page cache p99 / floor p99",
        "≤ 3x",
        _p99_ratio("post + 100 comments, page cache on"),
        lambda v: v <= 3,
        "{:.2f}x",
    ),
    Target(
        "100 comments, nginx proxy_cache / nginx plain file",
        "≥ 80%",
        _ratio("post + 100 comments, nginx proxy_cache"),
        lambda v: v >= 0.80,
        "{:.1%}",
    ),
    Target(
        "first page of a 5,000-comment thread / 100-comment page, uncached",
        "≥ 60%",
        _page_ratio("post + 5,000 comments, first page", "post + 100 comments"),
        lambda v: v >= 0.60,
        "{:.1%}",
    ),
    Target(
        "100 comments, logged in / floor",
        "≥ 12%",
        _ratio("post + 100 comments, logged in"),
        lambda v: v >= 0.12,
        "{:.1%}",
    ),
    Target(
        "comment POSTs stored, none lost, SQLite / floor req/s",
        "≥ 6%",
        _posts_ratio("SQLite"),
        lambda v: v >= 0.06,
        "{:.1%}",
    ),
    Target(
        "comment POSTs stored, none lost, PostgreSQL / floor req/s",
        "≥ 6%",
        _posts_ratio("PostgreSQL"),
        lambda v: v >= 0.06,
        "{:.1%}",
        smallest_only=True,
        not_run=lambda s: s.posts_not_run.get("PostgreSQL"),
    ),
    *(
        Target(
            f"{page}, bulk comments, p99 / floor p99",
            "≤ 8x",
            _p99_ratio(f"{page}, with bulk comments"),
            lambda v: v <= 8,
            "{:.2f}x",
            TARGET_POSTS,
        )
        for page in ("home", "archive", "search")
    ),
)


def verdicts(sizes: list[SizeResult]) -> list[dict[str, Any]]:
    """Each target at each size it applies to: the measured value and PASS, MISS or n/a."""
    rows: list[dict[str, Any]] = []
    smallest = min((s.posts for s in sizes), default=None)
    for target in TARGETS:
        applicable = [s for s in sizes if target.only_posts in (None, s.posts)]
        if target.smallest_only:
            applicable = [s for s in applicable if s.posts == smallest]
        if not applicable:
            rows.append(
                {
                    "target": target.name,
                    "posts": target.only_posts,
                    "goal": target.goal,
                    "value": None,
                    "measured": "not run",
                    "result": "n/a",
                }
            )
        for size in applicable:
            value = target.measure(size)
            rows.append(
                {
                    "target": target.name,
                    "posts": size.posts,
                    "goal": target.goal,
                    "value": value,
                    "measured": _measured(target, size, value),
                    "result": "n/a"
                    if value is None
                    else "PASS"
                    if target.passes(value)
                    else "MISS",
                }
            )
    return rows


def _measured(target: Target, size: SizeResult, value: float | None) -> str:
    if value is not None:
        return target.fmt.format(value)
    return "not run" if target.not_run(size) else "—"


def _result(target: Target, value: float | None) -> str:
    if value is None:
        return "n/a"
    return "PASS" if target.passes(value) else "MISS"


def _rps(result: WrkResult) -> str:
    figure = (
        f"{result.requests_per_s:,.1f}"
        if result.requests_per_s < 100
        else (f"{result.requests_per_s:,.0f}")
    )
    if result.clean:
        return figure
    return f"{figure} ⚠ {result.non_2xx} non-2xx, {result.socket_errors} socket errors"


def _num(value: float | None, spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


def markdown_table(sizes: list[SizeResult], options: Options, yardsticks: Yardsticks) -> str:
    """The figures and the targets as markdown tables, under the machine's yardstick."""
    lines = [
        f"gunicorn {WORKERS} sync workers; wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} "
        f"-d{options.duration_s}s --latency (after a {options.warmup_s}s warm-up), "
        f"{options.rounds} rounds of page then floor (every other round floor first): the row "
        "is the round with the median ratio, and a p99 target holds in the worst round; "
        f"gunicorn settings: {options.gunicorn_config or 'none'}; no page cache unless named; "
        "the nginx row's floor is nginx serving the same bytes as a plain file; "
        f"{os.cpu_count()} CPUs; Python {platform.python_version()}, "
        f"{yardsticks.describe()} (bench/yardstick.py: compare machines by it)",
        "",
        "| posts | cold sync s | warm start s | page | req/s | p99 ms "
        "| floor req/s | floor p99 ms | ratio |",
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in sizes:
        head = f"| {size.posts:,} | {_num(size.cold_sync_s)} | {_num(size.warm_start_s)} "
        if not size.pages:
            lines.append(head + "| — | — | — | — | — | — |")
        for page in size.pages:
            lines.append(
                head + f"| {page.page} | {_rps(page.blog)} | {page.blog.p99_ms:.1f} "
                f"| {_rps(page.floor)} | {page.floor.p99_ms:.1f} | {page.ratio:.1%} |"
            )
    posted = [s for s in sizes if s.posts_results or s.posts_not_run]
    if posted:
        lines += [
            "",
            "| posts | database | comment POST req/s | stored/s | p99 ms "
            "| stored | refused | lost | floor req/s | ratio |",
            "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for size in posted:
            for database, r in size.posts_results.items():
                lines.append(
                    f"| {size.posts:,} | {database} | {r.requests_per_s:,.0f} "
                    f"| {r.accepted_per_s:,.0f} | {r.p99_ms:.1f} | {r.accepted:,} "
                    f"| {r.refused:,} | {r.lost:,} | {r.floor_requests_per_s:,.0f} "
                    f"| {r.ratio:.1%} |"
                )
            for database in size.posts_not_run:
                lines.append(
                    f"| {size.posts:,} | {database} | not run | — | — | — | — | — | — | — |"
                )
    lines += [
        "",
        "| target | posts | goal | measured | result |",
        "| --- | ---: | --- | ---: | --- |",
    ]
    for row in verdicts(sizes):
        posts = "any" if row["posts"] is None else f"{row['posts']:,}"
        lines.append(
            f"| {row['target']} | {posts} | {row['goal']} | {row['measured']} | {row['result']} |"
        )
    for size in sizes:
        for database, why in size.posts_not_run.items():
            lines.append(f"\n{database} comment POSTs not run: {why.splitlines()[0]}")
        if "error" in size.details:
            lines.append(f"\n{size.posts:,} posts stopped early: {size.details['error']}")
    return "\n".join(lines)


def write_json(
    sizes: list[SizeResult], options: Options, out_dir: Path, yardsticks: Yardsticks
) -> Path:
    """Write the run as JSON under out_dir (also as latest.json); return the file's path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC)
    document = {
        "finished_at": stamp.isoformat(timespec="seconds"),
        "options": {
            **options.__dict__,
            "posts": list(options.posts),
            "gunicorn_config": str(options.gunicorn_config or "none"),
        },
        "setup": {
            "gunicorn_workers": WORKERS,
            "worker_class": "sync",
            "wrk": {"threads": WRK_THREADS, "connections": WRK_CONNECTIONS},
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "python_yardstick_ms": yardsticks._asdict(),
        },
        "sizes": [s.as_dict() for s in sizes],
        "targets": verdicts(sizes),
        "table_markdown": markdown_table(sizes, options, yardsticks),
    }
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    path = out_dir / f"bench-{stamp:%Y%m%dT%H%M%SZ}{'-smoke' if options.smoke else ''}.json"
    path.write_text(text, encoding="utf-8")
    (out_dir / "latest.json").write_text(text, encoding="utf-8")
    return path
